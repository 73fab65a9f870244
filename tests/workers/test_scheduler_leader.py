"""Several schedulers at once (issue 17, item 6): the holder of the PostgreSQL advisory
lock sends every periodic tick, the others none; when the leader loses its connection it
stops (fencing) and a standby takes over; a SIGKILLed scheduler process is replaced by the
other one. Real PostgreSQL throughout."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import asyncpg

from app.adapters.db.leader_lock import LOCK_CLASS, AdvisoryLeaderLock, lock_key
from app.workers.scheduler import PeriodicJob, PeriodicScheduler

ROOT = Path(__file__).resolve().parents[2]
JOBS = [PeriodicJob("relay_outbox", 0.1), PeriodicJob("reconcile_payments", 0.3)]


class RecordingPublisher:
    def __init__(self) -> None:
        self.sent: list[tuple[float, str]] = []

    def publish(self, actor: str, kwargs: dict, correlation_id: str | None = None, delay_ms: int | None = None,
                options: dict | None = None) -> None:
        self.sent.append((time.monotonic(), actor))


async def _until(condition, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_two_schedulers_one_leader_sends_each_tick_and_a_standby_takes_over(settings):
    name = f"test-scheduler:{uuid.uuid4().hex}"
    locks = [AdvisoryLeaderLock(settings.database.url, name) for _ in range(2)]
    publishers = [RecordingPublisher(), RecordingPublisher()]
    stop = asyncio.Event()
    runs = [asyncio.create_task(PeriodicScheduler(publisher, JOBS, lock, standby_retry_s=0.1).run(stop))
            for publisher, lock in zip(publishers, locks, strict=True)]
    try:
        await _until(lambda: any(len(p.sent) >= 3 for p in publishers))
        await asyncio.sleep(1.0)
        [leader] = [i for i in range(2) if publishers[i].sent]  # exactly one sends
        standby = 1 - leader
        assert publishers[standby].sent == [] and locks[leader].held and not locks[standby].held
        counts = Counter(actor for _, actor in publishers[leader].sent)
        relay_times = [t for t, actor in publishers[leader].sent if actor == "relay_outbox"]
        # One tick per interval: no round doubled (a second sender would show gaps of ~0; a
        # loaded machine delays single sends, so the floor is well under the 0.1 s interval).
        assert min(b - a for a, b in zip(relay_times, relay_times[1:])) > 0.02
        assert counts["reconcile_payments"] < counts["relay_outbox"]

        # The leader's session ends (its connection cut, as when its host vanishes).
        async with asyncio.timeout(10):
            admin = await asyncpg.connect(settings.database.url)
            try:
                [pid] = [row["pid"] for row in await admin.fetch(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1::int4::oid "
                    "AND objid = $2::int4::oid AND objsubid = 2", LOCK_CLASS, lock_key(name))]
                assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
            finally:
                await admin.close()
        cut = time.monotonic()
        # A leader again within a few standby retries: the standby, or the old one if it
        # reconnected first (both ask every 0.1 s); never both.
        await _until(lambda: any(t > cut + 0.3 for p in publishers for t, _ in p.sent))
        await asyncio.sleep(1.0)
        after = [[t for t, _ in p.sent if t > cut + 0.3] for p in publishers]
        [new_leader] = [i for i in range(2) if after[i]]
        assert min(after[new_leader]) - cut < 3.0
        assert locks[new_leader].held and not locks[1 - new_leader].held
        # Fenced: the old session sent nothing once its lock was gone (its check failed first).
        if new_leader == standby:
            assert not [t for t, _ in publishers[leader].sent if t > cut + 0.3]
    finally:
        stop.set()
        await asyncio.gather(*runs)
        for lock in locks:
            await lock.release()


async def test_released_lock_is_taken_by_the_next_asker(settings):
    name = f"test-scheduler:{uuid.uuid4().hex}"
    first, second = AdvisoryLeaderLock(settings.database.url, name), AdvisoryLeaderLock(settings.database.url, name)
    try:
        assert await first.is_leader()
        assert not await second.is_leader()
        assert await first.is_leader()  # confirmed, not taken again
        await first.release()
        assert await second.is_leader()
        assert not await first.is_leader()
    finally:
        await first.release()
        await second.release()


def _scheduler_process(namespace: str, log: Path) -> subprocess.Popen:
    env = {**os.environ, "FXP_WORKERS__NAMESPACE": namespace, "FXP_WORKERS__STANDBY_RETRY_S": "0.2",
           "FXP_LOG_LEVEL": "INFO"}
    return subprocess.Popen([sys.executable, "-m", "app.workers.main", "--processes", "0"], cwd=ROOT, env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)


async def test_killed_leader_process_is_replaced_by_the_standby(test_servers, tmp_path):
    namespace = f"fxp-leader-{uuid.uuid4().hex[:8]}"
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    processes = [_scheduler_process(namespace, log) for log in logs]

    def leading() -> list[int]:
        return [i for i, log in enumerate(logs) if "leadership_acquired" in log.read_text()]

    try:
        await _until(lambda: leading(), timeout_s=30)
        await asyncio.sleep(1.0)
        [leader] = leading()  # the other one stands by
        assert processes[1 - leader].poll() is None, logs[1 - leader].read_text()
        processes[leader].send_signal(signal.SIGKILL)
        processes[leader].wait(10)
        killed = time.monotonic()
        await _until(lambda: 1 - leader in leading(), timeout_s=15)
        assert time.monotonic() - killed < 10
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = [await asyncio.to_thread(process.wait, 30) for process in processes]
    assert codes[1 - leader] == 0
