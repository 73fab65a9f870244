"""OrderService over the in-memory fakes: outcomes read from what the fake database holds."""

from __future__ import annotations

import uuid

import pytest

from app.domain.errors import DuplicateOrder, InvalidStateTransition, NotFound, ValidationFailed
from app.domain.model.money import Money
from app.domain.model.order import Customer, LineItem, OrderStatus
from app.domain.model.payment import AttemptStatus
from app.domain.model.refund import RefundStatus
from app.domain.ports import OrderQuery
from app.domain.services.orders import OrderChanges, OrderService
from tests.unit.builders import attempt_for, new_order, order_request
from tests.unit.fake_container import fake_container, unit_settings
from tests.unit.fakes import FakeClock, InMemoryUnitOfWorkFactory

S = OrderStatus
MERCHANT = uuid.UUID("00000000-0000-4000-8000-000000000001")
OTHER_MERCHANT = uuid.UUID("00000000-0000-4000-8000-000000000002")


@pytest.fixture
def uow() -> InMemoryUnitOfWorkFactory:
    return InMemoryUnitOfWorkFactory()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def orders(uow, clock) -> OrderService:
    return fake_container(unit_settings(payments={"max_amount_minor": 1_000_000}), uow=uow, clock=clock).orders


def event_types(uow: InMemoryUnitOfWorkFactory) -> list[str]:
    return [event.type for event in uow.outbox]


async def test_create_stores_the_order_and_its_event(orders, uow, clock):
    order = await orders.create(MERCHANT, order_request(reference="cart-1"))
    stored = uow.db.orders[order.id]
    assert stored.status is S.CREATED and stored.merchant_id == MERCHANT and stored.merchant_reference == "cart-1"
    assert stored.amount == Money(2500, "USD") and stored.created_at == clock.now()
    assert event_types(uow) == ["order.created"] and uow.outbox[0].aggregate_id == order.id
    assert uow.commits == 1


@pytest.mark.parametrize(("request_", "code"), [
    (order_request(amount_minor=0, items=[]), "invalid_amount"),
    (order_request(amount_minor=1_000_001, items=[]), "amount_too_large"),  # the service's configured max
    (order_request(currency="XYZ"), "unknown_currency"),
    (order_request(amount_minor=2400), "items_total_mismatch"),
])
async def test_invalid_order_commits_nothing(orders, uow, request_, code):
    with pytest.raises(ValidationFailed) as raised:
        await orders.create(MERCHANT, request_)
    assert raised.value.code == code
    assert uow.db.orders == {} and uow.outbox == [] and uow.commits == 0


async def test_duplicate_reference_names_the_existing_order(orders, uow):
    first = await orders.create(MERCHANT, order_request(reference="cart-1"))
    with pytest.raises(DuplicateOrder) as raised:
        await orders.create(MERCHANT, order_request(amount_minor=900, items=[], reference="cart-1"))
    assert raised.value.details["existing_order_id"] == str(first.id)
    assert list(uow.db.orders) == [first.id] and event_types(uow) == ["order.created"] and uow.commits == 1


async def test_same_reference_for_another_merchant_is_a_new_order(orders, uow):
    await orders.create(MERCHANT, order_request(reference="cart-1"))
    await orders.create(OTHER_MERCHANT, order_request(reference="cart-1"))
    assert len(uow.db.orders) == 2 and uow.commits == 2


async def test_get_shows_attempts_and_refunds(orders, uow):
    order = new_order(MERCHANT, status=S.PAYMENT_FAILED)
    failed = attempt_for(order, AttemptStatus.FAILED)
    uow.seed(order, failed)
    view = await orders.get(MERCHANT, order.id)
    assert view.order.id == order.id and view.order.status is S.PAYMENT_FAILED
    assert [a.id for a in view.attempts] == [failed.id] and view.refunds == []


async def test_another_merchants_order_is_not_found(orders, uow):
    order = new_order(MERCHANT)
    uow.seed(order)
    for merchant_id, order_id in [(OTHER_MERCHANT, order.id), (MERCHANT, uuid.uuid4())]:
        with pytest.raises(NotFound):
            await orders.get(merchant_id, order_id)


async def test_modify_stores_the_changes_and_order_updated(orders, uow, clock):
    order = await orders.create(MERCHANT, order_request())
    clock.advance(60)
    changes = OrderChanges(amount_minor=300, items=[LineItem("Tea", 3, 100)], customer=Customer(name="Grace"),
                           description="tea")
    await orders.modify(MERCHANT, order.id, changes)
    stored = uow.db.orders[order.id]
    assert stored.amount == Money(300, "USD") and stored.items == [LineItem("Tea", 3, 100)]
    assert stored.customer == Customer(name="Grace") and stored.description == "tea"
    assert stored.updated_at == clock.now()
    assert event_types(uow) == ["order.created", "order.updated"] and uow.commits == 2


