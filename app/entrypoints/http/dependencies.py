"""Controllers get their use cases and services from the app's Container by name, as
Litestar dependencies (one way for the whole HTTP layer)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import Provide


def from_container(name: str) -> Provide:
    """A dependency on the Container field `name` (app.state.container, set by create_app)."""

    def provide(request: Request[Any, Any, Any]) -> Any:
        return getattr(request.app.state.container, name)

    return Provide(provide, sync_to_thread=False)
