"""Refund retries and unrequested-capture refunds on real PostgreSQL: the retry queue is
claimed FOR UPDATE SKIP LOCKED (workers split it, nothing is handed out twice), a capture
is refunded once however many transactions race to refund it, and operators see the
refunds whose retries ran out at GET /admin/refunds?status=failed."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import msgspec
from litestar import Litestar
from litestar.di import Provide

from app.adapters.clock import SystemClock
from app.adapters.db.unit_of_work import PiccoloUnitOfWorkFactory
from app.domain.model.money import Money
from app.domain.model.order import Customer, LineItem, Order
from app.domain.model.payment import AttemptStatus, PaymentAttempt
from app.domain.model.refund import Refund, RefundStatus
from app.domain.services.refunds import RefundService
from app.domain.model.provider import Outcome, ProviderResult, ReportedPayment
from app.domain.model.verdict import VerdictOrigin, VerdictSource
from app.domain.services.verdicts import MismatchLog, VerdictGate
from app.entrypoints.http.controllers.admin_refunds import AdminRefundsController, AdminVerdictMismatchesController
from app.entrypoints.http.problems import EXCEPTION_HANDLERS, problem_details_plugin
from app.entrypoints.http.auth import Authenticator
from tests.unit.fake_providers import RecordingVerdictAlarm

ADMIN_KEY = "adm_refunds_test"


def quiet_uow(container) -> PiccoloUnitOfWorkFactory:
    """Units of work with no in-process bus: what these tests write is not dispatched."""
    return PiccoloUnitOfWorkFactory(container.engine)


async def paid_attempt(container, merchant_id: str) -> PaymentAttempt:
    now = datetime.now(UTC)
    order = Order.create(uuid.UUID(merchant_id), Money(10_000, "USD"), [LineItem("Lamp", 1, 10_000)],
                         Customer(email="ada@example.com"), now)
    attempt = PaymentAttempt(uuid.uuid4(), order.id, order.merchant_id, "sandbox", order.amount,
                             AttemptStatus.SUCCESS, now, now, provider_reference=f"sbx_pay_{uuid.uuid4().hex[:8]}")
    async with quiet_uow(container)() as uow:
        await uow.orders.add(order)
        await uow.payments.add(attempt)
        await uow.commit()
    return attempt


async def add_refunds(container, *refunds: Refund) -> None:
    async with quiet_uow(container)() as uow:
        for refund in refunds:
            await uow.refunds.add(refund)
        await uow.commit()


async def test_concurrent_claims_split_the_due_refunds(container, merchant):
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    refunds = [Refund.request(await paid_attempt(container, merchant.id), long_ago) for _ in range(6)]
    await add_refunds(container, *refunds)
    ours = {r.id for r in refunds}

    async def claim() -> set[uuid.UUID]:
        async with quiet_uow(container)() as uow:
            claimed = await uow.refunds.claim_due(datetime.now(UTC), 60.0, 100)
            await asyncio.sleep(0.05)  # hold the row locks while the other claims
            await uow.commit()
        return {r.id for r in claimed} & ours

    first, second = await asyncio.gather(claim(), claim())
    assert first | second == ours and not first & second
    async with quiet_uow(container)() as uow:  # leased: not due again until the lease ends
        assert not {r.id for r in await uow.refunds.claim_due(datetime.now(UTC), 60.0, 100)} & ours


async def test_a_capture_is_refunded_once_however_many_transactions_race(container, merchant):
    attempt = await paid_attempt(container, merchant.id)
    now = datetime.now(UTC)

    async def refund_the_foreign_capture() -> bool:
        refund = Refund.of_unrequested_capture(attempt, "sandbox", "sbx_pay_foreign_" + attempt.id.hex,
                                               Money(1, "USD"), now)
        async with quiet_uow(container)() as uow:
            inserted = await uow.refunds.add_unrequested(refund)
            await asyncio.sleep(0.01)
            await uow.commit()
        return inserted

    results = await asyncio.gather(*(refund_the_foreign_capture() for _ in range(10)))
    assert results.count(True) == 1
    async with container.engine.transaction() as tx:
        rows = await tx.connection.fetch("SELECT purpose, amount_minor FROM refunds WHERE payment_id = $1",
                                         attempt.id)
        events = await tx.connection.fetchval(
            "SELECT count(*) FROM outbox WHERE event_type = 'refund.requested' AND payload->>'payment_id' = $1",
            str(attempt.id))
    assert [(r["purpose"], r["amount_minor"]) for r in rows] == [("unrequested_capture", 1)]
    assert events == 1
    async with quiet_uow(container)() as uow:  # not the order's money: the order's refunds do not show it
        assert await uow.refunds.for_order(attempt.order_id) == []


async def test_failed_refunds_are_listed_for_operators_and_can_be_retried(container, merchant):
    attempt = await paid_attempt(container, merchant.id)
    refund = Refund.request(attempt, datetime.now(UTC))
    refund.retry_later(datetime.now(UTC), "processing_error", "gateway down", ())  # no retries left: FAILED
    await add_refunds(container, refund)
    refunds = RefundService(quiet_uow(container), SystemClock(), container.providers)  # reopened: not dispatched here
    settings = container.settings
    admin_container = dataclasses.replace(container, settings=msgspec.structs.replace(
        settings, api=msgspec.structs.replace(settings.api, admin_api_key=ADMIN_KEY)))
    app = Litestar(route_handlers=[AdminRefundsController], plugins=[problem_details_plugin],
                   dependencies={"refunds": Provide(lambda: refunds, sync_to_thread=False)},
                   exception_handlers=EXCEPTION_HANDLERS)
    app.state.container = admin_container
    app.state.authenticator = Authenticator(container.merchants, container.access_tokens, container.sessions, ADMIN_KEY,
                                            container.key_revocations)
    auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://admin.test") as admin:
        assert (await admin.get("/admin/refunds", params={"status": "failed"})).status_code == 401
        listed = (await admin.get("/admin/refunds", params={"status": "failed"}, headers=auth)).json()
        [row] = [r for r in listed["data"] if r["id"] == str(refund.id)]
        assert (row["status"], row["attempts"], row["target_reference"]) == (
            "FAILED", 1, attempt.provider_reference)
        assert "gateway down" in row["last_error"]
        retried = await admin.post(f"/admin/refunds/{refund.id}/retry", headers=auth)
        assert (retried.status_code, retried.json()["status"], retried.json()["attempts"]) == (202, "PENDING", 0)
        again = await admin.post(f"/admin/refunds/{refund.id}/retry", headers=auth)
        assert again.status_code == 409  # only a FAILED refund can be retried
        assert (await admin.get("/admin/refunds", params={"status": "bogus"}, headers=auth)).status_code == 400
    async with quiet_uow(container)() as uow:
        assert (await uow.refunds.get(refund.id)).status is RefundStatus.PENDING


async def test_refused_verdicts_are_listed_for_operators(container, merchant):
    attempt = await paid_attempt(container, merchant.id)
    origin = VerdictOrigin("sandbox", VerdictSource.CALLBACK, "evt_listed")
    result = ProviderResult(Outcome.SUCCEEDED, "sbx_pay_other", reported=ReportedPayment(1, "JPY", attempt.id))
    gate = VerdictGate(SystemClock(), RecordingVerdictAlarm())
    async with quiet_uow(container)() as uow:
        assert not await gate.admit(uow, origin, attempt.id, attempt, result)
        await uow.commit()
    settings = container.settings
    app = Litestar(route_handlers=[AdminVerdictMismatchesController], plugins=[problem_details_plugin],
                   dependencies={"mismatches": Provide(lambda: MismatchLog(quiet_uow(container)), sync_to_thread=False)},
                   exception_handlers=EXCEPTION_HANDLERS)
    app.state.container = dataclasses.replace(container, settings=msgspec.structs.replace(
        settings, api=msgspec.structs.replace(settings.api, admin_api_key=ADMIN_KEY)))
    app.state.authenticator = Authenticator(container.merchants, container.access_tokens, container.sessions, ADMIN_KEY,
                                            container.key_revocations)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://admin.test") as admin:
        assert (await admin.get("/admin/verdict-mismatches")).status_code == 401
        listed = (await admin.get("/admin/verdict-mismatches", headers={"Authorization": f"Bearer {ADMIN_KEY}"})).json()
    [row] = [r for r in listed["data"] if r["payment_id"] == str(attempt.id)]
    assert (row["reasons"], row["reported_reference"], row["reported_currency"]) == (
        ["reference", "amount", "currency"], "sbx_pay_other", "JPY")
    assert row["refund_id"] is not None  # the 1 JPY it reported is refunded
