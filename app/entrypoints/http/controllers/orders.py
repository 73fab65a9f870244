"""Order endpoints: thin — parse, call one use case, map the result."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, post, put
from litestar.di import Provide
from litestar.params import Parameter

from app.domain.model.principal import Principal
from app.domain.model.order import OrderStatus
from app.domain.ports import OrderQuery
from app.domain.services.orders import OrderService, OrderView
from app.entrypoints.http.problems import MERCHANT_ERRORS
from app.entrypoints.http.access import MERCHANT, MERCHANT_OR_CUSTOMER
from app.entrypoints.http.auth import merchant_of, provide_principal
from app.entrypoints.http.idempotency import CLAIM_AT_COMMIT
from app.entrypoints.http.pagination import TIMESTAMP, decode_cursor, next_cursor, parse_timestamp
from app.entrypoints.http.schemas.orders import Order, OrderCancel, OrderCreate, OrderPage, OrderUpdate

class OrderController(Controller):
    path = "/orders"
    tags = ["orders"]
    dependencies = {"principal": Provide(provide_principal, sync_to_thread=False)}

    # Its effects are the order's insert only (OrderService.create, one statement): the
    # Idempotency-Key is claimed in that statement. The hottest route takes the caller and
    # the use case from the request, as the `principal` and `orders` dependencies would
    # give them, without Litestar resolving dependencies per request (a signature-model
    # conversion of the `principal` provider's arguments, a call per provider, the batch
    # loop): 3% of the request's CPU.
    @post("/", responses=MERCHANT_ERRORS, status_code=201, summary="Create an order (a customer's is its own)",
          **CLAIM_AT_COMMIT, **MERCHANT_OR_CUSTOMER.route())
    async def create(self, data: OrderCreate, request: Request[Any, Any, Any]) -> Order:
        principal = provide_principal(request)
        orders: OrderService = request.app.state.container.orders
        order = await orders.create(merchant_of(principal), data.to_domain(), principal.customer_id)
        return Order.from_view(OrderView(order, [], []))

    @get("/{order_id:uuid}", responses=MERCHANT_ERRORS, summary="An order with its payments and refunds",
         **MERCHANT_OR_CUSTOMER.route())
    async def get_order(self, order_id: uuid.UUID, principal: Principal, orders: OrderService) -> Order:
        return Order.from_view(await orders.get(merchant_of(principal), order_id, principal.customer_id))

    @get("/", responses=MERCHANT_ERRORS, summary="List orders, newest first (a customer: its own)",
         **MERCHANT_OR_CUSTOMER.route())
    async def list_orders(
        self,
        principal: Principal,
        orders: OrderService,
        status: OrderStatus | None = None,
        created_after: Annotated[str | None, TIMESTAMP] = None,
        created_before: Annotated[str | None, TIMESTAMP] = None,
        cursor: Annotated[str | None, Parameter(max_length=200)] = None,
        limit: Annotated[int, Parameter(ge=1, le=100)] = 50,
    ) -> OrderPage:
        query = OrderQuery(merchant_of(principal), status, parse_timestamp(created_after, "created_after"),
                           parse_timestamp(created_before, "created_before"),
                           decode_cursor(cursor) if cursor else None, limit, principal.customer_id)
        page, has_more = await orders.list(query)
        return OrderPage(
            data=[Order.from_view(OrderView(order, [], [])) for order in page],
            has_more=has_more,
            next_cursor=next_cursor(page, has_more),
        )

    @put("/{order_id:uuid}", responses=MERCHANT_ERRORS, summary="Modify an order (only while CREATED)",
         **MERCHANT.route())
    async def modify(self, order_id: uuid.UUID, data: OrderUpdate, principal: Principal,
                     orders: OrderService) -> Order:
        order = await orders.modify(merchant_of(principal), order_id, data.to_domain())
        return Order.from_view(OrderView(order, [], []))

    @post("/{order_id:uuid}/cancel", responses=MERCHANT_ERRORS, status_code=200,
          summary="Cancel an order (a paid one is refunded)", **MERCHANT_OR_CUSTOMER.route())
    async def cancel(self, order_id: uuid.UUID, principal: Principal, orders: OrderService,
                     data: OrderCancel | None = None) -> Order:
        return Order.from_view(await orders.cancel(merchant_of(principal), order_id, data.reason if data else None,
                                                   principal.customer_id))
