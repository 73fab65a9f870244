"""SandboxProvider against the real gateway app: every test card end to end, callbacks
verified by the adapter, refunds, and a real network timeout against a uvicorn server."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import date

import httpx
import msgspec
import pytest
import uvicorn

from app.adapters.providers.errors import ProviderConnectError, ProviderTimeout
from app.adapters.providers.sandbox import SandboxProvider
from app.domain.model.card import CardDetails, CardToken, PaymentMethod
from app.domain.model.money import Money
from app.domain.model.provider import CallbackKind, Outcome, PaymentRequest, ProviderEvent, RefundRequest
from sandbox_gateway import GatewaySettings, create_app
from tests.integration.sandbox.callback_receiver import CallbackReceiver
from tests.integration.sandbox.support import (AUTH, DECLINE_CARDS, DUPLICATE_CALLBACK_CARD, NEXT_YEAR, NO_CALLBACK_CARD,
                                               OUT_OF_ORDER_CARD, SUCCESS_CARD, TIMEOUT_CARD, eventually,
                                               sandbox_settings)

S, F, P = Outcome.SUCCEEDED, Outcome.FAILED, Outcome.PENDING


def purchase_request(number: str = SUCCESS_CARD, method: PaymentMethod | None = None) -> PaymentRequest:
    method = method or CardDetails.parse(number, 12, NEXT_YEAR, "123", date.today())
    return PaymentRequest(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), Money.of(1250, "USD"), method)


async def received_events(provider: SandboxProvider, receiver: CallbackReceiver) -> list[ProviderEvent]:
    return [await provider.parse_callback(request.headers, request.content) for request in receiver.requests]


@pytest.mark.parametrize(("number", "callback_outcomes", "final", "code"), [
    (SUCCESS_CARD, [S], S, None),
    *[(number, [F], F, code) for number, code in DECLINE_CARDS.items()],
    (DUPLICATE_CALLBACK_CARD, [S, S], S, None),
    (OUT_OF_ORDER_CARD, [S, P], S, None),
    (NO_CALLBACK_CARD, [], S, None),
])
async def test_every_test_card_through_the_adapter(provider: SandboxProvider, receiver: CallbackReceiver,
                                                   number: str, callback_outcomes: list[Outcome], final: Outcome,
                                                   code: str | None) -> None:
    request = purchase_request(number)

    accepted = await provider.purchase(request)

    assert accepted.outcome is Outcome.PENDING and accepted.provider_reference
    await eventually(lambda: _settled(provider, request.attempt_id))
    await receiver.wait_for(len(callback_outcomes))
    await asyncio.sleep(0.05)  # no further callback may arrive
    events = await received_events(provider, receiver)
    assert [event.result.outcome for event in events] == callback_outcomes
    assert all(e.kind is CallbackKind.PAYMENT and e.attempt_id == request.attempt_id for e in events)
    assert {e.result.provider_reference for e in events} <= {accepted.provider_reference}
    assert [e.result.failure_code for e in events if e.result.outcome is F] == [code] * callback_outcomes.count(F)
    status = await provider.get_status(request.attempt_id, accepted.provider_reference)
    assert (status.outcome, status.failure_code) == (final, code)
    if number == DUPLICATE_CALLBACK_CARD:
        assert events[0].event_id == events[1].event_id
    if number == OUT_OF_ORDER_CARD:
        assert events[0].event_id != events[1].event_id and events[1].event_type == "payment.processing"


async def _settled(provider: SandboxProvider, attempt_id: uuid.UUID) -> bool:
    return (await provider.get_status(attempt_id, None)).outcome is not Outcome.PENDING


async def test_a_held_timeout_card_answer_arrives_late_and_already_settled(provider: SandboxProvider) -> None:
    result = await provider.purchase(purchase_request(TIMEOUT_CARD))  # no client timeout over ASGI: it waits

    assert result.outcome is Outcome.SUCCEEDED


async def test_card_tokens_succeed(provider: SandboxProvider) -> None:
    request = purchase_request(method=CardToken("tok_vaulted_1"))

    await provider.purchase(request)

    await eventually(lambda: _settled(provider, request.attempt_id))
    assert (await provider.get_status(request.attempt_id, None)).outcome is Outcome.SUCCEEDED


async def test_fifty_concurrent_purchases_of_one_attempt_charge_once(
        provider: SandboxProvider, same_loop_gateway: httpx.AsyncClient) -> None:
    request = purchase_request()

    results = await asyncio.gather(*(provider.purchase(request) for _ in range(50)))

    assert len({result.provider_reference for result in results}) == 1
    await eventually(lambda: _settled(provider, request.attempt_id))
    [row] = (await same_loop_gateway.get("/_sandbox/charges")).json()["data"]
    assert (row["idempotency_key"], row["requests"], row["charges"]) == (str(request.attempt_id), 50, 1)


async def test_status_of_an_attempt_the_gateway_never_saw(provider: SandboxProvider) -> None:
    result = await provider.get_status(uuid.uuid4(), None)

    assert (result.outcome, result.failure_code) == (Outcome.FAILED, "processing_error")


async def test_refund_end_to_end(provider: SandboxProvider, receiver: CallbackReceiver) -> None:
    payment = purchase_request()
    reference = (await provider.purchase(payment)).provider_reference
    await eventually(lambda: _settled(provider, payment.attempt_id))
    refund = RefundRequest(uuid.uuid4(), payment.attempt_id, reference, Money.of(500, "USD"))

    accepted = await provider.refund(refund)
    repeated = await provider.refund(refund)
    by_lookup = await provider.refund(RefundRequest(uuid.uuid4(), payment.attempt_id, None, Money.of(750, "USD")))
    too_much = await provider.refund(RefundRequest(uuid.uuid4(), payment.attempt_id, reference, Money.of(1, "USD")))

    assert accepted.outcome is Outcome.PENDING and (accepted.provider_reference or "").startswith("sbx_re_")
    assert repeated.provider_reference == accepted.provider_reference
    assert by_lookup.outcome is Outcome.PENDING
    assert (too_much.outcome, too_much.failure_code) == (Outcome.FAILED, "invalid_request")
    await receiver.wait_for(3)  # payment.succeeded + two refund.succeeded
    refund_events = [e for e in await received_events(provider, receiver) if e.kind is CallbackKind.REFUND]
    first = next(e for e in refund_events if e.refund_id == refund.refund_id)
    assert (first.result.outcome, first.attempt_id, first.result.provider_reference) == (
        Outcome.SUCCEEDED, payment.attempt_id, accepted.provider_reference)


async def test_refund_of_a_declined_payment_fails(provider: SandboxProvider) -> None:
    payment = purchase_request("4000000000000002")
    reference = (await provider.purchase(payment)).provider_reference
    await eventually(lambda: _settled(provider, payment.attempt_id))

    result = await provider.refund(RefundRequest(uuid.uuid4(), payment.attempt_id, reference, Money.of(1, "USD")))

    assert (result.outcome, result.failure_code) == (Outcome.FAILED, "invalid_request")
    assert "payment_not_succeeded" in (result.failure_message or "")


@pytest.fixture
async def live_gateway(gateway_settings: GatewaySettings, receiver: CallbackReceiver) -> AsyncIterator[str]:
    """The gateway served by uvicorn on a real socket, so client timeouts are real."""
    app = create_app(msgspec.structs.replace(gateway_settings, timeout_hold_s=2.0),
                     callback_transport=receiver.transport)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=0.2))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    async with asyncio.timeout(5):
        while not server.started:
            await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    await serving
    sock.close()


async def test_real_timeout_raises_and_the_status_poll_finds_the_charge(
        live_gateway: str, receiver: CallbackReceiver) -> None:
    adapter = SandboxProvider(sandbox_settings(base_url=live_gateway, timeout_s=0.2))
    request = purchase_request(TIMEOUT_CARD)
    # The 0.2 s covers connecting too: on a busy machine the connect alone can exceed it
    # (a connect error, not the read timeout under test). A lookup of another id opens the
    # keep-alive connection the purchase then uses.
    for _ in range(5):
        try:
            await adapter.get_status(uuid.uuid4(), None)
            break
        except ProviderConnectError:
            continue

    with pytest.raises(ProviderTimeout):
        await adapter.purchase(request)

    await receiver.wait_for(1)
    [event] = await received_events(adapter, receiver)
    assert (event.attempt_id, event.result.outcome) == (request.attempt_id, Outcome.SUCCEEDED)
    assert (await adapter.get_status(request.attempt_id, None)).outcome is Outcome.SUCCEEDED
    retried = await adapter.purchase(request)  # what a retry after the timeout gets: the answer, at once
    assert (retried.outcome, retried.provider_reference) == (Outcome.SUCCEEDED, event.result.provider_reference)
    async with httpx.AsyncClient(base_url=live_gateway, headers=AUTH) as client:
        [row] = (await client.get("/_sandbox/charges")).json()["data"]
    assert (row["requests"], row["charges"]) == (2, 1)
    await adapter.aclose()


async def test_nothing_listening_raises_connect_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    adapter = SandboxProvider(sandbox_settings(base_url=f"http://127.0.0.1:{free_port}", timeout_s=1))

    with pytest.raises(ProviderConnectError) as raised:
        await adapter.purchase(purchase_request())

    assert raised.value.may_have_reached_provider is False
    await adapter.aclose()
