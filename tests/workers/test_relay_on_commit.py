"""The outbox relay woken by commits (issue 17, item 4): the trigger's NOTIFY reaches the
leading scheduler's connection when the inserting transaction commits, and the relay round
runs at once, not at the next poll; a rolled-back insert wakes nobody. Real PostgreSQL."""

from __future__ import annotations

import asyncio
import time
import uuid

from app.adapters.db.leader_lock import AdvisoryLeaderLock
from app.adapters.queue.outbox_relay import OutboxRelay
from app.workers.relay_wakeup import OUTBOX_CHANNEL, RelayOnCommit
from tests.workers.conftest import add_event


class RecordingPublisher:
    def __init__(self) -> None:
        self.sent: dict[str, float] = {}  # event id -> when the broker got it

    def publish(self, actor: str, kwargs: dict, correlation_id: str | None = None, **_: object) -> None:
        self.sent[kwargs["event_id"]] = time.monotonic()


async def test_commit_wakes_the_relay_at_once_and_a_rollback_does_not(container, quiet_outbox, settings):
    publisher = RecordingPublisher()
    relay = OutboxRelay(container.engine, publisher)
    on_commit = RelayOnCommit(relay.drain)
    leader = AdvisoryLeaderLock(settings.database.url, f"test-relay:{uuid.uuid4().hex}",
                                listeners={OUTBOX_CHANNEL: on_commit.notified})
    stop = asyncio.Event()
    running = asyncio.create_task(on_commit.run(stop))
    try:
        assert await leader.is_leader()  # taking the lead runs one catch-up round
        deadline = time.monotonic() + 5
        while on_commit.rounds < 1:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)

        latencies = []
        for _ in range(5):
            committed = time.monotonic()
            event_id = str(await add_event("payment.requested", payload={"payment_id": str(uuid.uuid4())}))
            while event_id not in publisher.sent:
                assert time.monotonic() - committed < 5, "the commit did not wake the relay"
                await asyncio.sleep(0.005)
            latencies.append(publisher.sent[event_id] - committed)
        # Nothing polls here: only the notification can have woken the relay this fast.
        assert sorted(latencies)[2] < 0.5, latencies

        await asyncio.sleep(0.3)  # the last round counts itself after publishing
        rounds = on_commit.rounds
        async with container.engine.transaction() as transaction:
            await transaction.connection.execute(
                "INSERT INTO outbox (id, event_type, aggregate_id, merchant_id, payload, occurred_at) "
                "VALUES ($1, 'payment.requested', $1, $1, '{}'::jsonb, now())", uuid.uuid4())
            await transaction.rollback()
        await asyncio.sleep(0.5)
        assert on_commit.rounds == rounds  # no commit, no notification
    finally:
        stop.set()
        await running
        await leader.release()


async def test_commits_wait_in_postgresql_until_the_local_pool_consumes(container, quiet_outbox, settings):
    # Before any worker process of its host is up, the leader relays nothing on commit: the
    # events stay unpublished in PostgreSQL (a broker without persistence restarting in the
    # meantime would lose them, and nobody would run them yet); once the pool is up, the
    # owed round runs without another commit.
    publisher = RecordingPublisher()
    relay = OutboxRelay(container.engine, publisher)
    pool = {"up": False}
    on_commit = RelayOnCommit(relay.drain, ready=lambda: pool["up"])
    leader = AdvisoryLeaderLock(settings.database.url, f"test-relay:{uuid.uuid4().hex}",
                                listeners={OUTBOX_CHANNEL: on_commit.notified})
    stop = asyncio.Event()
    running = asyncio.create_task(on_commit.run(stop))
    try:
        assert await leader.is_leader()
        event_id = str(await add_event("payment.requested", payload={"payment_id": str(uuid.uuid4())}))
        deadline = time.monotonic() + 10
        while on_commit.deferred < 2:  # woken, held back, and looked again
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        assert on_commit.rounds == 0 and publisher.sent == {}
        async with container.engine.transaction() as transaction:
            assert await transaction.connection.fetchval(
                "SELECT published_at IS NULL FROM outbox WHERE id = $1", uuid.UUID(event_id))

        pool["up"] = True
        while event_id not in publisher.sent:
            assert time.monotonic() < deadline + 10, "the owed round never ran once the pool was up"
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await running
        await leader.release()


class CountingRelay:
    """A relay round that only notes when it started."""

    def __init__(self) -> None:
        self.started: list[float] = []

    async def __call__(self) -> None:
        self.started.append(time.monotonic())


async def _until(condition, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.002)


async def test_commits_within_the_interval_share_one_round_and_an_idle_relay_runs_at_once():
    relay = CountingRelay()
    on_commit = RelayOnCommit(relay, min_interval_s=0.3)
    stop = asyncio.Event()
    running = asyncio.create_task(on_commit.run(stop))
    try:
        woken = time.monotonic()
        on_commit.notified()
        await _until(lambda: len(relay.started) == 1)
        assert relay.started[0] - woken < 0.2  # idle: no wait for the interval
        for _ in range(20):  # a burst of commits right after the round
            on_commit.notified()
            await asyncio.sleep(0.005)
        await _until(lambda: len(relay.started) == 2)
        await asyncio.sleep(0.5)
        assert len(relay.started) == 2  # the whole burst went in one round...
        assert relay.started[1] - relay.started[0] >= 0.3  # ...the interval after the first
        await asyncio.sleep(0.3)  # idle again: the next commit is relayed at once
        woken = time.monotonic()
        on_commit.notified()
        await _until(lambda: len(relay.started) == 3)
        assert relay.started[2] - woken < 0.2
    finally:
        stop.set()
        await running


async def test_a_ready_pool_is_not_asked_again_for_every_round():
    relay, asked = CountingRelay(), []

    def ready() -> bool:
        asked.append(time.monotonic())
        return True

    on_commit = RelayOnCommit(relay, ready=ready)
    stop = asyncio.Event()
    running = asyncio.create_task(on_commit.run(stop))
    try:
        for rounds in range(1, 11):
            on_commit.notified()
            await _until(lambda: len(relay.started) == rounds)
        assert len(asked) == 1  # ten rounds within READY_TRUSTED_S: one look at the heartbeats
    finally:
        stop.set()
        await running


async def test_a_pool_that_was_not_ready_is_asked_again_before_the_next_round():
    relay, pool = CountingRelay(), {"up": False}
    on_commit = RelayOnCommit(relay, ready=lambda: pool["up"])
    stop = asyncio.Event()
    running = asyncio.create_task(on_commit.run(stop))
    try:
        on_commit.notified()
        await _until(lambda: on_commit.deferred >= 1)
        assert relay.started == []  # a "not ready" is never trusted for later
        pool["up"] = True
        await _until(lambda: len(relay.started) == 1)
    finally:
        stop.set()
        await running
