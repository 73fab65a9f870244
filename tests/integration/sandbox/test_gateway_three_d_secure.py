"""The 3-D Secure test card: the payment waits for the shopper, who approves or refuses on
the gateway's own page; the answer settles it, calls back (signed) and sends the shopper
back to the return_url."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from sandbox_gateway.signing import compute_signature
from tests.integration.sandbox.callback_receiver import CallbackReceiver
from tests.integration.sandbox.support import AUTH, GATEWAY_URL, SECRET, payment_body

Client = AsyncTestClient[Litestar]
THREE_DS_CARD = "4000000000003220"
RETURN_URL = "https://shop.example/orders/42/back?lang=en"


async def three_d_secure_payment(client: Client | httpx.AsyncClient, key: str = "3ds-1", **extra: object) -> dict:
    response = await client.post("/v1/payments", json=payment_body(THREE_DS_CARD, key=key, return_url=RETURN_URL,
                                                                   **extra))
    assert response.status_code == 201, response.text
    return response.json()


async def test_the_payment_waits_for_the_shopper_on_the_gateways_page(gateway: Client,
                                                                       receiver: CallbackReceiver) -> None:
    payment = await three_d_secure_payment(gateway)
    assert payment["status"] == "requires_action"
    assert payment["redirect_url"] == f"http://testserver.local/_sandbox/3ds/{payment['id']}"
    page = await gateway.get(urlsplit(payment["redirect_url"]).path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "12.5" not in page.text and "1250 USD" in page.text and "4242" not in page.text and "3220" in page.text
    assert f'action="/_sandbox/3ds/{payment["id"]}/approve"' in page.text
    assert f'action="/_sandbox/3ds/{payment["id"]}/refuse"' in page.text
    assert "<script" not in page.text and "http" not in page.text.split("<body>")[1]  # nothing from a CDN
    await asyncio.sleep(0.05)  # far past the callback delay: nothing settles on its own
    assert (await gateway.get(f"/v1/payments/{payment['id']}")).json()["status"] == "requires_action"
    assert receiver.requests == []


@pytest.mark.parametrize(("answer", "status", "event", "code", "charges"), [
    ("approve", "succeeded", "payment.succeeded", None, 1),
    ("refuse", "failed", "payment.failed", "authentication_failed", 0),
])
async def test_the_shoppers_answer_settles_calls_back_and_returns_them(
        gateway: Client, receiver: CallbackReceiver, answer: str, status: str, event: str, code: str | None,
        charges: int) -> None:
    payment = await three_d_secure_payment(gateway)
    response = await gateway.post(f"/_sandbox/3ds/{payment['id']}/{answer}", follow_redirects=False)
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "shop.example", "/orders/42/back")
    assert parse_qs(location.query) == {"lang": ["en"], "payment_id": [payment["id"]], "redirect_status": [status]}
    settled = (await gateway.get(f"/v1/payments/{payment['id']}")).json()
    assert (settled["status"], settled["failure_code"], settled["redirect_url"]) == (status, code, None)
    [callback] = await receiver.wait_for(1)
    timestamp = callback.headers["X-Sandbox-Timestamp"]
    assert callback.headers["X-Sandbox-Signature"] == compute_signature(SECRET, timestamp, callback.content)
    assert [(e["type"], e["data"]["id"]) for e in receiver.events()] == [(event, payment["id"])]
    charge = [c for c in (await gateway.get("/_sandbox/charges")).json()["data"] if c["payment_id"] == payment["id"]]
    assert [c["charges"] for c in charge] == [charges]


async def test_concurrent_and_repeated_answers_settle_once(same_loop_gateway: httpx.AsyncClient,
                                                           receiver: CallbackReceiver) -> None:
    payment = await three_d_secure_payment(same_loop_gateway)
    answers = [same_loop_gateway.post(f"/_sandbox/3ds/{payment['id']}/{'approve' if i % 3 else 'refuse'}")
               for i in range(30)]
    responses = await asyncio.gather(*answers)
    statuses = {parse_qs(urlsplit(r.headers["location"]).query)["redirect_status"][0] for r in responses}
    assert len(statuses) == 1 and all(r.status_code == 303 for r in responses)  # every shopper tab agrees
    await receiver.wait_for(1)
    await asyncio.sleep(0.05)
    assert len(receiver.requests) == 1
    [charge] = [c for c in (await same_loop_gateway.get("/_sandbox/charges")).json()["data"]
                if c["payment_id"] == payment["id"]]
    assert charge["charges"] == (1 if statuses == {"succeeded"} else 0)


async def test_without_a_return_url_the_shopper_sees_that_it_is_done(gateway: Client) -> None:
    response = await gateway.post("/v1/payments", json=payment_body(key="3ds-token", card=None,
                                                                    token="tok_three_d_secure"))
    payment = response.json()
    assert payment["status"] == "requires_action"
    done = await gateway.post(f"/_sandbox/3ds/{payment['id']}/approve", follow_redirects=False)
    assert done.status_code == 200 and "You can close this window" in done.text
    page = await gateway.get(f"/_sandbox/3ds/{payment['id']}")
    assert "no authentication any more" in page.text and "/approve" not in page.text


async def test_the_public_url_setting_names_the_page_and_bad_return_urls_are_refused(
        gateway_settings, receiver: CallbackReceiver) -> None:
    from msgspec.structs import replace

    from sandbox_gateway import create_app

    app = create_app(replace(gateway_settings, public_url="http://localhost:8100/"),
                     callback_transport=receiver.transport)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=GATEWAY_URL,
                                 headers=AUTH) as client:
        payment = await three_d_secure_payment(client)
        assert payment["redirect_url"] == f"http://localhost:8100/_sandbox/3ds/{payment['id']}"
        for bad in ("javascript:alert(1)", "/relative", "https://shop.example/a b"):
            refused = await client.post("/v1/payments", json=payment_body(THREE_DS_CARD, key=bad, return_url=bad))
            assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_request"
        missing = await client.get("/_sandbox/3ds/sbx_pay_nope")
        assert missing.status_code == 404
    await app.state.gateway.shutdown()
