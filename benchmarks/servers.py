"""Starting and stopping the ASGI server processes under test (granian, uvicorn).

Each server runs in its own session (process group), so stopping it reaches its worker
processes too; its output goes to a log file that is shown if it fails to come up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.processes import free_port, wait_for_http

SERVERS = ("granian", "uvicorn")
APPS = {"api": "app.entrypoints.http.asgi:app", "baseline": "benchmarks.baseline_app:app"}
ROOT = Path(__file__).resolve().parents[1]


def command(server: str, app: str, port: int, workers: int) -> list[str]:
    python = sys.executable
    if server == "granian":
        return [python, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
                "--workers", str(workers), "--loop", "uvloop", app]
    if server == "uvicorn":
        return [python, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
                "--workers", str(workers), "--loop", "uvloop", "--no-access-log"]
    raise ValueError(f"unknown server {server!r}")



class ServerProcess:
    def __init__(self, server: str, target: str, workers: int, env: dict[str, str], log_dir: Path,
                 app: str | None = None) -> None:
        self.server, self.target, self.workers = server, target, workers
        self.app = app or APPS[target]
        self.port = free_port()
        self.env = {**os.environ, **env, "FXP_PORT": str(self.port)}
        self.log_path = log_dir / f"{server}-{target}.log"
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command(self.server, self.app, self.port, self.workers), env=self.env, cwd=ROOT,
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )
        try:
            wait_for_http(f"{self.base_url}/health", lambda: self.process.poll() is None, timeout)
        except (RuntimeError, TimeoutError) as exc:
            self.stop()
            raise RuntimeError(f"{self.server} ({self.target}): {exc}:\n{self.log_tail()}") from None
        time.sleep(0.5)  # let every worker finish its lifespan start-up

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is None or self.process.returncode is not None and self._group_gone():
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            self.process.wait(timeout=5)
        deadline = time.monotonic() + 5
        while not self._group_gone() and time.monotonic() < deadline:  # workers still exiting
            time.sleep(0.1)
        if not self._group_gone():
            self._signal_group(signal.SIGKILL)

    def worker_pids(self) -> list[int]:
        """The server's processes (main + workers), for attaching a profiler."""
        if self.process is None:
            return []
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if os.getpgid(int(entry.name)) == self.process.pid:
                        pids.append(int(entry.name))
                except ProcessLookupError:
                    continue
        return sorted(pids)

    def _signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass

    def _group_gone(self) -> bool:
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return True
        return False

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
