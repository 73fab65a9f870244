"""Order items against the catalog: a line naming a sku must be a known, active product
in the order's currency, its price comes from the catalog (a client price that disagrees
is refused, never silently replaced), and each sku's units, summed over the order's
lines, stay within the per-order maximum. Lines without a sku are free-form."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.domain.errors import ValidationFailed
from app.domain.model.catalog import Product
from app.domain.model.order import LineItem


@dataclass(frozen=True, slots=True)
class RequestedItem:
    """An item as the client sent it: a sku line may leave name and price to the catalog."""

    quantity: int
    sku: str | None = None
    name: str | None = None
    unit_amount_minor: int | None = None

    @classmethod
    def of(cls, item: LineItem | RequestedItem) -> RequestedItem:
        if isinstance(item, RequestedItem):
            return item
        return cls(item.quantity, item.sku, item.name, item.unit_amount_minor)


def _fail(message: str, index: int, field: str, *, code: str) -> ValidationFailed:
    return ValidationFailed(message, field=f"items[{index}].{field}", code=code)


def _catalog_line(index: int, item: RequestedItem, product: Product | None, currency: str) -> LineItem:
    if product is None:
        raise _fail(f"unknown sku {item.sku!r}", index, "sku", code="unknown_sku")
    if not product.active:
        raise _fail(f"sku {item.sku!r} is not active", index, "sku", code="inactive_sku")
    if product.unit_price.currency != currency:
        raise _fail(f"sku {item.sku!r} is priced in {product.unit_price.currency}, the order in {currency}",
                    index, "sku", code="currency_mismatch")
    price = product.unit_price.amount_minor
    if item.unit_amount_minor is not None and item.unit_amount_minor != price:
        raise _fail(f"sku {item.sku!r} costs {price}, not {item.unit_amount_minor}", index, "unit_amount",
                    code="price_mismatch")
    return LineItem(item.name or product.name, item.quantity, price, product.sku)


def _free_line(index: int, item: RequestedItem) -> LineItem:
    if item.name is None:
        raise _fail("an item without a sku needs a name", index, "name", code="item_incomplete")
    if item.unit_amount_minor is None:
        raise _fail("an item without a sku needs a unit_amount", index, "unit_amount", code="item_incomplete")
    return LineItem(item.name, item.quantity, item.unit_amount_minor)


def price_items(requested: Sequence[LineItem | RequestedItem], catalog: Mapping[str, Product], currency: str,
                max_units_per_sku: int) -> list[LineItem]:
    """Priced line items, or ValidationFailed naming the first bad line."""
    priced: list[LineItem] = []
    units: dict[str, int] = {}
    for index, raw in enumerate(requested):
        item = RequestedItem.of(raw)
        if item.quantity < 1:
            raise _fail("quantity must be at least 1", index, "quantity", code="invalid_quantity")
        if item.sku is None:
            priced.append(_free_line(index, item))
            continue
        units[item.sku] = units.get(item.sku, 0) + item.quantity
        if units[item.sku] > max_units_per_sku:
            raise _fail(f"at most {max_units_per_sku} units of {item.sku!r} per order", index, "quantity",
                        code="quantity_too_large")
        priced.append(_catalog_line(index, item, catalog.get(item.sku), currency))
    return priced


def skus_of(requested: Sequence[LineItem | RequestedItem]) -> list[str]:
    return sorted({item.sku for item in requested if item.sku is not None})
