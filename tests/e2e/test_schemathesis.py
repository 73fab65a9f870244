"""Schemathesis, with all its checks (`--checks all`), against the served OpenAPI schema of the
running API, as an authenticated merchant (configuration: schemathesis.toml)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


async def test_schemathesis_finds_no_failure(live_stack, merchant):
    st = Path(sys.executable).with_name("st")
    result = subprocess.run(
        [str(st), "run", f"{live_stack.api_url}/schema/openapi.json",
         "-H", f"Authorization: Bearer {merchant.api_key}", "--checks", "all", "--max-examples", "25", "--no-color",
         "--seed", "20261122"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.e2e.schemathesis_hooks"},
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "generated" in result.stdout and " passed" in result.stdout
