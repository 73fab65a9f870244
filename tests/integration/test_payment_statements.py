"""What the payment flow asks PostgreSQL for (issue 17, item 2): the dispatch reads the
attempt without a transaction around the read, and a settle takes the order's and the
attempt's row locks in one read (the order's first) instead of reading the attempt, then
locking the order, then the attempt; the verdict is applied as before. Real PostgreSQL;
the provider is an in-memory fake, the statements are logged by asyncpg on every pooled
connection."""

from __future__ import annotations

import asyncio
import contextvars
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from unittest.mock import patch

import asyncpg
import pytest

from app.adapters.db.hot_path import SELECT_ORDER_AND_ATTEMPT_FOR_UPDATE
from app.adapters.queue.inline_bus import InProcessEventBus
from app.bootstrap import build_container
from app.domain.model.order import OrderStatus
from app.domain.model.payment import AttemptStatus
from app.domain.model.provider import CallbackKind, Outcome, ProviderEvent, ProviderResult
from app.domain.model.verdict import VerdictOrigin, VerdictSource
from app.domain.routing import DISPATCH_PAYMENT, EVENT_ROUTES, NOTIFY_MERCHANT
from app.domain.services.callbacks import CallbackOutcome
from app.domain.services.orders import NewOrder
from app.domain.services.fulfillment import Allocation
from app.domain.services.settlement import Applied
from tests.unit.builders import CUSTOMER
from tests.unit.fake_providers import (FakeProvider, FakeProviderRegistry, InMemoryCardDataCache, reference_for,
                                       success_for)
from tests.unit.fakes import InMemoryLockManager
from tests.integration.test_inventory_concurrency import CARD

ATTEMPT_READ = "SELECT * FROM payment_attempts WHERE id = $1"
LOCKED_READ = " ".join(SELECT_ORDER_AND_ATTEMPT_FOR_UPDATE.split())  # the attempt and its order, both locked


