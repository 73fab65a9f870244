"""Order items naming a sku: validated and priced from the catalog at creation and on
modify; free items keep working. Refusals write nothing."""

from __future__ import annotations

import pytest

from app.domain.errors import ValidationFailed
from app.domain.model.order import LineItem
from app.domain.model.pricing import RequestedItem
from app.domain.services.catalog import ProductChanges
from app.domain.services.orders import NewOrder, OrderChanges
from tests.unit.builders import CUSTOMER
from tests.unit.catalog_world import MERCHANT, Shop


async def test_catalog_items_take_name_and_price_from_the_catalog_and_the_amount_is_computed():
    shop = Shop(max_units_per_sku=5)
    await shop.product("MUG", 10, price=1250)
    await shop.product("TEE", 10, price=2000)
    order = await shop.orders.create(MERCHANT, NewOrder(None, "usd", [
        RequestedItem(2, "MUG"), RequestedItem(1, "TEE", "Tee shirt", 2000), LineItem("Gift wrap", 1, 300)],
        CUSTOMER))
    assert [(i.name, i.quantity, i.unit_amount_minor, i.sku) for i in order.items] == [
        ("Product MUG", 2, 1250, "MUG"), ("Tee shirt", 1, 2000, "TEE"), ("Gift wrap", 1, 300, None)]
    assert order.amount.amount_minor == 2 * 1250 + 2000 + 300


async def test_free_items_without_a_catalog_keep_working():
    shop = Shop()
    order = await shop.orders.create(MERCHANT, NewOrder(1500, "USD", [LineItem("Lamp", 1, 1500)], CUSTOMER))
    assert order.amount.amount_minor == 1500 and order.items[0].sku is None


async def bad_order(shop: Shop, *items: RequestedItem, currency: str = "USD", amount: int | None = None) -> str:
    commits = shop.uow.commits
    with pytest.raises(ValidationFailed) as raised:
        await shop.orders.create(MERCHANT, NewOrder(amount, currency, list(items), CUSTOMER))
    assert shop.uow.commits == commits and shop.uow.db.orders == {}
    return raised.value.code


async def test_each_kind_of_bad_catalog_item_is_refused_with_its_code():
    shop = Shop(max_units_per_sku=5)
    await shop.product("MUG", 10, price=1000)
    gone = await shop.product("OLD", 10)
    await shop.catalog.update(MERCHANT, gone.id, ProductChanges(active=False))
    assert await bad_order(shop, RequestedItem(1, "NOPE")) == "unknown_sku"
    assert await bad_order(shop, RequestedItem(1, "OLD")) == "inactive_sku"
    assert await bad_order(shop, RequestedItem(0, "MUG")) == "invalid_quantity"
    assert await bad_order(shop, RequestedItem(6, "MUG")) == "quantity_too_large"
    # Two lines on one sku count together against the per-order maximum.
    assert await bad_order(shop, RequestedItem(3, "MUG"), RequestedItem(3, "MUG")) == "quantity_too_large"
    assert await bad_order(shop, RequestedItem(1, "MUG"), currency="EUR") == "currency_mismatch"
    assert await bad_order(shop, RequestedItem(1, "MUG", unit_amount_minor=999)) == "price_mismatch"
    assert await bad_order(shop, RequestedItem(1, "MUG"), amount=999) == "items_total_mismatch"
    assert await bad_order(shop, RequestedItem(1, name="Free")) == "item_incomplete"


async def test_modify_revalidates_and_reprices_catalog_items():
    shop = Shop()
    await shop.product("MUG", 10, price=1000)
    await shop.product("TEE", 10, price=2000, currency="EUR")
    order = await shop.order(("MUG", 1))
    changed = await shop.orders.modify(MERCHANT, order.id, OrderChanges(items=[RequestedItem(3, "MUG")]))
    assert changed.amount.amount_minor == 3000 and changed.items[0].quantity == 3
    with pytest.raises(ValidationFailed) as raised:
        await shop.orders.modify(MERCHANT, order.id, OrderChanges(items=[RequestedItem(1, "NOPE")]))
    assert raised.value.code == "unknown_sku"
    with pytest.raises(ValidationFailed) as raised:  # the kept MUG line is in USD
        await shop.orders.modify(MERCHANT, order.id, OrderChanges(currency="EUR"))
    assert raised.value.code == "currency_mismatch"
    assert (await shop.reload(order)).amount.amount_minor == 3000
