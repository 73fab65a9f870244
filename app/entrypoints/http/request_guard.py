"""Checks every request passes before a handler sees it, so bad input is a 4xx problem,
never a 500 from deep inside a decoder:

- a body must be JSON sent as `application/json` (415 otherwise; provider callbacks are
  exempt: they are read raw and verified by signature), valid UTF-8, nested at most
  MAX_JSON_DEPTH levels (the decoders would raise RecursionError past ~1000), and within
  the body size limit (413), and of the operation's type under strict JSON typing (400);
- a query parameter the operation does not define is a 400."""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Any
from urllib.parse import parse_qsl

from litestar.exceptions import HTTPException
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from app.domain.errors import MalformedRequest
from app.entrypoints.http.route_contracts import RouteContract, decode_strictly

MAX_JSON_DEPTH = 32
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
RAW_BODY_PREFIXES = ("/callbacks/", "/payment/callback")
FORM_PREFIXES = ("/dashboard/",)  # the dashboard's HTML forms post url-encoded bodies (checked by its handlers)
JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
BRACKET = re.compile(rb"[\[\]{}]")
DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    if body.count(b"[") + body.count(b"{") <= limit:  # the usual case: cannot be deeper
        return False
    steps = (DEPTH_STEP[match[0]] for match in BRACKET.findall(JSON_STRING.sub(b'""', body)))
    return max(accumulate(steps), default=0) > limit


def is_json_media_type(content_type: str) -> bool:
    media_type, _, params = content_type.partition(";")
    charset = dict(p.strip().lower().partition("=")[::2] for p in params.split(";") if "=" in p).get("charset")
    return media_type.strip().lower() == "application/json" and charset in (None, "utf-8", '"utf-8"')


async def read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size, more = 0, True
    while more:
        message: Any = await receive()  # http.request (or a disconnect: no body)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise HTTPException(status_code=413, detail=f"request body exceeds {limit} bytes")
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def check_json_body(body: bytes, content_type: str | None, raw: bool) -> None:
    if not raw and not is_json_media_type(content_type or ""):
        raise HTTPException(status_code=415, detail="send the JSON body as 'Content-Type: application/json'")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedRequest(f"the body is not valid UTF-8 (byte {exc.start})", code="invalid_json") from None
    if json_depth_exceeds(body):
        raise MalformedRequest(f"the body nests more than {MAX_JSON_DEPTH} levels deep", code="invalid_json")


def request_guard_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        litestar_app = scope["app"]
        contract: RouteContract | None = litestar_app.state.route_contracts.get(id(scope.get("route_handler")))
        if contract is not None and scope.get("query_string"):
            names = {name for name, _ in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)}
            if unknown := sorted(names - contract.query_parameters):
                raise MalformedRequest(f"unknown query parameter(s): {', '.join(unknown)}",
                                       field=unknown[0], code="unknown_query_parameter")
        if scope["method"] not in BODY_METHODS:
            await app(scope, receive, send)
            return
        body = await read_body(receive, litestar_app.state.container.settings.api.max_body_bytes)
        # Litestar takes the body read here as the request's (it would read it again from
        # the replayed messages); the messages are still replayed for the middleware inside.
        ScopeState.from_scope(scope).body = body
        if body and not scope["path"].startswith(FORM_PREFIXES):
            content_type = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"content-type"), None)
            check_json_body(body, content_type, raw=scope["path"].startswith(RAW_BODY_PREFIXES))
            if contract is not None and contract.body_decoder is not None:
                # What the strict decode gives is what Litestar's lenient one would: Litestar
                # takes it as the request's JSON (msgspec passes a struct of the right type
                # through unchanged) instead of decoding and converting the body again.
                ScopeState.from_scope(scope).json = decode_strictly(contract.body_decoder, body)
        delivered = False

        async def replay() -> Any:
            nonlocal delivered
            if delivered:
                return await receive()  # a disconnect, should the app wait for one
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await app(scope, replay, send)

    return middleware
