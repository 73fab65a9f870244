"""Controllers get their use cases and services from the app's Container by name, as
Litestar dependencies (one way for the whole HTTP layer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Litestar, Request
from litestar.di import Provide


def from_container(name: str) -> Provide:
    """A dependency on the Container field `name` (app.state.container, set by create_app)."""

    def provide(request: Request[Any, Any, Any]) -> Any:
        return getattr(request.app.state.container, name)

    return Provide(provide, sync_to_thread=False)


def from_app(app: Callable[[], Litestar], name: str) -> Provide:
    """The same, for dependencies declared where the app is at hand (create_app): it takes
    no parameter, so Litestar converts nothing for it on each request (a `request`
    parameter costs a signature-model conversion per dependency per request). The
    container is read at request time: a test may swap app.state.container."""

    def provide() -> Any:
        return getattr(app().state.container, name)

    return Provide(provide, sync_to_thread=False)
