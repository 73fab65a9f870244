"""Payment endpoints: request, retry, read."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import Provide

from app.domain.model.merchant import Merchant
from app.domain.services.payments import PaymentService
from app.entrypoints.http.problems import MERCHANT_ERRORS
from app.entrypoints.http.auth import MERCHANT_SECURITY, provide_merchant
from app.entrypoints.http.controllers.orders import IDEMPOTENCY_KEY
from app.entrypoints.http.schemas.payments import Payment, PaymentCreate, PaymentRetry, method_to_domain


class PaymentController(Controller):
    path = "/payments"
    tags = ["payments"]
    security = MERCHANT_SECURITY
    dependencies = {"merchant": Provide(provide_merchant)}

    @post("/", responses=MERCHANT_ERRORS, status_code=202, summary="Pay for a CREATED order; the verdict arrives asynchronously")
    async def create(self, request: Request, data: PaymentCreate, merchant: Merchant, payments: PaymentService,
                     idempotency_key: Annotated[str | None, IDEMPOTENCY_KEY] = None) -> Payment:
        attempt = await payments.request(merchant.id, data.order_id, data.provider,
                                         method_to_domain(data.payment_method), data.return_url,
                                         request.app.state.client_address.of(request.scope))
        return Payment.from_domain(attempt)

    @post("/{payment_id:uuid}/retry", responses=MERCHANT_ERRORS, status_code=202, summary="A new attempt for a PAYMENT_FAILED order")
    async def retry(self, request: Request, payment_id: uuid.UUID, merchant: Merchant, payments: PaymentService,
                    data: PaymentRetry | None = None,
                    idempotency_key: Annotated[str | None, IDEMPOTENCY_KEY] = None) -> Payment:
        method = method_to_domain(data.payment_method if data else None)
        return_url = data.return_url if data else None
        return Payment.from_domain(await payments.retry(merchant.id, payment_id, method, return_url,
                                                        request.app.state.client_address.of(request.scope)))

    @get("/{payment_id:uuid}", responses=MERCHANT_ERRORS, summary="A payment attempt")
    async def get_payment(self, payment_id: uuid.UUID, merchant: Merchant, payments: PaymentService) -> Payment:
        return Payment.from_domain(await payments.get(merchant.id, payment_id))
