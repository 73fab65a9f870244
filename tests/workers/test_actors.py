"""Our actors on a StubBroker + Worker: idempotency, correlation ids, retries with
backoff, the dead-letter queue, and the periodic actors."""

from __future__ import annotations

import dataclasses
import uuid

import structlog
from dramatiq.common import current_millis

from app.domain.services.consumers import EventConsumers
from tests.workers.conftest import add_event, join, use_services


class FakePayments:
    """Stands in for PaymentService: records each dispatch and the correlation id it saw."""

    def __init__(self, failures: int = 0) -> None:
        self.calls: list[tuple[uuid.UUID, str | None]] = []
        self.failures = failures
        self.reconciled = 0

    async def dispatch(self, attempt_id: uuid.UUID) -> None:
        self.calls.append((attempt_id, structlog.contextvars.get_contextvars().get("correlation_id")))
        if self.failures:
            self.failures -= 1
            raise RuntimeError("provider exploded")

    async def reconcile(self) -> dict[str, int]:
        self.reconciled += 1
        return {"redispatched": 0, "resolved": 1, "still_pending": 0, "timed_out": 0}


class FakeRefunds:
    async def retry_due(self) -> int:
        return 0


def with_fake_payments(services, payments: FakePayments):
    refunds = FakeRefunds()
    return use_services(services, payments=payments, refunds=refunds,
                        consumers=EventConsumers(payments, refunds, services.notifications, services.fulfillment))


async def test_same_event_twice_has_one_effect(services, stub_broker, worker):
    payments = FakePayments()
    with_fake_payments(services, payments)
    attempt_id, event_id = str(uuid.uuid4()), str(uuid.uuid4())
    actor = stub_broker.get_actor("dispatch_payment")
    for _ in range(2):  # the relay published the event twice (at-least-once)
        actor.send(attempt_id=attempt_id, event_id=event_id)
        await join(stub_broker, "payments")
    actor.send(attempt_id=attempt_id, event_id=str(uuid.uuid4()))  # another event: runs
    await join(stub_broker, "payments")
    assert [call[0] for call in payments.calls] == [uuid.UUID(attempt_id)] * 2
    assert await services.processed.seen("dispatch_payment", uuid.UUID(event_id))


async def test_correlation_id_reaches_the_async_actor(services, stub_broker, worker):
    payments = FakePayments()
    with_fake_payments(services, payments)
    stub_broker.get_actor("dispatch_payment").send_with_options(
        kwargs={"attempt_id": str(uuid.uuid4())}, correlation_id="req-abc123")
    await join(stub_broker, "payments")
    assert payments.calls[0][1] == "req-abc123"


async def test_failures_retry_with_backoff_then_dead_letter(services, stub_broker, worker):
    payments = FakePayments(failures=99)
    with_fake_payments(services, payments)
    started = current_millis()
    stub_broker.get_actor("dispatch_payment").send(attempt_id=str(uuid.uuid4()), event_id=str(uuid.uuid4()))
    await join(stub_broker, "payments")
    assert len(payments.calls) == 3  # first run + max_retries (2)
    assert current_millis() - started >= 20 + 40  # backoff doubles from min_backoff_ms (20 ms)
    [dead] = stub_broker.dead_letters_by_queue["payments"]
    assert dead.actor_name == "dispatch_payment" and dead.options["retries"] == 3
    letters = await services.dead_letters.list()
    assert letters[0].failure == "RuntimeError: provider exploded"


async def test_relay_actor_routes_payment_requested_to_dispatch(services, stub_broker, worker, quiet_outbox):
    payments = FakePayments()
    with_fake_payments(services, payments)
    attempt_id = uuid.uuid4()
    await add_event("payment.requested", payload={"payment_id": str(attempt_id), "order_id": str(uuid.uuid4())},
                    correlation_id="req-from-http")
    stub_broker.get_actor("relay_outbox").send()
    await join(stub_broker, "outbox")
    await join(stub_broker, "payments")
    assert payments.calls == [(attempt_id, "req-from-http")]


async def test_stale_periodic_ticks_are_skipped(services, stub_broker, worker):
    payments = FakePayments()
    with_fake_payments(services, payments)
    actor = stub_broker.get_actor("reconcile_payments")
    fresh = actor.message_with_options(tick_ttl_ms=60_000)
    stale = dataclasses.replace(actor.message_with_options(tick_ttl_ms=1000), message_timestamp=current_millis() - 5000)
    stub_broker.enqueue(fresh)
    stub_broker.enqueue(stale)
    await join(stub_broker, "maintenance")
    assert payments.reconciled == 1
    assert not stub_broker.dead_letters_by_queue["maintenance"]


async def test_a_failing_periodic_job_is_logged_not_dead_lettered(services, stub_broker, worker):
    class Broken(FakePayments):
        async def reconcile(self) -> dict[str, int]:
            raise RuntimeError("database down")

    with_fake_payments(services, Broken())
    stub_broker.get_actor("reconcile_payments").send()
    await join(stub_broker, "maintenance")
    assert not stub_broker.dead_letters


async def test_purge_actor_purges_expired_idempotency_keys(services, stub_broker, worker, container):
    merchant_id = uuid.uuid4()
    async with container.engine.transaction() as transaction:
        await transaction.connection.execute(
            "INSERT INTO idempotency_keys (merchant_id, key, fingerprint, created_at)"
            " VALUES ($1, 'old', 'f', now() - interval '3 days')", merchant_id)
    stub_broker.get_actor("purge_idempotency_keys").send()
    await join(stub_broker, "maintenance")
    async with container.engine.transaction() as transaction:
        left = await transaction.connection.fetchval(
            "SELECT count(*) FROM idempotency_keys WHERE merchant_id = $1", merchant_id)
    assert left == 0


async def test_a_failed_container_boot_is_tried_again_by_the_next_actor():
    """A worker process booting while PostgreSQL restarts must not run without services
    for the rest of its life: the next actor boots the Container."""
    import asyncio

    from dramatiq.brokers.stub import StubBroker

    from app.workers.middleware import ContainerBoot, SharedLoopAsyncIO

    booted: list[object] = []

    async def factory(broker):
        booted.append(broker)
        if len(booted) == 1:
            raise ConnectionError("the database system is shutting down")
        return "the container"

    broker, boot, loop = StubBroker(), ContainerBoot(factory), SharedLoopAsyncIO(asyncio.get_running_loop())
    loop.before_worker_boot(broker, None)
    try:
        await asyncio.to_thread(boot.before_worker_boot, broker, None)  # blocks on this loop: run it off-loop
        assert booted == [broker]
        assert await boot.container() == "the container" and await boot.container() == "the container"
        assert booted == [broker, broker]
    finally:
        loop.after_worker_shutdown(broker, None)
