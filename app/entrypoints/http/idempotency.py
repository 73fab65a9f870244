"""Idempotency-Key on mutating POSTs (Stripe semantics, IETF draft status codes).

The middleware opens the request's root unit of work, claims the key in it, runs the
handler inside it (the use case's own unit of work joins it), and stores the
response bytes in the same transaction. So: same key + same body -> the stored response
byte for byte, with no second side effect; same key + other body -> 422; same key while
the first still runs -> the claim waits on the first one's row lock, then replays, or
gives up after the lock timeout with 409. Only 2xx responses are stored: a failed
request leaves nothing behind, so it may be retried with the same key."""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

import msgspec
from asyncpg.exceptions import LockNotAvailableError
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from app.domain.errors import Conflict, MalformedRequest, ValidationFailed
from app.entrypoints.http.problems import late_failure
from app.entrypoints.http.request_guard import read_body
from app.entrypoints.http.schemas import patterns

KEY_PATTERN = re.compile(patterns.IDEMPOTENCY_KEY)
EXEMPT_PREFIXES = ("/callbacks/", "/payment/callback", "/auth/", "/admin/")


def _header(scope: Scope, name: bytes) -> str | None:
    return next((v.decode("latin-1") for k, v in scope["headers"] if k == name), None)


def fingerprint(method: str, path: str, query_string: bytes, body: bytes) -> str:
    """The request as parsed, not as spelled: JSON key order, whitespace and query
    parameter order do not make it another request. A body that is not JSON (it will be
    refused anyway) is taken as it is."""
    try:
        canonical = msgspec.json.encode(msgspec.json.decode(body), order="sorted") if body else b""
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
        canonical = body
    query = urlencode(sorted(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)))
    return hashlib.sha256(b"%s %s?%s\n%s" % (method.encode(), path.encode(), query.encode(), canonical)).hexdigest()


def idempotency_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        key = _header(scope, b"idempotency-key")
        if key is None or scope["method"] != "POST" or scope["path"].startswith(EXEMPT_PREFIXES):
            await app(scope, receive, send)
            return
        if not KEY_PATTERN.match(key):
            raise MalformedRequest("Idempotency-Key must be 1-255 printable ASCII characters",
                                   field="Idempotency-Key", code="invalid_idempotency_key")
        container = scope["app"].state.container
        principal = scope.setdefault("state", {}).get("principal")  # the access check's, when it ran
        if principal is None:
            principal = await scope["app"].state.authenticator.authenticate(_header(scope, b"authorization"))
            scope["state"]["principal"] = principal
        if principal.merchant_id is None:  # not a merchant-bound caller: the guard will refuse it
            await app(scope, receive, send)
            return
        merchant_id = principal.merchant_id
        if principal.user_id is not None:  # each user's keys are its own, apart from the merchant's
            key = f"user:{principal.user_id}:{key}"
        body = await read_body(receive, container.settings.api.max_body_bytes)
        request_fingerprint = fingerprint(scope["method"], scope["path"], scope.get("query_string", b""), body)
        replay: list[Any] = []  # the app's messages, held until the commit
        try:
            await _run_once(app, scope, receive, send, container, merchant_id, key, body, request_fingerprint,
                            replay)
        except Exception as exc:
            if not replay:
                raise  # the handler never answered: Litestar's handlers map it as usual
            # It answered, but its answer could not be committed (the database went away
            # at the commit): Litestar holds the response as started, so we answer here.
            status, headers, problem_body = late_failure(exc, scope["path"])
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": problem_body, "more_body": False})
            return
        for message in replay:  # only now, after the commit, does the client hear of it
            await send(message)

    return middleware


async def _run_once(app: ASGIApp, scope: Scope, receive: Receive, send: Send, container: Any,
                    merchant_id: Any, key: str, body: bytes, request_fingerprint: str, replay: list[Any]) -> None:
    """Claim the key, then replay the stored answer or run the handler, capturing its
    messages into `replay`, and store them with the handler's effects in one transaction."""
    store = container.idempotency
    async with container.uow() as uow:
        try:
            stored = await store.claim(merchant_id, key, request_fingerprint)
        except LockNotAvailableError:
            raise Conflict("a request with this Idempotency-Key is still being processed; retry later",
                           code="idempotency_key_in_use") from None
        if stored is not None:
            if stored.fingerprint != request_fingerprint:
                raise ValidationFailed("this Idempotency-Key was used with a different request",
                                       code="idempotency_key_reused")
            if stored.status_code is None:  # only if a claim ever committed without a response
                raise Conflict("a request with this Idempotency-Key is still being processed",
                               code="idempotency_key_in_use")
        else:
            delivered = False

            async def replay_body() -> Any:
                nonlocal delivered
                if delivered:
                    return await receive()  # disconnect, should the app wait for one
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}

            async def capture(message: Any) -> None:
                replay.append(message)

            await app(scope, replay_body, capture)
            start = next(m for m in replay if m["type"] == "http.response.start")
            if 200 <= start["status"] < 300:
                response_body = b"".join(m.get("body", b"") for m in replay if m["type"] == "http.response.body")
                await store.store(merchant_id, key, start["status"], response_body)
                await uow.commit()
    if stored is not None:  # sent once the read-only transaction is over
        await _send_stored(send, stored.status_code, stored.body or b"")


async def _send_stored(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"idempotent-replayed", b"true"),
    ]})
    await send({"type": "http.response.body", "body": body, "more_body": False})
