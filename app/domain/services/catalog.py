"""Catalog use cases: products per merchant and the stock adjustments that are the only
way their stock on hand changes."""

from __future__ import annotations

import builtins
import uuid
from dataclasses import dataclass

from app.domain.errors import Conflict, NotFound
from app.domain.model.catalog import Product, StockAdjustment
from app.domain.model.money import Money
from app.domain.ports import Clock, ProductQuery, UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class NewProduct:
    sku: str
    name: str
    unit_amount_minor: int
    currency: str
    lead_time_days: int = 0
    initial_stock: int = 0
    active: bool = True


@dataclass(frozen=True, slots=True)
class ProductChanges:
    name: str | None = None
    unit_amount_minor: int | None = None
    currency: str | None = None
    lead_time_days: int | None = None
    active: bool | None = None


async def load_product(uow: UnitOfWork, merchant_id: uuid.UUID, product_id: uuid.UUID,
                       lock: bool = False) -> Product:
    product = await uow.products.get(merchant_id, product_id, lock=lock)
    if product is None:
        raise NotFound(f"product {product_id} not found", resource="product", id=str(product_id))
    return product


class CatalogService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, max_amount_minor: int) -> None:
        self._uow, self._clock, self._max_amount = uow, clock, max_amount_minor

    async def create(self, merchant_id: uuid.UUID, new: NewProduct) -> Product:
        now = self._clock.now()
        product = Product.create(merchant_id, new.sku, new.name,
                                 Money.of(new.unit_amount_minor, new.currency, self._max_amount),
                                 new.lead_time_days, now, new.active)
        async with self._uow() as uow:
            if not await uow.products.add(product):
                raise Conflict(f"sku {new.sku!r} already exists", code="duplicate_sku", sku=new.sku)
            if new.initial_stock:
                await self._adjust(uow, product, new.initial_stock, "initial stock")
            await uow.commit()
        return product

    async def get(self, merchant_id: uuid.UUID, product_id: uuid.UUID) -> Product:
        async with self._uow() as uow:
            return await load_product(uow, merchant_id, product_id)

    async def list(self, query: ProductQuery) -> tuple[list[Product], bool]:
        async with self._uow() as uow:
            rows = await uow.products.list(query)
        return rows[: query.limit], len(rows) > query.limit

    async def update(self, merchant_id: uuid.UUID, product_id: uuid.UUID, changes: ProductChanges) -> Product:
        """Catalog fields; a new price applies to orders created from now on."""
        async with self._uow() as uow:
            product = await load_product(uow, merchant_id, product_id, lock=True)
            price = None
            if changes.unit_amount_minor is not None or changes.currency is not None:
                amount = changes.unit_amount_minor
                price = Money.of(product.unit_price.amount_minor if amount is None else amount,
                                 changes.currency or product.unit_price.currency, self._max_amount)
            product.update(self._clock.now(), changes.name, price, changes.lead_time_days, changes.active)
            await uow.products.save(product)
            await uow.commit()
        return product

    async def adjust_stock(self, merchant_id: uuid.UUID, product_id: uuid.UUID, delta: int,
                           reason: str) -> tuple[Product, StockAdjustment]:
        """Record a change of stock on hand; refused (nothing written) below zero or
        below what is reserved and allocated."""
        async with self._uow() as uow:
            product = await load_product(uow, merchant_id, product_id, lock=True)
            adjustment = await self._adjust(uow, product, delta, reason)
            await uow.commit()
        return product, adjustment

    # builtins.list: a bare `list` here would be this class's list() method
    async def adjustments(self, merchant_id: uuid.UUID, product_id: uuid.UUID,
                          limit: int = 100) -> builtins.list[StockAdjustment]:
        async with self._uow() as uow:
            await load_product(uow, merchant_id, product_id)
            return await uow.products.adjustments(product_id, limit)

    async def _adjust(self, uow: UnitOfWork, product: Product, delta: int, reason: str) -> StockAdjustment:
        adjustment, change = product.adjust_stock(delta, reason, self._clock.now())
        product.stock = await uow.products.change_stock(product.id, change)
        await uow.products.add_adjustment(adjustment)
        await uow.products.save(product)  # updated_at, and its events reach the outbox
        return adjustment
