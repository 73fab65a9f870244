"""The session-end check that `make test` leaves no process behind. Every process the
session starts inherits a marker in its environment (FXP_TEST_SESSION); whatever still
carries it once the session's own servers are stopped was left behind by a test. It is
reported, fails the run, and is then killed so the machine is clean for the next run."""

from __future__ import annotations

import os
import time
import uuid

import psutil

MARKER = "FXP_TEST_SESSION"


def mark_session() -> str:
    """Set (once) the marker every process started from now on inherits."""
    return os.environ.setdefault(MARKER, uuid.uuid4().hex)


def _marked(session: str) -> list[psutil.Process]:
    me = os.getpid()
    found = []
    for process in psutil.process_iter(["pid"]):
        if process.pid == me:
            continue
        try:
            if process.environ().get(MARKER) == session:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue  # gone, or not ours (another user's processes cannot carry our marker)
    return found


def _describe(process: psutil.Process) -> str:
    try:
        return f"pid {process.pid}: {' '.join(process.cmdline())[:160]}"
    except psutil.Error:
        return f"pid {process.pid}"


def leftovers(session: str, grace_s: float = 10.0, ignore: set[int] = frozenset()) -> list[str]:
    """Processes of this session still alive after `grace_s` (stopping ones get that long
    to exit); each is reported and killed."""
    deadline = time.monotonic() + grace_s
    while True:
        alive = [p for p in _marked(session) if p.pid not in ignore and p.status() != psutil.STATUS_ZOMBIE]
        if not alive or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    report = [_describe(process) for process in alive]
    for process in alive:
        try:
            process.kill()
        except psutil.Error:
            pass
    return report
