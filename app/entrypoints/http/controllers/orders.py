"""Order endpoints: thin — parse, call one use case, map the result."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, post, put
from litestar.di import Provide
from litestar.params import Parameter

from app.domain.model.merchant import Merchant
from app.domain.model.order import OrderStatus
from app.domain.ports import OrderQuery
from app.domain.services.orders import OrderService, OrderView
from app.entrypoints.http.problems import MERCHANT_ERRORS
from app.entrypoints.http.auth import MERCHANT_SECURITY, provide_merchant
from app.entrypoints.http.pagination import TIMESTAMP, decode_cursor, next_cursor, parse_timestamp
from app.entrypoints.http.schemas import patterns
from app.entrypoints.http.schemas.orders import Order, OrderCancel, OrderCreate, OrderPage, OrderUpdate

IDEMPOTENCY_KEY = Parameter(header="Idempotency-Key", required=False, min_length=1, max_length=255,
                            pattern=patterns.IDEMPOTENCY_KEY,
                            description="Makes the POST safe to retry (kept 24 h, per merchant): 1-255 printable "
                                        "ASCII characters, e.g. a UUID")


class OrderController(Controller):
    path = "/orders"
    tags = ["orders"]
    security = MERCHANT_SECURITY
    dependencies = {"merchant": Provide(provide_merchant)}

    @post("/", responses=MERCHANT_ERRORS, status_code=201, summary="Create an order")
    async def create(self, data: OrderCreate, merchant: Merchant, orders: OrderService,
                     idempotency_key: Annotated[str | None, IDEMPOTENCY_KEY] = None) -> Order:
        order = await orders.create(merchant.id, data.to_domain())
        return Order.from_view(OrderView(order, [], []))

    @get("/{order_id:uuid}", responses=MERCHANT_ERRORS, summary="An order with its payments and refunds")
    async def get_order(self, order_id: uuid.UUID, merchant: Merchant, orders: OrderService) -> Order:
        return Order.from_view(await orders.get(merchant.id, order_id))

    @get("/", responses=MERCHANT_ERRORS, summary="List orders, newest first")
    async def list_orders(
        self,
        merchant: Merchant,
        orders: OrderService,
        status: OrderStatus | None = None,
        created_after: Annotated[str | None, TIMESTAMP] = None,
        created_before: Annotated[str | None, TIMESTAMP] = None,
        cursor: Annotated[str | None, Parameter(max_length=200)] = None,
        limit: Annotated[int, Parameter(ge=1, le=100)] = 50,
    ) -> OrderPage:
        query = OrderQuery(merchant.id, status, parse_timestamp(created_after, "created_after"),
                           parse_timestamp(created_before, "created_before"),
                           decode_cursor(cursor) if cursor else None, limit)
        page, has_more = await orders.list(query)
        return OrderPage(
            data=[Order.from_view(OrderView(order, [], [])) for order in page],
            has_more=has_more,
            next_cursor=next_cursor(page, has_more),
        )

    @put("/{order_id:uuid}", responses=MERCHANT_ERRORS, summary="Modify an order (only while CREATED)")
    async def modify(self, order_id: uuid.UUID, data: OrderUpdate, merchant: Merchant,
                     orders: OrderService) -> Order:
        order = await orders.modify(merchant.id, order_id, data.to_domain())
        return Order.from_view(OrderView(order, [], []))

    @post("/{order_id:uuid}/cancel", responses=MERCHANT_ERRORS, status_code=200, summary="Cancel an order (a paid one is refunded)")
    async def cancel(self, order_id: uuid.UUID, merchant: Merchant, orders: OrderService,
                     data: OrderCancel | None = None,
                     idempotency_key: Annotated[str | None, IDEMPOTENCY_KEY] = None) -> Order:
        return Order.from_view(await orders.cancel(merchant.id, order_id, data.reason if data else None))
