"""The HTTP edge: bad input is a 4xx problem (never a 500), JSON needs its content type,
amounts are strict JSON integers, one status per problem code, security headers on every
response, /metrics not public unless configured, no admin routes when admin is off."""

from __future__ import annotations

import base64
import contextlib
import uuid

import httpx
import msgspec
import pytest

from app.entrypoints.http.problem_codes import PROBLEM_CODES
from tests.integration.test_orders_api import ORDER

JSON = {"content-type": "application/json"}


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status and (code is None or problem["code"] == code), problem
    return problem


@pytest.mark.parametrize("depth", [33, 1_000, 20_000])
async def test_deeply_nested_json_is_a_400(client, merchant, depth):
    body = b'{"amount": 100, "currency": "USD", "customer": ' + b"[" * depth + b"]" * depth + b"}"
    response = await client.post("/orders", headers={**merchant.headers, **JSON}, content=body)
    assert_problem(response, 400, "invalid_json")


async def test_nesting_inside_strings_does_not_count(client, merchant):
    response = await client.post("/orders", headers={**merchant.headers, **JSON},
                                 json={**ORDER, "description": "[" * 900 + "{" * 50})
    assert response.status_code == 201, response.text


async def test_malformed_json_is_a_400_invalid_json(client, merchant):
    response = await client.post("/orders", headers={**merchant.headers, **JSON}, content=b'{"amount": 10, ')
    assert_problem(response, 400, "invalid_json")


@pytest.mark.parametrize("body", [b'{"amount": 100, "currency": "USD", "description": "\xff\xfe"}',
                                  b'{"amount": 100, "currency": "\xc3"}', b"\x80"])
async def test_invalid_utf8_is_a_400(client, merchant, body):
    response = await client.post("/orders", headers={**merchant.headers, **JSON}, content=body)
    assert_problem(response, 400, "invalid_json")


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/xml", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/json; charset=latin-1",
                                          "application/jsonp"])
async def test_json_bodies_need_the_json_content_type(client, merchant, container, content_type):
    headers = {**merchant.headers, **({"content-type": content_type} if content_type else {})}
    response = await client.post("/orders", headers=headers, content=msgspec.json.encode(ORDER))
    assert_problem(response, 415, "unsupported_media_type")
    keyed = await client.post("/orders", headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
                              content=msgspec.json.encode(ORDER))
    assert_problem(keyed, 415, "unsupported_media_type")
    async with container.engine.transaction() as tx:
        count = await tx.connection.fetchval("SELECT count(*) FROM orders WHERE merchant_id = $1",
                                             uuid.UUID(merchant.id))
    assert count == 0


@pytest.mark.parametrize("content_type", ["application/json", "Application/JSON; charset=UTF-8"])
async def test_json_content_types_are_accepted(client, merchant, content_type):
    response = await client.post("/orders", headers={**merchant.headers, "content-type": content_type},
                                 content=msgspec.json.encode(ORDER))
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(("body", "field"), [
    ({"amount": "2500", "currency": "USD"}, "amount"),
    ({"amount": 25.00, "currency": "USD"}, "amount"),
    ({"amount": 2500.0, "currency": "USD"}, "amount"),
    ({"amount": True, "currency": "USD"}, "amount"),
    ({"amount": 100, "currency": "USD", "items": [{"name": "a", "quantity": "1", "unit_amount": 100}]},
     "items[0].quantity"),
    ({"amount": 100, "currency": "USD", "items": [{"name": "a", "quantity": 1, "unit_amount": 100.0}]},
     "items[0].unit_amount"),
])
async def test_amounts_and_quantities_are_json_integers(client, merchant, body, field):
    response = await client.post("/orders", headers=merchant.headers, json=body)
    problem = assert_problem(response, 400, "validation_failed")
    assert [error["field"] for error in problem["errors"]] == [field]


async def test_strict_integers_on_payments_too(client, merchant):
    order = (await client.post("/orders", headers=merchant.headers, json=ORDER)).json()
    card = {"type": "card", "number": "4242424242424242", "exp_month": "12", "exp_year": 2099, "cvc": "123"}
    response = await client.post("/payments", headers=merchant.headers,
                                 json={"order_id": order["id"], "payment_method": card})
    assert_problem(response, 400, "validation_failed")


