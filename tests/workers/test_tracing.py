"""One trace from the HTTP request through the outbox and the queue to the worker's
provider call: POST /payments (Litestar's OpenTelemetryPlugin) writes payment.requested
with its traceparent, the relay puts it on the dispatch_payment message, our Dramatiq
middleware opens the worker span under it, and the sandbox provider's httpx request (the
httpx instrumentation) lands in the same trace. Exported to memory."""

from __future__ import annotations

import asyncio
import uuid

import msgspec
import pytest
import respx
from dramatiq import Worker
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from app.adapters.observability.tracing import build_tracing, stop_tracing
from config.settings import TelemetrySettings
from tests.integration.test_orders_api import create_order
from tests.workers.conftest import join

GATEWAY = "http://sandbox-traced.test"
CARD = {"type": "card", "number": "4242424242424242", "exp_month": 12, "exp_year": 2035, "cvc": "123"}


@pytest.fixture
def traced():
    exporter = InMemorySpanExporter()
    provider = build_tracing(TelemetrySettings(), "test", exporter)
    yield exporter, provider
    stop_tracing(provider)  # the client libraries uninstrumented again for the other tests


async def test_one_trace_goes_http_outbox_worker_provider(container, worker_settings, merchant, quiet_outbox,
                                                          traced):
    import httpx

    from app.bootstrap import build_container
    from app.entrypoints.http.app import create_app
    from app.workers.broker import build_broker, container_boot

    exporter, provider = traced
    settings = msgspec.structs.replace(worker_settings, providers=msgspec.structs.replace(
        worker_settings.providers, sandbox={"base_url": GATEWAY, "callback_secret": "whsec_traced"}))
    broker = build_broker(settings, loop=asyncio.get_running_loop(), tracing=provider)
    built = build_container(settings, broker=broker, engine=container.engine, redis=container.redis,
                            tracing=provider)
    container_boot(broker).use(built)
    app = create_app(built)
    worker = Worker(broker, worker_timeout=50, worker_threads=2)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test") as client, \
                respx.mock(base_url=GATEWAY, assert_all_called=True) as gateway:
            gateway.post("/v1/payments").respond(201, json={
                "object": "payment", "id": "sbx_traced", "status": "pending", "amount": 2500, "currency": "USD",
                "failure_code": None, "failure_message": None})
            order = await create_order(client, merchant)
            paid = await client.post("/payments", headers=merchant.headers,
                                     json={"order_id": order["id"], "payment_method": CARD})
            assert paid.status_code == 202, paid.text
            assert await built.relay.relay_once() >= 1
            worker.start()
            await join(broker, "payments")
    finally:
        await asyncio.to_thread(worker.stop)
        broker.flush_all()
        await built.providers.aclose()
        await built.sender.aclose()

    spans = exporter.get_finished_spans()
    server = next(s for s in spans if s.kind is SpanKind.SERVER and s.name.startswith("POST /payments"))
    trace_id = server.context.trace_id
    in_trace = [s for s in spans if s.context.trace_id == trace_id]
    consumer = next(s for s in in_trace if s.kind is SpanKind.CONSUMER)
    assert consumer.name == "dispatch_payment process"
    assert consumer.attributes["messaging.destination.name"] == "payments"
    call = next(s for s in in_trace if s.kind is SpanKind.CLIENT and str(s.attributes.get("url.full", s.attributes.get(
        "http.url", ""))).startswith(f"{GATEWAY}/v1/payments"))
    ids = {s.context.span_id: s for s in in_trace}
    chain, span = [], call  # walk the provider call's parents up to the request
    while span is not None:
        chain.append(span.kind)
        span = ids.get(span.parent.span_id) if span.parent else None
    assert SpanKind.CONSUMER in chain and chain[-1] is SpanKind.SERVER
    # the request's own database and Redis calls are in it too (asyncpg, redis instrumentations)
    systems = {s.attributes.get("db.system") or s.attributes.get("db.system.name") for s in in_trace}
    assert {"postgresql", "redis"} <= systems, systems
    assert uuid.UUID(order["id"])
