"""Sending a batch to the Redis broker in one pipeline (DramatiqPublisher.publish_many):
every message queued with the middleware's options, each queue woken, and a Redis that
lost the enqueue script (restarted) answered by loading it and sending again."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import msgspec
import pytest
from dramatiq import Middleware

from app.adapters.queue.publisher import DramatiqPublisher, Outgoing


class Stamp(Middleware):
    """Stands for TraceContext: sets an option on every message before it is sent."""

    def before_enqueue(self, broker, message, delay) -> None:
        message.options["stamp"] = "seen"


@dataclass
class _Script:
    sha: str
    script: bytes


@pytest.fixture
def redis_broker(worker_settings):
    from app.adapters.queue.broker import connect_broker

    settings = msgspec.structs.replace(worker_settings, workers=msgspec.structs.replace(
        worker_settings.workers, broker="redis", namespace=f"fxp-test-{uuid.uuid4().hex[:8]}"))
    broker = connect_broker(settings, [Stamp()])
    yield broker
    broker.flush_all()
    broker.close()


def _queued(broker, queue: str) -> list:
    from dramatiq import Message

    return [Message.decode(data) for data in broker.client.hvals(f"{broker.namespace}:{queue}.msgs")]


@pytest.mark.parametrize("scripts_lost", [False, True])
def test_a_batch_is_queued_in_one_pipeline(redis_broker, scripts_lost, monkeypatch):
    if scripts_lost:  # as if Redis restarted: the first EVALSHA answers NOSCRIPT
        real = redis_broker.scripts["dispatch"]
        monkeypatch.setitem(redis_broker.scripts, "dispatch", _Script("0" * 40, real.script))
    batch = [Outgoing("dispatch_payment", {"attempt_id": str(n)}, f"corr-{n}", {"traceparent": f"tp-{n}"})
             for n in range(3)] + [Outgoing("allocate_stock", {"order_id": "o"}, None, None)]
    accepted: list[bool] = []
    DramatiqPublisher(redis_broker).publish_many(batch, accepted)
    assert accepted == [True] * 4
    payments = sorted(_queued(redis_broker, "payments"), key=lambda m: m.kwargs["attempt_id"])
    assert [(m.kwargs["attempt_id"], m.options["correlation_id"], m.options["traceparent"], m.options["stamp"])
            for m in payments] == [(str(n), f"corr-{n}", f"tp-{n}", "seen") for n in range(3)]
    assert len({m.options["redis_message_id"] for m in payments}) == 3
    [fulfillment] = _queued(redis_broker, "fulfillment")
    assert fulfillment.actor_name == "allocate_stock" and "correlation_id" not in fulfillment.options
