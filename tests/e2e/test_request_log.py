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


async def test_every_early_answer_is_logged_and_counted_as_sent(tmp_path, merchant):
    """Answers given by middleware before or around the handler (rate limit, body size,
    malformed JSON and key reuse on the idempotency path, wrong method, unknown parameter)
    carry in the log line and the metrics the very status the client received."""
    log = tmp_path / "api.log"
    stack = LiveStack({"FXP_LOG_LEVEL": "INFO", "FXP_API__METRICS_TOKEN": "scrape", "FXP_RATE_LIMIT__ENABLED": "true",
                       "FXP_RATE_LIMIT__GROUPS": "payments=2/minute"}, api_log=log).start()
    body = {"order_id": "00000000-0000-4000-8000-000000000009", "provider": "sandbox",
            "payment_method": {"type": "card", "number": "4242424242424242", "exp_month": 1, "exp_year": 2031,
                               "cvc": "123"}}
    sent: dict[str, int] = {}
    try:
        async with httpx.AsyncClient(base_url=stack.api_url, headers=merchant.headers) as api:
            async def request(request_id: str, method: str, path: str, **kwargs) -> None:
                headers = {**kwargs.pop("headers", {}), "X-Request-ID": request_id}
                sent[request_id] = (await api.request(method, path, headers=headers, **kwargs)).status_code

            await request("too-large", "POST", "/orders", content=b'{"amount": 1, "x": "' + b"a" * 70_000 + b'"}',
                          headers={"content-type": "application/json", "Idempotency-Key": "big"})
            await request("bad-json", "POST", "/orders", content=b'{"amount": ',
                          headers={"content-type": "application/json", "Idempotency-Key": "bad"})
            await request("first", "POST", "/orders", json={"amount": 100, "currency": "EUR"},
                          headers={"Idempotency-Key": "same"})
            await request("reused", "POST", "/orders", json={"amount": 200, "currency": "EUR"},
                          headers={"Idempotency-Key": "same"})
            await request("replayed", "POST", "/orders", json={"currency": "EUR", "amount": 100},
                          headers={"Idempotency-Key": "same"})
            await request("wrong-method", "DELETE", "/orders")
            await request("unknown-param", "GET", "/orders", params={"colour": "red"})
            for n in range(3):
                await request(f"pay-{n}", "POST", "/payments", json=body)
            metrics = (await api.get("/metrics", headers={"Authorization": "Bearer scrape"})).text
    finally:
        stack.stop()
    assert sent == {"too-large": 413, "bad-json": 400, "first": 201, "reused": 422, "replayed": 201,
                    "wrong-method": 405, "unknown-param": 400, "pay-0": 404, "pay-1": 404, "pay-2": 429}
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    logged = {line["request_id"]: line["status"] for line in lines if line.get("event") == "request"}
    assert {request_id: logged.get(request_id) for request_id in sent} == sent
    counted = {}
    for line in metrics.splitlines():
        if line.startswith("fxp_requests_total{"):
            labels = dict(part.split("=", 1) for part in line[line.index("{") + 1:line.index("}")].split(","))
            key = (labels["method"].strip('"'), labels["path"].strip('"'), int(labels["status_code"].strip('"')))
            counted[key] = counted.get(key, 0) + int(float(line.rsplit(" ", 1)[1]))
    assert counted[("POST", "/orders", 413)] == 1 and counted[("POST", "/orders", 400)] == 1
    assert counted[("POST", "/orders", 422)] == 1 and counted[("POST", "/orders", 201)] == 2
    assert counted[("GET", "/orders", 400)] == 1
    assert counted[("POST", "/payments", 404)] == 2 and counted[("POST", "/payments", 429)] == 1
    assert not any(status >= 500 for (_, _, status) in counted), counted
