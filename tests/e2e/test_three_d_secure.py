"""3-D Secure end to end: the API and the sandbox gateway as real processes. The merchant
sends a return_url, the attempt exposes the gateway's 3-D Secure page as redirect_url and
stays PENDING; the shopper (driven here over HTTP, as a browser would) approves or refuses
there, is sent back to the return_url, and the signed callback settles the order."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.e2e.conftest import wait_for_order
from tests.e2e.test_payments_flow import card, charges_for, new_order, outbox_events, pay

THREE_DS = "4000000000003220"
RETURN_URL = "http://127.0.0.1:9/shop/orders/42/back"  # plain http to loopback: allowed in test mode


async def pay_with_3ds(api: httpx.AsyncClient, merchant, order_id: str, return_url: str = RETURN_URL) -> dict:
    response = await api.post("/payments", headers=merchant.headers, json={
        "order_id": order_id, "provider": "sandbox", "payment_method": card(THREE_DS), "return_url": return_url})
    assert response.status_code == 202, response.text
    assert response.json()["return_url"] == return_url
    return response.json()


async def awaiting_shopper(api: httpx.AsyncClient, merchant, attempt_id: str) -> dict:
    for _ in range(200):
        attempt = (await api.get(f"/payments/{attempt_id}", headers=merchant.headers)).json()
        if attempt["status"] == "PENDING" and attempt["redirect_url"]:
            return attempt
        await asyncio.sleep(0.05)
    raise AssertionError(f"attempt never asked for the shopper: {attempt}")


async def shopper_answers(redirect_url: str, answer: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as browser:
        page = await browser.get(redirect_url)
        assert page.status_code == 200 and "/_sandbox/3ds/" in page.text and "Approve" in page.text
        return await browser.post(f"{redirect_url}/{answer}", follow_redirects=False)


def returned_to(response: httpx.Response, return_url: str = RETURN_URL) -> dict[str, list[str]]:
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(return_url + "?")
    return parse_qs(urlsplit(location).query)


async def test_approved_3ds_payment_stays_pending_until_the_shopper_approves(api, sandbox, merchant, container):
    order = await new_order(api, merchant)
    attempt = await pay_with_3ds(api, merchant, order["id"])
    pending = await awaiting_shopper(api, merchant, attempt["id"])
    assert urlsplit(pending["redirect_url"]).path.startswith("/_sandbox/3ds/sbx_pay_")
    await asyncio.sleep(0.3)  # past the sandbox's callback delay: nothing settles without the shopper
    order_now = (await api.get(f"/orders/{order['id']}", headers=merchant.headers)).json()
    assert order_now["status"] == "PAYMENT_IN_PROGRESS" and order_now["payments"][0]["status"] == "PENDING"
    assert "payment.requires_action" in await outbox_events(container, attempt["id"])  # the merchant is told

    back = returned_to(await shopper_answers(pending["redirect_url"], "approve"))
    assert back["redirect_status"] == ["succeeded"] and back["payment_id"] == [pending["provider_reference"]]
    final = await wait_for_order(api, merchant, order["id"])
    assert final["status"] == "PAYMENT_DONE" and final["payments"][0]["status"] == "SUCCESS"
    assert [c["charges"] for c in await charges_for(sandbox, attempt["id"])] == [1]


async def test_refused_3ds_fails_the_attempt_and_a_retry_can_pass_it(api, sandbox, merchant):
    order = await new_order(api, merchant)
    attempt = await pay_with_3ds(api, merchant, order["id"])
    pending = await awaiting_shopper(api, merchant, attempt["id"])
    assert returned_to(await shopper_answers(pending["redirect_url"], "refuse"))["redirect_status"] == ["failed"]
    failed = await wait_for_order(api, merchant, order["id"])
    assert failed["status"] == "PAYMENT_FAILED"
    assert failed["payments"][0]["failure_code"] == "authentication_required"
    assert [c["charges"] for c in await charges_for(sandbox, attempt["id"])] == [0]

    refused = await api.post(f"/payments/{attempt['id']}/retry", headers=merchant.headers,
                             json={"payment_method": card(THREE_DS), "return_url": "http://shop.example/back"})
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_return_url"
    other_return = "http://localhost:9/shop/retry-back"
    retry = await api.post(f"/payments/{attempt['id']}/retry", headers=merchant.headers,
                           json={"payment_method": card(THREE_DS), "return_url": other_return})
    assert retry.status_code == 202 and retry.json()["return_url"] == other_return
    second = await awaiting_shopper(api, merchant, retry.json()["id"])
    returned_to(await shopper_answers(second["redirect_url"], "approve"), other_return)
    assert (await wait_for_order(api, merchant, order["id"]))["status"] == "PAYMENT_DONE"


async def test_many_approvals_at_once_charge_once(api, sandbox, merchant, container):
    order = await new_order(api, merchant)
    attempt = await pay_with_3ds(api, merchant, order["id"])
    pending = await awaiting_shopper(api, merchant, attempt["id"])
    async with httpx.AsyncClient(timeout=10) as browser:
        answers = await asyncio.gather(*(browser.post(f"{pending['redirect_url']}/{'approve' if i % 4 else 'refuse'}")
                                         for i in range(20)))
    verdicts = {returned_to(answer)["redirect_status"][0] for answer in answers}
    assert len(verdicts) == 1  # whichever answer came first, every tab is told the same
    final = await wait_for_order(api, merchant, order["id"])
    paid = verdicts == {"succeeded"}
    assert final["status"] == ("PAYMENT_DONE" if paid else "PAYMENT_FAILED")
    assert [c["charges"] for c in await charges_for(sandbox, attempt["id"])] == [1 if paid else 0]
    events = await outbox_events(container, attempt["id"])
    assert events.count("payment.succeeded") + events.count("payment.failed") == 1


async def test_without_a_return_url_3ds_still_completes(api, merchant):
    order = await new_order(api, merchant)
    attempt = await pay(api, merchant, order["id"], THREE_DS)
    pending = await awaiting_shopper(api, merchant, attempt["id"])
    done = await shopper_answers(pending["redirect_url"], "approve")
    assert done.status_code == 200 and "You can close this window" in done.text
    assert (await wait_for_order(api, merchant, order["id"]))["status"] == "PAYMENT_DONE"
