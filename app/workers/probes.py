"""Liveness and readiness of a worker deployment (`app.workers.main`).

Each Dramatiq worker process beats a file `<heartbeat_dir>/<pid>` from the event loop its
async actors run on (`Heartbeat` middleware): "1" once its Container is up (database pool
started), "0" while it is still booting. A loop that is blocked stops beating, so the beat's
age is the process's liveness. The main process serves the verdicts over HTTP for the
kubelet (`--probe-port` / FXP_WORKERS__PROBE_PORT):

- `GET /live`: 200 unless a worker process's beat is older than `heartbeat_stale_s`, or the
  pool has run that long without any beat (wedged at start). The main process answering at
  all is part of it. A failing liveness probe gets the container restarted.
- `GET /ready`: 200 once the pool runs and `processes` worker processes beat "1" recently.
The body is JSON with the details (beats, pool state, scheduler leadership)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dramatiq import Broker, Middleware
from dramatiq.asyncio import get_event_loop_thread


class Heartbeat(Middleware):
    """In a worker process: beat `<folder>/<pid>` every `interval_s` from the actors' loop."""

    def __init__(self, folder: str, interval_s: float, ready: Callable[[], bool]) -> None:
        self._path = Path(folder) / str(os.getpid())
        self._interval_s, self._ready = interval_s, ready
        self._task: asyncio.Future[Any] | None = None

    async def _beat(self) -> None:
        while True:
            self._path.write_text("1" if self._ready() else "0")
            await asyncio.sleep(self._interval_s)

    def after_worker_boot(self, broker: Broker, worker: Any) -> None:
        self._path = self._path.with_name(str(os.getpid()))  # the forked process's own pid
        loop_thread = get_event_loop_thread()
        if loop_thread is not None:
            self._task = asyncio.run_coroutine_threadsafe(self._beat(), loop_thread.loop)  # type: ignore[assignment]

    def before_worker_shutdown(self, broker: Broker, worker: Any) -> None:
        if self._task is not None:
            self._task.cancel()
        with contextlib.suppress(OSError):
            self._path.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class WorkerHealth:
    """The main process's view: the pool it runs, its worker processes' beats, the scheduler."""

    def __init__(self, folder: Path, processes: int, stale_s: float, leader: Any = None) -> None:
        self.folder, self.processes, self.stale_s, self.leader = folder, processes, stale_s, leader
        self.pool_started: float | None = None  # monotonic time the running pool started; None: not running

    def beats(self) -> dict[int, tuple[float, bool]]:
        """pid -> (age in seconds, ready) for live worker processes; files of dead ones are removed."""
        found: dict[int, tuple[float, bool]] = {}
        now = time.time()
        for path in self.folder.glob("*"):
            try:
                pid, stat, text = int(path.name), path.stat(), path.read_text()
            except (ValueError, OSError):
                continue
            if not _alive(pid):
                with contextlib.suppress(OSError):
                    path.unlink()
                continue
            found[pid] = (now - stat.st_mtime, text == "1")
        return found

    def consuming(self) -> bool:
        """Whether a process of the local pool is up (its Container started, its consumers
        running) and beating: the gate of the relay on commit (app/workers/relay_wakeup.py)."""
        return self.pool_started is not None and any(
            ready and age < self.stale_s for age, ready in self.beats().values())

    def report(self) -> tuple[bool, bool, dict[str, Any]]:
        beats = self.beats()
        running = self.pool_started is not None
        up_s = time.monotonic() - self.pool_started if self.pool_started is not None else 0.0
        fresh_ready = sum(1 for age, ready in beats.values() if ready and age < self.stale_s)
        stale = [pid for pid, (age, _) in beats.items() if age >= self.stale_s]
        live = not stale and not (running and not beats and up_s >= self.stale_s)
        ready = running and fresh_ready >= self.processes
        details = {
            "pool_running": running, "processes": self.processes, "ready_processes": fresh_ready,
            "stale": stale, "beats": {str(pid): {"age_s": round(age, 1), "ready": ok} for pid, (age, ok) in beats.items()},
            "scheduler_leader": None if self.leader is None else self.leader.held,
        }
        return live, ready, details


async def serve_probes(health: WorkerHealth, host: str, port: int) -> asyncio.Server:
    """A minimal HTTP/1.1 server for GET /live and GET /ready (one request per connection)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5.0)
            path = request.split(b" ", 2)[1].decode() if request.count(b" ") >= 2 else ""
            live, ready, details = health.report()
            verdicts = {"/live": live, "/ready": ready, "/health": live}
            if path in verdicts:
                status = "200 OK" if verdicts[path] else "503 Service Unavailable"
                body = json.dumps({"status": "ok" if verdicts[path] else "unavailable", **details}).encode()
            else:
                status, body = "404 Not Found", b'{"status": "not_found"}'
            writer.write(f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                         "Connection: close\r\n\r\n".encode() + body)
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port)