@asynccontextmanager
async def statements() -> AsyncIterator[list[str]]:
    """The statements any asyncpg connection of this process runs meanwhile (BEGIN and
    COMMIT included), as asyncpg's own query loggers would see them."""
    seen: list[str] = []
    execute, run = asyncpg.Connection.execute, asyncpg.Connection._execute

    async def logged_execute(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        if not args:  # (with arguments it goes through _execute, logged there)
            seen.append(" ".join(query.split()))
        return await execute(self, query, *args, **kwargs)

    async def logged_run(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(" ".join(query.split()))
        return await run(self, query, *args, **kwargs)

    with patch.object(asyncpg.Connection, "execute", logged_execute), \
            patch.object(asyncpg.Connection, "_execute", logged_run):
        yield seen


class Shop:
    def __init__(self, container: Any, merchant_id: uuid.UUID, provider: FakeProvider) -> None:
        # The test sends the attempt to the provider itself; no merchant webhooks.
        skipped = {NOTIFY_MERCHANT, DISPATCH_PAYMENT}
        routes = {event_type: kept for event_type, routes in EVENT_ROUTES.items()
                  if (kept := tuple(r for r in routes if r.consumer not in skipped))}
        self.bus = InProcessEventBus(routes)
        self.container = build_container(container.settings, engine=container.engine, redis=container.redis,
                                         bus=self.bus, providers=FakeProviderRegistry(provider),
                                         locks=InMemoryLockManager(), card_cache=InMemoryCardDataCache())
        self.merchant_id, self.engine = merchant_id, container.engine

    async def requested(self) -> Any:
        order = await self.container.orders.create(self.merchant_id, NewOrder(5000, "USD", [], CUSTOMER))
        return await self.container.payments.request(self.merchant_id, order.id, "sandbox", CARD)

    async def state(self, attempt: Any) -> tuple[str, str]:
        async with self.engine.transaction() as tx:
            row = await tx.connection.fetchrow(
                "SELECT p.status AS attempt, o.status AS order FROM payment_attempts p JOIN orders o "
                "ON o.id = p.order_id WHERE p.id = $1", attempt.id)
        return row["attempt"], row["order"]


def attempt_reads(seen: list[str]) -> tuple[int, int]:
    """(reads of the attempt without a lock, reads under its row lock)."""
    return (sum(1 for sql in seen if sql == ATTEMPT_READ),
            sum(1 for sql in seen if sql in (ATTEMPT_READ + " FOR UPDATE", LOCKED_READ)))


def order_locks(seen: list[str]) -> int:
    """Reads that lock the order on its own (not with its attempt)."""
    return sum(1 for sql in seen if sql.startswith("SELECT id, merchant_id") and sql.endswith("FOR UPDATE"))


async def _run(shop: Shop, call: Callable[[], Awaitable[Any]]) -> tuple[Any, list[str]]:
    await shop.bus.drain()
    # Queued audit records (this test's, and earlier tests' on the same loop) written
    # meanwhile would show up too: their batches go first (the trail waits 50 ms).
    await shop.container.audit.flush()
    await asyncio.sleep(0.15)
    async with statements() as seen:
        result = await call()
    return result, list(seen)


@pytest.fixture
async def provider() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
async def shop(container, merchant, provider) -> Shop:
    return Shop(container, uuid.UUID(merchant.id), provider)


async def test_dispatch_reads_the_attempt_once_without_a_transaction_then_once_under_its_lock(shop):
    attempt = await shop.requested()
    applied, seen = await _run(shop, lambda: shop.container.payments.dispatch(attempt.id))
    assert applied is Applied.SUCCEEDED
    assert await shop.state(attempt) == (AttemptStatus.SUCCESS, OrderStatus.PAYMENT_DONE)
    assert seen[0] == ATTEMPT_READ  # no BEGIN before the read...
    assert "ROLLBACK;" not in seen and "ROLLBACK" not in seen  # ...and none to end it
    assert attempt_reads(seen) == (1, 1) and LOCKED_READ in seen and order_locks(seen) == 0
    assert seen.count("BEGIN;") + seen.count("BEGIN") == 1  # the settle's transaction only


async def test_a_dispatch_of_an_attempt_already_settled_sends_nothing(shop, provider):
    attempt = await shop.requested()
    await shop.container.payments.dispatch(attempt.id)
    await shop.bus.drain()  # (the success's own consumers: not part of what is counted)
    applied, seen = await _run(shop, lambda: shop.container.payments.dispatch(attempt.id))
    assert applied is None and len(provider.purchases) == 1
    assert seen == [ATTEMPT_READ]  # one statement, no transaction


async def test_a_callback_reads_the_attempt_and_its_order_once_under_their_locks(shop, provider):
    provider.default = ProviderResult(Outcome.PENDING)
    attempt = await shop.requested()
    await shop.container.payments.dispatch(attempt.id)
    assert await shop.state(attempt) == (AttemptStatus.PENDING, OrderStatus.PAYMENT_IN_PROGRESS)
    body = b'{"event": "evt_statements"}'
    provider.callbacks[body] = ProviderEvent("evt_statements", CallbackKind.PAYMENT,
                                             success_for(attempt, reference_for(attempt.id)), attempt.id)
    outcome, seen = await _run(shop, lambda: shop.container.callbacks.handle("sandbox", {}, body))
    assert outcome is CallbackOutcome.APPLIED
    assert await shop.state(attempt) == (AttemptStatus.SUCCESS, OrderStatus.PAYMENT_DONE)
    # BEGIN, the inbox's claim, the attempt with its order (both locked), the commit's statement, COMMIT
    assert attempt_reads(seen) == (0, 1) and order_locks(seen) == 0 and len(seen) == 5
    # The two locked rows' UPDATEs go with the commit's statement (outbox, audit).
    assert not [sql for sql in seen if sql.startswith("UPDATE")]
    [commit_write] = [sql for sql in seen if "INSERT INTO outbox" in sql]
    assert "UPDATE payment_attempts SET" in commit_write and "UPDATE orders SET" in commit_write
    again = await shop.container.callbacks.handle("sandbox", {}, body)
    assert again is CallbackOutcome.DUPLICATE


async def test_a_callback_that_does_not_match_the_attempt_is_not_applied(shop, provider):
    # The verdict is checked against the attempt read under its lock.
    provider.default = ProviderResult(Outcome.PENDING)
    attempt = await shop.requested()
    await shop.container.payments.dispatch(attempt.id)
    body = b'{"event": "evt_wrong_amount"}'
    wrong = success_for(attempt, reference_for(attempt.id))
    wrong = ProviderResult(wrong.outcome, wrong.provider_reference, reported=type(wrong.reported)(
        wrong.reported.amount_minor + 1, wrong.reported.currency, attempt.id, attempt.order_id, attempt.merchant_id))
    provider.callbacks[body] = ProviderEvent("evt_wrong_amount", CallbackKind.PAYMENT, wrong, attempt.id)
    outcome = await shop.container.callbacks.handle("sandbox", {}, body)
    assert outcome is CallbackOutcome.MISMATCH
    assert await shop.state(attempt) == (AttemptStatus.PENDING, OrderStatus.PAYMENT_IN_PROGRESS)


PENDING_WRITE = "UPDATE payment_attempts SET status = 'PENDING'"


async def settle_records(shop: Shop, attempt: Any) -> list[tuple[str, str]]:
    """(action, status) of the attempt's settle records in the audit trail."""
    async with shop.engine.transaction() as tx:
        rows = await tx.connection.fetch(
            "SELECT action, status FROM audit_log WHERE entities @> $1::jsonb AND action LIKE 'settle%'"
            " ORDER BY occurred_at", f'{{"payment": "{attempt.id}"}}')
    return [(row["action"], row["status"]) for row in rows]


async def test_a_pending_answer_is_written_in_one_statement_with_its_audit_record(shop, provider):
    # The provider's "pending" changes only the attempt: no transaction, no row locks.
    provider.default = ProviderResult(Outcome.PENDING, "ref_pending_1")
    attempt = await shop.requested()
    applied, seen = await _run(shop, lambda: shop.container.payments.dispatch(attempt.id))
    assert applied is Applied.PENDING
    assert await shop.state(attempt) == (AttemptStatus.PENDING, OrderStatus.PAYMENT_IN_PROGRESS)
    assert seen[0] == ATTEMPT_READ
    assert [sql for sql in seen if PENDING_WRITE in sql and "INSERT INTO audit_log" in sql] != []
    assert "BEGIN;" not in seen and "BEGIN" not in seen and attempt_reads(seen) == (1, 0)
    assert not any("FOR UPDATE" in sql for sql in seen)
    assert await settle_records(shop, attempt) == [("settle_purchase", "success")]
    stored = await shop.container.payments.get(shop.merchant_id, attempt.id)
    assert stored.provider_reference == "ref_pending_1"


async def test_a_pending_answer_for_an_attempt_settled_meanwhile_changes_nothing(shop, provider):
    # The callback's success was applied between the dispatch's read and its settle: the
    # conditional write finds the attempt moved on, writes nothing (not even its audit
    # record), and the locked path answers ALREADY_FINAL, as it always did.
    attempt = await shop.requested()
    stale = await shop.container.payments.get(shop.merchant_id, attempt.id)
    success = success_for(attempt, reference_for(attempt.id))
    await shop.container.payments.settle(attempt.id, success, origin=VerdictOrigin("sandbox", VerdictSource.CALLBACK))
    await shop.bus.drain()
    pending = ProviderResult(Outcome.PENDING, reference_for(attempt.id))
    applied, seen = await _run(shop, lambda: shop.container.payments.settle(
        attempt.id, pending, origin=VerdictOrigin("sandbox", VerdictSource.PURCHASE), found=stale))
    assert applied is Applied.ALREADY_FINAL
    assert any(PENDING_WRITE in sql for sql in seen)  # tried first...
    assert attempt_reads(seen) == (0, 1)  # ...then the locked path decided
    assert await shop.state(attempt) == (AttemptStatus.SUCCESS, OrderStatus.PAYMENT_DONE)
    assert await settle_records(shop, attempt) == [("settle_callback", "success"), ("settle_purchase", "success")]


async def test_a_pending_answer_that_does_not_match_the_attempt_is_not_applied(shop, provider):
    attempt = await shop.requested()
    reported = success_for(attempt, reference_for(attempt.id)).reported
    wrong = ProviderResult(Outcome.PENDING, "ref_wrong", reported=type(reported)(
        reported.amount_minor + 1, reported.currency, attempt.id, attempt.order_id, attempt.merchant_id))
    provider.default = wrong
    applied, seen = await _run(shop, lambda: shop.container.payments.dispatch(attempt.id))
    assert applied is Applied.MISMATCH
    assert not any(PENDING_WRITE in sql for sql in seen)  # the gate sent it to the locked path
    assert await shop.state(attempt) == (AttemptStatus.INITIATED, OrderStatus.PAYMENT_IN_PROGRESS)


async def test_allocation_of_an_order_without_catalog_items_is_its_claim_and_record_in_one_statement(shop):
    attempt = await shop.requested()
    await shop.container.payments.dispatch(attempt.id)
    event_id = uuid.uuid4()
    allocate = shop.container.fulfillment.allocate
    outcome, seen = await _run(shop, lambda: allocate(event_id, shop.merchant_id, attempt.order_id, attempt.id))
    assert outcome is Allocation.NOT_APPLICABLE
    assert len(seen) == 2 and "BEGIN;" not in seen and not any("FOR UPDATE" in sql for sql in seen)
    assert "INSERT INTO processed_events" in seen[1] and "INSERT INTO audit_log" in seen[1]
    assert await allocate(event_id, shop.merchant_id, attempt.order_id, attempt.id) is Allocation.DUPLICATE
    async with shop.engine.transaction() as tx:
        records = await tx.connection.fetchval(
            "SELECT count(*) FROM audit_log WHERE action = 'allocate' AND entities @> $1::jsonb",
            f'{{"event": "{event_id}"}}')
        claims = await tx.connection.fetchval(
            "SELECT count(*) FROM processed_events WHERE consumer = 'allocate_stock' AND event_id = $1", event_id)
    assert (records, claims) == (1, 1)  # the redelivery wrote nothing


async def provider_calls(shop: Shop, attempt: Any) -> list[str]:
    async with shop.engine.transaction() as tx:
        rows = await tx.connection.fetch(
            "SELECT operation FROM provider_calls WHERE attempt_id = $1 ORDER BY id", attempt.id)
    return [row["operation"] for row in rows]


async def test_provider_call_rows_ride_on_the_commit_that_applies_the_verdict(container, merchant):
    # As deployed: the provider wrapped by the call log. The purchase's row goes with the
    # pending write, the callback's with the callback's commit: no statement of their own.
    from app.adapters.providers.call_log import PiccoloProviderCallLog, RecordingProvider
    from tests.unit.fake_providers import FakeProviderRegistry

    provider = FakeProvider(default=ProviderResult(Outcome.PENDING, "ref_rides"))
    shop = Shop(container, uuid.UUID(merchant.id), provider)
    recording = RecordingProvider(provider, PiccoloProviderCallLog(container.engine))
    shop.container = build_container(container.settings, engine=container.engine, redis=container.redis,
                                     bus=shop.bus, providers=FakeProviderRegistry(recording),
                                     locks=InMemoryLockManager(), card_cache=InMemoryCardDataCache())
    attempt = await shop.requested()
    applied, seen = await _run(shop, lambda: shop.container.payments.dispatch(attempt.id))
    assert applied is Applied.PENDING
    [pending_write] = [sql for sql in seen if "INSERT INTO provider_calls" in sql]
    assert PENDING_WRITE in pending_write
    assert await provider_calls(shop, attempt) == ["purchase"]
    body = b'{"event": "evt_rides"}'
    provider.callbacks[body] = ProviderEvent("evt_rides", CallbackKind.PAYMENT,
                                             success_for(attempt, "ref_rides"), attempt.id)
    outcome, seen = await _run(shop, lambda: shop.container.callbacks.handle("sandbox", {}, body))
    assert outcome is CallbackOutcome.APPLIED
    [commit_write] = [sql for sql in seen if "INSERT INTO provider_calls" in sql]
    assert "INSERT INTO outbox" in commit_write
    assert await provider_calls(shop, attempt) == ["purchase", "callback"]


async def test_the_dispatch_mark_rides_on_the_settle_and_is_written_alone_when_nothing_commits(shop, provider):
    from app.adapters.queue.processed_events import PiccoloProcessedEvents

    processed = PiccoloProcessedEvents()
    provider.default = ProviderResult(Outcome.PENDING, "ref_mark")
    attempt = await shop.requested()
    event_id = uuid.uuid4()

    def dispatch() -> Any:
        return processed.once("dispatch_payment", event_id, lambda: shop.container.payments.dispatch(attempt.id),
                              mark_with_commit=True)

    applied, seen = await _run(shop, dispatch)
    assert applied is Applied.PENDING
    [write] = [sql for sql in seen if "processed_events" in sql and "INSERT" in sql]
    assert PENDING_WRITE in write  # one statement: the verdict and the mark
    assert await processed.seen("dispatch_payment", event_id)
    again = uuid.uuid4()  # another event for the same attempt: nothing to send, nothing commits
    none, seen = await _run(shop, lambda: processed.once(
        "dispatch_payment", again, lambda: shop.container.payments.dispatch(attempt.id), mark_with_commit=True))
    assert none is None and len(provider.purchases) == 1
    assert await processed.seen("dispatch_payment", again)  # written on its own after the effect


async def test_a_save_now_replaces_the_same_rows_save_at_commit(shop):
    # The last state wins: a row is never written twice by one statement, nor left older.
    attempt = await shop.requested()
    async with shop.container.uow() as uow:
        order = await uow.orders.get(shop.merchant_id, attempt.order_id, lock=True)
        order.status_reason = "first"
        await uow.orders.save(order, at_commit=True)
        order.status_reason = "second"
        await uow.orders.save(order)  # now: the waiting one is dropped
        order.status_reason = "third"
        await uow.orders.save(order, at_commit=True)
        order.status_reason = "fourth"
        await uow.orders.save(order, at_commit=True)  # replaces "third"
        await uow.commit()
    async with shop.engine.transaction() as tx:
        reason = await tx.connection.fetchval("SELECT status_reason FROM orders WHERE id = $1", attempt.order_id)
    assert reason == "fourth"


async def test_a_payment_request_sends_the_orders_update_with_its_commit(shop):
    order = await shop.container.orders.create(shop.merchant_id, NewOrder(5000, "USD", [], CUSTOMER))
    attempt, seen = await _run(shop, lambda: shop.container.payments.request(shop.merchant_id, order.id,
                                                                              "sandbox", CARD))
    assert not [sql for sql in seen if sql.startswith("UPDATE orders")]
    [commit_write] = [sql for sql in seen if "INSERT INTO outbox" in sql]
    assert "UPDATE orders SET" in commit_write
    assert await shop.state(attempt) == (AttemptStatus.INITIATED, OrderStatus.PAYMENT_IN_PROGRESS)


async def test_concurrent_duplicate_answers_settle_the_attempt_once(shop, provider):
    # Duplicate dispatches (their "pending" takes the one-statement path) race duplicate
    # success callbacks (the locked path): the success is applied exactly once, and no
    # pending write lands after it.
    attempt = await shop.requested()
    provider.default = ProviderResult(Outcome.PENDING, reference_for(attempt.id))
    success = success_for(attempt, reference_for(attempt.id))
    callback = VerdictOrigin("sandbox", VerdictSource.CALLBACK)
    await shop.bus.drain()
    results = await asyncio.gather(
        *(shop.container.payments.dispatch(attempt.id) for _ in range(4)),
        *(shop.container.payments.settle(attempt.id, success, origin=callback) for _ in range(4)))
    await shop.bus.drain()
    assert [r for r in results[4:] if r is Applied.SUCCEEDED] == [Applied.SUCCEEDED]
    assert await shop.state(attempt) == (AttemptStatus.SUCCESS, OrderStatus.PAYMENT_DONE)
    async with shop.engine.transaction() as tx:
        succeeded = await tx.connection.fetchval(
            "SELECT count(*) FROM outbox WHERE event_type = 'payment.succeeded' AND aggregate_id = $1", attempt.id)
    assert succeeded == 1


async def test_the_joined_read_locks_the_order_before_the_attempt(shop):
    # Every path locks an attempt's order before the attempt (no deadlocks between them):
    # while another transaction holds the attempt's lock, the joined read already holds the
    # order's and waits for the attempt's.
    attempt = await shop.requested()
    async with shop.engine.transaction() as holder:
        await holder.connection.execute("SELECT 1 FROM payment_attempts WHERE id = $1 FOR UPDATE", attempt.id)

        async def joined() -> Any:
            async with shop.container.uow() as uow:
                return await uow.orders.locked_with_attempt(attempt.id)

        waiting = asyncio.get_running_loop().create_task(joined(), context=contextvars.Context())
        await asyncio.sleep(0.3)
        assert not waiting.done()
        free = await holder.connection.fetch("SELECT id FROM orders WHERE id = $1 FOR UPDATE SKIP LOCKED",
                                             attempt.order_id)
        assert free == []  # the order's lock: taken by the waiting read
    order, locked = await waiting
    assert (order.id, locked.id) == (attempt.order_id, attempt.id)


async def test_concurrent_duplicate_callbacks_apply_the_success_once(shop, provider):
    # Copies of one callback (the inbox dedupes them) and other events with the same verdict
    # (the joined locked read serialises them), all at once: one success, one event.
    provider.default = ProviderResult(Outcome.PENDING)
    attempt = await shop.requested()
    await shop.container.payments.dispatch(attempt.id)
    bodies = [f'{{"event": "evt_dup_{i % 3}"}}'.encode() for i in range(12)]
    for body in set(bodies):
        provider.callbacks[body] = ProviderEvent(body.decode()[11:-2], CallbackKind.PAYMENT,
                                                 success_for(attempt, reference_for(attempt.id)), attempt.id)
    await shop.bus.drain()
    outcomes = await asyncio.gather(*(shop.container.callbacks.handle("sandbox", {}, body) for body in bodies))
    await shop.bus.drain()
    assert outcomes.count(CallbackOutcome.APPLIED) == 1
    assert outcomes.count(CallbackOutcome.DUPLICATE) == 9 and outcomes.count(CallbackOutcome.ALREADY_FINAL) == 2
    assert await shop.state(attempt) == (AttemptStatus.SUCCESS, OrderStatus.PAYMENT_DONE)
    async with shop.engine.transaction() as tx:
        succeeded = await tx.connection.fetchval(
            "SELECT count(*) FROM outbox WHERE event_type = 'payment.succeeded' AND aggregate_id = $1", attempt.id)
    assert succeeded == 1
