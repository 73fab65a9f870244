"""A Container whose shopper notifications go to real sinks: SMTP to an aiosmtpd server,
SMS to the Twilio-shaped sink app (over httpx's ASGI transport), sharing the session's
PostgreSQL pool and Redis."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import msgspec
import pytest

from app.adapters.notify.sms import TwilioSmsSender
from app.adapters.notify.smtp import SmtpEmailSender
from app.domain.model.notification import Channel
from app.entrypoints.dev_sinks import CaughtMessages, create_sms_sink
from tests.integration.notifications.smtp_servers import smtp_sink

SID, TOKEN = "AC" + "f" * 32, "sink-token"


@dataclass
class Notifying:
    container: object
    caught: CaughtMessages  # what the SMTP server caught
    texts: CaughtMessages  # what the SMS sink caught


@pytest.fixture
async def notifying(container, settings):
    from app.bootstrap import build_container

    notifications = msgspec.structs.replace(settings.notifications, retry_schedule="0.05,0.1")
    tuned = msgspec.structs.replace(settings, notifications=notifications)
    texts = CaughtMessages()
    with smtp_sink() as (port, caught):
        senders = {
            Channel.EMAIL: SmtpEmailSender("127.0.0.1", port, "Shop <no-reply@shop.example>", security="none",
                                           timeout_s=5),
            Channel.SMS: TwilioSmsSender(SID, TOKEN, "+15005550006", base_url="http://sms.test",
                                         transport=httpx.ASGITransport(app=create_sms_sink(texts, SID, TOKEN))),
        }
        built = build_container(tuned, engine=container.engine, redis=container.redis,
                                providers=container.providers, message_senders=senders)
        yield Notifying(built, caught, texts)
        await built.bus.drain()
        await senders[Channel.SMS].aclose()  # type: ignore[attr-defined]


async def shopper_event(event_type: str, merchant_id: str | uuid.UUID, order_id: uuid.UUID, **payload) -> uuid.UUID:
    """A committed event about an order, as the outbox holds it (unpublished)."""
    from datetime import UTC, datetime

    from app.adapters.db.tables import OutboxTable

    event_id = uuid.uuid4()
    await OutboxTable.insert(OutboxTable(
        id=event_id, event_type=event_type, aggregate_id=order_id, merchant_id=uuid.UUID(str(merchant_id)),
        payload={"order_id": str(order_id), **payload}, correlation_id="corr-" + event_id.hex[:8],
        occurred_at=datetime.now(UTC), published_at=None,
    )).run()
    return event_id
