"""CPU accounting from /proc (Linux): how busy the machine was during a measurement, how
many cores the server under test used, and whether something else was already loading the
machine before the run. Elsewhere these readings are simply left out."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _machine() -> tuple[int, int] | None:
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def proc_stats() -> Iterator[tuple[int, list[str]]]:
    """(pid, the /proc/<pid>/stat fields after the command name) of every process."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        yield int(entry.name), stat[stat.rindex(")") + 2:].split()


def _group_ticks(pgids: set[int]) -> int:
    # fields: [2] process group, [11] utime, [12] stime
    return sum(int(f[11]) + int(f[12]) for _, f in proc_stats() if int(f[2]) in pgids)


def tree_seconds(root: int) -> float:
    """CPU seconds of a process and its live children (PostgreSQL's backends each lead a
    process group of their own, so a process group does not gather them)."""
    return sum(int(f[11]) + int(f[12]) for pid, f in proc_stats() if pid == root or int(f[1]) == root) / TICKS


@dataclass
class Snapshot:
    at: float
    machine: tuple[int, int] | None
    group: int

    @classmethod
    def take(cls, pgid: int | Iterable[int] | None = None) -> Snapshot:
        """`pgid`: the process group(s) whose CPU to count (their live processes)."""
        pgids = {pgid} if isinstance(pgid, int) else set(pgid or ())
        return cls(time.monotonic(), _machine(), _group_ticks(pgids) if pgids else 0)

    def since(self, before: Snapshot) -> dict[str, float]:
        seconds = self.at - before.at
        result: dict[str, float] = {}
        if self.machine and before.machine and self.machine[1] > before.machine[1]:
            busy = (self.machine[0] - before.machine[0]) / (self.machine[1] - before.machine[1])
            result["machine_busy_pct"] = round(100 * busy, 1)
        if seconds > 0 and self.group >= before.group:
            result["server_cores"] = round((self.group - before.group) / TICKS / seconds, 2)
        return result


def background_busy_pct(seconds: float = 1.0) -> float | None:
    """How busy the machine is before we start anything (0-100, all cores)."""
    before = Snapshot.take()
    time.sleep(seconds)
    return Snapshot.take().since(before).get("machine_busy_pct")
