"""`fusionxpay run` (the supervisor) as a user runs it, embedded PostgreSQL and Redis
included: processes killed with SIGKILL come back while the API keeps answering, and
however the supervisor itself is stopped (SIGINT, SIGTERM, SIGKILL) nothing it started
is left running."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.processes import free_port, wait_for_http
from tests.e2e.live_stack import ROOT

ORDER = {"amount": 2500, "currency": "USD", "items": [{"name": "Mug", "quantity": 1, "unit_amount": 2500}]}
CARD = {"type": "card", "number": "4242424242424242", "exp_month": 12, "exp_year": 2035, "cvc": "123"}


class RunningStack:
    def __init__(self, data_dir: Path, log: Path) -> None:
        self.data_dir = data_dir
        self.api_url = f"http://127.0.0.1:{free_port()}"
        self.sinks_port = free_port()  # shopper email/SMS caught by the local sinks
        env = {k: v for k, v in os.environ.items() if k not in ("FXP_DATABASE_URL", "FXP_REDIS_URL")}
        env.update(FXP_DATA_DIR=str(data_dir), FXP_PORT=self.api_url.rsplit(":", 1)[1],
                   FXP_SANDBOX_PORT=str(free_port()), FXP_DEV_RECEIVER_PORT=str(free_port()), FXP_LOG_LEVEL="WARNING",
                   FXP_DEV_SMTP_PORT=str(free_port()), FXP_DEV_SINKS_PORT=str(self.sinks_port),
                   FXP_WORKERS__RELAY_INTERVAL_S="0.1", FXP_WORKERS__IDLE_POLL_MS="100")
        self._log = log.open("a")
        self.process = subprocess.Popen([sys.executable, "-m", "app.entrypoints.cli", "run", "--workers", "1"],
                                        cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)  # as from a terminal of its own
        wait_for_http(f"{self.api_url}/health", lambda: self.process.poll() is None, timeout_s=120)
        self.api_key = json.loads((data_dir / "demo-merchant.json").read_text())["api_key"]

    def child(self, name: str) -> psutil.Process:
        """The supervisor's child running `name` (granian, app.workers.main, sandbox_gateway)."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for child in psutil.Process(self.process.pid).children():
                try:
                    if any(name in part for part in child.cmdline()):
                        return child
                except psutil.Error:
                    continue
            time.sleep(0.1)
        raise AssertionError(f"no {name} child")

    def everything(self) -> list[psutil.Process]:
        """The supervisor, its descendants and the embedded servers (they run in, or name,
        the data folder)."""
        found = {self.process.pid: psutil.Process(self.process.pid)}
        found.update({p.pid: p for p in found[self.process.pid].children(recursive=True)})
        for process in psutil.process_iter():
            try:
                if str(self.data_dir) in " ".join([process.cwd(), *process.cmdline()]):
                    found[process.pid] = process
                    found.update({p.pid: p for p in process.children(recursive=True)})
            except psutil.Error:
                continue
        return list(found.values())

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)
        self._log.close()


