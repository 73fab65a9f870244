"""The reaper: stops what `fusionxpay run` started once it is gone, however it went.

Children of the supervisor die with it on their own (PR_SET_PDEATHSIG), but the embedded
PostgreSQL and Redis daemonize, so nothing ties them to it, and a SIGKILLed supervisor
runs no clean-up. This small process, in a session of its own, reads "pid signal" lines
from a pipe whose only writer is the supervisor; end of file means the supervisor exited.
It then signals each registered process still alive (the same process: checked by its
start time), waits, and kills what is left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import IO

import psutil

GRACE_S = 15.0


class Reaper:
    """The supervisor's side: start the reaper, register processes it must stop."""

    def __init__(self) -> None:
        self._process = subprocess.Popen([sys.executable, "-m", "app.entrypoints.reaper"], stdin=subprocess.PIPE,
                                         start_new_session=True, text=True)
        assert self._process.stdin is not None
        self._pipe: IO[str] = self._process.stdin

    @property
    def pid(self) -> int:
        return self._process.pid

    def register(self, pid: int, signum: int = signal.SIGTERM, *, group: bool = False) -> None:
        """Send `signum` to `pid` once we are gone, SIGKILL it after a grace period, and
        with `group`, whatever is left in its process group too."""
        self._pipe.write(f"{pid} {int(signum)} {psutil.Process(pid).create_time()!r} {int(group)}\n")
        self._pipe.flush()


def _still_same(pid: int, created: float) -> psutil.Process | None:
    try:
        process = psutil.Process(pid)
        return process if process.create_time() == created and process.status() != psutil.STATUS_ZOMBIE else None
    except psutil.Error:
        return None


def _group_members(groups: set[int]) -> list[psutil.Process]:
    members = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) in groups:
                members.append(process)
        except (OSError, psutil.Error):
            continue
    return members


def reap(lines: list[str], grace_s: float = GRACE_S) -> None:
    targets, groups = [], set()
    for line in lines:
        pid, signum, created, group = line.split()
        if int(group):
            groups.add(int(pid))
        process = _still_same(int(pid), float(created))
        if process is not None:
            targets.append(process)
            try:
                process.send_signal(int(signum))
            except psutil.Error:
                pass
    _, alive = psutil.wait_procs(targets, timeout=grace_s)
    for process in alive + _group_members(groups):
        try:
            process.kill()
        except psutil.Error:
            pass


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # only the end of the pipe ends the reaper
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    lines = [line for line in sys.stdin if line.strip()]  # until the supervisor is gone
    time.sleep(0.5)  # a supervisor exiting normally has stopped its servers already
    reap(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
