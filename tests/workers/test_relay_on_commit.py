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
