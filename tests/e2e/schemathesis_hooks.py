"""Schemathesis hooks for tests/e2e/test_schemathesis.py (SCHEMATHESIS_HOOKS).

Our integers are stricter than JSON Schema can say: the API takes `2500`, never `2500.0`
(issue 11: amounts and quantities are JSON integers, a float is a 400), while JSON Schema
2020-12 counts a whole float as an integer, so Schemathesis spells some integers as
floats on purpose. The schema descriptions say so; here they are spelled as integers,
which is the only difference from what Schemathesis generates."""

from __future__ import annotations

from typing import Any

import schemathesis


def _as_integers(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {key: _as_integers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_integers(item) for item in value]
    return value


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    case.body = _as_integers(case.body)
