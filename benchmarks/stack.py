"""The processes a scenario's `Stack` needs next to the server under test: the sandbox
gateway (`python -m sandbox_gateway`) and the workers (`python -m app.workers.main
--processes N`), wired the way `fusionxpay run` (app/entrypoints/supervisor.py) wires them.

- One start per stack: the sandbox, then the API (granian/uvicorn, as for every scenario),
  then the workers; stopped in the reverse order. Every child runs in its own session and
  is stopped by process group; the workers' Dramatiq pool starts a session of its own,
  which is found through /proc and stopped (killed if need be) as well.
- Shared by all of them: the database and Redis of the run, a vault key
  (`FXP_VAULT__KEYS`: the API caches the card, a worker reads it), the sandbox callback
  secret (`FXP_PROVIDERS__SANDBOX__CALLBACK_SECRET` = `SANDBOX_CALLBACK_SECRET`),
  `FXP_PAYMENTS__DISPATCH`, and a Dramatiq namespace of the stack's own
  (`FXP_WORKERS__NAMESPACE`, deleted from Redis when the stack stops).
- The sandbox settles `SANDBOX_CALLBACK_DELAY_S` after accepting a payment: 0.01 s unless
  that variable is set.
- Before workers start, every unpublished outbox row of earlier scenarios is marked
  published (with inline dispatch the API writes outbox rows no one relays): the workers
  start on an empty backlog. They are ready once a probe event went through the relay
  and an actor (processed_events)."""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from tests.processes import free_port, wait_for_http
from benchmarks.cpu import proc_stats
from benchmarks.scenarios import Stack
from benchmarks.servers import ROOT, ServerProcess

SANDBOX_CALLBACK_DELAY_S = "0.01"
WORKERS_READY_TIMEOUT_S = 90.0
WORKERS_STOP_TIMEOUT_S = 45.0  # the pool finishes the messages in hand (its own grace is 30 s)

# A payment.requested row for an attempt that does not exist: the relay publishes it,
# dispatch_payment finds no attempt and records the event in processed_events. Columns
# and payload as PaymentAttempt.start writes them. $1 merchant id, $2 how many rows.
INSERT_PHANTOM_EVENTS_SQL = """
INSERT INTO outbox (id, event_type, aggregate_id, merchant_id, payload, correlation_id, occurred_at)
SELECT gen_random_uuid(), 'payment.requested', a.id, $1,
       jsonb_build_object('payment_id', a.id::text, 'order_id', gen_random_uuid()::text, 'provider', 'sandbox',
                          'amount', 2500, 'currency', 'USD', 'attempt_number', 1),
       'bench-' || a.id::text, now()
FROM (SELECT gen_random_uuid() AS id FROM generate_series(1, $2)) AS a
"""
MARK_BACKLOG_PUBLISHED_SQL = "UPDATE outbox SET published_at = now() WHERE published_at IS NULL"


