"""Test-session provisioning: a throw-away database on the configured PostgreSQL (or
an embedded one), migrated, and a Redis; both exported as FXP_*. Started on demand by the
`test_servers` fixture (integration, e2e and worker tests), never for tests/unit; so the
settings and the Piccolo engine that modules may already have read are pointed at them."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import os
import tempfile
import uuid
from pathlib import Path

import psutil

from app.entrypoints.embedded import (
    drop_database, ensure_database, start_postgres, start_redis, stop_embedded, with_database,
)
from app.entrypoints.migrate import apply_migrations

ROOT = Path(__file__).resolve().parents[1]
PGDATA = ROOT / ".fusionxpay" / "test" / "pgdata"
# Servers that tests start themselves keep their data here, not in pytest's temp folder:
# pgserver runs PostgreSQL as another user when we are root, and any pytest session
# starting on the machine makes /tmp/pytest-of-<user> private again (mode 0700).
RUNS = ROOT / ".fusionxpay" / "runs"


class TestServices:
    def __init__(self) -> None:
        self.admin_url = os.environ.get("FXP_DATABASE_URL") or start_postgres(ROOT / ".fusionxpay" / "test")
        self.database = f"fxp_test_{uuid.uuid4().hex[:10]}"
        self.database_url = with_database(self.admin_url, self.database)
        self.redis_url = os.environ.get("FXP_REDIS_URL") or start_redis(Path(tempfile.mkdtemp(prefix="fxp-redis-")))
        # An embedded redis-server's title names its socket's folder: how the end-of-session
        # check recognises it.
        self.redis_dir = str(Path(self.redis_url.removeprefix("unix://")).parent) if self.redis_url.startswith(
            "unix://") and not os.environ.get("FXP_REDIS_URL") else None
        self.runs = RUNS / uuid.uuid4().hex[:10]

    def run_dir(self, name: str) -> Path:
        """A fresh folder for a test's own servers, removed at the end of the session."""
        path = self.runs / f"{name}-{uuid.uuid4().hex[:6]}"
        path.mkdir(parents=True)
        return path

    def up(self) -> None:
        asyncio.run(ensure_database(self.admin_url, self.database))
        apply_migrations(self.database_url)
        os.environ.update({
            "FXP_DATABASE_URL": self.database_url,
            "FXP_REDIS_URL": self.redis_url,
            "FXP_DATABASE__LOCK_TIMEOUT_MS": "1500",
            "FXP_ENV": "test",
            # The suite sends bursts from one address (schemathesis, concurrency tests):
            # rate limits are tested where they are switched on (tests/integration/test_rate_limits.py).
            "FXP_RATE_LIMIT__ENABLED": "false",
        })
        import sys

        from config.settings import get_settings

        get_settings.cache_clear()
        if "config.piccolo_conf" in sys.modules:  # imported before we knew the database
            sys.modules["config.piccolo_conf"].configure(get_settings().database)

    def down(self) -> None:
        asyncio.run(drop_database(self.admin_url, self.database))
        stop_embedded()
        if not self.still_shared():
            self._stop_abandoned_postgres()

    def remove_run_dirs(self) -> None:
        if not os.environ.get("FXP_KEEP_RUNS"):  # set it to read a failed crash test's server logs
            shutil.rmtree(self.runs, ignore_errors=True)

    @staticmethod
    def _stop_abandoned_postgres() -> None:
        """pgserver keeps the server up while its handle list names another process, even
        one long dead (a session killed mid-run): stop it when no live session uses it."""
        try:
            postmaster = psutil.Process(int((PGDATA / "postmaster.pid").read_text().split()[0]))
            postmaster.send_signal(signal.SIGINT)  # fast shutdown
            postmaster.wait(timeout=30)
        except (OSError, ValueError, IndexError, psutil.Error):
            pass  # not running

    def still_shared(self) -> set[int]:
        """The embedded PostgreSQL's processes while another test session in this checkout
        still holds a handle on it (it stops with the last one): not our leftovers."""
        try:
            holders = json.loads((PGDATA / ".handle_pids.json").read_text())
            if not any(psutil.pid_exists(pid) for pid in holders if pid != os.getpid()):
                return set()
            postmaster = psutil.Process(int((PGDATA / "postmaster.pid").read_text().split()[0]))
            return {postmaster.pid} | {child.pid for child in postmaster.children(recursive=True)}
        except (OSError, ValueError, IndexError, psutil.Error):
            return set()
