"""Payment endpoints: request, retry, read."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, get, post
from litestar.di import Provide

from app.domain.model.principal import Principal
from app.domain.services.payments import PaymentService
from app.entrypoints.http.problems import MERCHANT_ERRORS
from app.entrypoints.http.access import MERCHANT_OR_CUSTOMER
from app.entrypoints.http.auth import merchant_of, provide_principal
from app.entrypoints.http.schemas.payments import Payment, PaymentCreate, PaymentRetry, method_to_domain


class PaymentController(Controller):
    path = "/payments"
    tags = ["payments"]
    dependencies = {"principal": Provide(provide_principal, sync_to_thread=False)}

    @post("/", responses=MERCHANT_ERRORS, status_code=202, **MERCHANT_OR_CUSTOMER.route(),
          summary="Pay for a CREATED order (raw card or saved card token); the verdict arrives asynchronously")
    async def create(self, request: Request, data: PaymentCreate, principal: Principal, payments: PaymentService) -> Payment:
        attempt = await payments.request(merchant_of(principal), data.order_id, data.provider,
                                         method_to_domain(data.payment_method), data.return_url,
                                         request.app.state.client_address.of(request.scope), principal.customer_id)
        return Payment.from_domain(attempt)

    @post("/{payment_id:uuid}/retry", responses=MERCHANT_ERRORS, status_code=202,
          summary="A new attempt for a PAYMENT_FAILED order", **MERCHANT_OR_CUSTOMER.route())
    async def retry(self, request: Request, payment_id: uuid.UUID, principal: Principal, payments: PaymentService,
                    data: PaymentRetry | None = None) -> Payment:
        method = method_to_domain(data.payment_method if data else None)
        return_url = data.return_url if data else None
        return Payment.from_domain(await payments.retry(merchant_of(principal), payment_id, method, return_url,
                                                        request.app.state.client_address.of(request.scope),
                                                        principal.customer_id))

    @get("/{payment_id:uuid}", responses=MERCHANT_ERRORS, summary="A payment attempt",
         **MERCHANT_OR_CUSTOMER.route())
    async def get_payment(self, payment_id: uuid.UUID, principal: Principal, payments: PaymentService) -> Payment:
        return Payment.from_domain(await payments.get(merchant_of(principal), payment_id, principal.customer_id))
