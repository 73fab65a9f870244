"""ASGI entry for the server processes (granian / uvicorn): `app.entrypoints.http.asgi:app`."""

from app.bootstrap import build_container
from app.entrypoints.http.app import create_app
from config.logging import configure_logging
from config.settings import get_settings

settings = get_settings()
configure_logging(settings.log_level)
app = create_app(build_container(settings))
