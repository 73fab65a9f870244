"""HTTP routes of the sandbox gateway. Thin: they translate HTTP to Gateway calls."""

from __future__ import annotations

from typing import Annotated

from litestar import Request, Response, get, post
from litestar.params import Parameter

from sandbox_gateway.schemas import ChargeList, DeliveryList, PaymentCreate, PaymentOut, RefundCreate, RefundOut
from sandbox_gateway.service import Gateway

IdempotencyHeader = Annotated[str | None, Parameter(header="Idempotency-Key", required=False)]


def _answer(obj: PaymentOut | RefundOut, created: bool) -> Response[PaymentOut | RefundOut]:
    """201 for a new object; a repeated idempotency key gets 200 and says it was replayed."""
    if created:
        return Response(obj, status_code=201)
    return Response(obj, status_code=200, headers={"Idempotent-Replayed": "true"})


@post("/v1/payments")
async def create_payment(data: PaymentCreate, gateway: Gateway, request: Request,
                         idempotency_header: IdempotencyHeader = None) -> Response[PaymentOut | RefundOut]:
    payment, created = await gateway.create_payment(data, idempotency_header, str(request.base_url))
    return _answer(payment, created)


@get("/v1/payments/{payment_id:str}")
async def get_payment(payment_id: str, gateway: Gateway) -> PaymentOut:
    return gateway.ledger.payment(payment_id).to_out()


@get("/v1/payments")
async def find_payment_by_key(idempotency_key: str, gateway: Gateway) -> PaymentOut:
    """How a client that lost the answer (timeout) finds out what became of its request."""
    return gateway.ledger.payment_by_key(idempotency_key).to_out()


@post("/v1/refunds")
async def create_refund(data: RefundCreate, gateway: Gateway,
                        idempotency_header: IdempotencyHeader = None) -> Response[PaymentOut | RefundOut]:
    refund, created = gateway.create_refund(data, idempotency_header)
    return _answer(refund, created)


@get("/v1/refunds/{refund_id:str}")
async def get_refund(refund_id: str, gateway: Gateway) -> RefundOut:
    return gateway.ledger.refund(refund_id).to_out()


@get("/_sandbox/charges")
async def list_charges(gateway: Gateway) -> ChargeList:
    return ChargeList(gateway.charges())


@get("/_sandbox/callbacks")
async def list_callback_deliveries(gateway: Gateway) -> DeliveryList:
    return DeliveryList(list(gateway.ledger.deliveries))


@post("/_sandbox/reset", status_code=200)
async def reset(gateway: Gateway) -> dict[str, bool]:
    await gateway.reset()
    return {"reset": True}


@get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


ROUTES = [create_payment, get_payment, find_payment_by_key, create_refund, get_refund,
          list_charges, list_callback_deliveries, reset, health]
