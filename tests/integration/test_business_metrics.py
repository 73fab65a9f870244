"""Business metrics move on real flows (real PostgreSQL and Redis; the provider a fake):
payments by provider, outcome and failure code, refunds, webhook deliveries, outbox lag
and queue depth, all on GET /metrics."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import msgspec
import pytest
from prometheus_client import REGISTRY

from app.adapters.observability.business_metrics import refresh_backlog
from app.bootstrap import build_container
from app.domain.model.provider import Outcome, ProviderResult
from app.domain.services.notifications import DeliveryAttempt, WebhookResponse
from app.entrypoints.http.app import create_app
from tests.integration.test_orders_api import create_order
from tests.unit.fake_providers import FakeProvider, FakeProviderRegistry

CARD = {"type": "card", "number": "4242424242424242", "exp_month": 12, "exp_year": 2035, "cvc": "123"}
PROVIDER = "metrics_fake"


class RolledBack(Exception):
    pass


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def shop(container):
    """The app with a fake provider (inline dispatch: the flow completes in-process)."""
    provider = FakeProvider(PROVIDER)
    built = build_container(container.settings, engine=container.engine, redis=container.redis,
                            providers=FakeProviderRegistry(provider))
    settings = msgspec.structs.replace(container.settings, api=msgspec.structs.replace(
        container.settings.api, metrics_public=True))
    app = create_app(dataclasses.replace(built, settings=settings))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://shop.test") as client:
        yield client, provider
    await built.bus.drain()


async def paid_order(client, merchant, wanted: str = "PAYMENT_DONE") -> dict:
    order = await create_order(client, merchant)
    paid = await client.post("/payments", headers=merchant.headers, json={
        "order_id": order["id"], "provider": PROVIDER, "payment_method": CARD})
    assert paid.status_code == 202, paid.text
    for _ in range(200):
        current = (await client.get(f"/orders/{order['id']}", headers=merchant.headers)).json()
        if current["status"] == wanted:
            return current
        await asyncio.sleep(0.02)
    raise AssertionError(f"order stayed {current['status']}")


async def test_payments_and_refunds_are_counted_by_provider_outcome_and_code(shop, merchant):
    client, provider = shop
    succeeded = sample("fxp_payments_total", provider=PROVIDER, outcome="succeeded", failure_code="")
    requested = sample("fxp_payments_total", provider=PROVIDER, outcome="requested", failure_code="")
    declined = sample("fxp_payments_total", provider=PROVIDER, outcome="failed", failure_code="card_declined")
    refunds = sample("fxp_refunds_total", purpose="cancellation", outcome="succeeded")

    order = await paid_order(client, merchant)
    provider.answers.append(ProviderResult(Outcome.FAILED, failure_code="card_declined", failure_message="no"))
    await paid_order(client, merchant, "PAYMENT_FAILED")
    cancelled = await client.post(f"/orders/{order['id']}/cancel", headers=merchant.headers)
    assert cancelled.status_code == 200
    for _ in range(200):
        if sample("fxp_refunds_total", purpose="cancellation", outcome="succeeded") > refunds:
            break
        await asyncio.sleep(0.02)

    assert sample("fxp_payments_total", provider=PROVIDER, outcome="requested", failure_code="") == requested + 2
    assert sample("fxp_payments_total", provider=PROVIDER, outcome="succeeded", failure_code="") == succeeded + 1
    assert sample("fxp_payments_total", provider=PROVIDER, outcome="failed",
                  failure_code="card_declined") == declined + 1
    assert sample("fxp_refunds_total", purpose="cancellation", outcome="succeeded") == refunds + 1
    exposed = (await client.get("/metrics")).text
    assert f'fxp_payments_total{{failure_code="card_declined",outcome="failed",provider="{PROVIDER}"}}' in exposed
    assert "fxp_outbox_lag_seconds" in exposed and "fxp_queue_depth" in exposed


async def test_webhook_deliveries_are_counted_and_audited(container, merchant):
    delivered = sample("fxp_webhook_deliveries_total", outcome="delivered")
    failed = sample("fxp_webhook_deliveries_total", outcome="failed")
    order = await create_order_row(container, merchant)
    for attempt, response in enumerate([WebhookResponse(500, 12, "HTTP 500"), WebhookResponse(200, 7)], start=1):
        await container.webhooks.record(DeliveryAttempt(order, uuid.UUID(merchant.id), attempt,
                                                        "https://merchant.example/webhooks", response))
    assert sample("fxp_webhook_deliveries_total", outcome="delivered") == delivered + 1
    assert sample("fxp_webhook_deliveries_total", outcome="failed") == failed + 1
    async with container.engine.transaction() as tx:
        rows = await tx.connection.fetch(
            "SELECT status, error_code, duration_ms FROM audit_log WHERE event_type = 'notification_sent' "
            "AND entities @> $1::jsonb ORDER BY occurred_at", msgspec.json.encode({"event": str(order)}).decode())
    assert [(r["status"], r["error_code"], r["duration_ms"]) for r in rows] == [
        ("failed", "http_500", 12.0), ("success", None, 7.0)]


async def create_order_row(container, merchant) -> uuid.UUID:
    """An outbox event to deliver (the order.created of a new order)."""
    from tests.integration.test_unit_of_work import new_order

    order = new_order(merchant.id)
    async with container.uow() as uow:
        await uow.orders.add(order)
        await uow.commit()
    async with container.engine.transaction() as tx:
        return await tx.connection.fetchval("SELECT id FROM outbox WHERE aggregate_id = $1", order.id)


async def test_outbox_lag_and_queue_depth_are_read_from_postgresql_and_redis(container, merchant):
    namespace = f"fxp-metrics-{uuid.uuid4().hex[:8]}"
    await container.redis.rpush(f"{namespace}:payments", "m1", "m2")
    await container.redis.rpush(f"{namespace}:payments.DQ", "m3")
    event = uuid.uuid4()
    try:
        with pytest.raises(RolledBack):  # nothing of this stays: other tests' rows are left as they were
            async with container.engine.transaction() as tx:
                # The only unpublished event is ours, five minutes old.
                await tx.connection.execute("UPDATE outbox SET published_at = now() WHERE published_at IS NULL")
                await tx.connection.execute(
                    "INSERT INTO outbox (id, event_type, aggregate_id, merchant_id, payload, occurred_at) "
                    "VALUES ($1, 'test.lag', $1, $2, '{}'::jsonb, $3)", event, uuid.UUID(merchant.id),
                    datetime.now(UTC) - timedelta(minutes=5))
                await refresh_backlog(tx.connection, container.redis, namespace, ["payments"])
                raise RolledBack
    finally:
        await container.redis.delete(f"{namespace}:payments", f"{namespace}:payments.DQ")
    assert 300 <= sample("fxp_outbox_lag_seconds") < 330 and sample("fxp_outbox_unpublished") == 1
    assert sample("fxp_queue_depth", queue="payments") == 2
    assert sample("fxp_queue_depth", queue="payments.DQ") == 1
