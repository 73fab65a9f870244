"""The services the actors of this process use. Set once per worker process at boot
(WorkerServicesBoot), or by tests and embedding processes before workers start."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.workers.services import WorkerServices

_services: WorkerServices | None = None


def use(services: WorkerServices) -> None:
    global _services
    _services = services


def clear() -> None:
    global _services
    _services = None


def is_set() -> bool:
    return _services is not None


def services() -> WorkerServices:
    if _services is None:
        raise RuntimeError("worker services are not set: is WorkerServicesBoot in the middleware?")
    return _services
