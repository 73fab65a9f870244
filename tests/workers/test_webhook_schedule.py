"""Webhook deliveries as durable jobs in PostgreSQL: the relay records the job (no
message a broker could lose), the poller wakes due jobs (FOR UPDATE SKIP LOCKED, each
once however many pollers run), only the wake-up holding the current lease sends, and a
wake-up the broker lost is sent again once its lease runs out."""

from __future__ import annotations

import asyncio
import uuid

from app.adapters.notify.webhook_schedule import PiccoloWebhookSchedule
from app.domain.services.notifications import DeliveryOutcome
from tests.workers.conftest import add_event, join, webhook_merchant
from tests.workers.receiver import WebhookReceiver
from tests.workers.test_webhooks import STATUS_CHANGED, settle


class LosingPublisher:
    """A broker that accepts wake-ups and then loses them (Redis restarted empty)."""

    def __init__(self) -> None:
        self.sent: list[dict] = []

    def publish(self, actor: str, kwargs: dict, correlation_id: str | None = None) -> None:
        self.sent.append(kwargs)


async def test_the_relay_records_the_job_and_the_poller_delivers_it(services, stub_broker, worker, quiet_outbox,
                                                                     container):
    async with WebhookReceiver() as receiver:
        shop = await webhook_merchant(container, receiver.url)
        event_id = await add_event("order.status_changed", shop.merchant.id, STATUS_CHANGED)
        assert await services.relay.drain() == 1
        assert stub_broker.queues["webhooks"].qsize() == 0  # nothing a broker could lose
        assert (await services.webhook_schedule.status(event_id))["status"] == "pending"
        await settle(services, stub_broker, event_id)
        assert [r.headers["webhook-id"] for r in receiver.received] == [str(event_id)]
        assert (await services.webhook_schedule.status(event_id))["status"] == "delivered"
        assert await services.relay.drain() == 0  # relayed once; the job is not made again


async def test_a_lost_wake_up_is_sent_again_once_its_lease_runs_out(services, stub_broker, worker, container):
    async with WebhookReceiver() as receiver:
        shop = await webhook_merchant(container, receiver.url)
        event_id = await add_event("payment.succeeded", shop.merchant.id, {"payment_id": "p1"})
        jobs = PiccoloWebhookSchedule(container.engine, lease_s=0.3, send_timeout_s=2)
        await jobs.schedule(event_id, 1, 0.0)
        lost = LosingPublisher()
        assert await jobs.wake_due(lost) == 1
        assert await jobs.wake_due(lost) == 0  # leased: not woken twice while it may be in flight
        await asyncio.sleep(0.35)  # the lease runs out: this wake-up is presumed lost
        assert await jobs.wake_due(lost) == 1
        stale, current = lost.sent[0]["lease"], lost.sent[1]["lease"]
        assert stale != current and await jobs.claim(event_id, stale) is None
        claimed = await jobs.claim(event_id, current)
        assert claimed is not None and claimed.attempt == 1
        assert await jobs.claim(event_id, current) is None  # a duplicate of the same wake-up
        # The real poller and actor finish the job (the claim above leased it meanwhile).
        await services.webhook_schedule.schedule(event_id, 1, 0.0)
        await settle(services, stub_broker, event_id)
        assert len(receiver.received) == 1


class InsideTheLeasePublisher:
    """Hands the wake-up to the actor's claim while the poller's transaction, which leased
    the job, has not committed yet (the wake-up is sent from inside it): what a fast
    consumer of a real broker can do."""

    def __init__(self, jobs: PiccoloWebhookSchedule, loop: asyncio.AbstractEventLoop) -> None:
        self.jobs, self.loop, self.claims = jobs, loop, []

    def publish(self, actor: str, kwargs: dict, correlation_id: str | None = None) -> None:
        event_id = uuid.UUID(kwargs["event_id"])  # (called in the poller's sending thread)
        for lease in (kwargs["lease"], str(uuid.uuid4())):  # the current lease, and a stale one
            self.claims.append(asyncio.run_coroutine_threadsafe(self.jobs.claim(event_id, lease), self.loop))