@pytest.mark.parametrize(("path", "params"), [
    ("/orders", {"limt": "5"}), ("/orders", {"status": "CREATED", "merchant_id": "x"}),
    ("/orders/{order_id}", {"expand": "items"}),
])
async def test_unknown_query_parameters_are_a_400(client, merchant, path, params):
    order = (await client.post("/orders", headers=merchant.headers, json=ORDER)).json()
    response = await client.get(path.format(order_id=order["id"]), headers=merchant.headers, params=params)
    assert_problem(response, 400, "unknown_query_parameter")


@pytest.mark.parametrize("params", [
    {"created_after": "2026-11-22T10:00:00"}, {"created_after": "2026-02-30T10:00:00Z"},
    {"created_after": "2026-11-22T10:00:60Z"}, {"created_after": "1700000000"},
    {"created_after": "２０２６-11-22T10:00:00Z"},  # fullwidth digits: \d in Python, not in ECMA-262
    {"created_after": "2026-11-22T10:00:00Z\n"},  # Python's $ would let the newline through
])
async def test_malformed_timestamps_are_a_400(client, merchant, params):
    response = await client.get("/orders", headers=merchant.headers, params=params)
    assert_problem(response, 400)


@pytest.mark.parametrize(("params", "found"), [
    ({"created_after": "0001-01-01T00:00:00+14:00"}, True), ({"created_before": "9999-12-31T23:59:59-23:59"}, True),
    ({"created_after": "9999-12-31T23:59:59-23:59"}, False), ({"created_before": "0001-01-01T00:00:00+14:00"}, False),
])
async def test_extreme_timestamps_are_clamped_not_500(client, merchant, params, found):
    await client.post("/orders", headers=merchant.headers, json=ORDER)
    response = await client.get("/orders", headers=merchant.headers, params=params)
    assert response.status_code == 200, response.text
    assert bool(response.json()["data"]) is found


@pytest.mark.parametrize("raw", ["0001-01-01T00:00:00+14:00|" + str(uuid.uuid4()),
                                 "9999-12-31T23:59:59-23:59|" + str(uuid.uuid4()),
                                 "2026-11-22T10:00:00|" + str(uuid.uuid4()), "2026-11-22T10:00:00+00:00|nope"])
async def test_crafted_cursors_are_refused(client, merchant, raw):
    cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    response = await client.get("/orders", headers=merchant.headers, params={"cursor": cursor})
    assert_problem(response, 422, "invalid_cursor")


async def test_business_rules_and_schema_errors_have_different_codes(client, merchant):
    schema = await client.post("/orders", headers=merchant.headers, json={"amount": "x", "currency": "USD"})
    assert_problem(schema, 400, "validation_failed")
    rule = await client.post("/orders", headers=merchant.headers, json={
        "amount": 100, "currency": "USD", "items": [{"name": "a", "quantity": 1, "unit_amount": 99}]})
    assert_problem(rule, 422, "items_total_mismatch")


def test_every_code_has_one_status_and_a_meaning():
    import re
    from pathlib import Path

    from app.entrypoints.http.problems import CODES_BY_STATUS

    for code, (status, meaning) in PROBLEM_CODES.items():
        assert 400 <= status < 600 and meaning.endswith("."), code
    for status, code in CODES_BY_STATUS.items():  # the framework's own errors
        assert PROBLEM_CODES[code][0] == status, code
    # Every code an error is raised with (code="..." or a class's code = "...") is listed.
    app_dir = Path(__file__).resolve().parents[2] / "app"
    raised = {match for path in app_dir.rglob("*.py")
              for match in re.findall(r'\bcode\s*=\s*"([a-z_]+)"', path.read_text())} - {"domain_error"}
    assert raised - set(PROBLEM_CODES) == set(), "add these codes to app/entrypoints/http/problem_codes.py"


async def test_idempotency_fingerprint_ignores_key_order_and_whitespace(client, merchant):
    headers = {**merchant.headers, **JSON, "Idempotency-Key": str(uuid.uuid4())}
    first = await client.post("/orders", headers=headers, content=b'{"amount": 100, "currency": "USD"}')
    again = await client.post("/orders", headers=headers, content=b'{\n  "currency":"USD",\n  "amount":100\n}')
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true" and again.json()["id"] == first.json()["id"]


SECURITY_HEADERS = {"x-content-type-options": "nosniff", "cache-control": "no-store", "referrer-policy": "no-referrer",
                    "x-frame-options": "DENY", "content-security-policy": "frame-ancestors 'none'"}


