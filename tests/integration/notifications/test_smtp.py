"""The email adapter sending real SMTP to a real aiosmtpd server: what arrives (headers,
plain and HTML parts, a Message-ID stable across attempts), and how refusals, an absent
server and a silent one are read (permanent for 5xx, retried otherwise)."""

from __future__ import annotations

import asyncio
import time

import pytest

from app.adapters.notify.smtp import SmtpEmailSender
from app.domain.ports_notifications import RenderedMessage
from tests.integration.notifications.smtp_servers import free_port, smtp_sink

MESSAGE = RenderedMessage("Your payment to Mug & Co", "Thank you: 25.00 USD received.",
                          "<p>Thank you: <strong>25.00 USD</strong> received.</p>")


def sender(port: int, timeout_s: float = 5.0) -> SmtpEmailSender:
    return SmtpEmailSender("127.0.0.1", port, "Shop <no-reply@shop.example>", security="none", timeout_s=timeout_s)


async def test_a_message_arrives_with_text_html_and_a_stable_message_id():
    with smtp_sink() as (port, caught):
        first = await sender(port).send("ada@example.com", MESSAGE, "delivery-1")
        again = await sender(port).send("ada@example.com", MESSAGE, "delivery-1")
        assert first.ok and again.ok
        received = caught.list()
    assert len(received) == 2
    mail = received[0]
    assert mail["to"] == ["ada@example.com"] and mail["subject"] == MESSAGE.subject
    assert mail["from"] == "Shop <no-reply@shop.example>" and mail["envelope_from"] == "no-reply@shop.example"
    assert mail["text"].strip() == MESSAGE.text and "<strong>25.00 USD</strong>" in mail["html"]
    assert "delivery-1" in mail["message_id"] and {m["message_id"] for m in received} == {first.provider_message_id}


async def test_a_mailbox_refused_for_good_is_permanent():
    with smtp_sink() as (port, caught):
        result = await sender(port).send("nobody@example.com", MESSAGE, "delivery-1")
        assert caught.list() == []
    assert not result.ok and result.permanent and "550" in (result.error or "")


async def test_a_mailbox_refused_for_now_is_retried():
    with smtp_sink() as (port, caught):
        result = await sender(port).send("later@example.com", MESSAGE, "delivery-1")
    assert not result.ok and not result.permanent and "451" in (result.error or "")


async def test_no_server_is_retried():
    result = await sender(free_port()).send("ada@example.com", MESSAGE, "delivery-1")
    assert not result.ok and not result.permanent and result.error


async def test_a_server_that_never_answers_times_out_and_is_retried():
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)  # no greeting, ever

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    started = time.monotonic()
    try:
        result = await sender(port, timeout_s=0.5).send("ada@example.com", MESSAGE, "delivery-1")
    finally:
        server.close()
    assert time.monotonic() - started < 5
    assert not result.ok and not result.permanent and "Timeout" in (result.error or "")
