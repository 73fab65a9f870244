"""Admin search across merchants (orders, payments), one order's timeline, the overview,
merchants and webhook jobs. Read-only, over the operator's read model (AdminQueries)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, get
from litestar.params import Dependency, Parameter

from app.adapters.db.admin_queries import AdminQueries, SearchFilter
from app.adapters.queue.dead_letters import DeadLetterQueue
from app.domain.errors import MalformedRequest, NotFound
from app.entrypoints.http.access import authorize
from app.entrypoints.http.controllers.admin import ADMIN_ERRORS, ADMIN_ONLY
from app.entrypoints.http.dependencies import from_container
from app.entrypoints.http.schemas import patterns
from app.entrypoints.http.pagination import TIMESTAMP, decode_cursor, encode_cursor, parse_timestamp

Queries = Annotated[AdminQueries, Dependency(skip_validation=True)]
DeadLetters = Annotated[DeadLetterQueue, Dependency(skip_validation=True)]

MAX_AMOUNT = 10**15
ORDER_STATUS = "^(CREATED|PAYMENT_IN_PROGRESS|PAYMENT_DONE|PAYMENT_FAILED|ORDER_CANCELLED|FULFILLMENT_STARTED)$"
PAYMENT_STATUS = "^(INITIATED|PENDING|SUCCESS|FAILED|REQUIRES_REVIEW)$"


class OrderHit(msgspec.Struct):
    id: uuid.UUID
    merchant_id: uuid.UUID
    merchant_name: str
    merchant_reference: str | None
    status: str
    amount_minor: int
    currency: str
    customer_email: str | None
    attempt_count: int
    provider: str | None  # of the latest attempt
    payment_status: str | None
    card_last4: str | None
    created_at: datetime
    updated_at: datetime


class PaymentHit(msgspec.Struct):
    id: uuid.UUID
    order_id: uuid.UUID
    merchant_id: uuid.UUID
    merchant_name: str
    merchant_reference: str | None
    provider: str
    status: str
    amount_minor: int
    currency: str
    attempt_number: int
    card_brand: str | None
    card_last4: str | None
    failure_code: str | None
    fraud_action: str | None
    fraud_score: int | None
    customer_email: str | None
    created_at: datetime
    updated_at: datetime


class OrderHits(msgspec.Struct):
    data: list[OrderHit]
    has_more: bool
    next_cursor: str | None


class PaymentHits(msgspec.Struct):
    data: list[PaymentHit]
    has_more: bool
    next_cursor: str | None


class TimelineEntry(msgspec.Struct):
    at: datetime
    # event | attempt | provider_call | refund | webhook_delivery | webhook_job | notification |
    # notification_attempt | audit
    kind: str
    summary: str
    detail: dict[str, Any]


class Timeline(msgspec.Struct):
    order: OrderHit
    entries: list[TimelineEntry]


class HourBucket(msgspec.Struct):
    hour: datetime
    attempts: int
    succeeded: int
    failed: int


class Volume(msgspec.Struct):
    currency: str
    orders: int
    amount_minor: int


class Overview(msgspec.Struct):
    day_start: datetime  # today, UTC
    volume: list[Volume]
    attempts: int
    succeeded: int
    success_rate: float | None  # succeeded / decided
    hourly: list[HourBucket]
    outbox_unpublished: int
    outbox_lag_s: float  # age of the oldest unpublished event
    open_reviews: int
    dead_webhooks: int
    dead_letters: int


class MerchantRow(msgspec.Struct):
    id: uuid.UUID
    name: str
    webhook_url: str | None
    webhook_enabled: bool
    created_at: datetime


class MerchantList(msgspec.Struct):
    data: list[MerchantRow]
    count: int


class WebhookJob(msgspec.Struct):
    event_id: uuid.UUID
    merchant_id: uuid.UUID
    merchant_name: str
    event_type: str
    status: str
    attempt: int
    next_attempt_at: datetime
    last_error: str | None
    updated_at: datetime
    last_status_code: int | None
    last_latency_ms: int | None


class WebhookJobList(msgspec.Struct):
    data: list[WebhookJob]
    count: int


def build_filter(*, id: uuid.UUID | None = None, merchant_id: uuid.UUID | None = None,
                 merchant_reference: str | None = None, status: str | None = None, provider: str | None = None,
                 amount_min: int | None = None, amount_max: int | None = None, currency: str | None = None,
                 card_last4: str | None = None, customer_email: str | None = None,
                 created_from: str | None = None, created_to: str | None = None, cursor: str | None = None,
                 limit: int = 50) -> SearchFilter:
    """The filter of a search request; contradictory bounds are a 400 invalid_filter."""
    start, end = parse_timestamp(created_from, "created_from"), parse_timestamp(created_to, "created_to")
    if amount_min is not None and amount_max is not None and amount_min > amount_max:
        raise MalformedRequest("amount_min is above amount_max", field="amount_min", code="invalid_filter")
    if start is not None and end is not None and start > end:
        raise MalformedRequest("created_from is after created_to", field="created_from", code="invalid_filter")
    return SearchFilter(id, merchant_id, merchant_reference, status, provider, amount_min, amount_max, currency,
                        card_last4, customer_email, start, end, decode_cursor(cursor) if cursor else None, limit)


def _cursor(rows: list[dict[str, Any]], has_more: bool) -> str | None:
    return encode_cursor(rows[-1]["created_at"], rows[-1]["id"]) if has_more and rows else None


# Shared query parameters of both searches (Litestar validates each: 400 on a bad one).
Text = Annotated[str | None, Parameter(min_length=1, max_length=200)]
Amount = Annotated[int | None, Parameter(ge=0, le=MAX_AMOUNT)]
Currency = Annotated[str | None, Parameter(pattern="^[A-Z]{3}$")]
Last4 = Annotated[str | None, Parameter(pattern="^[0-9]{4}$")]
Email = Annotated[str | None, Parameter(min_length=3, max_length=254)]
Provider = Annotated[str | None, Parameter(pattern=patterns.whole(r"[a-z0-9_]{1,32}"))]
Cursor = Annotated[str | None, Parameter(max_length=200)]
Limit = Annotated[int, Parameter(ge=1, le=200)]
Stamp = Annotated[str | None, TIMESTAMP]


class AdminSearchController(Controller):
    path = "/admin"
    tags = ["admin"]
    guards = [authorize]  # also where the controller is mounted alone (the app applies it too)
    dependencies = {"queries": from_container("admin_queries"), "dead_letters": from_container("dead_letters")}

    @get("/orders", responses=ADMIN_ERRORS, **ADMIN_ONLY, summary="Search orders across merchants, newest first")
    async def search_orders(self, queries: Queries, id: uuid.UUID | None = None, merchant_id: uuid.UUID | None = None,
                            merchant_reference: Text = None,
                            status: Annotated[str | None, Parameter(pattern=ORDER_STATUS)] = None,
                            provider: Provider = None, amount_min: Amount = None, amount_max: Amount = None,
                            currency: Currency = None, card_last4: Last4 = None, customer_email: Email = None,
                            created_from: Stamp = None, created_to: Stamp = None, cursor: Cursor = None,
                            limit: Limit = 50) -> OrderHits:
        found = build_filter(id=id, merchant_id=merchant_id, merchant_reference=merchant_reference, status=status,
                             provider=provider, amount_min=amount_min, amount_max=amount_max, currency=currency,
                             card_last4=card_last4, customer_email=customer_email, created_from=created_from,
                             created_to=created_to, cursor=cursor, limit=limit)
        rows, has_more = await queries.search_orders(found)
        return OrderHits(msgspec.convert(rows, list[OrderHit]), has_more, _cursor(rows, has_more))

    @get("/payments", responses=ADMIN_ERRORS, **ADMIN_ONLY, summary="Search payment attempts across merchants")
    async def search_payments(self, queries: Queries, id: uuid.UUID | None = None,
                              merchant_id: uuid.UUID | None = None, merchant_reference: Text = None,
                              status: Annotated[str | None, Parameter(pattern=PAYMENT_STATUS)] = None,
                              provider: Provider = None, amount_min: Amount = None, amount_max: Amount = None,
                              currency: Currency = None, card_last4: Last4 = None, customer_email: Email = None,
                              created_from: Stamp = None, created_to: Stamp = None, cursor: Cursor = None,
                              limit: Limit = 50) -> PaymentHits:
        found = build_filter(id=id, merchant_id=merchant_id, merchant_reference=merchant_reference, status=status,
                             provider=provider, amount_min=amount_min, amount_max=amount_max, currency=currency,
                             card_last4=card_last4, customer_email=customer_email, created_from=created_from,
                             created_to=created_to, cursor=cursor, limit=limit)
        rows, has_more = await queries.search_payments(found)
        return PaymentHits(msgspec.convert(rows, list[PaymentHit]), has_more, _cursor(rows, has_more))

    @get("/orders/{order_id:uuid}/timeline", responses=ADMIN_ERRORS, **ADMIN_ONLY,
         summary="Everything that happened to one order, oldest first")
    async def timeline(self, order_id: uuid.UUID, queries: Queries) -> Timeline:
        return await order_timeline(queries, order_id)

    @get("/overview", responses=ADMIN_ERRORS, **ADMIN_ONLY, summary="Today's (UTC) figures and the queues")
    async def overview(self, queries: Queries, dead_letters: DeadLetters) -> Overview:
        return await overview(queries, dead_letters)

    # GET /admin/merchants: the merchant management controller's (admin_merchants.py), paged.

    @get("/webhook-deliveries", responses=ADMIN_ERRORS, **ADMIN_ONLY,
         summary="Webhook jobs, most recently changed first, with their last delivery attempt")
    async def webhook_jobs(self, queries: Queries,
                           status: Annotated[str | None, Parameter(
                               pattern="^(pending|delivered|dead|disabled|refused|skipped)$")] = None,
                           limit: Annotated[int, Parameter(ge=1, le=500)] = 100) -> WebhookJobList:
        rows = msgspec.convert(await queries.webhook_jobs(status, limit), list[WebhookJob])
        return WebhookJobList(rows, len(rows))


async def order_timeline(queries: AdminQueries, order_id: uuid.UUID) -> Timeline:
    order = await queries.order(order_id)
    entries = await queries.timeline(order_id)
    if order is None or entries is None:
        raise NotFound(f"order {order_id} not found", resource="order", id=str(order_id))
    return Timeline(msgspec.convert(order, OrderHit), [
        TimelineEntry(e["at"], e["kind"], e["summary"], msgspec.to_builtins(e["detail"])) for e in entries])


async def overview(queries: AdminQueries, dead_letters: DeadLetterQueue) -> Overview:
    now = datetime.now(UTC)
    figures = await queries.overview(now.replace(hour=0, minute=0, second=0, microsecond=0), now)
    letters = len(await dead_letters.list())
    return msgspec.convert({**figures, "dead_letters": letters}, Overview)
