"""Idempotency-Key on mutating POSTs (Stripe semantics, IETF draft status codes).

Same key + same body -> the stored response byte for byte, with no second side effect;
same key + other body -> 422; same key while the first still runs -> waits on the first
one's claim, then replays, or gives up after the lock timeout with 409. Only 2xx
responses are stored: a failed request leaves nothing behind, so it may be retried with
the same key. Two ways to get there:

- Claim first (every route, unless it says otherwise): the middleware opens the request's
  root unit of work, claims the key in it, runs the handler inside it (the use case's own
  unit of work joins it), and stores the response bytes in the same transaction.
- Claim at commit (routes declared with **CLAIM_AT_COMMIT): for a use case whose effects
  are database writes only, in a single-statement unit of work (POST /orders). The
  handler runs in a single-statement root unit; its commit claims the key, with the
  response, in the one statement that writes the rest. When the key turns out to be
  another request's, nothing is written and that request's answer (or the 422/409) is
  sent, as if the key had been found first. One round trip instead of five. A route that
  calls a provider, or has any effect that not committing would not undo, stays claim-first."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import msgspec
from asyncpg.exceptions import LockNotAvailableError
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from app.adapters.db.commit_writes import KeyNotClaimed
from app.adapters.db.idempotency import StoredResponse
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
    query = urlencode(sorted(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))) if query_string else ""
    return hashlib.sha256(b"%s %s?%s\n%s" % (method.encode(), path.encode(), query.encode(), canonical)).hexdigest()


CLAIM_AT_COMMIT: dict[str, Any] = {"idempotency": "claim_at_commit"}  # route decorator keyword arguments (Litestar's opt)


def claims_at_commit(scope: Scope) -> bool:
    handler = scope.get("route_handler")
    return handler is not None and handler.opt.get("idempotency") == CLAIM_AT_COMMIT["idempotency"]


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
        if principal.user_id is not None:  # each user's keys are its own, apart from the merchant's
            key = f"user:{principal.user_id}:{key}"
        body = await read_body(receive, container.settings.api.max_body_bytes)
        claimed = Key(principal.merchant_id, key,
                      fingerprint(scope["method"], scope["path"], scope.get("query_string", b""), body))
        replay: list[Any] = []  # the app's messages, held until the commit
        run = _claim_at_commit if claims_at_commit(scope) else _claim_first
        try:
            messages = await run(Handler(app, scope, receive, body, replay), container, claimed)
        except Exception as exc:
            if not replay:
                raise  # the handler never answered: Litestar's handlers map it as usual
            # It answered, but its answer could not be committed (the database went away
            # at the commit, the key or a unique value turned out to be taken): Litestar
            # holds the response as started, so we answer here.
            status, headers, problem_body = late_failure(exc, scope["path"])
            messages = _response(status, headers, problem_body)
        for message in messages:  # only now, after the commit, does the client hear of it
            await send(message)

    return middleware


@dataclass(frozen=True, slots=True)
class Key:
    merchant_id: Any
    key: str
    fingerprint: str  # of the request (fingerprint())


@dataclass(slots=True)
class Handler:
    """The app on the request's body, its messages captured into `replay`."""

    app: ASGIApp
    scope: Scope
    receive: Receive
    body: bytes
    replay: list[Any]

    async def answer(self) -> tuple[int, bytes]:
        """Run it: its status and body."""
        delivered = False

        async def replay_body() -> Any:
            nonlocal delivered
            if delivered:
                return await self.receive()  # disconnect, should the app wait for one
            delivered = True
            return {"type": "http.request", "body": self.body, "more_body": False}

        async def capture(message: Any) -> None:
            self.replay.append(message)

        await self.app(self.scope, replay_body, capture)
        start = next(m for m in self.replay if m["type"] == "http.response.start")
        return start["status"], b"".join(m.get("body", b"") for m in self.replay if m["type"] == "http.response.body")


async def _claim_first(handler: Handler, container: Any, key: Key) -> list[Any]:
    """Claim the key, then answer the stored response or run the handler and store its
    answer with its effects in one transaction."""
    store = container.idempotency
    async with container.uow() as uow:
        try:
            stored = await store.claim(key.merchant_id, key.key, key.fingerprint)
        except LockNotAvailableError:
            raise _in_use() from None
        if stored is None:
            status, body = await handler.answer()
            if 200 <= status < 300:
                await store.store(key.merchant_id, key.key, status, body)
                await uow.commit()
            return handler.replay
    return _stored_answer(stored, key)  # sent once the read-only transaction is over


async def _claim_at_commit(handler: Handler, container: Any, key: Key) -> list[Any]:
    """Run the handler in a single-statement unit whose commit claims the key with the
    answer; if the key is another request's, answer what it holds instead."""
    store = container.idempotency
    async with container.uow.single_statement() as uow:
        status, body = await handler.answer()
        if 200 <= status < 300:
            store.claim_at_commit(key.merchant_id, key.key, key.fingerprint, status, body)
            try:
                await uow.commit()
                return handler.replay
            except KeyNotClaimed as taken:
                if taken.busy:
                    raise _in_use() from None
        # A failure is the handler's answer, unless the key is taken: then, as when a claim
        # comes first, what the key holds is (a bad body does not hide a reused key).
        stored = await store.held(key.merchant_id, key.key)
        if stored is None:
            if 200 <= status < 300:  # taken, then expired and purged meanwhile: nothing written
                raise _in_use()
            return handler.replay
    return _stored_answer(stored, key)


def _in_use() -> Conflict:
    return Conflict("a request with this Idempotency-Key is still being processed; retry later",
                    code="idempotency_key_in_use")


def _stored_answer(stored: StoredResponse, key: Key) -> list[Any]:
    if stored.fingerprint != key.fingerprint:
        raise ValidationFailed("this Idempotency-Key was used with a different request",
                               code="idempotency_key_reused")
    if stored.status_code is None:  # only if a claim ever committed without a response
        raise _in_use()
    body = stored.body or b""
    return _response(stored.status_code, [(b"content-type", b"application/json"),
                                          (b"content-length", str(len(body)).encode()),
                                          (b"idempotent-replayed", b"true")], body)


def _response(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> list[Any]:
    if not any(name == b"content-length" for name, _ in headers):
        headers = [*headers, (b"content-length", str(len(body)).encode())]
    return [{"type": "http.response.start", "status": status, "headers": headers},
            {"type": "http.response.body", "body": body, "more_body": False}]
