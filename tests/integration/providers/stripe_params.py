"""Which request parameters the pinned `stripe` package says an endpoint takes.

The package ships, per API version, a TypedDict of request parameters per endpoint
(`stripe.params.PaymentIntentCreateParams`, ...), nested TypedDicts for hashes, `List[...]`
for arrays, `Dict[str, str]` for metadata and `Literal[...]` for closed enums. A form key
as the adapter sends it (`automatic_payment_methods[allow_redirects]`, `metadata[x]`,
`allowed_payment_method_types[0]`) is walked down those types; a name the version does not
know, or a value its type cannot take, is reported. Annotations are resolved one at a
time, in the params module's namespace, so no unrelated (TYPE_CHECKING-only) name is needed.
"""

from __future__ import annotations

import re
import sys
import types
import typing
from typing import Any, ForwardRef, Literal, Union

import typing_extensions
from stripe._request_options import RequestOptions

# Options of the SDK's call (API key, Stripe-Version, idempotency key...): headers, never parameters.
REQUEST_OPTIONS = frozenset(RequestOptions.__annotations__)
_KEY_PATH = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def key_path(form_key: str) -> list[str]:
    """`a[b][0]` -> ["a", "b", "0"] (Stripe's form encoding of nested parameters)."""
    match = _KEY_PATH.match(form_key)
    if match is None:
        raise ValueError(f"not a Stripe form key: {form_key!r}")
    return [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]


def _resolve(annotation: Any, namespace: dict[str, Any]) -> Any:
    if isinstance(annotation, str):
        annotation = ForwardRef(annotation)
    if isinstance(annotation, ForwardRef):
        annotation = eval(annotation.__forward_arg__, namespace)  # noqa: S307 - the SDK's own annotations
    if typing.get_origin(annotation) in (typing_extensions.NotRequired, typing_extensions.Required):
        return _resolve(typing.get_args(annotation)[0], namespace)
    return annotation


def fields(params_type: type) -> dict[str, Any]:
    """The parameters a params TypedDict declares (request options left out), unresolved."""
    return {name: value for name, value in params_type.__annotations__.items() if name not in REQUEST_OPTIONS}


def accepts(annotation: Any, path: list[str], value: str, namespace: dict[str, Any]) -> bool:
    """Whether `path` (what is left of a form key) leads to a scalar that can hold `value`."""
    annotation = _resolve(annotation, namespace)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (Union, types.UnionType):
        return any(accepts(arg, path, value, namespace) for arg in args)
    if typing_extensions.is_typeddict(annotation):
        own = vars(sys.modules[annotation.__module__])
        declared = fields(annotation)
        return bool(path) and path[0] in declared and accepts(declared[path[0]], path[1:], value, own)
    if origin in (list, typing.List):
        return bool(path) and path[0].isdigit() and accepts(args[0], path[1:], value, namespace)
    if origin in (dict, typing.Dict) or getattr(origin, "__name__", "") == "UntypedStripeObject":
        return bool(path) and accepts(args[-1], path[1:], value, namespace)  # metadata: any key
    if path:
        return False  # a scalar has no sub-parameters
    if origin is Literal:
        return value in {str(arg).lower() if isinstance(arg, bool) else str(arg) for arg in args}
    if annotation is bool:
        return value in ("true", "false")
    if annotation is int:
        return value.lstrip("-").isdigit()
    return annotation is str


def unknown_parameters(params_type: type, parameters: list[tuple[str, str]]) -> list[str]:
    """The `key=value` pairs this version's `params_type` does not accept (empty: all fine)."""
    namespace = vars(sys.modules[params_type.__module__])
    declared = fields(params_type)
    wrong = []
    for key, value in parameters:
        path = key_path(key)
        if path[0] not in declared or not accepts(declared[path[0]], path[1:], value, namespace):
            wrong.append(f"{key}={value}")
    return wrong