async def test_modify_currency_alone_keeps_the_minor_units(orders, uow):
    order = await orders.create(MERCHANT, order_request(items=[]))
    await orders.modify(MERCHANT, order.id, OrderChanges(currency="eur"))
    assert uow.db.orders[order.id].amount == Money(2500, "EUR")


@pytest.mark.parametrize(("status", "changes", "error"), [
    (S.PAYMENT_IN_PROGRESS, OrderChanges(description="late"), InvalidStateTransition),
    (S.CREATED, OrderChanges(amount_minor=999), ValidationFailed),  # items add up to 2500
    (S.CREATED, OrderChanges(amount_minor=0, items=[]), ValidationFailed),
])
async def test_refused_modify_commits_nothing(orders, uow, status, changes, error):
    order = new_order(MERCHANT, status=status)
    uow.seed(order)
    with pytest.raises(error):
        await orders.modify(MERCHANT, order.id, changes)
    stored = uow.db.orders[order.id]
    assert stored.amount == Money(2500, "USD") and stored.description is None and stored.status is status
    assert uow.outbox == [] and uow.commits == 0


async def test_modify_of_an_unknown_order_is_not_found(orders):
    with pytest.raises(NotFound):
        await orders.modify(MERCHANT, uuid.uuid4(), OrderChanges(description="x"))


@pytest.mark.parametrize("status", [S.CREATED, S.PAYMENT_FAILED])
async def test_cancel_unpaid_order_needs_no_refund(orders, uow, status):
    order = new_order(MERCHANT, status=status)
    uow.seed(order)
    view = await orders.cancel(MERCHANT, order.id, "changed my mind")
    assert uow.db.orders[order.id].status is S.ORDER_CANCELLED and view.order.status is S.ORDER_CANCELLED
    assert uow.db.refunds == {} and view.refunds == []
    [event] = uow.outbox
    assert event.type == "order.status_changed" and event.payload["reason"] == "changed my mind"


async def test_cancel_paid_order_requests_a_refund_of_the_successful_attempt(orders, uow, clock):
    order = new_order(MERCHANT, status=S.PAYMENT_DONE)
    failed, paid = attempt_for(order, AttemptStatus.FAILED, 1), attempt_for(order, AttemptStatus.SUCCESS, 2)
    uow.seed(order, failed, paid)
    view = await orders.cancel(MERCHANT, order.id)
    [refund] = uow.db.refunds.values()
    assert refund.status is RefundStatus.PENDING and refund.payment_id == paid.id
    assert refund.amount == paid.amount and refund.order_id == order.id and refund.created_at == clock.now()
    assert uow.db.orders[order.id].status is S.ORDER_CANCELLED
    assert sorted(event_types(uow)) == ["order.status_changed", "refund.requested"]
    assert [r.id for r in view.refunds] == [refund.id] and [a.id for a in view.attempts] == [failed.id, paid.id]
    assert uow.commits == 1


@pytest.mark.parametrize("status", [S.ORDER_CANCELLED, S.PAYMENT_IN_PROGRESS])
async def test_refused_cancel_commits_nothing(orders, uow, status):
    order = new_order(MERCHANT, status=status)
    uow.seed(order)
    with pytest.raises(InvalidStateTransition) as raised:
        await orders.cancel(MERCHANT, order.id)
    assert raised.value.details["current_state"] == status
    assert uow.db.orders[order.id].status is status and uow.db.refunds == {}
    assert uow.outbox == [] and uow.commits == 0


async def test_list_pages_newest_first_with_a_cursor(orders, uow, clock):
    made = []
    for index in range(5):
        made.append(await orders.create(MERCHANT, order_request()))
        if index != 2:  # orders 2 and 3 share a timestamp: the id breaks the tie
            clock.advance(1)
    await orders.create(OTHER_MERCHANT, order_request())
    seen, cursor, pages = [], None, 0
    while True:
        page, more = await orders.list(OrderQuery(MERCHANT, cursor=cursor, limit=2))
        seen += page
        pages += 1
        if not more:
            break
        cursor = (page[-1].created_at, page[-1].id)
    newest_first = sorted(made, key=lambda o: (o.created_at, o.id), reverse=True)
    assert [o.id for o in seen] == [o.id for o in newest_first] and pages == 3


async def test_list_filters_by_status_and_creation_time(orders, uow, clock):
    early = new_order(MERCHANT, at=clock.now())
    paid = new_order(MERCHANT, at=clock.advance(60), status=S.PAYMENT_DONE)
    late = new_order(MERCHANT, at=clock.advance(60))
    uow.seed(early, paid, late)
    by_status, _ = await orders.list(OrderQuery(MERCHANT, status=S.CREATED))
    window, _ = await orders.list(OrderQuery(MERCHANT, created_after=paid.created_at, created_before=late.created_at))
    assert [o.id for o in by_status] == [late.id, early.id]
    assert [o.id for o in window] == [paid.id]  # created_after inclusive, created_before exclusive
