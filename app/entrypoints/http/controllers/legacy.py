"""Seed 001's routes, kept as aliases over the same use cases, with its status words
(NEW, PROCESSING, SUCCESS, FAILED) and camelCase fields."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import Provide

from app.domain.model.principal import Principal
from app.domain.model.order import LEGACY_STATUS, Order
from app.domain.model.payment import PaymentAttempt
from app.domain.services.callbacks import CallbackService
from app.domain.services.orders import OrderService
from app.domain.services.payments import PaymentService
from app.entrypoints.http.problems import MERCHANT_ERRORS
from app.entrypoints.http.access import MERCHANT, PUBLIC
from app.entrypoints.http.auth import merchant_of, provide_principal
from app.entrypoints.http.idempotency import CLAIM_AT_COMMIT
from app.entrypoints.http.controllers.callbacks import CALLBACK_ERRORS, receive_callback
from app.entrypoints.http.schemas.orders import OrderCreate
from app.entrypoints.http.schemas.payments import CallbackAck, PaymentCreate, method_to_domain


class LegacyOrder(msgspec.Struct, rename="camel"):
    order_id: uuid.UUID
    status: str
    amount: int
    currency: str
    created_at: datetime

    @classmethod
    def of(cls, order: Order) -> LegacyOrder:
        return cls(order.id, LEGACY_STATUS[order.status], order.amount.amount_minor, order.amount.currency,
                   order.created_at)


class LegacyPayment(msgspec.Struct, rename="camel"):
    transaction_id: uuid.UUID
    order_id: uuid.UUID
    status: str  # the transaction: INITIATED, PENDING, SUCCESS, FAILED
    order_status: str

    @classmethod
    def of(cls, attempt: PaymentAttempt) -> LegacyPayment:
        return cls(attempt.id, attempt.order_id, str(attempt.status), "PROCESSING")


class LegacyController(Controller):
    tags = ["legacy (seed 001)"]
    dependencies = {"principal": Provide(provide_principal, sync_to_thread=False)}

    @post("/order/create", responses=MERCHANT_ERRORS, status_code=201, summary="Alias of POST /orders",
          **CLAIM_AT_COMMIT, **MERCHANT.route())  # as POST /orders: its effects are one statement
    async def create_order(self, data: OrderCreate, principal: Principal, orders: OrderService) -> LegacyOrder:
        return LegacyOrder.of(await orders.create(merchant_of(principal), data.to_domain()))

    @get("/order/{order_id:uuid}", responses=MERCHANT_ERRORS, summary="Alias of GET /orders/{id}",
         **MERCHANT.route())
    async def get_order(self, order_id: uuid.UUID, principal: Principal, orders: OrderService) -> LegacyOrder:
        return LegacyOrder.of((await orders.get(merchant_of(principal), order_id)).order)

    @post("/payment/request", responses=MERCHANT_ERRORS, status_code=202, summary="Alias of POST /payments",
          **MERCHANT.route())
    async def request_payment(self, data: PaymentCreate, principal: Principal,
                              payments: PaymentService) -> LegacyPayment:
        attempt = await payments.request(merchant_of(principal), data.order_id, data.provider,
                                         method_to_domain(data.payment_method))
        return LegacyPayment.of(attempt)


@post("/payment/callback", responses=CALLBACK_ERRORS, status_code=200, tags=["legacy (seed 001)"], **PUBLIC.route(),
      summary="Alias of POST /callbacks/{provider} (provider from ?provider=, default sandbox)")
async def legacy_callback(request: Request, callbacks: CallbackService, provider: str = "sandbox") -> CallbackAck:
    return await receive_callback(provider, request, callbacks)
