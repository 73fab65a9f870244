"""The dashboard over HTTP (no browser): the session cookie's attributes, CSRF on every
form (forged tokens refused, nothing done), merchant strings escaped, no page without a
session, assets served by the app itself. The browser tests are in tests/e2e/test_dashboard_browser.py."""

from __future__ import annotations

import re

import httpx
import pytest

from app.entrypoints.http.app import create_app
from tests.integration.admin_world import ADMIN_KEY, PASSWORD, XSS, build_world

CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


@pytest.fixture
async def world(container):
    return await build_world(container)


def browser(world, base_url: str = "http://dash.test") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(world.container)), base_url=base_url)


async def login(web: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    form = await web.get("/dashboard/login")
    token = CSRF.search(form.text)[1]
    return await web.post("/dashboard/login", data={"_csrf": token, "email": email, "password": password})


async def test_pages_need_a_session(world):
    async with browser(world) as web:
        for path in ("/dashboard", "/dashboard/orders", "/dashboard/reviews", "/dashboard/dead-letters",
                     "/dashboard/webhooks", "/dashboard/merchants", "/dashboard/audit", "/dashboard/reports"):
            response = await web.get(path)
            assert response.status_code == 303 and response.headers["location"] == "/dashboard/login", path
        forged = await web.post(f"/dashboard/reviews/{world.payments['held']}/approve", data={"_csrf": "x"})
        assert forged.status_code == 303 and forged.headers["location"] == "/dashboard/login"


async def test_login_sets_a_strict_http_only_cookie(world):
    async with browser(world) as web:
        response = await login(web, world.admin_email, PASSWORD)
        assert response.status_code == 303 and response.headers["location"] == "/dashboard"
        cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("fxp_dash="))
        assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower() and "Path=/dashboard" in cookie
        assert "Secure" not in cookie  # plain HTTP here; over HTTPS it is Secure (next test)
        page = await web.get("/dashboard")
        assert page.status_code == 200 and "hourly-chart" in page.text and world.admin_email in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]


async def test_the_cookie_is_secure_over_https(world):
    async with browser(world, "https://dash.test") as web:
        response = await login(web, world.admin_email, PASSWORD)
        cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("fxp_dash="))
        assert "Secure" in cookie


async def test_wrong_password_and_merchant_users_are_refused(world, container):
    async with browser(world) as web:
        assert (await login(web, world.admin_email, "wrong password!!")).status_code == 401
        assert "fxp_dash=" not in " ".join((await web.get("/dashboard/login")).headers.get_list("set-cookie"))
        assert (await web.get("/dashboard")).status_code == 303


async def test_login_with_a_forged_token_is_refused(world):
    async with browser(world) as web:
        await web.get("/dashboard/login")
        response = await web.post("/dashboard/login", data={"_csrf": "forged", "email": world.admin_email,
                                                            "password": PASSWORD})
        assert response.status_code == 403 and "csrf_failed" in response.text


async def test_forged_csrf_tokens_change_nothing(world):
    held = world.payments["held"]
    async with browser(world) as web:
        await login(web, world.admin_email, PASSWORD)
        for token in ("", "forged", "A" * 43):
            response = await web.post(f"/dashboard/reviews/{held}/approve", data={"_csrf": token})
            assert response.status_code == 403 and "csrf_failed" in response.text
        response = await web.post(f"/dashboard/reviews/{held}/approve")
        assert response.status_code == 403
        still = await world.container.reviews.open_reviews(500)
        assert held in [a.id for a in still]
        # The real token works, once.
        token = CSRF.search((await web.get("/dashboard/reviews")).text)[1]
        approved = await web.post(f"/dashboard/reviews/{held}/approve", data={"_csrf": token})
        assert approved.status_code == 303 and approved.headers["location"].endswith("notice=approved")


async def test_merchant_strings_are_escaped(world):
    async with browser(world) as web:
        await login(web, world.admin_email, PASSWORD)
        pages = [await web.get("/dashboard/merchants"),
                 await web.get("/dashboard/orders", params={"merchant_id": str(world.merchant_id)}),
                 await web.get(f"/dashboard/orders/{world.orders['paid']}"),
                 await web.get("/dashboard/webhooks")]
        for page in pages:
            assert page.status_code == 200, page.text
            assert "<script>document.title" not in page.text and "<img src=x" not in page.text
        assert "&lt;script&gt;document.title" in pages[0].text


async def test_a_bad_search_is_shown_not_a_500(world):
    async with browser(world) as web:
        await login(web, world.admin_email, PASSWORD)
        for params in ({"amount_min": "abc"}, {"id": "nope"}, {"created_from": "yesterday"},
                       {"amount_min": "9", "amount_max": "1"}, {"status": "<b>"}, {"cursor": "garbage"}):
            page = await web.get("/dashboard/orders", params=params)
            assert page.status_code == 200 and 'class="error"' in page.text, params


async def test_the_admin_key_logs_in_and_logout_ends_the_session(world):
    async with browser(world) as web:
        form = await web.get("/dashboard/login")
        token = CSRF.search(form.text)[1]
        response = await web.post("/dashboard/login", data={"_csrf": token, "admin_key": ADMIN_KEY})
        assert response.status_code == 303
        page = await web.get("/dashboard")
        token = CSRF.search(page.text)[1]
        assert (await web.post("/dashboard/logout", data={"_csrf": token})).status_code == 303
        assert (await web.get("/dashboard")).status_code == 303


async def test_assets_are_served_by_the_app(world):
    async with browser(world) as web:
        htmx = await web.get("/dashboard/static/htmx.min.js")
        css = await web.get("/dashboard/static/dashboard.css")
    assert htmx.status_code == 200 and "htmx" in htmx.text[:200]
    assert css.status_code == 200 and "--accent" in css.text
    assert XSS  # the world's payload is what the escaping test looks for


async def test_the_audit_page_lists_records_with_links_to_orders(world):
    async with browser(world) as web:
        await login(web, world.admin_email, PASSWORD)
        page = await web.get("/dashboard/audit")
    assert page.status_code == 200 and 'id="audit"' in page.text
    assert "order_creation" in page.text and "/dashboard/orders/" in page.text


async def test_the_search_downloads_as_csv_with_formulas_neutralised(world):
    import csv
    import io

    async with browser(world) as web:
        await login(web, world.admin_email, PASSWORD)
        page = await web.get("/dashboard/orders", params={"merchant_id": str(world.merchant_id)})
        link = re.search(r'href="(/dashboard/orders\.csv\?[^"]*)"', page.text)[1].replace("&amp;", "&")
        response = await web.get(link)
        bad = await web.get("/dashboard/orders.csv", params={"amount_min": "x"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 4 and all(r["merchant_reference"][0] not in "=+-@" for r in rows)
    assert bad.status_code == 400
