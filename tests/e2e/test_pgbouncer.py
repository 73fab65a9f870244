"""The API behind PgBouncer in transaction mode (issue 17, item 7): with
FXP_DATABASE__PGBOUNCER=true (asyncpg's statement cache off, no session settings at
connect) concurrent orders, idempotent replays and payments work while ten client
connections share two server connections. A real PgBouncer (Debian package `pgbouncer`,
which .ci/run installs) in front of the session's PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.e2e.live_stack import ROOT, VAULT_KEY
from tests.integration.test_orders_api import ORDER
from tests.processes import free_port, wait_for_http

PGBOUNCER = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)


async def _server(url: str) -> dict[str, str]:
    connection = await asyncpg.connect(url)
    try:
        row = await connection.fetchrow(
            "SELECT current_database() AS db, current_user AS usr, current_setting('port') AS port, "
            "current_setting('unix_socket_directories') AS sockets, inet_server_addr()::text AS addr")
    finally:
        await connection.close()
    host = row["addr"].split("/")[0] if row["addr"] else row["sockets"].split(",")[0].strip()
    return {"db": row["db"], "user": row["usr"], "port": row["port"], "host": host}


@pytest.fixture
async def pgbouncer(settings, tmp_path):
    if PGBOUNCER is None:
        pytest.skip("the pgbouncer binary is not installed (apt-get install pgbouncer; .ci/run does)")
    server = await _server(settings.database.url)
    password = asyncpg.connect_utils._parse_connect_dsn_and_args(  # the URL's password, if any
        dsn=settings.database.url, host=None, port=None, user=None, password=None, passfile=None,
        database=None, ssl=None, direct_tls=None, server_settings=None, target_session_attrs=None,
        krbsrvname=None, gsslib=None, service=None, servicefile=None)[1].password or ""
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="fxp-pgbouncer-"))  # readable by the user PgBouncer runs as
    (folder / "users.txt").write_text(f'"{server["user"]}" ""\n')
    (folder / "pgbouncer.ini").write_text(f"""
[databases]
{server['db']} = host={server['host']} port={server['port']} dbname={server['db']} user={server['user']} {'password=' + password if password else ''}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder / 'users.txt'}
pool_mode = transaction
default_pool_size = 2
max_client_conn = 100
ignore_startup_parameters = extra_float_digits
server_reset_query =
""")
    os.chmod(folder, 0o755)
    for path in folder.iterdir():
        os.chmod(path, 0o644)
    command = [PGBOUNCER, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root: run it as the socket's owner
        owner = Path(server["host"]).stat().st_uid if server["host"].startswith("/") else 65534
        command[1:1] = ["-u", pwd.getpwuid(owner).pw_name if owner else "nobody"]
    output = (tmp_path / "pgbouncer.out").open("w")
    process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    url = f"postgresql://{server['user']}@127.0.0.1:{port}/{server['db']}"
    try:
        for _ in range(100):
            try:
                connection = await asyncpg.connect(url, statement_cache_size=0, timeout=3)
                await connection.close()
                break
            except (OSError, TimeoutError, asyncpg.PostgresError):
                assert process.poll() is None, (tmp_path / "pgbouncer.out").read_text()
                await asyncio.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


async def test_api_behind_pgbouncer_in_transaction_mode(pgbouncer, merchant):
    port = free_port()
    env = {**os.environ, "FXP_DATABASE_URL": pgbouncer, "FXP_DATABASE__PGBOUNCER": "true",
           "FXP_DATABASE__POOL_MIN": "5", "FXP_DATABASE__POOL_MAX": "10",
           "FXP_PORT": str(port), "FXP_VAULT__KEYS": VAULT_KEY, "FXP_LOG_LEVEL": "WARNING",
           "FXP_PAYMENTS__DISPATCH": "outbox", "FXP_RATE_LIMIT__ENABLED": "false"}
    api = subprocess.Popen([sys.executable, "-m", "uvicorn", "app.entrypoints.http.asgi:app", "--host", "127.0.0.1",
                            "--port", str(port), "--no-access-log", "--log-level", "warning"],
                           cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        await asyncio.to_thread(wait_for_http, f"{base}/ready", lambda: api.poll() is None, 60)
        async with httpx.AsyncClient(base_url=base, headers=merchant.headers, timeout=30) as client:
            keys = [f"pgb-{uuid.uuid4().hex}" for _ in range(30)]

            async def create(key: str) -> httpx.Response:
                return await client.post("/orders", json=ORDER, headers={"Idempotency-Key": key})

            created = await asyncio.gather(*(create(key) for key in keys))
            assert [r.status_code for r in created] == [201] * 30, [r.text for r in created if r.status_code != 201]
            replayed = await asyncio.gather(*(create(key) for key in keys))  # same keys: the stored answers
            assert [r.json()["id"] for r in replayed] == [r.json()["id"] for r in created]
            reads = await asyncio.gather(*(client.get(f"/orders/{r.json()['id']}") for r in created))
            assert {r.status_code for r in reads} == {200}
            ready = (await client.get("/ready")).json()
            assert ready["status"] == "ok", ready
    finally:
        api.terminate()
        await asyncio.to_thread(api.wait, 30)
