"""Every example in the OpenAPI document (requests, responses, problems, webhooks) is valid
against the schema it illustrates: a merchant can copy one and trust its shape. (The e2e
test tests/e2e/test_documented_examples.py also sends every request example.)"""

from __future__ import annotations

import jsonschema_rs
import msgspec

from app.entrypoints.http.app import create_app
from tests.unit.fake_container import fake_container


def examples(schema: dict):
    """(where, example value, the schema it must match) for every example with a schema."""
    items = [(f"{method.upper()} {path}", op) for path, item in schema["paths"].items()
             for method, op in item.items()]
    items += [(f"webhook {name}", item["post"]) for name, item in schema.get("webhooks", {}).items()]
    for where, op in items:
        bodies = [("request", op.get("requestBody", {}))]
        bodies += [(status, response) for status, response in op.get("responses", {}).items()]
        for part, body in bodies:
            for media, content in body.get("content", {}).items():
                for name, example in content.get("examples", {}).items():
                    yield f"{where} {part} {media} {name}", example["value"], content["schema"]


def test_every_example_matches_its_schema():
    # As served: encoded to JSON (examples are kept as raw JSON so their nulls survive).
    schema = msgspec.json.decode(msgspec.json.encode(create_app(fake_container()).openapi_schema.to_schema()))
    checked, wrong = 0, []
    for where, value, target in examples(schema):
        validator = jsonschema_rs.validator_for({"components": schema["components"], **target})
        errors = [error.message for error in validator.iter_errors(value)]
        if errors:
            wrong.append((where, errors[:3]))
        checked += 1
    assert wrong == []
    assert checked > 80


def test_every_operation_says_what_it_does():
    """Besides its roles line, each operation has a description of its own
    (app/entrypoints/http/openapi_operations.py)."""
    schema = create_app(fake_container()).openapi_schema.to_schema()
    bare = [f"{method.upper()} {path}" for path, item in schema["paths"].items() for method, op in item.items()
            if len(op.get("description", "").split("\n\n")) < 2]
    assert bare == [], "describe these in openapi_operations.OPERATIONS"
