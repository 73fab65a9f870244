"""The audit trail over in-memory fakes: every use case records its operation, success
when its unit of work commits, failed (with the error) when an exception ends it or it
says so; reads are recorded too; a disabled trail records nothing."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from app.domain.errors import DuplicateOrder, InvalidCallback, NotFound, Unauthenticated
from app.domain.model.audit import ActorKind, AuditLog, AuditStatus, AuditType
from app.domain.model.card import CardDetails
from app.domain.model.provider import Outcome, ProviderResult
from app.domain.ports_audit import AuditQuery
from tests.unit.builders import merchant_row, new_order, order_request
from tests.unit.fake_container import fake_container, unit_settings
from tests.unit.fake_providers import FakeProvider, FakeProviderRegistry
from tests.unit.fakes import InMemoryUnitOfWorkFactory

CARD = CardDetails.parse("4242424242424242", 12, 2035, "123", date(2026, 1, 1))
DECLINED = ProviderResult(Outcome.FAILED, failure_code="card_declined", failure_message="Your card was declined.")


class World:
    def __init__(self) -> None:
        self.uow = InMemoryUnitOfWorkFactory()
        self.provider = FakeProvider()
        self.container = fake_container(unit_settings(), uow=self.uow, providers=FakeProviderRegistry(self.provider))
        self.merchant = merchant_row()
        self.uow.seed(self.merchant)

    def records(self, type_: AuditType) -> list:
        return [r for r in self.uow.db.audit if r.type is type_]


async def test_order_creation_is_recorded_with_the_order_in_its_transaction():
    world = World()
    order = await world.container.orders.create(world.merchant.id, order_request(reference="r-1"))
    [record] = world.records(AuditType.ORDER_CREATION)
    assert record.status is AuditStatus.SUCCESS and record.error_code is None
    assert record.entities == {"merchant": str(world.merchant.id), "order": str(order.id)}
    assert record.actor.kind is ActorKind.SYSTEM and record.duration_ms >= 0


async def test_a_refused_order_is_recorded_as_failed_with_the_error():
    world = World()
    await world.container.orders.create(world.merchant.id, order_request(reference="r-1"))
    with pytest.raises(DuplicateOrder):
        await world.container.orders.create(world.merchant.id, order_request(reference="r-1"))
    first, second = world.records(AuditType.ORDER_CREATION)
    assert (first.status, second.status) == (AuditStatus.SUCCESS, AuditStatus.FAILED)
    assert second.error_code == "duplicate_order" and "r-1" in (second.error_detail or "")
    assert len(world.uow.db.orders) == 1  # the failed one's transaction wrote nothing


async def test_reads_are_recorded_as_data_lookups_found_or_not():
    world = World()
    order = await world.container.orders.create(world.merchant.id, order_request())
    await world.container.orders.get(world.merchant.id, order.id)
    missing = uuid.uuid4()
    with pytest.raises(NotFound):
        await world.container.orders.get(world.merchant.id, missing)
    found, not_found = world.records(AuditType.DATA_LOOKUP)
    assert found.status is AuditStatus.SUCCESS and found.entities["order"] == str(order.id)
    assert not_found.status is AuditStatus.FAILED and not_found.error_code == "not_found"
    assert not_found.entities["order"] == str(missing)


async def test_payment_request_and_a_declined_verdict_are_recorded():
    world = World()
    order = new_order(world.merchant.id)
    world.uow.seed(order)
    world.provider.default = DECLINED
    attempt = await world.container.payments.request(world.merchant.id, order.id, "sandbox", CARD)
    await world.container.payments.dispatch(attempt.id)
    request, settle = world.records(AuditType.PAYMENT_PROCESSING)
    assert (request.action, request.status) == ("request", AuditStatus.SUCCESS)
    assert request.entities["payment"] == str(attempt.id) and request.entities["provider"] == "sandbox"
    assert (settle.action, settle.status, settle.error_code) == ("settle_purchase", AuditStatus.FAILED,
                                                                 "card_declined")
    assert settle.entities["order"] == str(order.id)


async def test_a_forged_callback_is_recorded_as_failed_with_the_provider_as_actor():
    world = World()
    with pytest.raises(InvalidCallback):
        await world.container.callbacks.handle("sandbox", {}, b"forged")
    [record] = world.records(AuditType.CALLBACK_RECEIVED)
    assert record.status is AuditStatus.FAILED and record.actor.kind is ActorKind.PROVIDER
    assert record.actor.id == "sandbox"


async def test_logins_are_recorded_failed_and_successful():
    world = World()
    accounts = world.container.accounts
    user = await accounts.register(world.merchant.id, "ada@example.com", "Correct-Horse-Battery-42", "198.51.100.1")
    with pytest.raises(Unauthenticated):
        await accounts.login("ada@example.com", "wrong-password-123", world.merchant.id, "198.51.100.1")
    await accounts.login("ada@example.com", "Correct-Horse-Battery-42", world.merchant.id, "198.51.100.1")
    failed, ok = world.records(AuditType.USER_LOGIN)
    assert failed.status is AuditStatus.FAILED and failed.error_code == "invalid_credentials"
    assert ok.status is AuditStatus.SUCCESS and ok.actor.kind is ActorKind.USER
    assert ok.actor.id == failed.actor.id == ok.entities["user"]
    assert user is not None


async def test_a_nested_unit_hands_its_operation_to_the_outer_one():
    uow = InMemoryUnitOfWorkFactory()
    async with uow() as outer:
        async with uow() as inner:
            inner.audit.record(AuditType.ADMIN_ACTION, action="nested", thing=1)
            await inner.commit()
        assert uow.db.audit == []  # not before the outer commits
        await outer.commit()
    assert [(r.action, r.status) for r in uow.db.audit] == [("nested", AuditStatus.SUCCESS)]


async def test_a_nested_operation_fails_with_the_outer_unit():
    uow = InMemoryUnitOfWorkFactory()
    with pytest.raises(RuntimeError):
        async with uow() as outer:
            async with uow() as inner:
                inner.audit.record(AuditType.ADMIN_ACTION, action="nested")
                await inner.commit()
            raise RuntimeError("the outer operation broke")
    assert outer.committed is False
    [record] = uow.db.audit
    assert record.status is AuditStatus.FAILED and record.error_code == "RuntimeError"


def test_a_disabled_log_records_nothing():
    log = AuditLog(enabled=False)
    log.record(AuditType.DATA_LOOKUP, order=1).fail("x")
    assert log.take() == []


async def test_the_fake_trail_searches_newest_first_with_filters_and_a_cursor():
    world = World()
    orders = [await world.container.orders.create(world.merchant.id, order_request()) for _ in range(3)]
    trail = world.container.audit
    page = await trail.search(AuditQuery(type=AuditType.ORDER_CREATION, limit=2))
    assert [r.entities["order"] for r in page] == [str(o.id) for o in reversed(orders)]  # limit + 1
    rest = await trail.search(AuditQuery(type=AuditType.ORDER_CREATION, limit=2,
                                         cursor=(page[1].occurred_at, page[1].id)))
    assert [r.entities["order"] for r in rest] == [str(orders[0].id)]
    by_entity = await trail.search(AuditQuery(entity=("order", str(orders[1].id))))
    assert [r.type for r in by_entity] == [AuditType.ORDER_CREATION]


async def test_admin_actions_are_recorded():
    world = World()
    created = await world.container.merchants.create("Audited shop")
    await world.container.fraud_rules.replace(created.merchant.id, [])
    actions = [(r.action, r.status, r.entities["merchant"]) for r in world.records(AuditType.ADMIN_ACTION)]
    assert actions == [("merchant_create", AuditStatus.SUCCESS, str(created.merchant.id)),
                       ("fraud_rules_replace", AuditStatus.SUCCESS, str(created.merchant.id))]
