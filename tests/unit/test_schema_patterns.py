"""Every `pattern` in the served OpenAPI document means the same to ECMA-262 (what
clients, Schemathesis and JSON Schema validators use; run here by Node) and to the server
(Python's `re.search`, as msgspec applies it), on strings chosen where the two dialects
differ: Unicode digits and spaces, trailing newlines, NUL, non-ASCII letters."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from app.entrypoints.http.app import create_app
from tests.unit.fake_container import fake_container

TRICKY = ["", "a", "A", "abc", "0", "12345", "123456789012", "٣٤٥", "１２３", "a b", "a\u00a0b", "a\u2003b",
          "\n", "abc\n", "12345\n", "a\nb", "a\r\nb", "x\x00y", "\x85", "é", "ß", "İ", "ǅ", "a@b.c", "a@b.c\n",
          "ada@example.com", "+44 20 7183 8750", "4242424242424242", "4242 4242 4242 4242\n", "123", "1234",
          "card_abc-DEF_123", "sandbox", "stripe\n", "2026-11-22T10:00:00Z", "2026-11-22T10:00:00Z\n",
          "2026-11-22T10:00:00.123456+01:00", "2026-11-22t10:00:00z", "k-1", "k 1", "~", "\x7f", "\t"]


def patterns_of(node: object, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            found.add(node["pattern"])
        for value in node.values():
            patterns_of(value, found)
    elif isinstance(node, list):
        for value in node:
            patterns_of(value, found)
    return found


@pytest.fixture(scope="module")
def schema() -> dict:
    return create_app(fake_container()).openapi_schema.to_schema()


def test_patterns_mean_the_same_in_ecma_262_and_python(schema):
    node = shutil.which("node")
    assert node, "Node.js runs this check (ECMA-262's regex engine): install nodejs"
    patterns = sorted(patterns_of(schema, set()))
    assert len(patterns) >= 5
    script = ("const [patterns, strings] = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
              "console.log(JSON.stringify(patterns.map(p => strings.map(s => new RegExp(p, 'u').test(s)))));")
    answer = subprocess.run([node, "-e", script], input=json.dumps([patterns, TRICKY]), capture_output=True,
                            text=True, check=True, timeout=60)
    ecma = json.loads(answer.stdout)
    differ = [(pattern, text) for pattern, results in zip(patterns, ecma) for text, matched in zip(TRICKY, results)
              if matched != bool(re.search(pattern, text))]
    assert differ == [], differ


