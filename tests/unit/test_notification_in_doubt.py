"""A sender that dies after the server accepted a message, before settling it: the next
sender does not send blind. SMS (a provider that can be asked) is looked up and settled
delivered when the provider holds it, sent when it does not, asked again later when the
look-up fails; an email (SMTP cannot be asked) is resent with the same Message-ID, or held
dead for an operator. A send cut off with no answer is in doubt the same way."""

from __future__ import annotations

from app.adapters.notify.rendering import JinjaMessageRenderer
from app.domain.model.notification import Channel
from app.domain.ports_notifications import NotificationOutcome, SendResult
from app.domain.services.customer_notifications import CustomerNotifications
from tests.unit.fake_notifications import (
    InMemoryNotificationJobs, LookupSender, RecordingRetries, ScriptedSender, StaticFacts,
)
from tests.unit.test_customer_notifications import EVENT, FACTS, SCHEDULE, planned


def service_with(sender: ScriptedSender, channel: Channel, in_doubt: str = "resend"):
    jobs = InMemoryNotificationJobs()
    jobs.plans[EVENT] = [planned(channel, "+14155550100" if channel is Channel.SMS else "ada@example.com")]
    service = CustomerNotifications(jobs, StaticFacts(FACTS), JinjaMessageRenderer(), {channel: sender},
                                    RecordingRetries(), SCHEDULE, in_doubt=in_doubt)
    return service, jobs


async def crashed_after_send(service: CustomerNotifications, jobs: InMemoryNotificationJobs,
                             sender: ScriptedSender):
    """Plan, then send as a sender that dies once the server answered (nothing settled)."""
    [delivery_id] = await jobs.plan(EVENT)
    delivery = await jobs.claim(delivery_id, None)
    assert delivery is not None
    message = JinjaMessageRenderer().render(delivery.category, delivery.channel, FACTS)
    digest = sender.digest(delivery.recipient, message) if isinstance(sender, LookupSender) else "d"
    assert await jobs.begin_send(delivery, digest)
    await sender.send(delivery.recipient, message, str(delivery.id))
    jobs.crash(delivery_id)
    return delivery_id


async def test_an_sms_the_provider_already_has_is_settled_not_sent_again():
    sender = LookupSender()
    service, jobs = service_with(sender, Channel.SMS)
    delivery_id = await crashed_after_send(service, jobs, sender)
    assert await service.deliver(delivery_id) is NotificationOutcome.DELIVERED
    assert len(sender.sent) == 1 and sender.lookups == 1
    job = jobs.jobs[delivery_id]
    assert job.status == "delivered" and job.sending is None and "already had it" in job.attempts[-1][2]


async def test_an_sms_the_provider_never_got_is_sent_once():
    sender = LookupSender()
    service, jobs = service_with(sender, Channel.SMS)
    delivery_id = await crashed_after_send(service, jobs, sender)
    sender.held.clear()  # it never reached the provider
    assert await service.deliver(delivery_id) is NotificationOutcome.DELIVERED
    assert len(sender.sent) == 2 and sender.lookups == 1 and jobs.jobs[delivery_id].sending is None


async def test_a_failed_look_up_asks_again_later_and_never_sends_blind():
    sender = LookupSender()
    service, jobs = service_with(sender, Channel.SMS)
    delivery_id = await crashed_after_send(service, jobs, sender)
    sender.lookup_fails = True
    assert await service.deliver(delivery_id) is NotificationOutcome.RETRY_SCHEDULED
    assert len(sender.sent) == 1 and jobs.jobs[delivery_id].sending is not None  # still in doubt
    sender.lookup_fails = False
    jobs.make_due()
    assert await service.deliver(delivery_id) is NotificationOutcome.DELIVERED
    assert len(sender.sent) == 1 and sender.lookups == 2


async def test_an_sms_sent_without_an_answer_is_looked_up_before_the_retry():
    sender = LookupSender(SendResult(False, 10_000, error="ReadTimeout", unknown=True))
    service, jobs = service_with(sender, Channel.SMS)
    [delivery_id] = await jobs.plan(EVENT)
    assert await service.deliver(delivery_id) is NotificationOutcome.RETRY_SCHEDULED
    assert jobs.jobs[delivery_id].sending is not None
    jobs.make_due()
    assert await service.deliver(delivery_id) is NotificationOutcome.DELIVERED
    assert len(sender.sent) == 1 and sender.lookups == 1


async def test_an_in_doubt_email_is_resent_with_the_same_message_id():
    sender = ScriptedSender()
    service, jobs = service_with(sender, Channel.EMAIL)
    delivery_id = await crashed_after_send(service, jobs, sender)
    assert await service.deliver(delivery_id) is NotificationOutcome.DELIVERED
    assert [key for _, _, key in sender.sent] == [str(delivery_id)] * 2  # receivers can drop the copy


async def test_an_in_doubt_email_is_held_for_an_operator_when_so_configured():
    sender = ScriptedSender()
    service, jobs = service_with(sender, Channel.EMAIL, in_doubt="hold")
    delivery_id = await crashed_after_send(service, jobs, sender)
    assert await service.deliver(delivery_id) is NotificationOutcome.DEAD
    assert len(sender.sent) == 1 and "in doubt" in jobs.jobs[delivery_id].attempts[-1][2]
    assert await service.replay(delivery_id) is NotificationOutcome.DELIVERED  # the operator's choice
    assert len(sender.sent) == 2


async def test_a_crash_before_the_send_began_is_not_in_doubt():
    sender = ScriptedSender()
    service, jobs = service_with(sender, Channel.EMAIL, in_doubt="hold")
    [delivery_id] = await jobs.plan(EVENT)
    assert await jobs.claim(delivery_id, None) is not None
    jobs.crash(delivery_id)  # died while rendering: nothing went out
    assert await service.deliver(delivery_id) is NotificationOutcome.DELIVERED and len(sender.sent) == 1
