"""What the actors of one process use: the Container (use cases), plus the worker-side
adapters built from it — the outbox relay, consumer dedupe, webhooks, dead letters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dramatiq import Broker

from app.adapters.notify.delivery_log import PiccoloWebhookStore
from app.adapters.notify.webhooks import StandardWebhookSender
from app.adapters.queue.dead_letters import DeadLetterQueue, dead_letters_for
from app.adapters.queue.outbox_relay import OutboxRelay
from app.adapters.queue.processed_events import PiccoloProcessedEvents
from app.adapters.queue.publisher import DramatiqPublisher, DramatiqRetryScheduler
from app.domain.services.notifications import NotificationService
from app.workers.routes import event_routes


@dataclass
class WorkerServices:
    container: Any  # app.bootstrap.Container, or a test's stand-in with the use cases it needs
    broker: Broker
    publisher: DramatiqPublisher
    relay: OutboxRelay
    processed: PiccoloProcessedEvents
    webhooks: PiccoloWebhookStore
    sender: StandardWebhookSender
    notifications: NotificationService
    dead_letters: DeadLetterQueue

    async def aclose(self) -> None:
        await self.sender.aclose()


def build_worker_services(container: Any, broker: Broker) -> WorkerServices:
    workers = container.settings.workers
    publisher = DramatiqPublisher(broker)
    processed = PiccoloProcessedEvents()
    webhooks = PiccoloWebhookStore(container.engine, processed)
    sender = StandardWebhookSender(workers.webhook_timeout_s, workers.webhook_allow_private)
    return WorkerServices(
        container=container, broker=broker, publisher=publisher,
        relay=OutboxRelay(container.engine, publisher, event_routes(), workers.relay_batch_size),
        processed=processed, webhooks=webhooks, sender=sender,
        notifications=NotificationService(webhooks, sender, DramatiqRetryScheduler(publisher),
                                          workers.webhook_retry_delays_s),
        dead_letters=dead_letters_for(broker),
    )


async def boot_worker_services(broker: Broker) -> WorkerServices:
    """A worker process's services: its own Container, started on the running loop."""
    from app.bootstrap import build_container
    from config.settings import get_settings

    container = build_container(get_settings())
    await container.start()
    return build_worker_services(container, broker)


def worker_services(container: Any) -> WorkerServices:
    """The API process's worker-side services (dead letters, webhook resends), built on
    first use on its broker and kept in the container."""
    services = container.extras.get("workers")
    if services is None:
        from app.workers.broker import build_broker

        services = container.extras["workers"] = build_worker_services(container, build_broker(container.settings))
    return services  # type: ignore[return-value]
