"""`fusionxpay run`: the whole local stack in one command.

Starts embedded PostgreSQL/Redis when no URLs are configured (data kept under the data
folder across restarts), applies migrations, then runs the API server, the sandbox
gateway and the workers as child processes. Ctrl-C stops everything it started."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from app.entrypoints.dev_receiver import DEV_RECEIVER_PORT as DEV_RECEIVER_DEFAULT_PORT
from app.entrypoints.embedded import ensure_database, start_postgres, start_redis, with_database
from app.entrypoints.migrate import apply_migrations
from app.entrypoints.server_command import api_server_command
from config.settings import get_settings

SANDBOX_PORT = int(os.environ.get("FXP_SANDBOX_PORT", "8100"))
DEV_RECEIVER_PORT = int(os.environ.get("FXP_DEV_RECEIVER_PORT", str(DEV_RECEIVER_DEFAULT_PORT)))
DEV_RECEIVER_URL = f"http://127.0.0.1:{DEV_RECEIVER_PORT}/webhooks"


def _provision(data_dir: Path) -> dict[str, str]:
    env: dict[str, str] = {}
    database_url = os.environ.get("FXP_DATABASE_URL")
    if not database_url:
        admin_url = start_postgres(data_dir)
        asyncio.run(ensure_database(admin_url, "fusionxpay"))
        database_url = with_database(admin_url, "fusionxpay")
    env["FXP_DATABASE_URL"] = database_url
    env["FXP_REDIS_URL"] = os.environ.get("FXP_REDIS_URL") or start_redis(data_dir / "redis")
    return env


def _dev_secrets(data_dir: Path) -> dict[str, str]:
    """Secrets the processes must share (vault key, sandbox callback secret and API key, JWT secret):
    taken from the environment, else made once and kept in the data folder (never committed)."""
    path = data_dir / "dev-secrets.json"
    kept = json.loads(path.read_text()) if path.exists() else {}
    made = {
        "FXP_VAULT__KEYS": "v1:" + base64.b64encode(os.urandom(32)).decode(),
        "FXP_PROVIDERS__SANDBOX__CALLBACK_SECRET": secrets.token_urlsafe(24),
        "FXP_PROVIDERS__SANDBOX__API_KEY": "sbx_" + secrets.token_urlsafe(24),
        "FXP_AUTH__JWT_SECRET": secrets.token_urlsafe(48),
    }
    secrets_ = {**made, **kept}  # a data folder from before a secret existed gets it added
    if secrets_ != kept:
        path.write_text(json.dumps(secrets_))
        path.chmod(0o600)
    return {name: os.environ.get(name, value) for name, value in secrets_.items()}


def _demo_merchant(data_dir: Path, env: dict[str, str]) -> dict:
    """A merchant for the copy-paste example, created once and kept in the data folder."""
    path = data_dir / "demo-merchant.json"
    if path.exists():
        return json.loads(path.read_text())
    output = subprocess.run(
        [sys.executable, "-m", "app.entrypoints.cli", "merchants", "create", "--name", "Demo shop",
         "--webhook-url", DEV_RECEIVER_URL],
        env={**os.environ, **env}, capture_output=True, text=True, check=True,
    ).stdout
    path.write_text(output)
    path.chmod(0o600)
    return json.loads(output)


def _children(env: dict[str, str], port: int, worker_processes: int) -> list[list[str]]:
    python = sys.executable
    commands = [
        api_server_command(get_settings().api, port),  # HTTPS when FXP_API__TLS_* are set
        [python, "-m", "sandbox_gateway", "--host", "127.0.0.1", "--port", str(SANDBOX_PORT)],
        [python, "-m", "app.entrypoints.dev_receiver", "--host", "127.0.0.1", "--port", str(DEV_RECEIVER_PORT)],
    ]
    if worker_processes > 0:
        commands.append([python, "-m", "app.workers.main", "--processes", str(worker_processes)])
    return commands


def run_stack(worker_processes: int | None = None) -> int:
    settings = get_settings()
    workers = 2 if worker_processes is None else worker_processes
    data_dir = Path(settings.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = _provision(data_dir)
    apply_migrations(env["FXP_DATABASE_URL"])
    port = settings.api.port
    env.update(_dev_secrets(data_dir))
    env.setdefault("FXP_PROVIDERS__SANDBOX__BASE_URL", f"http://127.0.0.1:{SANDBOX_PORT}")
    env["SANDBOX_CALLBACK_SECRET"] = env["FXP_PROVIDERS__SANDBOX__CALLBACK_SECRET"]
    env["SANDBOX_API_KEY"] = env["FXP_PROVIDERS__SANDBOX__API_KEY"]  # only FusionXPay may use the gateway
    # Private targets stay refused: only the dev receiver (the demo merchant's endpoint) is
    # named. A merchant listening on loopback is added to this list, not let through blanket.
    env.setdefault("FXP_WORKERS__WEBHOOK_ALLOWLIST", f"127.0.0.1:{DEV_RECEIVER_PORT}")
    # With workers running, side effects leave through the outbox relay, not in-process.
    env.setdefault("FXP_PAYMENTS__DISPATCH", "outbox" if workers > 0 else "inline")
    child_env = {**os.environ, **env}
    demo = _demo_merchant(data_dir, env)
    processes = [subprocess.Popen(cmd, env=child_env) for cmd in _children(child_env, port, workers)]
    base = f"{'https' if settings.api.tls else 'http'}://127.0.0.1:{port}"
    print(f"""
FusionXPay is starting
  API        {base}
  API docs   {base}/schema  (Swagger UI: {base}/schema/swagger)
  Sandbox    http://127.0.0.1:{SANDBOX_PORT}
  Webhooks   {DEV_RECEIVER_URL}  (the demo merchant's; GET it to see the last ones)
  Data       {data_dir}

Try it (demo merchant key kept in {data_dir / 'demo-merchant.json'}):
  curl -s -X POST {base}/orders -H 'Authorization: Bearer {demo['api_key']}' \\
       -H 'Content-Type: application/json' -H "Idempotency-Key: $(uuidgen || date +%s%N)" \\
       -d '{{"amount": 2500, "currency": "USD", "items": [{{"name": "Mug", "quantity": 1, "unit_amount": 2500}}]}}'

Ctrl-C stops everything.
""", flush=True)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping and all(p.poll() is None for p in processes):
            time.sleep(0.5)
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
    return 0 if stopping else 1
