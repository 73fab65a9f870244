"""Benchmark scenarios: a name, the app it targets, a request factory and an optional setup.

Adding a scenario is one small function plus one `register(...)` call:

    def _capture_payment(ctx: dict, n: int) -> Request:
        order_id = ctx["order_ids"][n % len(ctx["order_ids"])]
        return Request("POST", f"/orders/{order_id}/payments", _auth(ctx, idempotent=True), body=...)

    register(Scenario("payments.create", "POST /orders/{id}/payments", "api", _capture_payment,
                      setup=_create_orders, unique_headers=("Idempotency-Key",)))

- The request factory `(ctx, n) -> Request` runs inside the load generator process for every
  request (`n` is the running request number of this run). `ctx` is JSON: `{"api_key": ...}`
  merged with whatever the setup returned.
- The setup `async (SetupContext) -> dict` runs in the harness once per server round, after
  the server is up and before the warm-up (e.g. create the orders a read scenario fetches).
- `unique_headers` names headers whose value must never repeat (Idempotency-Key). The
  Python generator calls the factory per request, so a fresh uuid is enough; wrk replays a
  pool of pre-built requests and appends a per-request suffix to these headers instead.

Besides single requests (`kind="requests"`, the default) there are two more kinds, each in
its own module that registers its scenarios (imported at the end of this file):

- `kind="flow"` (benchmarks/payment_flow.py): each virtual user of the Python load
  generator runs a multi-step coroutine (create an order, pay it, poll until it is paid);
  throughput and latency are those of whole flows. wrk cannot chain requests.
- `kind="probe"` (benchmarks/worker_throughput.py): a measurement the harness runs itself
  against the database, the broker and worker processes (no load generator).

`stack` says what must run next to the API (payment dispatch mode, sandbox gateway,
workers); scenarios with the same stack share one start of it. `on_demand` scenarios run
only when named in `--scenarios`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class SetupContext:
    base_url: str
    api_key: str
    client: Any  # httpx.AsyncClient bound to base_url, Authorization header preset
    merchant_id: str = ""


@dataclass(frozen=True)
class Goal:
    """What a scenario is held to, relative to the baseline under the same server."""

    min_rps_ratio: float    # throughput >= this x baseline throughput
    max_p99_ratio: float    # p99 latency <= this x baseline p99


RequestFactory = Callable[[dict[str, Any], int], Request]
Setup = Callable[[SetupContext], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Stack:
    """What runs for a scenario next to (or instead of) the API server under test."""

    dispatch: str = "inline"  # FXP_PAYMENTS__DISPATCH: "inline" (in the API process) or "outbox" (workers)
    sandbox: bool = False     # the sandbox gateway (`python -m sandbox_gateway`), one process
    workers: int = 0          # `python -m app.workers.main --processes N` (0: none)
    api: bool = True          # the API itself (a probe may not need it)
    # Rate limits and fraud rules: "default" (rate limits off so load is not refused, fraud
    # screening on with no rules), "on" (both on: limits never reached, a rule set
    # evaluated on every payment), "off" (both switched off).
    security: str = "default"
    audit: str = "on"  # FXP_AUDIT__ENABLED: the audit trail "on" (as deployed) or "off"
    # A webhook receiver in the load generator (benchmarks/webhook_flow.py): the stack's
    # merchant gets its URL, the workers allow that loopback target.
    webhooks: bool = False
    relay_on_commit: bool = True  # FXP_WORKERS__RELAY_ON_COMMIT (payment.flow.webhook_poll turns it off)
    queue_wakeups: bool = True  # FXP_WORKERS__QUEUE_WAKEUPS (payment.flow.webhook_before turns it off)
    api_workers: int = 0  # API server processes of this stack (0: the run's --workers)
    # FXP_WORKERS__BROKER of the API and the workers: "redis" (the run's Redis, a namespace of
    # the stack's own) or "rabbitmq" (FXP_WORKERS__RABBITMQ_URL's server, a vhost of its own).
    broker: str = "redis"


API_ONLY = Stack()

# A flow: one iteration of a virtual user (benchmarks.loadgen.VirtualUser), e.g. one payment.
Flow = Callable[[Any, dict[str, Any]], Awaitable[None]]
# A probe: the harness measures by itself (benchmarks.run.ProbeContext) -> result rows.
Probe = Callable[[Any], list[dict[str, Any]]]


@dataclass(frozen=True)
class Scenario:
    name: str            # CLI / JSON name, e.g. "orders.create"
    title: str           # what the table shows, e.g. "POST /orders"
    target: str          # "api" (FusionXPay) or "baseline" (benchmarks/baseline_app.py)
    request: RequestFactory | None = None  # kind "requests"
    setup: Setup | None = None
    unique_headers: tuple[str, ...] = ()
    goal: Goal | None = None
    description: str = ""
    kind: str = "requests"  # "requests" | "flow" | "probe"
    flow: Flow | None = None    # kind "flow"
    probe: Probe | None = None  # kind "probe"
    stack: Stack = API_ONLY
    unit: str = "req"       # what the throughput counts ("req", "pay", "evt", "run")
    on_demand: bool = False  # not in the default --scenarios list
    versus: str | None = None  # another scenario this one is compared with (same server, same run)


SCENARIOS: dict[str, Scenario] = {}
BASELINE = "baseline.insert"
KINDS = ("requests", "flow", "probe")


def register(scenario: Scenario) -> Scenario:
    if scenario.target not in ("api", "baseline"):
        raise ValueError(f"unknown target {scenario.target!r}")
    if scenario.kind not in KINDS:
        raise ValueError(f"unknown kind {scenario.kind!r}")
    function = "request" if scenario.kind == "requests" else scenario.kind
    if getattr(scenario, function) is None:
        raise ValueError(f"scenario {scenario.name}: kind {scenario.kind!r} needs `{function}`")
    SCENARIOS[scenario.name] = scenario
    return scenario


# --- shared bits -------------------------------------------------------------------------

ORDER_BODY = msgspec.json.encode(
    {"amount": 2500, "currency": "USD", "items": [{"name": "Mug", "quantity": 1, "unit_amount": 2500}]}
)
JSON = {"Content-Type": "application/json"}


def _auth(ctx: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {ctx['api_key']}"}


async def _create_orders(setup: SetupContext, count: int = 200, concurrency: int = 8) -> list[str]:
    """Create `count` orders through the API itself; returns their ids."""
    ids: list[str] = []

    async def one() -> None:
        response = await setup.client.post(
            "/orders", content=ORDER_BODY, headers={**JSON, "Idempotency-Key": f"setup-{uuid.uuid4().hex}"}
        )
        response.raise_for_status()
        ids.append(response.json()["id"])

    for start in range(0, count, concurrency):
        await asyncio.gather(*(one() for _ in range(min(concurrency, count - start))))
    return ids


# --- baseline ----------------------------------------------------------------------------

def _baseline_insert(ctx: dict[str, Any], n: int) -> Request:
    return Request("POST", "/baseline", dict(JSON), ORDER_BODY)


register(Scenario(
    BASELINE, "baseline INSERT", "baseline", _baseline_insert,
    description="minimal Litestar + asyncpg app: parse the body, INSERT one row (autocommit)",
))


# --- orders ------------------------------------------------------------------------------

def _order_create(ctx: dict[str, Any], n: int) -> Request:
    headers = {**_auth(ctx), **JSON, "Idempotency-Key": f"bench-{uuid.uuid4().hex}"}
    return Request("POST", "/orders", headers, ORDER_BODY)


register(Scenario(
    "orders.create", "POST /orders", "api", _order_create, unique_headers=("Idempotency-Key",),
    goal=Goal(min_rps_ratio=0.7, max_p99_ratio=2.0),
    description="create an order with a fresh Idempotency-Key per request",
))


async def _order_get_setup(setup: SetupContext) -> dict[str, Any]:
    return {"order_ids": await _create_orders(setup)}


def _order_get(ctx: dict[str, Any], n: int) -> Request:
    ids = ctx["order_ids"]
    return Request("GET", f"/orders/{ids[n % len(ids)]}", _auth(ctx))


register(Scenario(
    "orders.get", "GET /orders/{id}", "api", _order_get, setup=_order_get_setup,
    description="read one of 200 orders created beforehand (with payments and refunds)",
))


# --- the payment flow and the workers (on demand; their modules register them) ----------

from benchmarks import (  # noqa: E402,F401
    admin_dashboard, audit_cost, auth, catalog, notifications, payment_flow, payment_steps, scaling, security,
    webhook_flow, worker_throughput,
)
