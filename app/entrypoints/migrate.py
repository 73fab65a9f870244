"""Apply the Piccolo migrations to the database named by FXP_DATABASE_URL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def apply_migrations(database_url: str, extra_env: dict[str, str] | None = None) -> None:
    """`extra_env`: settings a data migration needs (the vault key that seals secrets)."""
    env = {**os.environ, **(extra_env or {}), "FXP_DATABASE_URL": database_url, "PICCOLO_CONF": "config.piccolo_conf"}
    piccolo = Path(sys.executable).with_name("piccolo")
    result = subprocess.run([str(piccolo), "migrations", "forwards", "fusionxpay"], env=env,
                            capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])
    if result.returncode != 0 or "error" in result.stdout.lower():
        raise RuntimeError(f"migrations failed:\n{result.stdout}\n{result.stderr}")
