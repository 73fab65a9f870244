"""What each operation accepts, read once from the route handlers: the query parameters
it defines, and the type of its JSON body, decoded strictly.

Litestar converts input leniently (strict=False: "2500" and 25.0 become the integer
2500), which suits path and query strings but not JSON bodies, where an amount must be
a JSON integer. The body is decoded strictly here first; what passes is exactly what the
lenient decode produces."""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import UnionType
from typing import Any, Union, get_args, get_origin

import msgspec
from litestar import Litestar
from litestar.exceptions import ValidationException
from litestar.routes import HTTPRoute

from app.domain.errors import MalformedRequest

JSON_PATH = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")


@dataclass(frozen=True, slots=True)
class RouteContract:
    query_parameters: frozenset[str]
    body_decoder: msgspec.json.Decoder | None  # strict; None: the operation takes no JSON body


def route_contracts(app: Litestar) -> dict[int, RouteContract]:
    """Per route handler (by id): its contract."""
    contracts: dict[int, RouteContract] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler, kwargs_model in route.route_handler_map.values():
            data = handler.parsed_fn_signature.parameters.get("data")
            contracts[id(handler)] = RouteContract(
                frozenset(p.field_alias for p in kwargs_model.expected_query_params),
                msgspec.json.Decoder(present(data.annotation), strict=True) if data is not None else None,
            )
    return contracts


def present(annotation: Any) -> Any:
    """The type of a body that was sent: an optional body may be left out, not sent as null."""
    if get_origin(annotation) in (Union, UnionType):
        members = [member for member in get_args(annotation) if member is not type(None)]
        return Union[tuple(members)] if len(members) > 1 else members[0]  # noqa: UP007 - built at run time
    return annotation


def decode_strictly(decoder: msgspec.json.Decoder, body: bytes) -> Any:
    """The body as the operation's type, or a 400 naming the field (validation_failed)."""
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:
        message = str(exc)
        match = JSON_PATH.search(message)
        field = (match["path"] or "body") if match else "body"
        text = message[:match.start()] if match else message
        raise ValidationException(f"{field}: {text}", extra=[{"key": field, "message": text, "source": "body"}]) from None
    except msgspec.DecodeError as exc:
        raise MalformedRequest(f"the body is not valid JSON: {exc}", code="invalid_json") from None
