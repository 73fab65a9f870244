"""Provider reports as JSON and as a streamed CSV export, and the order search as CSV.
Buckets are UTC hours or days (see app/adapters/db/reports.py for the conventions)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import msgspec
from litestar import Controller, get
from litestar.params import Dependency, Parameter
from litestar.response import Stream

from app.adapters.db.admin_queries import AdminQueries
from app.adapters.db.reports import ProviderReports, ReportRow
from app.domain.errors import MalformedRequest
from app.entrypoints.http.access import authorize
from app.entrypoints.http.controllers.admin import ADMIN_ERRORS, ADMIN_ONLY
from app.entrypoints.http.controllers.admin_search import (
    ORDER_STATUS, Amount, Currency, Cursor, Email, Last4, Provider, Queries, Stamp, Text, build_filter,
)
from app.entrypoints.http.csv_export import csv_stream
from app.entrypoints.http.dependencies import from_container
from app.entrypoints.http.pagination import parse_timestamp
from app.entrypoints.http.schemas.patterns import RFC3339

Reports = Annotated[ProviderReports, Dependency(skip_validation=True)]
MAX_SPAN = {"hour": timedelta(days=31), "day": timedelta(days=366)}
DEFAULT_SPAN = {"hour": timedelta(days=1), "day": timedelta(days=7)}
BUCKET = Parameter(pattern="^(hour|day)$", description="UTC hours or UTC days")
CSV_MAX_ROWS = 100_000
FROM = Parameter(query="from", pattern=RFC3339, max_length=40, description="RFC 3339 date-time with offset")


class ProviderBucket(msgspec.Struct):
    bucket_start: datetime  # UTC
    provider: str
    attempts: int
    succeeded: int
    failed: int
    success_rate: float | None  # succeeded / (succeeded + failed)
    captured: dict[str, int]  # currency -> minor units
    refunds: int
    refunded: dict[str, int]
    failure_codes: dict[str, int]
    latency_p50_ms: float | None
    latency_p95_ms: float | None

    @classmethod
    def from_row(cls, r: ReportRow) -> ProviderBucket:
        return cls(r.bucket, r.provider, r.attempts, r.succeeded, r.failed, r.success_rate, r.captured, r.refunds,
                   r.refunded, r.failure_codes, r.latency_p50_ms, r.latency_p95_ms)


class ProviderReport(msgspec.Struct):
    start: datetime
    end: datetime
    bucket: str
    timezone: str
    data: list[ProviderBucket]


def report_range(start: str | None, end: str | None, bucket: str, now: datetime | None = None
                 ) -> tuple[datetime, datetime]:
    """[start, end) of a report: defaults end now and span a day (hourly) or a week (daily);
    start after end, or a span over 31 days of hours / 366 days of days, is a 400."""
    end_at = parse_timestamp(end, "to") or now or datetime.now(UTC)
    start_at = parse_timestamp(start, "from") or end_at - DEFAULT_SPAN[bucket]
    if start_at >= end_at:
        raise MalformedRequest("from must be before to", field="from", code="invalid_filter")
    if end_at - start_at > MAX_SPAN[bucket]:
        raise MalformedRequest(f"a report by {bucket} spans at most {MAX_SPAN[bucket].days} days",
                               field="from", code="range_too_large")
    return start_at, end_at


REPORT_HEADER = ["bucket_start_utc", "provider", "attempts", "succeeded", "failed", "success_rate", "captured",
                 "refunds", "refunded", "failure_codes", "latency_p50_ms", "latency_p95_ms"]
ORDER_HEADER = ["id", "merchant_id", "merchant_name", "merchant_reference", "status", "amount_minor", "currency",
                "customer_email", "provider", "payment_status", "card_last4", "created_at"]


def _pairs(values: dict[str, int]) -> str:
    return " ".join(f"{key}:{value}" for key, value in sorted(values.items()))


class AdminReportsController(Controller):
    path = "/admin"
    tags = ["admin", "reports"]
    guards = [authorize]  # also where the controller is mounted alone (the app applies it too)
    dependencies = {"reports": from_container("reports"), "queries": from_container("admin_queries")}

    @get("/reports/providers", responses=ADMIN_ERRORS, **ADMIN_ONLY,
         summary="Per provider and UTC hour/day: attempts, success rate, captures, refunds, failures, latency")
    async def providers(self, reports: Reports, bucket: Annotated[str, BUCKET] = "day",
                        from_: Annotated[str | None, FROM] = None,
                        to: Stamp = None) -> ProviderReport:
        start, end = report_range(from_, to, bucket)
        rows = await reports.providers(start, end, bucket)
        return ProviderReport(start, end, bucket, "UTC", [ProviderBucket.from_row(r) for r in rows])

    @get("/reports/providers.csv", responses=ADMIN_ERRORS, **ADMIN_ONLY, media_type="text/csv",
         summary="The provider report as CSV")
    async def providers_csv(self, reports: Reports, bucket: Annotated[str, BUCKET] = "day",
                            from_: Annotated[str | None, FROM] = None,
                            to: Stamp = None) -> Stream:
        start, end = report_range(from_, to, bucket)
        rows = await reports.providers(start, end, bucket)
        return provider_report_csv(rows, f"providers-{bucket}-{start:%Y%m%d}.csv")

    @get("/orders.csv", responses=ADMIN_ERRORS, **ADMIN_ONLY, media_type="text/csv",
         summary="The order search as CSV (every page, up to 100,000 rows), streamed")
    async def orders_csv(self, queries: Queries, id: uuid.UUID | None = None, merchant_id: uuid.UUID | None = None,
                         merchant_reference: Text = None,
                         status: Annotated[str | None, Parameter(pattern=ORDER_STATUS)] = None,
                         provider: Provider = None, amount_min: Amount = None, amount_max: Amount = None,
                         currency: Currency = None, card_last4: Last4 = None, customer_email: Email = None,
                         created_from: Stamp = None, created_to: Stamp = None, cursor: Cursor = None) -> Stream:
        first = build_filter(id=id, merchant_id=merchant_id, merchant_reference=merchant_reference, status=status,
                             provider=provider, amount_min=amount_min, amount_max=amount_max, currency=currency,
                             card_last4=card_last4, customer_email=customer_email, created_from=created_from,
                             created_to=created_to, cursor=cursor, limit=200)
        return orders_csv_response(queries, first)


async def _all_orders(queries: AdminQueries, search: Any) -> AsyncIterator[list[Any]]:
    sent = 0
    while sent < CSV_MAX_ROWS:
        rows, has_more = await queries.search_orders(search)
        for row in rows:
            yield [row[name].isoformat() if isinstance(row[name], datetime) else row[name] for name in ORDER_HEADER]
        sent += len(rows)
        if not has_more or not rows:
            return
        search = dataclasses.replace(search, after=(rows[-1]["created_at"], rows[-1]["id"]))


def orders_csv_response(queries: AdminQueries, search: Any) -> Stream:
    return _csv_response(csv_stream(ORDER_HEADER, _all_orders(queries, search)), "orders.csv")


def provider_report_csv(rows: list[ReportRow], filename: str) -> Stream:
    async def lines() -> AsyncIterator[list[Any]]:
        for r in rows:
            yield [r.bucket.isoformat(), r.provider, r.attempts, r.succeeded, r.failed, r.success_rate,
                   _pairs(r.captured), r.refunds, _pairs(r.refunded), _pairs(r.failure_codes),
                   r.latency_p50_ms, r.latency_p95_ms]

    return _csv_response(csv_stream(REPORT_HEADER, lines()), filename)


def _csv_response(body: AsyncIterator[bytes], filename: str) -> Stream:
    return Stream(body, media_type="text/csv; charset=utf-8",
                  headers={"Content-Disposition": f'attachment; filename="{filename}"'})
