"""`python -m sandbox_gateway` starts a working gateway configured from SANDBOX_* env vars."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from sandbox_gateway.signing import compute_signature
from tests.integration.sandbox.support import payment_body

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def gateway_process() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "SANDBOX_CALLBACK_SECRET": "cli-secret", "SANDBOX_API_KEY": "cli-key", "SANDBOX_CALLBACK_DELAY_S": "0.01",
           "SANDBOX_CALLBACK_BACKOFF_S": "0.05"}
    process = subprocess.Popen([sys.executable, "-m", "sandbox_gateway", "--host", "127.0.0.1", "--port", str(port),
                                "--log-level", "warning"], cwd=REPO_ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(base_url, process)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_until_healthy(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gateway exited: {process.stderr.read().decode() if process.stderr else ''}")
        try:
            if httpx.get(f"{base_url}/health", timeout=0.5).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("gateway did not become healthy")


@pytest.fixture
def http_receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    """A plain HTTP server on a thread, standing in for FusionXPay's callback endpoint."""
    received: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the stdlib's naming)
            received.append((dict(self.headers), self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(503 if len(received) == 1 else 200)  # the first delivery fails: one retry
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/callbacks/sandbox", received
    server.shutdown()
    server.server_close()


def test_the_cli_serves_the_gateway_with_settings_from_the_environment(
        gateway_process: str, http_receiver: tuple[str, list[tuple[dict[str, str], bytes]]]) -> None:
    callback_url, received = http_receiver
    with httpx.Client(base_url=gateway_process, timeout=5, headers={"Authorization": "Bearer cli-key"}) as client:
        created = client.post("/v1/payments", json={**payment_body(key="cli-1"), "callback_url": callback_url})
        deadline = time.monotonic() + 5
        # The gateway logs a delivery after the receiver answered it: wait for the log, not the receiver.
        while len(deliveries := client.get("/_sandbox/callbacks").json()["data"]) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        payment = client.get(f"/v1/payments/{created.json()['id']}").json()

    assert created.status_code == 201 and payment["status"] == "succeeded"
    assert [(d["attempt"], d["status_code"]) for d in deliveries] == [(1, 503), (2, 200)]
    headers, body = received[-1]
    assert headers["X-Sandbox-Signature"] == compute_signature("cli-secret", headers["X-Sandbox-Timestamp"], body)
