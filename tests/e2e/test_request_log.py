"""One JSON log line per request, with request id, merchant id, route, status, duration."""

from __future__ import annotations

import json

import httpx

from tests.e2e.live_stack import LiveStack


async def test_one_structured_line_per_request(tmp_path, merchant):
    log = tmp_path / "api.log"
    stack = LiveStack({"FXP_LOG_LEVEL": "INFO"}, api_log=log).start()
    try:
        async with httpx.AsyncClient(base_url=stack.api_url) as api:
            created = await api.post("/orders", headers={**merchant.headers, "X-Request-ID": "trace-1"},
                                     json={"amount": 100, "currency": "EUR"})
            await api.get(f"/orders/{created.json()['id']}", headers={**merchant.headers, "X-Request-ID": "trace-2"})
    finally:
        stack.stop()
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    requests = {line["request_id"]: line for line in lines if line.get("event") == "request"}
    assert requests["trace-1"]["route"] == "/orders" and requests["trace-1"]["status"] == 201
    assert requests["trace-2"]["route"] == "/orders/{order_id}" and requests["trace-2"]["status"] == 200
    for line in (requests["trace-1"], requests["trace-2"]):
        assert line["merchant_id"] == merchant.id and line["method"] in {"GET", "POST"}
        assert isinstance(line["duration_ms"], float)
    assert merchant.api_key not in log.read_text()


async def test_logs_and_metrics_record_the_status_the_client_got(tmp_path, merchant):
    """Errors raised before a handler runs (the idempotency path's 401, 415, unknown paths)
    are logged and counted with their real status, not as 500 or 200."""
    log = tmp_path / "api.log"
    stack = LiveStack({"FXP_LOG_LEVEL": "INFO", "FXP_API__METRICS_TOKEN": "scrape"}, api_log=log).start()
    try:
        async with httpx.AsyncClient(base_url=stack.api_url) as api:
            unauthenticated = await api.post("/orders", json={"amount": 100, "currency": "EUR"},
                                             headers={"Idempotency-Key": "k-1", "X-Request-ID": "idem-401"})
            wrong_type = await api.post("/orders", content=b'{"amount": 100, "currency": "EUR"}',
                                        headers={**merchant.headers, "Idempotency-Key": "k-2",
                                                 "content-type": "text/plain", "X-Request-ID": "idem-415"})
            unknown = await api.get("/nowhere", headers={"X-Request-ID": "no-route"})
            metrics = (await api.get("/metrics", headers={"Authorization": "Bearer scrape"})).text
    finally:
        stack.stop()
    assert (unauthenticated.status_code, wrong_type.status_code, unknown.status_code) == (401, 415, 404)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    status = {line["request_id"]: line["status"] for line in lines if line.get("event") == "request"}
    assert status["idem-401"] == 401 and status["idem-415"] == 415 and status["no-route"] == 404
    counted = [line for line in metrics.splitlines() if line.startswith("fxp_requests_total{")
               and 'path="/orders"' in line and 'method="POST"' in line]
    assert any('status_code="401"' in line for line in counted), counted
    assert any('status_code="415"' in line for line in counted), counted
    assert not any('status_code="500"' in line or 'status_code="200"' in line for line in counted), counted
    assert 'fxp_unmatched_requests_total{method="GET",status_code="404"} 1.0' in metrics
