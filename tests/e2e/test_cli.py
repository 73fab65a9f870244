"""The README's CLI commands as a newcomer runs them: `./fusionxpay ...` from the checkout,
no FXP_ URLs, the embedded servers under the data folder; while `make run` (the
supervisor) runs on that folder, and while nothing runs. stdout is JSON only; expected
failures are one line on stderr and a non-zero exit."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

import httpx
import psutil
import pytest

from tests.e2e.live_stack import ROOT
from tests.e2e.test_supervisor import RunningStack
from tests.processes import free_port

WRAPPER = ROOT / "fusionxpay"


def cli(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`./fusionxpay args` with a newcomer's environment: no FXP_ variable but the data folder."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FXP_")}
    return subprocess.run([str(WRAPPER), *args], env={**clean, "FXP_DATA_DIR": str(data_dir), **env},
                          cwd=ROOT, capture_output=True, text=True, timeout=180)


def answer(done: subprocess.CompletedProcess) -> dict:
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return json.loads(done.stdout)  # the whole of stdout: `| jq` works


def servers_of(data_dir: Path) -> list[str]:
    """Processes still running on the data folder (the embedded PostgreSQL and Redis)."""
    found = []
    for process in psutil.process_iter():
        try:
            if str(data_dir) in " ".join(process.cmdline()) and process.status() != psutil.STATUS_ZOMBIE:
                found.append(" ".join(process.cmdline())[:100])
        except psutil.Error:
            continue
    return found


def failure(done: subprocess.CompletedProcess) -> str:
    """An expected failure: non-zero, nothing on stdout, one line on stderr, no traceback."""
    assert done.returncode != 0
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    return lines[0]


@pytest.mark.slow
def test_readme_merchant_create_on_a_fresh_clone_without_make_run(run_dirs):
    data_dir = run_dirs("cli-alone")
    created = answer(cli(data_dir, "merchants", "create", "--name", "My shop",
                         "--webhook-url", "https://shop.example/hooks"))
    assert created["name"] == "My shop" and created["api_key"].startswith("sk_test_")
    assert created["webhook_secret"].startswith("whsec_")
    # It started the embedded servers, migrated them, and stopped them again.
    assert (data_dir / "pgdata" / "PG_VERSION").exists()
    assert servers_of(data_dir) == []
    again = answer(cli(data_dir, "merchants", "create", "--name", "Second shop"))
    assert again["merchant_id"] != created["merchant_id"]
    assert servers_of(data_dir) == []


@pytest.mark.slow
def test_readme_merchant_create_while_make_run_runs(run_dirs, tmp_path):
    data_dir = run_dirs("cli-with-run")
    stack = RunningStack(data_dir, tmp_path / "run.log")
    try:
        created = answer(cli(data_dir, "merchants", "create", "--name", "My shop",
                             "--webhook-url", "https://shop.example/hooks"))
        # The merchant is in make run's database: its key works on make run's API.
        orders = httpx.get(f"{stack.api_url}/orders", headers={"Authorization": f"Bearer {created['api_key']}"})
        assert orders.status_code == 200, orders.text
        # The command joined make run's servers and left them running.
        assert httpx.get(f"{stack.api_url}/ready").status_code == 200
        manage_while_running(data_dir, stack, created)
    finally:
        stack.close()
    assert servers_of(data_dir) == []


def manage_while_running(data_dir: Path, stack: RunningStack, created: dict) -> None:
    """The README's merchant management commands against make run's API processes: what
    the CLI changes, the API's in-process key caches see at once."""
    merchant_id, old_key = created["merchant_id"], created["api_key"]

    def status(key: str) -> int:
        return httpx.get(f"{stack.api_url}/orders", headers={"Authorization": f"Bearer {key}"}).status_code

    listed = answer(cli(data_dir, "merchants", "list"))
    assert merchant_id in [m["id"] for m in listed["data"]]
    updated = answer(cli(data_dir, "merchants", "update", merchant_id, "--webhook-url", "https://shop.example/v2"))
    assert updated["webhook_url"] == "https://shop.example/v2"
    rotated = answer(cli(data_dir, "merchants", "rotate-key", merchant_id, "--grace-period", "0"))
    assert rotated["api_key"] and rotated["previous_key_expires_at"]
    assert status(rotated["api_key"]) == 200
    assert status(old_key) == 401  # no grace: refused at once, though every API worker had it cached
    secret = answer(cli(data_dir, "merchants", "rotate-webhook-secret", merchant_id, "--idempotency-key", "s-1"))
    assert secret["webhook_secret"].startswith("whsec_")
    assert answer(cli(data_dir, "merchants", "rotate-webhook-secret", merchant_id, "--idempotency-key", "s-1"))[
        "replayed"]
    shown = answer(cli(data_dir, "merchants", "show", merchant_id))
    assert shown["webhook_secret_overlap_until"] and len(shown["api_keys"]) == 2
    for _ in range(4):  # every API worker process caches the key
        assert status(rotated["api_key"]) == 200
    assert answer(cli(data_dir, "merchants", "deactivate", merchant_id))["changed"]
    assert [status(rotated["api_key"]) for _ in range(4)] == [401] * 4
    refused = cli(data_dir, "merchants", "show", str(uuid.uuid4()))
    assert refused.returncode == 2 and json.loads(refused.stderr)["error"] == "not_found"


def test_a_bad_setting_is_one_line_naming_the_variable(tmp_path):
    line = failure(cli(tmp_path, "merchants", "create", "--name", "x", FXP_PORT="eighty"))
    assert line == "fusionxpay: error: FXP_PORT='eighty' is invalid: expected an integer"
    line = failure(cli(tmp_path, "merchants", "create", "--name", "x", FXP_DATABSE_URL="postgresql://x"))
    assert "unknown setting FXP_DATABSE_URL" in line and "did you mean FXP_DATABASE_URL?" in line


def test_an_unreachable_database_is_one_line_naming_the_fix(tmp_path):
    url = f"postgresql://postgres:hunter2@127.0.0.1:{free_port()}/fusionxpay"
    line = failure(cli(tmp_path, "merchants", "create", "--name", "x", FXP_DATABASE_URL=url))
    assert "cannot connect to PostgreSQL at FXP_DATABASE_URL" in line and "unset FXP_DATABASE_URL" in line
    assert "hunter2" not in line


def test_a_busy_port_is_one_line_naming_the_variable(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = failure(cli(tmp_path, "run", FXP_PORT=str(port)))
    assert f"port {port} on 127.0.0.1 is in use" in line and "FXP_PORT" in line
    assert not (tmp_path / "pgdata").exists()  # checked before anything started