async def test_a_wake_up_claimed_before_its_lease_commits_waits_for_it_and_takes_it(services, container):
    shop = await webhook_merchant(container, "http://127.0.0.1:9/hooks")
    event_id = await add_event("order.status_changed", shop.merchant.id, STATUS_CHANGED)
    jobs = PiccoloWebhookSchedule(container.engine, lease_s=30, send_timeout_s=2)
    await jobs.schedule(event_id, 1, 0.0)
    inside = InsideTheLeasePublisher(jobs, asyncio.get_running_loop())
    original = jobs.wake_due

    async def wake_then_linger(publisher, limit=500):  # the poller still holds the row a while
        async with container.engine.transaction():
            woken = await original(publisher, limit)
            await asyncio.sleep(0.3)
            assert not any(claim.done() for claim in inside.claims)  # they wait for the commit
        return woken

    assert await wake_then_linger(inside) == 1
    current, stale = [await asyncio.wrap_future(claim) for claim in inside.claims]
    assert current is not None and current.attempt == 1 and not current.resend
    assert stale is None
    assert await jobs.claim(event_id, str(uuid.uuid4())) is None
    assert (await jobs.status(event_id))["status"] == "pending"  # claimed: in flight, not closed
    await jobs.close(event_id, DeliveryOutcome.DELIVERED)
    assert (await jobs.status(event_id))["status"] == "delivered"
    await jobs.close(event_id, DeliveryOutcome.GAVE_UP)  # a closed job stays as it ended
    assert (await jobs.status(event_id))["status"] == "delivered"


async def test_a_lease_that_is_not_a_token_claims_nothing(services, container):
    shop = await webhook_merchant(container, "http://127.0.0.1:9/hooks")
    event_id = await add_event("order.status_changed", shop.merchant.id, STATUS_CHANGED)
    await services.webhook_schedule.schedule(event_id, 1, 0.0)
    assert await services.webhook_schedule.claim(event_id, "not-a-token") is None


async def test_concurrent_pollers_wake_each_due_job_once(services, container):
    shop = await webhook_merchant(container, "http://127.0.0.1:9/hooks")
    event_ids = [await add_event("order.status_changed", shop.merchant.id, STATUS_CHANGED) for _ in range(30)]
    for event_id in event_ids:
        await services.webhook_schedule.schedule(event_id, 1, 0.0)
    publishers = [LosingPublisher() for _ in range(10)]
    await asyncio.gather(*(services.webhook_schedule.wake_due(p, limit=7) for p in publishers))
    woken = [kwargs["event_id"] for p in publishers for kwargs in p.sent]
    mine = [e for e in woken if uuid.UUID(e) in set(event_ids)]
    assert len(mine) == len(set(mine)) == 30


async def test_retries_are_due_in_postgres_on_the_schedule(services, stub_broker, worker, container):
    """A failure moves the job's due time by the schedule's next delay (0.1 s, 0.2 s in
    these tests), in PostgreSQL; then the schedule is exhausted and the job is dead."""
    async with WebhookReceiver() as gone:
        url = gone.url  # closed: connections are refused
    shop = await webhook_merchant(container, url)
    event_id = await add_event("order.status_changed", shop.merchant.id, STATUS_CHANGED)
    await services.webhook_schedule.schedule(event_id, 1, 0.0)
    await services.webhook_schedule.wake_due(services.publisher)
    await join(stub_broker, "webhooks")
    job = await services.webhook_schedule.status(event_id)
    assert job["status"] == "pending" and job["attempt"] == 2 and "ConnectError" in job["last_error"]
    await settle(services, stub_broker, event_id)
    job = await services.webhook_schedule.status(event_id)
    assert job["status"] == "dead" and job["attempt"] == 3
    [letter] = await services.dead_letters.list()
    assert letter.actor == "notify_merchant"
    # The admin replays the dead letter once the endpoint works: a fresh schedule.
    async with WebhookReceiver() as receiver:
        from app.adapters.db.tables import MerchantTable

        await MerchantTable.update({MerchantTable.webhook_url: receiver.url}).where(
            MerchantTable.id == shop.merchant.id).run()
        assert await services.dead_letters.replay(letter.message_id)
        await join(stub_broker, "webhooks")
        await settle(services, stub_broker, event_id)
        assert len(receiver.received) == 1
    assert (await services.webhook_schedule.status(event_id))["status"] == "delivered"


async def test_a_merchant_without_an_endpoint_gets_its_job_closed_as_skipped_at_once(services, stub_broker,
                                                                                     quiet_outbox, container):
    created = await container.merchants.create("No webhook shop")  # no URL configured
    event_id = await add_event("order.status_changed", created.merchant.id, STATUS_CHANGED)
    assert await services.relay.drain() == 1
    assert services.relay.take_jobs_due() == 0  # nothing for the poller: a commit round stops here
    assert (await services.webhook_schedule.status(event_id))["status"] == "skipped"  # never woken


async def test_a_merchant_with_an_endpoint_gets_a_due_job(services, stub_broker, quiet_outbox, container):
    async with WebhookReceiver() as receiver:
        shop = await webhook_merchant(container, receiver.url)
        event_id = await add_event("order.status_changed", shop.merchant.id, STATUS_CHANGED)
        assert await services.relay.drain() == 1
        assert services.relay.take_jobs_due() == 1 and services.relay.take_jobs_due() == 0
        assert (await services.webhook_schedule.status(event_id))["status"] == "pending"
        # No worker here: close the job, so no later test's poller sends it to this closed receiver.
        await services.webhook_schedule.close(event_id, DeliveryOutcome.SKIPPED)
