"""The supervisor's children: started in sessions of their own (a terminal's Ctrl-C
reaches only the supervisor, which stops each child once, gracefully), tied to the
supervisor's life (PR_SET_PDEATHSIG), and restarted when they die, sooner or later:
a child that keeps dying at once (bad configuration, port taken) is restarted ever
less often instead of spinning."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from app.entrypoints.orphans import OrphanSweeper


RESTART_DELAY_S = 1.0
MAX_RESTART_DELAY_S = 30.0
CRASH_LOOP_S = 10.0  # a child dying sooner than this after its start is crash-looping
SHUTDOWN_GRACE_S = 20.0
logger = structlog.get_logger("fusionxpay.supervisor")


def die_with_parent(signum: int = signal.SIGTERM) -> None:
    """In a child, before exec (`preexec_fn`): Linux sends it `signum` when its parent dies,
    however the parent died (SIGKILL included), so no child outlives its supervisor."""
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signum)  # PR_SET_PDEATHSIG


@dataclass
class Child:
    name: str
    command: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    delay_s: float = RESTART_DELAY_S
    restarts: int = field(default=0)

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} was never started"
        return self.process.pid


class ChildSupervisor:
    def __init__(self, children: list[Child], env: dict[str, str],
                 on_start: Callable[[Child], None] = lambda child: None, spare: frozenset[int] = frozenset()) -> None:
        self.children = children
        self._env = env
        self._on_start = on_start
        self._spare = spare  # our other children (the reaper): not orphans
        self._orphans = OrphanSweeper()

    def _known(self) -> set[int]:
        return set(self._spare) | {c.process.pid for c in self.children if c.process is not None}

    def _start(self, child: Child) -> None:
        child.process = subprocess.Popen(child.command, env=self._env, start_new_session=True,
                                         preexec_fn=die_with_parent)
        child.started_at, child.restart_at = time.monotonic(), None
        self._on_start(child)

    def start_all(self) -> None:
        for child in self.children:
            self._start(child)

    def check(self) -> None:
        """Restart the children that died, once their delay has passed."""
        now = time.monotonic()
        for child in self.children:
            assert child.process is not None
            if child.restart_at is None and child.process.poll() is not None:
                _kill_group(child.process.pid)  # what it leaves (granian's workers) would hold its port
                crash_looping = now - child.started_at < CRASH_LOOP_S
                child.delay_s = min(child.delay_s * 2, MAX_RESTART_DELAY_S) if crash_looping else RESTART_DELAY_S
                child.restart_at = now + child.delay_s
                logger.error("child_exited", child=child.name, code=child.process.returncode,
                             restart_in_s=child.delay_s)
            elif child.restart_at is not None and now >= child.restart_at:
                child.restarts += 1
                self._start(child)
                logger.info("child_restarted", child=child.name, pid=child.process.pid, restarts=child.restarts)
        self._orphans.sweep(self._known())  # what a dead child left behind

    def run(self, stopping: Callable[[], bool], poll_s: float = 0.2) -> None:
        while not stopping():
            self.check()
            time.sleep(poll_s)

    def stop_all(self, grace_s: float = SHUTDOWN_GRACE_S) -> None:
        """SIGTERM each child (once: a second one would cut short its graceful stop), wait,
        then SIGKILL each one's whole process group."""
        running = [c.process for c in self.children if c.process is not None and c.process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for process in running:
            _kill_group(process.pid)
            process.wait()
        self._orphans.clear(set(self._spare), timeout_s=grace_s)


def _kill_group(leader: int) -> None:
    """SIGKILL whatever is left in a child's process group (its own session: the group's
    id is the child's pid, which stays reserved while any member lives)."""
    try:
        os.killpg(leader, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
