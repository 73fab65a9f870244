"""The dashboard in a real browser: Playwright for Python driving Debian's Chromium
(/usr/bin/chromium; `make test` installs it when missing) against the app served by
uvicorn on a local port, on real PostgreSQL and Redis. Login, a search, an order's
timeline, approving a review, replaying a dead letter, the chart (also with JavaScript
off), a narrow screen, and an XSS payload that never runs. Screenshots are saved under the
pytest basetemp, in dashboard-screenshots/."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from app.adapters.db.admin_queries import SearchFilter
from app.adapters.queue.dead_letters import DeadLetter, DeadLetterQueue
from app.entrypoints.http.app import create_app
from tests.integration.admin_world import FORMULA, PASSWORD, World, build_world

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


class KeptDeadLetters:
    """The dead-letter port's backend over a list: what was replayed is kept to assert on."""

    def __init__(self, letters: list[DeadLetter]) -> None:
        self.letters, self.replayed = letters, []  # type: ignore[var-annotated]

    def list(self) -> list[DeadLetter]:
        return list(self.letters)

    def replay(self, message_id: str | None) -> int:
        chosen = [d for d in self.letters if message_id in (None, d.message_id)]
        for letter in chosen:
            self.letters.remove(letter)
            self.replayed.append(letter.message_id)
        return len(chosen)


@dataclasses.dataclass
class Served:
    world: World
    url: str
    dead: KeptDeadLetters
    shots: Path


@pytest.fixture(scope="module")
async def served(container, tmp_path_factory) -> AsyncIterator[Served]:
    world = await build_world(container)
    dead = KeptDeadLetters([DeadLetter("msg-dead-1", "default", "notify_merchant", ["evt-1"], {}, 20,
                                       "TimeoutError: the merchant did not answer", datetime.now(UTC))])
    world.container = dataclasses.replace(world.container, dead_letters=DeadLetterQueue(dead))
    server = uvicorn.Server(uvicorn.Config(create_app(world.container), host="127.0.0.1", port=0, lifespan="off",
                                           log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    shots = tmp_path_factory.getbasetemp() / "dashboard-screenshots"
    shots.mkdir(exist_ok=True)
    yield Served(world, f"http://127.0.0.1:{port}", dead, shots)
    server.should_exit = True
    await task


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    # Not a skip: `make test` installs Debian's chromium when it is missing (Makefile).
    assert Path(CHROMIUM).exists(), "no /usr/bin/chromium: run `make test` or `apt-get install chromium`"
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--disable-gpu"])
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser, served) -> AsyncIterator[Any]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    tab = await context.new_page()
    dialogs: list[str] = []
    tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), asyncio.ensure_future(dialog.dismiss())))
    tab.dialogs = dialogs
    yield tab
    await context.close()


async def log_in(page, served: Served) -> None:
    await page.goto(f"{served.url}/dashboard")
    assert page.url.endswith("/dashboard/login")  # no session: sent to the login form
    await page.fill("input[name=email]", served.world.admin_email)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{served.url}/dashboard")


async def test_login_shows_the_overview_with_its_chart(page, served):
    await log_in(page, served)
    assert int(await page.text_content("#attempts")) >= 4
    assert await page.locator("#hourly-chart rect.bar-total").count() >= 1
    box = await page.locator("#hourly-chart").bounding_box()
    assert box and box["width"] > 300 and box["height"] > 80
    assert (await page.text_content("#open-reviews")).strip() != "0"
    cookies = {c["name"]: c for c in await page.context.cookies()}
    assert cookies["fxp_dash"]["httpOnly"] and cookies["fxp_dash"]["sameSite"] == "Strict"
    await page.screenshot(path=served.shots / "overview.png", full_page=True)


async def test_the_chart_and_pages_read_without_javascript(browser, served):
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    try:
        await log_in(page, served)
        assert await page.locator("#hourly-chart rect.bar-ok").count() >= 1
        await page.goto(f"{served.url}/dashboard/orders?merchant_id={served.world.merchant_id}")
        assert await page.locator("#results tbody tr").count() == 4
        await page.screenshot(path=served.shots / "no-javascript-orders.png", full_page=True)
    finally:
        await context.close()


async def test_search_by_reference_then_open_the_timeline(page, served):
    await log_in(page, served)
    await page.click("nav >> text=Orders")
    await page.fill("input[name=merchant_reference]", f"{FORMULA}-{served.world.tag}")
    await page.click("form.search button[type=submit]")
    # The unfiltered list is on the page until the search's answer is swapped in.
    await page.wait_for_url("**merchant_reference=*")
    await page.wait_for_function("document.querySelectorAll('#results tbody tr').length === 1")
    rows = page.locator("#results tbody tr")
    assert await rows.count() == 1
    assert FORMULA in await rows.first.locator("td.ref").text_content()
    await page.screenshot(path=served.shots / "search.png", full_page=True)
    await rows.first.locator("a").click()
    await page.wait_for_selector("#timeline")
    assert page.url.endswith(f"/dashboard/orders/{served.world.orders['paid']}")
    kinds = await page.locator("#timeline li .kind").all_text_contents()
    assert "event" in kinds and "provider call" in kinds and "attempt" in kinds
    assert (await page.text_content("#order-status")).strip() == "PAYMENT_DONE"
    await page.screenshot(path=served.shots / "timeline.png", full_page=True)


async def test_approve_a_review(page, served):
    held = served.world.payments["held"]
    await log_in(page, served)
    await page.click("nav >> text=Reviews")
    row = page.locator(f"tr[data-payment='{held}']")
    await row.wait_for()
    await page.screenshot(path=served.shots / "reviews.png", full_page=True)
    await row.locator("button:has-text('Approve')").click()
    await page.wait_for_selector("p.notice:has-text('Payment approved')")
    assert await page.locator(f"tr[data-payment='{held}']").count() == 0
    await served.world.container.bus.drain()
    rows, _ = await served.world.container.admin_queries.search_payments(SearchFilter(id=held))
    assert rows[0]["status"] == "SUCCESS"


async def test_replay_a_dead_letter(page, served):
    await log_in(page, served)
    await page.click("nav >> text=Dead letters")
    row = page.locator("tr[data-message='msg-dead-1']")
    await row.wait_for()
    await row.locator("button:has-text('Replay')").click()
    await page.wait_for_selector("p.notice:has-text('Dead letter replayed')")
    assert served.dead.replayed == ["msg-dead-1"]
    await page.screenshot(path=served.shots / "dead-letters.png", full_page=True)


async def test_merchant_strings_never_run_as_script(page, served):
    await log_in(page, served)
    for path in ("/dashboard/merchants", f"/dashboard/orders?merchant_id={served.world.merchant_id}",
                 f"/dashboard/orders/{served.world.orders['paid']}", "/dashboard/webhooks"):
        await page.goto(served.url + path)
        assert await page.title() != "pwned"
    await page.goto(served.url + "/dashboard/merchants")
    assert "<script>document.title='pwned'</script>" in await page.locator("#merchants").inner_text()
    assert page.dialogs == []


async def test_narrow_screen_has_no_page_wide_scroll(browser, served):
    context = await browser.new_context(viewport={"width": 375, "height": 760}, is_mobile=True)
    page = await context.new_page()
    try:
        await log_in(page, served)
        for path, name in (("/dashboard", "narrow-overview.png"),
                           (f"/dashboard/orders?merchant_id={served.world.merchant_id}", "narrow-orders.png")):
            await page.goto(served.url + path)
            widths = await page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            assert widths[0] <= widths[1] + 1, widths
            await page.screenshot(path=served.shots / name, full_page=True)
    finally:
        await context.close()