def _proc_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, process group) of every process (Linux /proc)."""
    return {pid: (int(fields[1]), int(fields[2])) for pid, fields in proc_stats()}


def process_groups(root_pid: int) -> set[int]:
    """The process groups of `root_pid` and all its descendants."""
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    groups, todo = set(), [root_pid]
    while todo:
        pid = todo.pop()
        if pid in table:
            groups.add(table[pid][1])
        todo += children.get(pid, [])
    return groups


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


class Child:
    """A child process in its own session, output to a log file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name, self.command, self.env, self.log_path = name, command, env, log_path
        self.process: subprocess.Popen | None = None
        self._groups: set[int] = set()

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(self.command, env=self.env, cwd=ROOT, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        self._groups = {self.process.pid}

    def groups(self) -> set[int]:
        """Its process groups (its own, and those its descendants started), remembered
        so that stop() still finds them once the parent is gone."""
        if self.process is not None and self.process.poll() is None:
            self._groups |= process_groups(self.process.pid)
        return set(self._groups)

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is None:
            return
        groups = self.groups()
        _kill_group(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        deadline = time.monotonic() + 10
        while any(_group_alive(g) for g in groups) and time.monotonic() < deadline:
            time.sleep(0.1)
        for group in groups:  # anything still there after the grace: killed
            if _group_alive(group):
                _kill_group(group, signal.SIGKILL)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def rabbitmq_vhost() -> Any:
    """A virtual host of our own on FXP_WORKERS__RABBITMQ_URL's server (its management API,
    else rabbitmqctl on this machine): nothing of anyone else's is touched, and deleting it
    removes every queue and message the stack made."""
    from tests.workers.rabbitmq_namespace import RabbitmqNamespace

    url = os.environ.get("FXP_WORKERS__RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
    namespace = RabbitmqNamespace(url)
    namespace.name = f"fxp-bench-{uuid.uuid4().hex[:10]}"  # (the tests' are fxp-test-...)
    namespace.create()
    if namespace.prefix:  # no vhost: the API and workers would declare queues in a shared one
        raise RuntimeError(f"cannot create a RabbitMQ vhost on {url.split('@')[-1]} (management API or "
                           "rabbitmqctl needed): the rabbitmq scenarios need one of their own")
    return namespace


def _wait_http(url: str, child: Child, timeout: float = 30.0) -> None:
    try:
        wait_for_http(url, lambda: not child.exited(), timeout)
    except (RuntimeError, TimeoutError) as exc:
        raise RuntimeError(f"{child.name}: {exc}:\n{child.log_tail()}") from None


@dataclass
class ProbeContext:
    """What a probe scenario gets: the run's database, the started stack, the options."""

    database: Any        # benchmarks.provision.BenchDatabase
    running: RunningStack
    args: Any            # the command line (duration, warmup, worker_processes, ...)


SECURITY_ENV = {
    "default": {"FXP_RATE_LIMIT__ENABLED": "false"},
    # counted on every request, never reached: what is measured is the cost of counting
    "on": {"FXP_RATE_LIMIT__ENABLED": "true", "FXP_RATE_LIMIT__DEFAULT": "1000000/second",
           "FXP_FRAUD__ENABLED": "true", "FXP_ADMIN_API_KEY": "bench-admin-key"},
    "off": {"FXP_RATE_LIMIT__ENABLED": "false", "FXP_FRAUD__ENABLED": "false"},
}


class RunningStack:
    """The server under test for one target, plus what its scenarios' Stack asks for."""

    def __init__(self, stack: Stack, server: str, target: str, server_env: dict[str, str], database: Any,
                 server_workers: int, log_dir: Path, app: str | None) -> None:
        self.stack, self.database, self.log_dir = stack, database, log_dir
        self.namespace = f"fxp_bench_{uuid.uuid4().hex[:10]}"
        self.sandbox: Child | None = None
        self.workers: Child | None = None
        self.env = dict(server_env)
        if target == "api":  # every API worker process must accept the JWTs any of them issued
            self.env.setdefault("FXP_AUTH__JWT_SECRET", secrets.token_urlsafe(48))
        if target == "api":
            self.env |= SECURITY_ENV[stack.security]
            self.env["FXP_AUDIT__ENABLED"] = "true" if stack.audit == "on" else "false"
        if target == "api" and stack != Stack():
            secret = secrets.token_urlsafe(24)
            self.env |= {
                "FXP_PAYMENTS__DISPATCH": stack.dispatch,
                "FXP_VAULT__KEYS": "v1:" + base64.b64encode(os.urandom(32)).decode(),
                "FXP_PROVIDERS__SANDBOX__CALLBACK_SECRET": secret,
                "SANDBOX_CALLBACK_SECRET": secret,
                "SANDBOX_CALLBACK_DELAY_S": os.environ.get("SANDBOX_CALLBACK_DELAY_S", SANDBOX_CALLBACK_DELAY_S),
                "FXP_WORKERS__NAMESPACE": self.namespace,
            }
            if stack.sandbox:
                self.sandbox_port = free_port()
                self.env["FXP_PROVIDERS__SANDBOX__BASE_URL"] = f"http://127.0.0.1:{self.sandbox_port}"
            self.env["FXP_WORKERS__RELAY_ON_COMMIT"] = str(stack.relay_on_commit).lower()
            self.env["FXP_WORKERS__QUEUE_WAKEUPS"] = str(stack.queue_wakeups).lower()
            if stack.webhooks:
                self.webhook_port = free_port()
                self.env["FXP_WORKERS__WEBHOOK_ALLOWLIST"] = f"127.0.0.1:{self.webhook_port}"
        self.rabbitmq: Any = None
        if target == "api" and stack.broker == "rabbitmq":
            self.rabbitmq = rabbitmq_vhost()  # deleted by stop(), with everything in it
            self.env |= {"FXP_WORKERS__BROKER": "rabbitmq", "FXP_WORKERS__RABBITMQ_URL": self.rabbitmq.url}
        elif stack.broker != "redis":
            raise ValueError(f"unknown broker {stack.broker!r}")
        self.api = (ServerProcess(server, target, stack.api_workers or server_workers, self.env, log_dir, app=app)
                    if stack.api else None)
        if self.api is not None and "FXP_VAULT__KEYS" in self.env:
            # callbacks come back to the API under test (workers send this URL to the sandbox too)
            self.env["FXP_PUBLIC_URL"] = self.api.env["FXP_PUBLIC_URL"] = self.api.base_url

    # --- start / stop ----------------------------------------------------------------------

    def start(self) -> None:
        try:
            if self.stack.sandbox:
                self.sandbox = Child("sandbox gateway", [sys.executable, "-m", "sandbox_gateway", "--host",
                                                         "127.0.0.1", "--port", str(self.sandbox_port),
                                                         "--log-level", "warning"],
                                     {**os.environ, **self.env}, self.log_dir / "sandbox.log")
                self.sandbox.start()
                _wait_http(f"http://127.0.0.1:{self.sandbox_port}/health", self.sandbox)
            if self.api is not None:
                self.api.start()
            if self.stack.workers:
                self.start_workers(self.stack.workers)
        except BaseException:
            self.stop()
            raise

    def start_workers(self, processes: int) -> None:
        """`python -m app.workers.main --processes N` on an empty outbox backlog; returns
        once a probe event has gone through the relay and an actor. Workers this stack
        started before (another probe on the same stack) are stopped first: they would
        consume the next measurement's messages outside its CPU accounting."""
        if self.workers is not None:
            self.workers.stop(timeout=WORKERS_STOP_TIMEOUT_S)
            self.workers = None
        asyncio.run(self._execute(MARK_BACKLOG_PUBLISHED_SQL))
        self.workers = Child("workers", [sys.executable, "-m", "app.workers.main", "--processes", str(processes)],
                             {**os.environ, **self.env}, self.log_dir / "workers.log")
        self.workers.start()
        asyncio.run(self._wait_workers_ready())

    def webhook_context(self) -> dict[str, Any]:
        """Point the merchant's webhooks at the load generator's receiver (undone by stop())."""
        url = f"http://127.0.0.1:{self.webhook_port}/webhooks"

        async def point() -> str:
            connection = await asyncpg.connect(self.database.url)
            try:
                return await connection.fetchval(
                    "UPDATE merchants SET webhook_url = $2 WHERE id = $1 RETURNING webhook_secret",
                    uuid.UUID(self.database.merchant_id), url)
            finally:
                await connection.close()

        return {"webhook_port": self.webhook_port, "webhook_secret": asyncio.run(point())}

    def stop(self) -> None:
        try:
            if self.stack.webhooks:  # later scenarios' events must not go to a closed port
                asyncio.run(self._execute("UPDATE merchants SET webhook_url = NULL WHERE id = $1",
                                          uuid.UUID(self.database.merchant_id)))
            if self.workers is not None:
                self.workers.stop(timeout=WORKERS_STOP_TIMEOUT_S)
            if self.api is not None:
                self.api.stop()
            if self.sandbox is not None:
                self.sandbox.stop()
        finally:
            if self.rabbitmq is not None:
                self.rabbitmq.delete()
                self.rabbitmq = None
            if "FXP_WORKERS__NAMESPACE" in self.env:
                delete_redis_namespace(self.database.services.redis_url, self.namespace)

    def died(self) -> str | None:
        """Which process of the stack has exited, with its log tail (None: all running)."""
        if self.api is not None and self.api.process.poll() is not None:
            return f"{self.api.server} ({self.api.target}):\n{self.api.log_tail()}"
        for child in (self.sandbox, self.workers):
            if child is not None and child.exited():
                return f"{child.name}:\n{child.log_tail()}"
        return None

    def components(self) -> dict[str, set[int]]:
        """Process groups per component, for CPU accounting ("server" is the API)."""
        groups: dict[str, set[int]] = {}
        if self.api is not None:
            groups["server"] = {self.api.process.pid}
        if self.sandbox is not None:
            groups["sandbox"] = self.sandbox.groups()
        if self.workers is not None:
            groups["workers"] = self.workers.groups()
        return groups

    # --- database helpers -----------------------------------------------------------------

    async def _execute(self, sql: str, *params: Any) -> Any:
        connection = await asyncpg.connect(self.database.url)
        try:
            return await connection.execute(sql, *params)
        finally:
            await connection.close()

    async def _wait_workers_ready(self) -> None:
        connection = await asyncpg.connect(self.database.url)
        try:
            merchant_id = await connection.fetchval("SELECT id FROM merchants ORDER BY created_at LIMIT 1")
            event_id = await connection.fetchval(INSERT_PHANTOM_EVENTS_SQL + " RETURNING id", merchant_id, 1)
            deadline = time.monotonic() + WORKERS_READY_TIMEOUT_S
            while time.monotonic() < deadline:
                if self.workers.exited():
                    raise RuntimeError(f"the workers exited with {self.workers.process.returncode}:\n"
                                       f"{self.workers.log_tail()}")
                if await connection.fetchval("SELECT 1 FROM processed_events WHERE event_id = $1", event_id):
                    return
                await asyncio.sleep(0.1)
            raise RuntimeError(f"the workers did not process a probe event in {WORKERS_READY_TIMEOUT_S:.0f}s:\n"
                               f"{self.workers.log_tail()}")
        finally:
            await connection.close()


def delete_redis_namespace(redis_url: str, namespace: str) -> int:
    """Drop a Dramatiq namespace's keys (queues, delay queues, heartbeats, acks)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{namespace}:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start:start + 1000])
        return len(keys)
    finally:
        client.close()