@pytest.mark.parametrize(("method", "path", "authenticated"), [
    ("GET", "/orders", True), ("GET", "/orders", False), ("POST", "/orders", True),
    ("GET", "/no-such-path", False), ("DELETE", "/orders", True), ("GET", "/health", False),
    ("GET", "/schema/openapi.json", False), ("GET", "/metrics", False),
])
async def test_security_headers_on_every_response(client, merchant, method, path, authenticated):
    response = await client.request(method, path, headers=merchant.headers if authenticated else {},
                                    json=ORDER if method == "POST" else None)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.status_code)
    assert response.status_code < 500


def edge_app(container, **api):
    from app.entrypoints.http.app import create_app

    settings = msgspec.structs.replace(container.settings,
                                       api=msgspec.structs.replace(container.settings.api, **api))
    import dataclasses

    return create_app(dataclasses.replace(container, settings=settings))


@contextlib.asynccontextmanager
async def admin_client(container, admin_key: str):
    """An httpx client on an app whose admin key is `admin_key`, sending it."""
    app = edge_app(container, admin_api_key=admin_key)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://admin.test",
                                 headers={"Authorization": f"Bearer {admin_key}"}) as client:
        yield client


async def get(app, path: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://edge.test") as edge:
        return await edge.get(path, headers=headers)


async def test_metrics_are_not_public_by_default(client, container):
    assert_problem(await get(edge_app(container), "/metrics"), 404, "not_found")


async def test_metrics_with_a_token_need_it(client, container):
    app = edge_app(container, metrics_token="scrape-me")
    assert_problem(await get(app, "/metrics"), 401, "unauthenticated")
    assert_problem(await get(app, "/metrics", authorization="Bearer wrong"), 401, "unauthenticated")
    ok = await get(app, "/metrics", authorization="Bearer scrape-me")
    assert ok.status_code == 200 and "fxp_" in ok.text


async def test_metrics_public_only_when_configured(client, container):
    assert (await get(edge_app(container, metrics_public=True), "/metrics")).status_code == 200


async def test_metrics_on_their_own_port(client, container):
    from app.entrypoints.http.metrics import metrics_port
    from tests.processes import free_port

    port = free_port()
    api = msgspec.structs.replace(container.settings.api, metrics_port=port)
    with metrics_port(api):
        async with httpx.AsyncClient() as scraper:
            response = await scraper.get(f"http://127.0.0.1:{port}/metrics")
    assert response.status_code == 200 and "python_info" in response.text


async def test_without_a_static_admin_key_only_admin_jwts_open_the_admin_api(client, container):
    # Admin users log in with JWTs, so the admin routes always exist; the static key
    # (FXP_ADMIN_API_KEY) only bootstraps the first admin and is no credential when unset.
    schema = (await get(edge_app(container, admin_api_key=""), "/schema/openapi.json")).json()
    assert [path for path in schema["paths"] if path.startswith("/admin")]
    assert_problem(await get(edge_app(container, admin_api_key=""), "/admin/dead-letters", authorization="Bearer "),
                   401, "unauthenticated")
    assert_problem(await get(edge_app(container, admin_api_key=""), "/admin/dead-letters",
                             authorization="Bearer anything"), 401, "invalid_token")


async def test_an_optional_body_may_be_left_out_but_not_sent_as_null(client, merchant):
    first = (await client.post("/orders", headers=merchant.headers, json=ORDER)).json()
    refused = await client.post(f"/orders/{first['id']}/cancel", headers={**merchant.headers, **JSON}, content=b"null")
    assert_problem(refused, 400, "validation_failed")
    assert (await client.post(f"/orders/{first['id']}/cancel", headers=merchant.headers)).status_code == 200


async def test_route_metrics_count_each_answer_once_under_its_route_and_status(client, merchant):
    from prometheus_client import REGISTRY

    def sample(name: str, status: int, path: str = "/orders/{order_id}") -> float:
        labels = {"method": "GET", "path": path, "status_code": str(status), "app_name": "fusionxpay"}
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = (sample("fxp_requests_total", 404), sample("fxp_request_duration_seconds_count", 404),
              sample("fxp_requests_total", 200, "/health"))
    missing = await client.get(f"/orders/{uuid.uuid4()}", headers=merchant.headers)
    assert missing.status_code == 404
    assert (await client.get("/health")).status_code == 200
    assert sample("fxp_requests_total", 404) == before[0] + 1
    assert sample("fxp_request_duration_seconds_count", 404) == before[1] + 1
    assert sample("fxp_requests_total", 200, "/health") == before[2] == 0  # /health and /metrics are not counted
    assert sample("fxp_requests_in_progress", 200) == 0  # counted in while it ran, out when it ended
