"""Catalog endpoints: thin — parse, call one use case, map the result."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, post, put
from litestar.di import Provide
from litestar.params import Parameter

from app.domain.model.principal import Principal
from app.domain.ports import ProductQuery
from app.domain.services.catalog import CatalogService, ProductChanges
from app.entrypoints.http.access import MERCHANT, MERCHANT_OR_CUSTOMER
from app.entrypoints.http.auth import merchant_of, provide_principal
from app.entrypoints.http.pagination import decode_cursor, next_cursor
from app.entrypoints.http.problems import MERCHANT_ERRORS
from app.entrypoints.http.schemas.products import (
    Adjustment, AdjustmentList, AdjustmentResult, Product, ProductCreate, ProductPage, ProductUpdate,
    StockAdjustmentCreate,
)


class ProductController(Controller):
    path = "/products"
    tags = ["catalog"]
    dependencies = {"principal": Provide(provide_principal, sync_to_thread=False)}

    @post("/", responses=MERCHANT_ERRORS, **MERCHANT.route(), status_code=201, summary="Add a product to the catalog")
    async def create(self, data: ProductCreate, principal: Principal, catalog: CatalogService) -> Product:
        return Product.from_domain(await catalog.create(merchant_of(principal), data.to_domain()))

    @get("/", responses=MERCHANT_ERRORS, **MERCHANT_OR_CUSTOMER.route(), summary="List products, newest first")
    async def list_products(self, principal: Principal, catalog: CatalogService, active: bool | None = None,
                            cursor: Annotated[str | None, Parameter(max_length=200)] = None,
                            limit: Annotated[int, Parameter(ge=1, le=100)] = 50) -> ProductPage:
        page, has_more = await catalog.list(ProductQuery(merchant_of(principal), active,
                                                         decode_cursor(cursor) if cursor else None, limit))
        return ProductPage([Product.from_domain(p) for p in page], has_more, next_cursor(page, has_more))

    @get("/{product_id:uuid}", responses=MERCHANT_ERRORS, **MERCHANT_OR_CUSTOMER.route(), summary="A product with its stock level")
    async def get_product(self, product_id: uuid.UUID, principal: Principal, catalog: CatalogService) -> Product:
        return Product.from_domain(await catalog.get(merchant_of(principal), product_id))

    @put("/{product_id:uuid}", responses=MERCHANT_ERRORS, **MERCHANT.route(), summary="Change a product's catalog fields")
    async def update(self, product_id: uuid.UUID, data: ProductUpdate, principal: Principal,
                     catalog: CatalogService) -> Product:
        return Product.from_domain(await catalog.update(merchant_of(principal), product_id, data.to_domain()))

    @post("/{product_id:uuid}/deactivate", responses=MERCHANT_ERRORS, **MERCHANT.route(), status_code=200,
          summary="Stop selling a product (orders already paid keep their stock)")
    async def deactivate(self, product_id: uuid.UUID, principal: Principal, catalog: CatalogService) -> Product:
        return Product.from_domain(await catalog.update(merchant_of(principal), product_id, ProductChanges(active=False)))

    @post("/{product_id:uuid}/activate", responses=MERCHANT_ERRORS, **MERCHANT.route(), status_code=200, summary="Sell a product again")
    async def activate(self, product_id: uuid.UUID, principal: Principal, catalog: CatalogService) -> Product:
        return Product.from_domain(await catalog.update(merchant_of(principal), product_id, ProductChanges(active=True)))

    @post("/{product_id:uuid}/stock-adjustments", responses=MERCHANT_ERRORS, **MERCHANT.route(), status_code=201,
          summary="Record a change of stock on hand, with its reason")
    async def adjust_stock(self, product_id: uuid.UUID, data: StockAdjustmentCreate, principal: Principal,
                           catalog: CatalogService) -> AdjustmentResult:
        product, adjustment = await catalog.adjust_stock(merchant_of(principal), product_id, data.delta, data.reason)
        return AdjustmentResult(Adjustment.from_domain(adjustment), Product.from_domain(product))

    @get("/{product_id:uuid}/stock-adjustments", responses=MERCHANT_ERRORS, **MERCHANT.route(), summary="Recorded adjustments, newest first")
    async def list_adjustments(self, product_id: uuid.UUID, principal: Principal, catalog: CatalogService,
                               limit: Annotated[int, Parameter(ge=1, le=100)] = 100) -> AdjustmentList:
        return AdjustmentList([Adjustment.from_domain(a) for a in await catalog.adjustments(
            merchant_of(principal), product_id, limit)])
