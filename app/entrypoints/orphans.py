"""Orphans of the supervisor's children. A child that dies outright (SIGKILL) leaves its
own children behind: granian's workers, the workers process's Dramatiq pool (in a session
of its own, out of reach of a process-group kill). Made a child subreaper, the supervisor
inherits them instead of init, and sweeps them: SIGTERM first, SIGKILL if they linger,
and the dead are reaped."""

from __future__ import annotations

import os
import sys
import time

import psutil

PR_SET_CHILD_SUBREAPER = 36
GRACE_S = 10.0


def adopt_orphans() -> None:
    """From now on, descendants orphaned below us are re-parented to us (Linux). Call
    after the embedded servers have daemonized: they are not ours to sweep."""
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


class OrphanSweeper:
    def __init__(self, grace_s: float = GRACE_S) -> None:
        self._grace_s = grace_s
        self._signalled: dict[int, float] = {}

    def sweep(self, known: set[int]) -> int:
        """Deal with our children that are not `known` (the supervised ones, the reaper);
        how many are still alive."""
        alive, now = 0, time.monotonic()
        for process in psutil.Process().children():
            if process.pid in known:
                continue
            try:
                if process.status() == psutil.STATUS_ZOMBIE:
                    os.waitpid(process.pid, os.WNOHANG)
                    self._signalled.pop(process.pid, None)
                    continue
                alive += 1
                first = self._signalled.setdefault(process.pid, now)
                if first == now:
                    process.terminate()
                elif now - first > self._grace_s:
                    process.kill()
            except (psutil.Error, ChildProcessError):
                continue
        return alive

    def clear(self, known: set[int], timeout_s: float) -> None:
        """Sweep until no orphan is left or `timeout_s` has passed (shutdown)."""
        deadline = time.monotonic() + timeout_s
        while self.sweep(known) and time.monotonic() < deadline:
            time.sleep(0.1)
