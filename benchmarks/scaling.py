"""Scaling out, as ratios within one run (issue 17, item 8): `--scenarios scale`.

Each scenario is the same work on a differently sized stack, so what a second process buys
(or what RabbitMQ costs against Redis) is read as a ratio of two rows measured minutes
apart on the same machine, database and code:

| scenario | API processes | worker processes | broker | work |
|---|---|---|---|---|
| `scale.orders.a1` / `a2` | 1 / 2 | - | - | POST /orders (closed loop, `--concurrency`) |
| `scale.flow.a1w2` | 1 | 2 | Redis | the webhook-driven payment flow (`benchmarks/webhook_flow.py`) |
| `scale.flow.a2w1` | 2 | 1 | Redis | the same |
| `scale.flow.a2w2` | 2 | 2 | Redis | the same (the reference of the three ratios below) |
| `scale.flow.a2w2_rabbitmq` | 2 | 2 | RabbitMQ | the same |
| `scale.workers.redis1` / `redis2` | - | 1 / 2 | Redis | outbox events through the relay and a `dispatch_payment` run each (`benchmarks/worker_throughput.py`) |
| `scale.workers.rabbitmq1` / `rabbitmq2` | - | 1 / 2 | RabbitMQ | the same |

RabbitMQ (FXP_WORKERS__RABBITMQ_URL, default amqp://guest:guest@127.0.0.1:5672/) gets a
virtual host per stack, deleted with everything in it when the stack stops
(`benchmarks/stack.py: rabbitmq_vhost`); Redis a key namespace per stack, likewise.

The run ends with "Scaling, same run": each ratio's throughput and CPU per operation. On a
machine with fewer cores than the stack has busy processes, a second process cannot add
much throughput: read the CPU per operation (does the work cost more per payment when
spread over more processes?) next to the throughput ratio."""

from __future__ import annotations

import asyncio
from typing import Any

from benchmarks.scenarios import Scenario, Stack, _order_create, register
from benchmarks.webhook_flow import pay_and_wait_for_webhook

GROUP = "scale"


def _flow(name: str, title: str, api: int, workers: int, broker: str = "redis") -> None:
    register(Scenario(
        name, title, "api", kind="flow", flow=pay_and_wait_for_webhook, unit="pay", on_demand=True,
        stack=Stack(dispatch="outbox", sandbox=True, workers=workers, webhooks=True, api_workers=api, broker=broker),
        description=f"payment.flow.webhook on {api} API process(es), {workers} worker process(es), {broker}",
    ))


def _worker_probe(processes: int, broker: str) -> Any:
    def measure(ctx: Any) -> list[dict[str, Any]]:
        from benchmarks.worker_throughput import _through_workers

        ctx.running.start_workers(processes)
        rows = asyncio.run(_through_workers(ctx, processes))
        # (the rows of both brokers would read alike in the table)
        return [{**row, "title": f"{row['title'].replace(' workers', ' wrk')}, {broker}"} for row in rows]

    return measure


def _workers(name: str, title: str, processes: int, broker: str) -> None:
    register(Scenario(
        name, title, "api", kind="probe", probe=_worker_probe(processes, broker), on_demand=True,
        stack=Stack(dispatch="outbox", api=False, broker=broker),
        description=f"outbox events relayed and dispatch_payment runs through {processes} worker process(es), "
                    f"{broker}",
    ))


for _api in (1, 2):
    register(Scenario(
        f"scale.orders.a{_api}", f"POST /orders, {_api} API", "api", _order_create,
        unique_headers=("Idempotency-Key",), stack=Stack(api_workers=_api), on_demand=True,
        description=f"POST /orders on {_api} API process(es)",
    ))
_flow("scale.flow.a1w2", "pay, 1 API 2 wrk", 1, 2)
_flow("scale.flow.a2w1", "pay, 2 API 1 wrk", 2, 1)
_flow("scale.flow.a2w2", "pay, 2 API 2 wrk", 2, 2)
_flow("scale.flow.a2w2_rabbitmq", "pay, 2/2, RabbitMQ", 2, 2, "rabbitmq")
for _broker in ("redis", "rabbitmq"):
    for _processes in (1, 2):
        _workers(f"scale.workers.{_broker}{_processes}", f"{_broker}, {_processes} wrk", _processes, _broker)

# (what, numerator, denominator, metric of probe rows): each a ratio within the run
RATIOS = [
    ("POST /orders, API processes 2 / 1", "scale.orders.a2", "scale.orders.a1", None),
    ("payment flow, API processes 2 / 1 (2 workers)", "scale.flow.a2w2", "scale.flow.a1w2", None),
    ("payment flow, worker processes 2 / 1 (2 API)", "scale.flow.a2w2", "scale.flow.a2w1", None),
    ("payment flow, RabbitMQ / Redis (2 API, 2 workers)", "scale.flow.a2w2_rabbitmq", "scale.flow.a2w2", None),
    ("actor runs, worker processes 2 / 1, Redis", "scale.workers.redis2", "scale.workers.redis1", "actors.workers"),
    ("actor runs, worker processes 2 / 1, RabbitMQ", "scale.workers.rabbitmq2", "scale.workers.rabbitmq1",
     "actors.workers"),
    ("actor runs, RabbitMQ / Redis (2 workers)", "scale.workers.rabbitmq2", "scale.workers.redis2", "actors.workers"),
    ("relay, RabbitMQ / Redis (2 workers)", "scale.workers.rabbitmq2", "scale.workers.redis2", "relay.workers"),
]


def _cpu_per_op(result: dict[str, Any]) -> float | None:
    cpu = result.get("cpu") or {}
    value = cpu.get("cpu_ms_per_op") or cpu.get("server_cpu_ms_per_request")
    return float(value) if value else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def add_scaling(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ratios of RATIOS whose two sides ran (per server), for the JSON and the text."""
    found = []
    for server in sorted({r["server"] for r in results}):
        def pick(name: str, metric: str | None) -> dict[str, Any] | None:
            return next((r for r in results if r["server"] == server and r["scenario"] == name
                         and (metric is None or r.get("metric") == metric)), None)

        for what, top, bottom, metric in RATIOS:
            a, b = pick(top, metric), pick(bottom, metric)
            if a is None or b is None:
                continue
            found.append({
                "server": server, "what": what, "numerator": top, "denominator": bottom, "metric": metric,
                "rps": [a["rps"], b["rps"]], "rps_ratio": _ratio(a["rps"], b["rps"]),
                "cpu_ms_per_op": [_cpu_per_op(a), _cpu_per_op(b)],
                "cpu_per_op_ratio": _ratio(_cpu_per_op(a), _cpu_per_op(b)),
                "p50_ratio": _ratio((a.get("latency_ms") or {}).get("p50"), (b.get("latency_ms") or {}).get("p50")),
            })
    return found


def scaling_text(ratios: list[dict[str, Any]]) -> str:
    def fmt(value: float | None, unit: str = "x") -> str:
        return "-" if value is None else f"{value:.2f}{unit}"

    lines = [f"  {r['server']:<8} {r['what']:<52} throughput {fmt(r['rps_ratio'])} "
             f"({r['rps'][0]:g} / {r['rps'][1]:g}), CPU/op {fmt(r['cpu_per_op_ratio'])}"
             + (f", p50 {fmt(r['p50_ratio'])}" if r["p50_ratio"] else "")
             for r in ratios]
    return "\n".join(["Scaling, same run:", *lines]) if lines else ""
