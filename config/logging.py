"""structlog set-up: JSON lines with contextvars (request id, merchant id, correlation
id), and a processor that redacts secrets, card numbers and URL credentials whatever
logs them."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import msgspec
import structlog

from app.domain.model.webhook_url import redact_url
from config.log_context import merge_context

PAN_PATTERN = re.compile(r"\b(?:\d[ -]?){12,19}\b")
SECRET_PATTERN = re.compile(r"\b(sk_(?:test|live)_|whsec_|rt_|Bearer\s+|eyJ)[A-Za-z0-9_\-\.=+/]+")
# A PAN needs twelve digits in a row (single spaces or dashes between them allowed); the
# secrets and URL credentials need one of the other alternatives. A value matching none
# cannot match any of the three substitutions, so most values skip all three (one search).
HINT = re.compile(r"\d(?:[ -]?\d){11}|sk_live_|sk_test_|whsec_|rt_|Bearer|eyJ|://")
_CLEAN_MAX = 4096
_clean: set[str] = set()  # values seen to need no redaction (the same ids and routes recur on every line)
SENSITIVE_KEYS = {"authorization", "api_key", "password", "secret", "card_number", "number", "cvc", "cvv",
                  "token", "client_secret", "webhook_secret", "access_token", "refresh_token", "password_hash",
                  "current_password", "new_password", "jwt_secret"}
# Written by the processors before `redact` (configure_logging), whatever a caller passed:
# an ISO time and a level name, nothing to scrub.
OURS = frozenset({"timestamp", "level"})


def _plain_word(value: str) -> bool:
    """True when no substitution can change `value`: ASCII letters and digits only (a
    fresh request id, a hex token), neither all digits nor starting with `eyJ`. Each
    pattern needs what such a value cannot hold: a secret's prefix `_` or whitespace, a
    URL `://`; a JWT's `eyJ` and a PAN need a word boundary before them, and in a value of
    word characters only the start is one (and for a PAN, the end too: the whole value
    digits). Cheaper than HINT's search, which tries its digit run at every position."""
    return value.isascii() and value.isalnum() and not value.isdigit() and not value.startswith("eyJ")


def _scrub_text(value: str) -> str:
    if value in _clean or _plain_word(value):
        return value
    if HINT.search(value) is None:
        if len(_clean) >= _CLEAN_MAX:
            _clean.clear()
        _clean.add(value)
        return value
    return redact_url(SECRET_PATTERN.sub(r"\1[REDACTED]", PAN_PATTERN.sub("[REDACTED-PAN]", value)))


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _scrub_text(value)
    if isinstance(value, dict):
        return {k: "[REDACTED]" if k.lower() in SENSITIVE_KEYS else _scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    return value


def redact(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    # The event dict is structlog's own, made for this one line: scrubbed in place. What
    # the caller passed in it (dicts, lists) is copied by _scrub, never changed.
    for key, value in event_dict.items():
        if key in OURS:
            continue
        if key.lower() in SENSITIVE_KEYS:
            event_dict[key] = "[REDACTED]"
        elif isinstance(value, str):
            if value not in _clean:
                event_dict[key] = _scrub_text(value)
        elif isinstance(value, (dict, list, tuple)):
            event_dict[key] = _scrub(value)
    return event_dict


def _json_dumps(event_dict: dict[str, Any], **_: Any) -> str:
    # msgspec renders several times faster than json.dumps; repr() for the odd object
    return msgspec.json.encode(event_dict, enc_hook=repr).decode()


class _Direct:
    """The configured chain, run without structlog's per-call machinery (the bound logger,
    the event dict's copy, the loop over the processors): for the line written on every
    request. Only while the chain configure_logging set is the one configured (a test
    capturing logs replaces the processors: then lines go through structlog)."""

    def __init__(self, processors: list[Any], stamper: Any, renderer: Any, stream: TextIO, level: int,
                 config: dict[str, Any]) -> None:
        self.processors, self.first, self.last = processors, processors[0], processors[-1]
        self.wrapper, self.factory = config["wrapper_class"], config["logger_factory"]
        self.stamper, self.renderer = stamper, renderer
        self.logger = structlog.PrintLogger(stream)  # shares structlog's write lock for the stream
        self.info = level <= logging.INFO

    def ready(self) -> bool:
        config = structlog.get_config()
        processors = config["processors"]
        return (processors is self.processors and processors[0] is self.first and processors[-1] is self.last
                and config["wrapper_class"] is self.wrapper and config["logger_factory"] is self.factory)


_direct: _Direct | None = None


def info_line(event: str, fields: dict[str, Any]) -> bool:
    """Write an INFO line with `fields` exactly as `structlog.get_logger().info(event,
    **fields)` would under configure_logging's set-up; False (nothing written) when that
    set-up is not the one in force, and the caller logs through structlog instead."""
    direct = _direct
    if direct is None or not direct.ready():
        return False
    if not direct.info:
        return True
    fields["event"] = event
    merge_context(None, "info", fields)
    fields["level"] = "info"
    direct.stamper(None, "info", fields)
    direct.logger.msg(direct.renderer(None, "info", redact(None, "info", fields)))
    return True


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> None:
    """JSON log lines on stdout (servers), or on `stream` (the CLI: stderr, so its stdout
    is only what it answers)."""
    global _direct
    stream = stream or sys.stdout
    logging.basicConfig(format="%(message)s", stream=stream, level=level.upper())
    # httpx logs every request at INFO with its whole URL, unredacted (a merchant's webhook
    # URL may carry a token): our own lines say what was sent where, redacted. In the
    # workers that was a line per provider call and per webhook, through Dramatiq's log pipe
    # to its parent process. DEBUG keeps them.
    quiet = logging.getLevelName(level.upper()) != logging.DEBUG
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING if quiet else logging.NOTSET)
    stamper = structlog.processors.TimeStamper(fmt="iso", utc=True)
    renderer = structlog.processors.JSONRenderer(serializer=_json_dumps)
    processors: list[Any] = [
        merge_context,  # structlog.contextvars.merge_contextvars, by name (config.log_context)
        structlog.processors.add_log_level,
        stamper,
        structlog.processors.format_exc_info,
        redact,
        renderer,
    ]
    numeric_level = logging.getLevelName(level.upper())
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=True,
    )
    _direct = _Direct(processors, stamper, renderer, stream, numeric_level, structlog.get_config())
