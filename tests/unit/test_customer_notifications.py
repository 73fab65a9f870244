"""Shopper notifications with in-memory jobs and scripted transports: planning by
preferences, one send per delivery, retries on the schedule or the server's Retry-After,
permanent refusals and exhausted schedules dead, replays."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from app.adapters.notify.rendering import JinjaMessageRenderer
from app.domain.errors import ValidationFailed
from app.domain.model.notification import (
    Category, Channel, NotificationPreferences, PlannedDelivery, Recipients, category_of, normalize_phone,
    plan_deliveries,
)
from app.domain.ports_notifications import NotificationOutcome, SendResult
from app.domain.services.customer_notifications import CustomerNotifications
from tests.unit.fake_notifications import InMemoryNotificationJobs, RecordingRetries, ScriptedSender, StaticFacts

SCHEDULE = (10.0, 60.0)
FACTS = {
    "merchant_name": "Mug & Co", "order_id": "o-1", "order_ref": "REF-1", "customer_name": "Ada",
    "amount_minor": 2500, "currency": "USD", "items": [{"name": "Mug", "quantity": 2, "total_minor": 2500}],
    "failure_reason": "the card was declined", "refund_amount_minor": 2500, "refund_currency": "USD",
    "cancel_reason": None, "was_paid": True, "estimated_delivery": "2026-12-01",
    "estimated_delivery_text": "Tuesday 1 December 2026",
}
EVENT, MERCHANT, ORDER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
ALL = frozenset(Channel)


def world(email: ScriptedSender | None = None, sms: ScriptedSender | None = None, facts=FACTS):
    jobs, retries = InMemoryNotificationJobs(), RecordingRetries()
    senders = {channel: sender for channel, sender in ((Channel.EMAIL, email), (Channel.SMS, sms)) if sender}
    service = CustomerNotifications(jobs, StaticFacts(facts), JinjaMessageRenderer(), senders, retries, SCHEDULE,
                                    max_retry_after_s=600)
    return service, jobs, retries


def planned(channel: Channel = Channel.EMAIL, recipient: str = "ada@example.com",
            category: Category = Category.PAYMENT_RECEIPT) -> PlannedDelivery:
    return PlannedDelivery(EVENT, MERCHANT, ORDER, category, channel, recipient)


def test_categories_of_events():
    assert category_of("payment.succeeded", {}) is Category.PAYMENT_RECEIPT
    assert category_of("payment.failed", {}) is Category.PAYMENT_FAILED
    assert category_of("refund.succeeded", {}) is Category.REFUND_ISSUED
    assert category_of("order.fulfillment_started", {}) is Category.FULFILLMENT_STARTED
    assert category_of("order.status_changed", {"status": "ORDER_CANCELLED"}) is Category.ORDER_CANCELLED
    assert category_of("order.status_changed", {"status": "PAYMENT_DONE"}) is None
    assert category_of("refund.failed", {}) is None


@pytest.mark.parametrize("raw, expected", [("+14155550100", "+14155550100"), ("+44 20 7946 0958", "+442079460958"),
                                           ("+1 (415) 555-0100", "+14155550100")])
def test_phone_numbers_are_normalised_to_e164(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["4155550100", "+0123456", "+1", "+1234567890123456", "+1415abc0100", ""])
def test_phone_numbers_that_are_not_e164_are_refused(raw):
    with pytest.raises(ValidationFailed) as refused:
        normalize_phone(raw)
    assert refused.value.code == "invalid_phone"


def test_preferences_refuse_bad_addresses_and_unknown_names():
    for channels, email, phone, code in [({}, "not-an-email", None, "invalid_email"),
                                         ({}, None, "555-0100", "invalid_phone"),
                                         ({"newsletter": ["email"]}, None, None, "invalid_preferences"),
                                         ({"payment_receipt": ["pigeon"]}, None, None, "invalid_preferences")]:
        with pytest.raises(ValidationFailed) as refused:
            NotificationPreferences.build(channels, email, phone)
        assert refused.value.code == code


def test_defaults_are_email_only():
    who = Recipients("guest@example.com", "+14155550100")
    assert [(p.channel, p.recipient) for p in plan_deliveries(EVENT, MERCHANT, ORDER, Category.PAYMENT_RECEIPT, who,
                                                              ALL)] == [(Channel.EMAIL, "guest@example.com")]


def test_a_channel_switched_off_gets_nothing_and_sms_goes_to_the_number():
    prefs = NotificationPreferences.build({"payment_receipt": ["sms"], "refund_issued": []})
    who = Recipients("guest@example.com", "+1 415 555 0100", preferences=prefs)
    receipt = plan_deliveries(EVENT, MERCHANT, ORDER, Category.PAYMENT_RECEIPT, who, ALL)
    assert [(p.channel, p.recipient) for p in receipt] == [(Channel.SMS, "+14155550100")]
    assert plan_deliveries(EVENT, MERCHANT, ORDER, Category.REFUND_ISSUED, who, ALL) == []


def test_addresses_prefer_the_preferences_then_the_account_then_the_order():
    both = NotificationPreferences.build({"payment_failed": ["email", "sms"]})
    user = Recipients("order@example.com", "+14155550100", user_email="user@example.com", preferences=both)
    assert {p.recipient for p in plan_deliveries(EVENT, MERCHANT, ORDER, Category.PAYMENT_FAILED, user, ALL)} == {
        "user@example.com", "+14155550100"}
    own = NotificationPreferences.build({"payment_failed": ["email", "sms"]}, "mine@example.com", "+447700900123")
    mine = Recipients("order@example.com", "+14155550100", "user@example.com", own)
    assert {p.recipient for p in plan_deliveries(EVENT, MERCHANT, ORDER, Category.PAYMENT_FAILED, mine, ALL)} == {
        "mine@example.com", "+447700900123"}


def test_unconfigured_channels_and_missing_or_invalid_addresses_are_not_planned():
    both = NotificationPreferences.build({"payment_receipt": ["email", "sms"]})
    who = Recipients(None, "not a number", preferences=both)
    assert plan_deliveries(EVENT, MERCHANT, ORDER, Category.PAYMENT_RECEIPT, who, ALL) == []
    who = Recipients("a@example.com", "+14155550100", preferences=both)
    assert [p.channel for p in plan_deliveries(EVENT, MERCHANT, ORDER, Category.PAYMENT_RECEIPT, who,
                                               frozenset({Channel.SMS}))] == [Channel.SMS]


async def test_an_event_is_sent_once_per_channel_and_recipient_however_often_it_comes():
    email, sms = ScriptedSender(), ScriptedSender()
    service, jobs, _ = world(email, sms)
    jobs.plans[EVENT] = [planned(), planned(Channel.SMS, "+14155550100")]
    outcomes = await asyncio.gather(*(service.notify_event(EVENT) for _ in range(5)))
    assert sorted(o for run in outcomes for o in run).count(NotificationOutcome.DELIVERED) == 2
    assert [r for r, _, _ in email.sent] == ["ada@example.com"] and [r for r, _, _ in sms.sent] == ["+14155550100"]
    assert await service.notify_event(EVENT) == []  # delivered: nothing pending
    subject, body = email.sent[0][1].subject, email.sent[0][1].text
    assert "2 x Mug" in body and "25.00 USD" in subject and "Mug &amp; Co" in (email.sent[0][1].html or "")
    assert sms.sent[0][1].text.startswith("Mug & Co: payment of 25.00 USD received")


async def test_a_transient_failure_is_retried_on_the_schedule_then_dead():
    down = SendResult(False, 5, error="SMTPConnectError: refused")
    email = ScriptedSender(down)
    service, jobs, retries = world(email)
    jobs.plans[EVENT] = [planned()]
    assert await service.notify_event(EVENT) == [NotificationOutcome.RETRY_SCHEDULED]
    (job,) = jobs.jobs.values()
    assert retries.scheduled == [(job.id, 10.0)] and job.attempt == 2
    assert await service.deliver(job.id) is NotificationOutcome.NOT_CLAIMED  # not due yet
    jobs.make_due()
    assert await service.deliver(job.id) is NotificationOutcome.RETRY_SCHEDULED
    jobs.make_due()
    assert await service.deliver(job.id) is NotificationOutcome.DEAD
    assert [a[1] for a in job.attempts] == ["retry_scheduled", "retry_scheduled", "dead"]  # every attempt logged
    assert [delay for _, delay in retries.scheduled] == [10.0, 60.0]


async def test_retry_after_is_honoured_and_capped():
    sms = ScriptedSender(SendResult(False, 3, error="HTTP 429", retry_after_s=120.0),
                         SendResult(False, 3, error="HTTP 429", retry_after_s=99_999.0), SendResult(True, 3))
    service, jobs, retries = world(sms=sms)
    jobs.plans[EVENT] = [planned(Channel.SMS, "+14155550100")]
    await service.notify_event(EVENT)
    (job,) = jobs.jobs.values()
    jobs.make_due()
    await service.deliver(job.id)
    jobs.make_due()
    assert await service.deliver(job.id) is NotificationOutcome.DELIVERED
    assert [delay for _, delay in retries.scheduled] == [120.0, 600.0]


async def test_a_permanent_refusal_is_dead_at_once_and_a_replay_starts_over():
    email = ScriptedSender(SendResult(False, 2, error="recipient refused: 550 no such user", permanent=True),
                           SendResult(True, 2))
    service, jobs, retries = world(email)
    jobs.plans[EVENT] = [planned()]
    assert await service.notify_event(EVENT) == [NotificationOutcome.DEAD]
    assert retries.scheduled == []
    (job,) = jobs.jobs.values()
    assert await service.replay(job.id) is NotificationOutcome.DELIVERED
    assert len(email.sent) == 2 and job.status == "delivered"


async def test_a_wake_up_must_hold_the_current_lease():
    email = ScriptedSender()
    service, jobs, _ = world(email)
    jobs.plans[EVENT] = [planned()]
    (delivery_id,) = await jobs.plan(EVENT)
    jobs.jobs[delivery_id].lease = "lease-1"  # the poller leased it to a wake-up
    assert await service.deliver(delivery_id, "stale-lease") is NotificationOutcome.NOT_CLAIMED
    assert await service.deliver(delivery_id) is NotificationOutcome.NOT_CLAIMED  # held by the wake-up
    assert await service.deliver(delivery_id, "lease-1") is NotificationOutcome.DELIVERED
    assert await service.deliver(delivery_id, "lease-1") is NotificationOutcome.NOT_CLAIMED  # a duplicate
    assert len(email.sent) == 1


async def test_an_order_gone_or_a_channel_unconfigured_is_dead_without_sending():
    email = ScriptedSender()
    service, jobs, _ = world(email, facts=None)
    jobs.plans[EVENT] = [planned()]
    assert await service.notify_event(EVENT) == [NotificationOutcome.DEAD] and email.sent == []


async def test_no_transport_configured_plans_nothing():
    service, jobs, _ = world()
    jobs.plans[EVENT] = [planned()]
    assert await service.notify_event(EVENT) == [] and jobs.jobs == {}


@pytest.mark.parametrize("category", list(Category))
def test_every_template_renders_for_email_and_sms(category):
    renderer = JinjaMessageRenderer()
    email = renderer.render(category, Channel.EMAIL, FACTS)
    sms = renderer.render(category, Channel.SMS, FACTS)
    assert email.subject and "\n" not in email.subject and "REF-1" in email.text
    assert email.html and email.html.startswith("<!DOCTYPE html>") and "REF-1" in email.html
    assert "REF-1" in sms.text and len(sms.text) <= 320
    if category is Category.FULFILLMENT_STARTED:
        assert "Tuesday 1 December 2026" in email.text and 'datetime="2026-12-01"' in email.html


def test_html_escapes_merchant_text():
    html = JinjaMessageRenderer().render(Category.PAYMENT_RECEIPT, Channel.EMAIL, {
        **FACTS, "items": [{"name": "<script>x</script>", "quantity": 1, "total_minor": 2500}]}).html or ""
    assert "<script>" not in html and "&lt;script&gt;" in html
