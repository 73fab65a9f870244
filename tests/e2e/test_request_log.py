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
