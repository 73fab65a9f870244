"""What each Dramatiq worker process imports (`dramatiq app.workers.entry:broker`):
logging, and the broker with our actors. The Container is built after the process boots,
on its event loop (ContainerBoot)."""

from __future__ import annotations

from app.workers.broker import build_broker
from config.logging import configure_logging
from config.settings import get_settings

settings = get_settings()
configure_logging(settings.log_level)
broker = build_broker(settings)
