"""Worker liveness and readiness (issue 17, item 6): `app.workers.main --probe-port` is
ready once its worker process has booted its Container and beats; a worker process that
is SIGSTOPped (a wedged loop) stops beating and the deployment stops being live."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.processes import free_port
from tests.workers.test_worker_process import worker_env

ROOT = Path(__file__).resolve().parents[2]


async def _status(client: httpx.AsyncClient, url: str) -> tuple[int, dict]:
    try:
        response = await client.get(url)
    except httpx.TransportError:
        return 0, {}
    return response.status_code, response.json()


async def _until_status(client, url: str, status: int, process, log: Path, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        assert process.poll() is None, log.read_text()[-3000:]
        code, body = await _status(client, url)
        if code == status:
            return body
        assert time.monotonic() < deadline, f"{url}: {code} {body}\n{log.read_text()[-3000:]}"
        await asyncio.sleep(0.2)


async def test_probes_report_ready_workers_and_a_wedged_one_as_not_live(tmp_path):
    port, log = free_port(), tmp_path / "workers.log"
    env = worker_env(FXP_WORKERS__HEARTBEAT_S="0.2", FXP_WORKERS__HEARTBEAT_STALE_S="2")
    process = subprocess.Popen([sys.executable, "-m", "app.workers.main", "--processes", "1", "--threads", "2",
                                "--probe-port", str(port)], cwd=ROOT, env=env, stdout=log.open("w"),
                               stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    stopped: list[int] = []
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            body = await _until_status(client, f"{base}/ready", 200, process, log, 60)
            assert body["ready_processes"] == 1 and body["pool_running"] is True
            assert body["scheduler_leader"] is True  # the only scheduler on this namespace
            code, live = await _status(client, f"{base}/live")
            assert code == 200 and live["stale"] == []
            assert (await client.get(f"{base}/nope")).status_code == 404

            [pid] = [int(p) for p in body["beats"]]
            os.kill(pid, signal.SIGSTOP)  # its loop no longer runs: no beats
            stopped.append(pid)
            body = await _until_status(client, f"{base}/live", 503, process, log, 15)
            assert body["stale"] == [pid]
            assert (await client.get(f"{base}/ready")).status_code == 503
            os.kill(pid, signal.SIGCONT)
            stopped.clear()
            await _until_status(client, f"{base}/live", 200, process, log, 15)
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
        process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(process.wait, 30)
    assert code == 0


def test_the_pool_consumes_once_one_of_its_processes_has_booted(tmp_path):
    # The gate of the relay on commit: a live process of the running pool beating "1".
    from app.workers.probes import WorkerHealth

    health = WorkerHealth(tmp_path, processes=2, stale_s=60)
    beat = tmp_path / str(os.getpid())  # a live pid stands for a worker process
    beat.write_text("1")
    assert not health.consuming()  # no pool running
    health.pool_started = time.monotonic()
    assert health.consuming()  # one of two is enough: its consumers take the messages
    beat.write_text("0")  # still booting its Container
    assert not health.consuming()