def gone(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_until(check, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


class HealthPoller(threading.Thread):
    """GET /health every 20 ms in the background: what a client sees while we kill things."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.ok, self.failed, self._halt = url, 0, 0, threading.Event()
        self.longest_gap_s, self._last_ok = 0.0, time.monotonic()

    def run(self) -> None:
        with httpx.Client(timeout=2) as client:
            while not self._halt.is_set():
                try:
                    if client.get(self.url).status_code == 200:
                        self.ok += 1
                        now = time.monotonic()
                        self.longest_gap_s = max(self.longest_gap_s, now - self._last_ok)
                        self._last_ok = now
                except httpx.TransportError:
                    self.failed += 1
                time.sleep(0.02)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def paid(stack: RunningStack) -> str:
    """A payment through the API, the outbox relay, the workers and the sandbox."""
    headers = {"Authorization": f"Bearer {stack.api_key}"}
    with httpx.Client(base_url=stack.api_url, timeout=10) as api:
        order = api.post("/orders", json=ORDER, headers={**headers, "Idempotency-Key": os.urandom(8).hex()}).json()
        response = api.post("/payments", json={"order_id": order["id"], "provider": "sandbox", "payment_method": CARD},
                            headers={**headers, "Idempotency-Key": os.urandom(8).hex()})
        assert response.status_code == 202, response.text
        deadline = time.monotonic() + 60
        while (status := api.get(f"/orders/{order['id']}", headers=headers).json()["status"]) not in (
                "PAYMENT_DONE", "PAYMENT_FAILED"):
            assert time.monotonic() < deadline, f"payment stuck in {status}"
            time.sleep(0.2)
    return status


@pytest.fixture(scope="module")
def data_dir(run_dirs) -> Path:
    return run_dirs("make-run")  # shared by the tests: PostgreSQL is initialised once


@pytest.mark.slow
def test_killed_processes_come_back_and_the_api_keeps_answering(data_dir, tmp_path):
    stack = RunningStack(data_dir, tmp_path / "run.log")
    try:
        api = stack.child("granian")
        poller = HealthPoller(f"{stack.api_url}/health")
        poller.start()
        try:
            [victim, *_] = api.children()
            victim.kill()  # one of the two API workers: the other serves, granian respawns it
            wait_until(lambda: len([p for p in api.children() if not gone(p) and p.pid != victim.pid]) == 2,
                       30, "granian did not respawn its worker")
            before = poller.ok
            wait_until(lambda: poller.ok > before + 10, 10, "the API stopped answering")
        finally:
            poller.stop()
        # The other worker keeps serving; what the killed one had accepted is reset, and the
        # respawn costs a blip (about 0.2 s measured on an idle machine; bounded generously
        # for a loaded CI runner), not an outage.
        print(f"\nAPI worker SIGKILLed: {poller.failed} failed health checks, longest gap "
              f"{poller.longest_gap_s * 1000:.0f} ms, {poller.ok} answered")
        assert poller.longest_gap_s < 3.0, f"the API stopped answering for {poller.longest_gap_s:.2f} s"
        assert api.is_running() and not gone(api)

        workers = stack.child("app.workers.main")
        [pool] = workers.children()
        pool.children()[0].kill()  # a Dramatiq worker process: the pool is restarted
        wait_until(lambda: [p.pid for p in workers.children() if not gone(p)] not in ([], [pool.pid]), 60,
                   "the worker pool was not restarted")
        assert paid(stack) == "PAYMENT_DONE"

        workers.kill()  # the whole workers process: the supervisor starts a new one
        wait_until(lambda: stack.child("app.workers.main").pid != workers.pid, 30, "workers not restarted")
        old_api_workers = api.children()
        api.kill()  # granian itself: the supervisor starts a new one
        wait_until(lambda: stack.child("granian").pid != api.pid, 30, "API server not restarted")
        # The killed granian's workers may still answer on the port until the supervisor reaps
        # them: wait for them to be gone, so the health check below reaches the new server.
        wait_until(lambda: all(gone(p) for p in old_api_workers), 30, "the old API workers were left running")
        wait_for_http(f"{stack.api_url}/health", lambda: stack.process.poll() is None, timeout_s=60)
        assert paid(stack) == "PAYMENT_DONE"
        assert httpx.get(f"{stack.api_url}/ready").status_code == 200
    finally:
        stack.close()


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
def test_stopping_the_supervisor_leaves_no_process_behind(data_dir, tmp_path, stop_signal):
    stack = RunningStack(data_dir, tmp_path / "run.log")
    try:
        started = stack.everything()
        names = " ".join(" ".join(p.cmdline()) for p in started)
        for expected in ("granian", "sandbox_gateway", "app.workers.main", "dramatiq", "postgres", "redis-server",
                         "app.entrypoints.reaper"):
            assert expected in names, f"{expected} not running: {names}"
        stack.process.send_signal(stop_signal)
        wait_until(lambda: all(gone(p) for p in started), 60,
                   f"left behind after {stop_signal.name}: "
                   f"{[' '.join(p.cmdline())[:80] for p in started if not gone(p)]}")
        assert not [p for p in stack.everything() if not gone(p) and p.pid != stack.process.pid]
    finally:
        stack.close()
