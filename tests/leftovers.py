"""The session-end check that `make test` leaves no process behind.

A process belongs to this session when it inherited the marker every process the session
starts gets in its environment (FUSIONXPAY_TEST_SESSION), or when its command line names one of
the session's own folders (its pytest temp folder, its Redis folder): PostgreSQL and
redis-server rewrite their process titles over their environment, and daemonize away
from us, so the marker alone cannot find them. Descendants of either count too.
Whatever is still alive once the session's own servers are stopped was left behind by a
test: it is reported, fails the run, and is then killed so the next run starts clean."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable

import psutil

MARKER = "FUSIONXPAY_TEST_SESSION"


def mark_session() -> str:
    """Set (once) the marker every process started from now on inherits."""
    return os.environ.setdefault(MARKER, uuid.uuid4().hex)


def _names(part: str, folder: str) -> bool:
    """`part` (an argument) names `folder` or a path inside it: /tmp/pt-a, not /tmp/pt-ab."""
    at = part.find(folder)
    while at != -1:
        end = at + len(folder)
        if end == len(part) or part[end] in "/ ":
            return True
        at = part.find(folder, at + 1)
    return False


def _belongs(process: psutil.Process, session: str, folders: tuple[str, ...]) -> bool:
    try:
        if folders and any(_names(part, folder) for part in process.cmdline() for folder in folders):
            return True
        return process.environ().get(MARKER) == session
    except psutil.Error:
        return False  # gone, or another user's (which cannot carry our marker)


def _ours(session: str, folders: tuple[str, ...]) -> list[psutil.Process]:
    me = os.getpid()
    # What started this session (`make test PYTEST_ARGS=--basetemp=...` names the temp
    # folder on its command line) is not something the session left behind.
    starters = {parent.pid for parent in psutil.Process(me).parents()}
    found: dict[int, psutil.Process] = {}
    for process in psutil.process_iter():
        if process.pid in starters:
            continue
        if process.pid != me and process.pid not in found and _belongs(process, session, folders):
            found[process.pid] = process
            try:
                found.update({child.pid: child for child in process.children(recursive=True)})
            except psutil.Error:
                continue
    alive = []
    for process in found.values():
        try:
            if process.pid != me and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.Error:
            continue
    return alive


def _describe(process: psutil.Process) -> str:
    try:
        return f"pid {process.pid}: {' '.join(process.cmdline())[:160]}"
    except psutil.Error:
        return f"pid {process.pid}"


def leftovers(session: str, folders: Iterable[str], grace_s: float = 10.0,
              ignore: set[int] = frozenset()) -> list[str]:
    """This session's processes still alive after `grace_s` (stopping ones get that long to
    exit), apart from `ignore`; each is reported and killed."""
    folders = tuple(str(folder) for folder in folders if folder)
    deadline = time.monotonic() + grace_s
    while True:
        alive = [p for p in _ours(session, folders) if p.pid not in ignore]
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
