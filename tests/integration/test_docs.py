"""The docs a merchant works from: the docs UIs load only same-origin assets, which the
app serves (no CDN: they work offline); every problem code has its page at the `type`
URL problem details name."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from app.entrypoints.http.problem_codes import PROBLEM_CODES


class Assets(HTMLParser):
    """Every URL a page would load: scripts, stylesheets, icons, images."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("src", "href"):
            if found.get(name) and (tag != "a"):
                self.urls.append(found[name] or "")


@pytest.mark.parametrize("page", ["/schema", "/schema/swagger"])
async def test_docs_pages_load_only_same_origin_assets_that_are_served(client, page):
    response = await client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    parser = Assets()
    parser.feed(response.text)
    assert parser.urls, "the page loads its UI from somewhere"
    base = str(client.base_url) + page
    for url in parser.urls:
        absolute = urljoin(base, url)
        assert urlsplit(absolute).netloc == urlsplit(base).netloc, f"{page} loads {url} from another origin"
        asset = await client.get(absolute)
        assert asset.status_code == 200 and len(asset.content) > 0, url
    # The page itself names no other origin (Swagger inlines the schema, whose examples do).
    if page == "/schema":
        assert re.findall(r"https?://[^\s\"'<>]+", response.text) == []


async def test_scalar_fetches_no_web_fonts_and_sends_no_telemetry(client):
    page = (await client.get("/schema")).text
    assert '"withDefaultFonts":false' in page and '"telemetry":false' in page


async def test_the_vendored_bundles_are_the_real_ones(client):
    scalar = await client.get("/static/docs/scalar/standalone.js")
    assert scalar.status_code == 200 and len(scalar.content) > 1_000_000
    assert "javascript" in scalar.headers["content-type"]
    swagger = await client.get("/static/docs/swagger/swagger-ui-bundle.js")
    assert swagger.status_code == 200 and b"SwaggerUIBundle" in swagger.content
    assert (await client.get("/static/docs/nope.js")).status_code == 404


async def test_every_problem_code_has_its_page(client):
    listed = await client.get("/problems")
    assert listed.status_code == 200
    assert {p["code"] for p in listed.json()["data"]} == set(PROBLEM_CODES)
    for code, (status, meaning) in PROBLEM_CODES.items():
        page = await client.get(f"/problems/{code}")
        assert page.status_code == 200, code
        assert page.json() == {"code": code, "status": status, "title": page.json()["title"], "meaning": meaning,
                               "type": f"/problems/{code}"}
    as_html = await client.get("/problems/validation_failed", headers={"Accept": "text/html"})
    assert as_html.headers["content-type"].startswith("text/html") and "validation_failed" in as_html.text
    unknown = await client.get("/problems/no_such_code")
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"


async def test_a_problem_type_resolves_to_its_page(client, merchant):
    """`type` is a reference relative to the API's URL: following it gives the code's page."""
    problem = (await client.post("/orders", headers=merchant.headers, json={"amount": "2500", "currency": "USD"})).json()
    assert problem["type"] == "/problems/validation_failed"
    page = await client.get(urljoin(str(client.base_url) + "/orders", problem["type"]))
    assert page.status_code == 200 and page.json()["status"] == problem["status"] == 400


async def test_problem_examples_are_problems_the_api_answers(client):
    """No generated random strings: each documented problem has a listed code, with the
    status that code always comes with, and its type is that code's page."""
    schema = (await client.get("/schema/openapi.json")).json()
    seen = 0
    for item in schema["paths"].values():
        for operation in item.values():
            for status, response in operation.get("responses", {}).items():
                for media, content in response.get("content", {}).items():
                    # Not Litestar's own 400 shape (status_code, detail, extra): ours is the problem.
                    assert status != "400" or media == "application/problem+json", operation["operationId"]
                    for example in content.get("examples", {}).values():
                        if media == "application/problem+json":
                            value = example["value"]
                            assert PROBLEM_CODES[value["code"]][0] == value["status"] == int(status)
                            assert value["type"] == f"/problems/{value['code']}"
                            seen += 1
    assert seen > 50
    assert "examples" not in json.dumps(schema["components"]["schemas"]["ProblemDetails"])  # no generated ones


async def test_every_post_the_idempotency_middleware_covers_documents_its_key(client, merchant):
    """The header is documented once on each such POST (and on none of the others but the
    admin key rotations, which read it themselves), and the documented pattern is the one
    the middleware enforces."""
    from app.entrypoints.http.idempotency import EXEMPT_PREFIXES

    document = (await client.get("/schema/openapi.json")).json()
    covered, documented = set(), set()
    for path, item in document["paths"].items():
        if "post" not in item:
            continue
        keys = [p for p in item["post"].get("parameters", []) if p["name"] == "Idempotency-Key"]
        assert len(keys) <= 1, path
        if keys:
            documented.add(path)
        if not path.startswith(EXEMPT_PREFIXES):
            covered.add(path)
            assert keys and keys[0]["in"] == "header" and not keys[0]["required"], path
    assert {"/orders", "/payments", "/orders/{order_id}/cancel", "/products"} <= covered
    assert documented - covered == {"/admin/merchants/{merchant_id}/api-key/rotate",
                                    "/admin/merchants/{merchant_id}/webhook-secret/rotate"}
    pattern = document["paths"]["/orders"]["post"]["parameters"][-1]["schema"]["pattern"]
    headers = {"Authorization": f"Bearer {merchant.api_key}", "Idempotency-Key": "has space"}
    assert not re.fullmatch(pattern.removesuffix("(?!\\n)").strip("^$"), "has space")
    refused = await client.post("/orders", json={"amount": 100, "currency": "USD"}, headers=headers)
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_idempotency_key", refused.text
