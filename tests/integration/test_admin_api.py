"""The operator API on real PostgreSQL: searches across merchants by every filter, cursor
pages, an order's timeline in time order, the review queue, reports as JSON and CSV
(UTC buckets, formulas neutralised), and bad filters as 400 problems."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.entrypoints.http.app import create_app
from tests.integration.admin_world import ADMIN_KEY, FORMULA, World, build_world


@pytest.fixture
async def world(container) -> World:
    return await build_world(container)


@pytest.fixture
async def admin(world):
    app = create_app(world.container)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://admin.test",
                                 headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
        yield client


async def ids(admin, path: str, **params) -> list[str]:
    response = await admin.get(path, params=params)
    assert response.status_code == 200, response.text
    return [hit["id"] for hit in response.json()["data"]]


async def test_order_search_by_each_filter(admin, world):
    o, m = world.orders, str(world.merchant_id)
    mine = {"merchant_id": m}
    assert await ids(admin, "/admin/orders", **mine) == [str(o[n]) for n in ("held", "refunded", "declined", "paid")]
    assert await ids(admin, "/admin/orders", merchant_reference=f"{FORMULA}-{world.tag}") == [str(o["paid"])]
    assert await ids(admin, "/admin/orders", customer_email=f"DECLINED-{world.tag}@example.com") == [str(o["declined"])]
    assert await ids(admin, "/admin/orders", id=str(o["paid"])) == [str(o["paid"])]
    assert await ids(admin, "/admin/orders", id=str(world.payments["declined"])) == [str(o["declined"])]
    assert await ids(admin, "/admin/orders", status="PAYMENT_FAILED", **mine) == [str(o["declined"])]
    assert await ids(admin, "/admin/orders", amount_min=4000, amount_max=4500, **mine) == [str(o["refunded"])]
    assert await ids(admin, "/admin/orders", currency="EUR", **mine) == [str(o["held"])]
    assert len(await ids(admin, "/admin/orders", card_last4="4242", provider="sandbox", **mine)) == 4
    assert await ids(admin, "/admin/orders", card_last4="0000", **mine) == []
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    assert await ids(admin, "/admin/orders", created_from=later, **mine) == []


async def test_payment_search_shows_merchant_and_card(admin, world):
    response = await admin.get("/admin/payments", params={"merchant_id": str(world.merchant_id), "status": "FAILED"})
    [hit] = response.json()["data"]
    assert hit["id"] == str(world.payments["declined"]) and hit["failure_code"] == "card_declined"
    assert hit["card_last4"] == "4242" and hit["merchant_name"].startswith(f"Shop {world.tag}")
    review = await ids(admin, "/admin/payments", status="REQUIRES_REVIEW", merchant_id=str(world.merchant_id))
    assert review == [str(world.payments["held"])]


async def test_search_pages_with_a_cursor(admin, world):
    seen, cursor = [], None
    while True:
        params = {"merchant_id": str(world.merchant_id), "limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await admin.get("/admin/orders", params=params)).json()
        seen += [hit["id"] for hit in page["data"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == [str(world.orders[n]) for n in ("held", "refunded", "declined", "paid")]


async def test_timeline_is_in_time_order_with_every_source(admin, world):
    response = await admin.get(f"/admin/orders/{world.orders['refunded']}/timeline")
    assert response.status_code == 200, response.text
    body = response.json()
    entries = body["entries"]
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    kinds = {e["kind"] for e in entries}
    assert {"event", "attempt", "provider_call", "refund", "webhook_delivery", "audit"} <= kinds, kinds
    audits = [e["detail"] for e in entries if e["kind"] == "audit"]
    assert {"order_creation", "payment_processing"} <= {a["event_type"] for a in audits}, audits
    events = [e["summary"] for e in entries if e["kind"] == "event"]
    assert events[0] == "order.created" and "payment.succeeded" in events and "refund.succeeded" in events
    calls = [e["detail"] for e in entries if e["kind"] == "provider_call"]
    assert [c["operation"] for c in calls] == ["purchase", "refund"] and all(c["latency_ms"] >= 0 for c in calls)
    assert body["order"]["status"] == "ORDER_CANCELLED"


async def test_timeline_of_an_unknown_order_is_404(admin):
    response = await admin.get(f"/admin/orders/{uuid.uuid4()}/timeline")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


async def test_review_queue_approve_sends_the_payment(admin, world):
    held = str(world.payments["held"])
    assert held in [r["payment_id"] for r in (await admin.get("/admin/reviews")).json()["data"]]
    approved = await admin.post(f"/admin/reviews/{held}/approve")
    assert approved.status_code == 200, approved.text
    await world.container.bus.drain()
    [hit] = (await admin.get("/admin/payments", params={"id": held})).json()["data"]
    assert hit["status"] == "SUCCESS"


async def test_overview_counts_today(admin, world):
    body = (await admin.get("/admin/overview")).json()
    assert body["attempts"] >= 4 and 0 <= body["success_rate"] <= 1 and body["open_reviews"] >= 1
    assert sum(h["attempts"] for h in body["hourly"]) == body["attempts"]
    assert {"dead_letters", "outbox_lag_s", "outbox_unpublished"} <= body.keys()


async def test_merchants_and_webhook_deliveries(admin, world):
    merchants = (await admin.get("/admin/merchants")).json()["data"]
    assert str(world.merchant_id) in [m["id"] for m in merchants]
    assert (await admin.get("/admin/webhook-deliveries", params={"status": "delivered"})).status_code == 200


async def test_report_per_provider_and_utc_day(admin, world):
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    # Bounds given in another offset select the same UTC day.
    start = (today).astimezone(timezone_plus(5)).isoformat()
    end = (today + timedelta(days=1)).astimezone(timezone_plus(-8)).isoformat()
    response = await admin.get("/admin/reports/providers", params={"from": start, "to": end, "bucket": "day"})
    assert response.status_code == 200, response.text
    [row] = [r for r in response.json()["data"] if r["provider"] == "sandbox"]
    assert row["bucket_start"].startswith(today.strftime("%Y-%m-%dT00:00:00"))
    assert row["attempts"] >= 4 and row["failure_codes"].get("card_declined", 0) >= 1
    assert row["captured"]["USD"] >= 2500 + 4200 and row["refunds"] >= 1 and row["refunded"]["USD"] >= 4200
    assert row["latency_p50_ms"] is not None and row["latency_p95_ms"] >= row["latency_p50_ms"]
    assert 0 < row["success_rate"] < 1


def timezone_plus(hours: int):
    from datetime import timezone

    return timezone(timedelta(hours=hours))


async def test_csv_exports_neutralise_formulas(admin, world):
    response = await admin.get("/admin/orders.csv", params={"merchant_id": str(world.merchant_id)})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 4
    [paid] = [r for r in rows if r["id"] == str(world.orders["paid"])]
    assert paid["merchant_reference"] == "'" + f"{FORMULA}-{world.tag}"
    report = await admin.get("/admin/reports/providers.csv", params={"bucket": "hour"})
    assert report.status_code == 200 and report.text.startswith("bucket_start_utc,provider,attempts")


BAD = [
    ("/admin/orders", {"amount_min": "10", "amount_max": "5"}, "invalid_filter"),
    ("/admin/orders", {"created_from": "2026-02-01T00:00:00Z", "created_to": "2026-01-01T00:00:00Z"}, "invalid_filter"),
    ("/admin/orders", {"created_from": "yesterday"}, "validation_failed"),
    ("/admin/orders", {"card_last4": "42a2"}, "validation_failed"),
    ("/admin/orders", {"status": "PAID'; DROP TABLE orders"}, "validation_failed"),
    ("/admin/orders", {"amount_min": "-1"}, "validation_failed"),
    ("/admin/orders", {"id": "not-a-uuid"}, "validation_failed"),
    ("/admin/orders", {"colour": "red"}, "unknown_query_parameter"),
    ("/admin/payments", {"limit": "100000"}, "validation_failed"),
    ("/admin/reports/providers", {"bucket": "minute"}, "validation_failed"),
    ("/admin/reports/providers", {"bucket": "hour", "from": "2026-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"},
     "range_too_large"),
    ("/admin/reports/providers", {"from": "0001-01-01T00:00:00Z", "to": "9999-12-31T00:00:00Z"}, "range_too_large"),
    ("/admin/reports/providers", {"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "invalid_filter"),
    ("/admin/reports/providers.csv", {"bucket": "hour", "from": "2020-01-01T00:00:00Z"}, "range_too_large"),
]


@pytest.mark.parametrize(("path", "params", "code"), BAD, ids=[f"{b[0]}-{'-'.join(b[1])}" for b in BAD])
async def test_bad_filters_are_400_problems(admin, path, params, code):
    response = await admin.get(path, params=params)
    assert response.status_code in (400, 422), response.text
    assert response.status_code == 400 and response.json()["code"] == code, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_merchants_cannot_search(client, merchant, world):
    app = create_app(world.container)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://admin.test") as c:
        response = await c.get("/admin/orders", headers=merchant.headers)
    assert response.status_code == 403
