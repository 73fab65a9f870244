"""Real processes for end-to-end tests: the sandbox gateway and the API server (uvicorn),
on free loopback ports, wired to the test session's PostgreSQL and Redis."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

from tests.processes import free_port, wait_for_http

ROOT = Path(__file__).resolve().parents[2]
VAULT_KEY = "v1:" + base64.b64encode(b"k" * 32).decode()
CALLBACK_SECRET = "e2e_sandbox_secret"
METRICS_TOKEN = "e2e-metrics-token"
SANDBOX_API_KEY = "e2e_sandbox_api_key"


def wait_for(url: str, process: subprocess.Popen, timeout_s: float = 30.0) -> None:
    wait_for_http(url, lambda: process.poll() is None, timeout_s)


class LiveStack:
    def __init__(self, extra_env: dict[str, str] | None = None, api_log: Path | None = None) -> None:
        self.api_log = api_log
        self.api_port, self.sandbox_port = free_port(), free_port()
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.sandbox_url = f"http://127.0.0.1:{self.sandbox_port}"
        self.env = {
            **os.environ,
            "FXP_PORT": str(self.api_port),
            "FXP_PUBLIC_URL": self.api_url,
            "FXP_VAULT__KEYS": VAULT_KEY,
            "FXP_LOG_LEVEL": "WARNING",
            "FXP_API__METRICS_TOKEN": METRICS_TOKEN,
            "FXP_PROVIDERS__SANDBOX__BASE_URL": self.sandbox_url,
            "FXP_PROVIDERS__SANDBOX__CALLBACK_SECRET": CALLBACK_SECRET,
            "FXP_PROVIDERS__SANDBOX__TIMEOUT_S": "1",
            "SANDBOX_CALLBACK_SECRET": CALLBACK_SECRET,
            "FXP_PROVIDERS__SANDBOX__API_KEY": SANDBOX_API_KEY,
            "SANDBOX_API_KEY": SANDBOX_API_KEY,
            "SANDBOX_CALLBACK_DELAY_S": "0.05",
            "SANDBOX_TIMEOUT_HOLD_S": "3",
            "SANDBOX_CALLBACK_BACKOFF_S": "0.1",
            **(extra_env or {}),
        }
        self.processes: list[subprocess.Popen] = []
        self.sandbox_auth = {"Authorization": f"Bearer {self.env['SANDBOX_API_KEY']}"}  # the gateway's API key

    def spawn(self, *args: str, stdout: object = subprocess.DEVNULL) -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=self.env, stdout=stdout,
                                   stderr=subprocess.DEVNULL if stdout is subprocess.DEVNULL else subprocess.STDOUT)
        self.processes.append(process)
        return process

    def start(self) -> LiveStack:
        sandbox = self.spawn("-m", "sandbox_gateway", "--host", "127.0.0.1", "--port", str(self.sandbox_port))
        api = self.spawn("-m", "uvicorn", "app.entrypoints.http.asgi:app", "--host", "127.0.0.1",
                         "--port", str(self.api_port), "--no-access-log", "--log-level", "warning",
                         # longer than httpx's 5 s keep-alive: the client drops an idle
                         # connection before the server closes it under a request
                         "--timeout-keep-alive", "30",
                         stdout=self.api_log.open("wb") if self.api_log else subprocess.DEVNULL)
        wait_for(f"{self.sandbox_url}/health", sandbox)
        wait_for(f"{self.api_url}/health", api)
        return self

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
