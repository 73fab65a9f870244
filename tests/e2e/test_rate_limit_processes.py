"""Two real API processes sharing one Redis: a rate limit holds in total, not per process."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import httpx

from tests.e2e.live_stack import ROOT, VAULT_KEY, wait_for
from tests.integration.test_orders_api import ORDER
from tests.processes import free_port

LIMIT = 30


def start_api(port: int) -> subprocess.Popen:
    env = {**os.environ, "FXP_PORT": str(port), "FXP_VAULT__KEYS": VAULT_KEY, "FXP_LOG_LEVEL": "WARNING",
           "FXP_RATE_LIMIT__ENABLED": "true", "FXP_RATE_LIMIT__GROUPS": f"orders={LIMIT}/minute"}
    return subprocess.Popen([sys.executable, "-m", "uvicorn", "app.entrypoints.http.asgi:app", "--host", "127.0.0.1",
                             "--port", str(port), "--no-access-log", "--log-level", "warning"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def test_the_limit_holds_across_two_api_processes(merchant):
    ports = [free_port(), free_port()]
    processes = [start_api(port) for port in ports]
    try:
        for port, process in zip(ports, processes, strict=True):
            await asyncio.to_thread(wait_for, f"http://127.0.0.1:{port}/health", process)
        async with httpx.AsyncClient(timeout=30) as client:
            async def create(n: int) -> int:
                url = f"http://127.0.0.1:{ports[n % 2]}/orders"
                return (await client.post(url, json=ORDER, headers=merchant.headers)).status_code

            statuses = await asyncio.gather(*[create(n) for n in range(100)])
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
    assert sorted(set(statuses)) == [201, 429]
    assert statuses.count(201) == LIMIT and statuses.count(429) == 100 - LIMIT
