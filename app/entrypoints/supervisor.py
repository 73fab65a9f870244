"""`fusionxpay run`: the whole local stack in one command.

Starts embedded PostgreSQL/Redis when no URLs are configured (data kept under the data
folder across restarts), applies migrations, then runs the API server, the sandbox
gateway and the workers as child processes, restarting any that dies (granian also
respawns its own workers). Ctrl-C or SIGTERM stops everything it started; so does a
SIGKILL of this process: children die with it (PR_SET_PDEATHSIG) and the reaper stops
the embedded servers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from app.entrypoints.child_processes import Child, ChildSupervisor
from app.entrypoints.dev_receiver import DEV_RECEIVER_PORT as DEV_RECEIVER_DEFAULT_PORT
from app.entrypoints.dev_sinks import HTTP_PORT, SMTP_PORT, sink_environment
from app.entrypoints.embedded import embedded_servers, stop_embedded
from app.entrypoints.local_stack import dev_secrets, migrate, provision
from app.entrypoints.orphans import adopt_orphans
from app.entrypoints.reaper import Reaper
from app.entrypoints.server_command import api_server_command
from config.settings import get_settings

SANDBOX_PORT = int(os.environ.get("FXP_SANDBOX_PORT", "8100"))
DEV_RECEIVER_PORT = int(os.environ.get("FXP_DEV_RECEIVER_PORT", str(DEV_RECEIVER_DEFAULT_PORT)))
DEV_RECEIVER_URL = f"http://127.0.0.1:{DEV_RECEIVER_PORT}/webhooks"
# Shopper email and SMS land in local sinks unless a real server/account is configured.
SINKS_SMTP_PORT = int(os.environ.get("FXP_DEV_SMTP_PORT", str(SMTP_PORT)))
SINKS_HTTP_PORT = int(os.environ.get("FXP_DEV_SINKS_PORT", str(HTTP_PORT)))


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


def _children(port: int, api_workers: int, worker_processes: int) -> list[Child]:
    python = sys.executable
    children = [
        # Granian respawns a worker that dies; with two, the other serves meanwhile.
        # HTTPS when FXP_API__TLS_* are set.
        Child("api", api_server_command(get_settings().api, port, api_workers, respawn=True)),
        Child("sandbox", [python, "-m", "sandbox_gateway", "--host", "127.0.0.1", "--port", str(SANDBOX_PORT)]),
        Child("dev-receiver", [python, "-m", "app.entrypoints.dev_receiver", "--host", "127.0.0.1",
                               "--port", str(DEV_RECEIVER_PORT)]),
        Child("dev-sinks", [python, "-m", "app.entrypoints.dev_sinks", "--smtp-port", str(SINKS_SMTP_PORT),
                            "--http-port", str(SINKS_HTTP_PORT)]),
    ]
    if worker_processes > 0:
        children.append(Child("workers", [python, "-m", "app.workers.main", "--processes", str(worker_processes)]))
    return children


def _banner(port: int, data_dir: Path, demo: dict, admin_key: str) -> None:
    base = f"{'https' if get_settings().api.tls else 'http'}://127.0.0.1:{port}"
    secrets_file = data_dir / "dev-secrets.json"
    print(f"""
FusionXPay is starting
  API        {base}
  API docs   {base}/schema  (Swagger UI: {base}/schema/swagger)
  Sandbox    http://127.0.0.1:{SANDBOX_PORT}
  Webhooks   {DEV_RECEIVER_URL}  (the demo merchant's; GET it to see the last ones)
  Shoppers   email and SMS caught at http://127.0.0.1:{SINKS_HTTP_PORT}/messages  (or: ./fusionxpay messages)
  Operators  {base}/dashboard  (admin key {admin_key[:8]}..., FXP_ADMIN_API_KEY in {secrets_file})
  Data       {data_dir}

Try it (the demo merchant's key, {demo['api_key'][:12]}..., is kept in {data_dir / 'demo-merchant.json'}):
  KEY=$(sed -n 's/.*"api_key": "\\([^"]*\\)".*/\\1/p' {data_dir / 'demo-merchant.json'})
  curl -s -X POST {base}/orders -H "Authorization: Bearer $KEY" \\
       -H 'Content-Type: application/json' -H "Idempotency-Key: $(uuidgen || date +%s%N)" \\
       -d '{{"amount": 2500, "currency": "USD", "items": [{{"name": "Mug", "quantity": 1, "unit_amount": 2500}}]}}'

Ctrl-C stops everything.
""", flush=True)


def run_stack(worker_processes: int | None = None, api_workers: int = 2) -> int:
    settings = get_settings()
    workers = 2 if worker_processes is None else worker_processes
    data_dir = Path(settings.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    reaper = Reaper()  # first: whatever starts from here on is stopped when we are gone
    try:
        env = provision(data_dir)
        for pid, signum in embedded_servers():
            reaper.register(pid, signum)
        env.update(dev_secrets(data_dir))  # before the migrations: one seals secrets with the vault key
        migrate(env["FXP_DATABASE_URL"], env)
        port = settings.api.port
        env.setdefault("FXP_PROVIDERS__SANDBOX__BASE_URL", f"http://127.0.0.1:{SANDBOX_PORT}")
        env.update(sink_environment(dict(os.environ), SINKS_SMTP_PORT, SINKS_HTTP_PORT))
        env["SANDBOX_CALLBACK_SECRET"] = env["FXP_PROVIDERS__SANDBOX__CALLBACK_SECRET"]
        env["SANDBOX_API_KEY"] = env["FXP_PROVIDERS__SANDBOX__API_KEY"]  # only FusionXPay may use the gateway
        # Private targets stay refused: only the dev receiver (the demo merchant's endpoint) is
        # named. A merchant listening on loopback is added to this list, not let through blanket.
        env.setdefault("FXP_WORKERS__WEBHOOK_ALLOWLIST", f"127.0.0.1:{DEV_RECEIVER_PORT}")
        # With workers running, side effects leave through the outbox relay, not in-process.
        env.setdefault("FXP_PAYMENTS__DISPATCH", "outbox" if workers > 0 else "inline")
        demo = _demo_merchant(data_dir, env)
        # Children get SIGTERM from PR_SET_PDEATHSIG should we die: the reaper only kills
        # those still there after its grace period.
        children = ChildSupervisor(_children(port, api_workers, workers), {**os.environ, **env},
                                   on_start=lambda child: reaper.register(child.pid, 0, group=True),
                                   spare=frozenset({reaper.pid}))
        adopt_orphans()  # the embedded servers have daemonized already: only our children's
        children.start_all()
        _banner(port, data_dir, demo, env["FXP_ADMIN_API_KEY"])
        try:
            children.run(lambda: stopping)
        finally:
            children.stop_all()
    finally:
        stop_embedded()  # now, not at exit (see embedded._shutdown_redis)
    return 0
