"""Products and stock adjustments over the in-memory fakes."""

from __future__ import annotations

import pytest

from app.domain.errors import Conflict, InsufficientStock, ValidationFailed
from app.domain.model.catalog import StockLevel
from app.domain.ports import ProductQuery
from app.domain.services.catalog import ProductChanges
from tests.unit.catalog_world import CARD, MERCHANT, Shop


async def test_a_product_starts_with_its_initial_stock_recorded_as_an_adjustment():
    shop = Shop()
    product = await shop.product("MUG", 5, lead_time_days=2)
    assert await shop.level("MUG") == StockLevel(on_hand=5)
    [adjustment] = await shop.catalog.adjustments(MERCHANT, product.id)
    assert (adjustment.delta, adjustment.reason, adjustment.on_hand_after) == (5, "initial stock", 5)
    assert [e.type for e in shop.uow.outbox] == ["product.created", "product.stock_adjusted"]


async def test_sku_is_unique_per_merchant():
    shop = Shop()
    await shop.product("MUG", 1)
    with pytest.raises(Conflict) as raised:
        await shop.product("MUG", 3)
    assert raised.value.code == "duplicate_sku" and await shop.level("MUG") == StockLevel(on_hand=1)


async def test_update_changes_catalog_fields_never_stock():
    shop = Shop()
    product = await shop.product("MUG", 4)
    updated = await shop.catalog.update(MERCHANT, product.id, ProductChanges(name="Big mug", unit_amount_minor=1500,
                                                                            active=False))
    assert (updated.name, updated.unit_price.amount_minor, updated.active) == ("Big mug", 1500, False)
    assert await shop.level("MUG") == StockLevel(on_hand=4)
    page, more = await shop.catalog.list(ProductQuery(MERCHANT, active=False))
    assert [p.sku for p in page] == ["MUG"] and not more


@pytest.mark.parametrize(("delta", "code"), [(-6, "stock_below_zero"), (0, "invalid_stock_delta")])
async def test_bad_adjustments_are_refused_and_write_nothing(delta, code):
    shop = Shop()
    product = await shop.product("MUG", 5)
    commits = shop.uow.commits
    with pytest.raises(ValidationFailed) as raised:
        await shop.catalog.adjust_stock(MERCHANT, product.id, delta, "counted")
    assert raised.value.code == code
    assert await shop.level("MUG") == StockLevel(on_hand=5) and shop.uow.commits == commits


async def test_stock_cannot_drop_below_what_is_reserved():
    shop = Shop()
    product = await shop.product("MUG", 3)
    await shop.payments.request(MERCHANT, (await shop.order(("MUG", 2))).id, "sandbox", CARD)
    with pytest.raises(InsufficientStock):
        await shop.catalog.adjust_stock(MERCHANT, product.id, -2, "broken in the warehouse")
    _, adjustment = await shop.catalog.adjust_stock(MERCHANT, product.id, -1, "broken in the warehouse")
    assert adjustment.on_hand_after == 2 and await shop.level("MUG") == StockLevel(on_hand=2, reserved=2)

