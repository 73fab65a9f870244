"""structlog's context-local context (structlog.contextvars), read and cleared by name.

structlog keeps each bound key in a ContextVar of its own (registered in
`structlog.contextvars._CONTEXT_VARS`); its `get_contextvars`, `merge_contextvars` and
`clear_contextvars` find them by iterating a copy of the whole context, every context
variable of every library included, several times per request (the log line, the audit
records, the outbox's correlation id). These go to structlog's own variables directly,
with the same results: a key never bound, or cleared, is absent."""

from __future__ import annotations

import contextvars
from collections.abc import MutableMapping
from typing import Any

import structlog.contextvars as _structlog_context

_PREFIX = _structlog_context.STRUCTLOG_KEY_PREFIX
_PREFIX_LEN = len(_PREFIX)
_UNSET = Ellipsis  # structlog's marker of a cleared (or never set) key
# name -> ContextVar, structlog's own registry (filled by bind_contextvars); a copy of
# structlog's iteration is the fallback should a future structlog drop it.
_VARS: dict[str, contextvars.ContextVar[Any]] | None = getattr(_structlog_context, "_CONTEXT_VARS", None)


def context_value(key: str) -> Any:
    """The value bound to `key` in this context, or None."""
    if _VARS is None:
        return _structlog_context.get_contextvars().get(key)
    var = _VARS.get(_PREFIX + key)
    if var is None:
        return None
    value = var.get()
    return None if value is _UNSET else value


def merge_context(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog.contextvars.merge_contextvars, by name: what the call passed wins."""
    if _VARS is None:
        return _structlog_context.merge_contextvars(_, __, event_dict)
    for name, var in list(_VARS.items()):
        value = var.get()
        if value is not _UNSET:
            event_dict.setdefault(name[_PREFIX_LEN:], value)
    return event_dict


def clear_context() -> None:
    """structlog.contextvars.clear_contextvars, by name."""
    if _VARS is None:
        _structlog_context.clear_contextvars()
        return
    for var in list(_VARS.values()):
        if var.get() is not _UNSET:
            var.set(_UNSET)
