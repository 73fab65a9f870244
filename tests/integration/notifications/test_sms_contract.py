"""The SMS adapter against Twilio's documented Messages API (respx): the request it makes
(URL with the account SID, Basic auth SID:token, form-encoded To/From/Body) and how it
reads each documented answer (201 message resource; error JSON code/message/more_info/
status; 429 with Retry-After; 5xx; no answer)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from app.adapters.notify.sms import TwilioSmsSender, retry_after_s
from app.domain.ports_notifications import RenderedMessage

SID, TOKEN = "AC" + "0123456789abcdef" * 2, "auth-token-123"
URL = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
MESSAGE = RenderedMessage("", "Mug & Co: payment of 25.00 USD received for order REF-1. Thank you!")
# Twilio's answer to a created message (the Messages resource, trimmed of null fields).
CREATED = {
    "account_sid": SID, "api_version": "2010-04-01", "body": MESSAGE.text, "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
    "date_sent": None, "date_updated": "Thu, 24 Aug 2023 05:01:45 +0000", "direction": "outbound-api",
    "error_code": None, "error_message": None, "from": "+15557122661", "num_media": "0", "num_segments": "1",
    "price": None, "price_unit": "USD", "messaging_service_sid": None, "sid": "SM" + "a" * 32, "status": "queued",
    "to": "+15558675310", "uri": f"/2010-04-01/Accounts/{SID}/Messages/SM{'a' * 32}.json",
}


def twilio_error(status: int, code: int, message: str) -> dict:
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}


@pytest.fixture
async def sender():
    sms = TwilioSmsSender(SID, TOKEN, "+15557122661")
    yield sms
    await sms.aclose()


@respx.mock
async def test_the_request_is_twilios_create_message(sender):
    route = respx.post(URL).mock(return_value=httpx.Response(201, json=CREATED))
    result = await sender.send("+15558675310", MESSAGE, "delivery-1")
    assert result.ok and result.provider_message_id == CREATED["sid"] and not result.permanent
    request = route.calls.last.request
    assert request.headers["authorization"] == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.content.decode()) == {"To": ["+15558675310"], "From": ["+15557122661"],
                                                  "Body": [MESSAGE.text]}


@respx.mock
@pytest.mark.parametrize("status, code, text", [
    (400, 21211, "The 'To' number 5551234567 is not a valid phone number."),
    (400, 21610, "Attempt to send to unsubscribed recipient"),
    (401, 20003, "Authenticate"),
    (404, 20404, "The requested resource was not found"),
])
async def test_client_errors_are_permanent_and_say_why(sender, status, code, text):
    respx.post(URL).mock(return_value=httpx.Response(status, json=twilio_error(status, code, text)))
    result = await sender.send("+15558675310", MESSAGE, "delivery-1")
    assert not result.ok and result.permanent and result.retry_after_s is None
    assert result.error == f"HTTP {status} code {code}: {text}"


@respx.mock
async def test_too_many_requests_is_retried_after_retry_after(sender):
    respx.post(URL).mock(return_value=httpx.Response(
        429, headers={"Retry-After": "30"},
        json=twilio_error(429, 20429, "Too Many Requests")))
    result = await sender.send("+15558675310", MESSAGE, "delivery-1")
    assert not result.ok and not result.permanent and result.retry_after_s == 30.0


@respx.mock
@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_retried(sender, status):
    respx.post(URL).mock(return_value=httpx.Response(status, json=twilio_error(status, 20500, "Internal Server Error")))
    result = await sender.send("+15558675310", MESSAGE, "delivery-1")
    assert not result.ok and not result.permanent


@respx.mock
@pytest.mark.parametrize("failure", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")])
async def test_no_answer_is_retried(sender, failure):
    respx.post(URL).mock(side_effect=failure)
    result = await sender.send("+15558675310", MESSAGE, "delivery-1")
    assert not result.ok and not result.permanent and type(failure).__name__ in (result.error or "")


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after_s("120") == 120.0 and retry_after_s(None) is None and retry_after_s("soon") is None
    assert 0 <= (retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT") or 0) == 0.0  # in the past: now


@respx.mock
@pytest.mark.parametrize("failure", [httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("dropped")])
async def test_no_answer_after_the_request_went_out_is_in_doubt(sender, failure):
    respx.post(URL).mock(side_effect=failure)
    assert (await sender.send("+15558675310", MESSAGE, "delivery-1")).unknown


@respx.mock
async def test_a_connection_never_made_is_not_in_doubt(sender):
    respx.post(URL).mock(side_effect=httpx.ConnectError("refused"))
    assert not (await sender.send("+15558675310", MESSAGE, "delivery-1")).unknown


# Twilio's answer to reading the Messages list (its documented page envelope).
def listed(*messages: dict) -> dict:
    uri = f"/2010-04-01/Accounts/{SID}/Messages.json?To=%2B15558675310&From=%2B15557122661&PageSize=50&Page=0"
    return {"messages": list(messages), "end": len(messages) - 1, "first_page_uri": uri, "next_page_uri": None,
            "page": 0, "page_size": 50, "previous_page_uri": None, "start": 0, "uri": uri}


@respx.mock
async def test_look_up_reads_twilios_message_list_and_matches_the_body(sender):
    other = {**CREATED, "sid": "SM" + "b" * 32, "body": "another message"}
    route = respx.get(URL).mock(return_value=httpx.Response(200, json=listed(other, CREATED)))
    digest = sender.digest("+15558675310", MESSAGE)
    since = datetime(2023, 8, 24, 5, 0, tzinfo=UTC)
    found = await sender.find("+15558675310", digest, since)
    assert found is not None and found.ok and found.provider_message_id == CREATED["sid"]
    request = route.calls.last.request
    assert request.headers["authorization"] == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert parse_qs(request.url.query.decode()) == {"To": ["+15558675310"], "From": ["+15557122661"],
                                                    "PageSize": ["50"]}


@respx.mock
async def test_look_up_ignores_older_messages_and_other_bodies(sender):
    respx.get(URL).mock(return_value=httpx.Response(200, json=listed(CREATED)))
    digest = sender.digest("+15558675310", MESSAGE)
    assert await sender.find("+15558675310", digest, datetime(2023, 8, 25, tzinfo=UTC)) is None  # sent before
    other = sender.digest("+15558675310", RenderedMessage("", "a different text"))
    assert await sender.find("+15558675310", other, datetime(2023, 8, 24, tzinfo=UTC)) is None


@respx.mock
@pytest.mark.parametrize("answer", [httpx.Response(503, json=twilio_error(503, 20503, "Service Unavailable")),
                                    httpx.Response(429, headers={"Retry-After": "5"},
                                                   json=twilio_error(429, 20429, "Too Many Requests"))])
async def test_a_failed_look_up_says_so(sender, answer):
    respx.get(URL).mock(return_value=answer)
    found = await sender.find("+15558675310", "digest", datetime(2023, 8, 24, tzinfo=UTC))
    assert found is not None and not found.ok and "look-up" in (found.error or "")
