"""The log redaction processor: card numbers, secrets, URL credentials and sensitive keys
never reach a log line, at any depth, and what a caller passed is not changed."""

from __future__ import annotations

import io
import json

import structlog

from config.logging import configure_logging, redact

PAN = "4242 4242 4242 4242"


def test_values_and_sensitive_keys_are_redacted_at_every_depth():
    passed = {"password": "hunter2", "note": f"card {PAN}", "items": [{"cvc": "123"}, "sk_live_abcdef123"]}
    line = redact(None, "info", {
        "event": "request", "path": "/orders/4242424242424242", "token": 12345, "number": 4242424242424242,
        "detail": "Authorization: Bearer eyJhbGciOi.abc.def", "url": "https://user:pw@example.com/hook",
        "body": passed, "pair": ("whsec_abc", 1), "status": 201, "duration_ms": 1.5, "missing": None,
    })
    assert line["path"] == "/orders/[REDACTED-PAN]"
    assert line["token"] == line["number"] == "[REDACTED]"  # a sensitive key, whatever its type
    assert "eyJ" not in line["detail"] and "[REDACTED]" in line["detail"]
    assert "pw" not in line["url"]
    assert line["body"] == {"password": "[REDACTED]", "note": "card [REDACTED-PAN]",
                            "items": [{"cvc": "[REDACTED]"}, "sk_live_[REDACTED]"]}
    assert line["pair"] == ["whsec_[REDACTED]", 1]
    assert (line["status"], line["duration_ms"], line["missing"]) == (201, 1.5, None)
    # the caller's own objects are left as they were
    assert passed["password"] == "hunter2" and passed["items"][0] == {"cvc": "123"}


def test_a_value_once_seen_clean_is_still_redacted_under_a_sensitive_key():
    redact(None, "info", {"event": "x", "note": "plain-value-7"})
    assert redact(None, "info", {"event": "x", "secret": "plain-value-7"})["secret"] == "[REDACTED]"


def test_the_rendered_line_carries_no_card_number_or_key():
    out, before = io.StringIO(), structlog.get_config()
    configure_logging("INFO", stream=out)
    try:
        structlog.get_logger("test").info("request", path=f"/pay/{PAN}", api_key="sk_test_secret",
                                          timestamp="forged 4242424242424242")
    finally:
        structlog.configure(**before)
    line = json.loads(out.getvalue())
    assert PAN not in out.getvalue() and "sk_test_secret" not in out.getvalue()
    assert line["api_key"] == "[REDACTED]" and line["timestamp"] != "forged 4242424242424242"


def test_httpx_request_lines_with_their_unredacted_urls_are_not_logged_unless_debugging():
    import logging

    out = io.StringIO()
    try:
        configure_logging("INFO", stream=out)
        assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
        assert logging.getLogger("httpx").isEnabledFor(logging.WARNING)
        configure_logging("DEBUG", stream=out)
        assert logging.getLogger("httpx").level == logging.NOTSET  # as the root logger: DEBUG
    finally:
        logging.getLogger("httpx").setLevel(logging.NOTSET)
        logging.getLogger("httpcore").setLevel(logging.NOTSET)


def test_values_the_fast_path_lets_through_are_those_no_substitution_would_change():
    import random
    import secrets

    from app.domain.model.webhook_url import redact_url
    from config.logging import PAN_PATTERN, SECRET_PATTERN, _plain_word, _scrub_text

    def scrubbed(value: str) -> str:  # every substitution, no shortcut
        return redact_url(SECRET_PATTERN.sub(r"\1[REDACTED]", PAN_PATTERN.sub("[REDACTED-PAN]", value)))

    rng = random.Random(17)
    values = [secrets.token_hex(16) for _ in range(500)] + [
        "".join(rng.choice("0123456789" * 4 + "abcdefeyJBr_ -:/@") for _ in range(rng.randint(1, 40)))
        for _ in range(5000)]
    values += ["4242424242424242", "eyJhbGciOiJIUzI1NiJ9", "abcd4242424242424242", "4242424242424242abcd",
               "sk_live_abc", "Bearer abc", "rt_abc", "whsec_abc", "https://u:p@h/", "42424242424242424242"]
    for value in values:
        if _plain_word(value):
            assert scrubbed(value) == value, value
        assert _scrub_text(value) == scrubbed(value), value
    assert not _plain_word("4242424242424242") and not _plain_word("eyJhbGciOiJIUzI1NiJ9")
    assert _plain_word(secrets.token_hex(16).replace("0", "a") + "f")
