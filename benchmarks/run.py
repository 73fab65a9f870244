"""`make bench` / `python -m benchmarks.run`: load-test the API against a minimal baseline.

For each ASGI server (granian, uvicorn): a fresh database (migrated, with a merchant),
then the baseline app and the API, each as its own server process with the same worker
count and pool size, driven by the same load generator process (wrk if installed, else
benchmarks/loadgen.py) at a fixed concurrency. Prints a table with each scenario's
throughput, p50/p99 latency, errors and ratios to the baseline, compares the servers,
and writes benchmarks/results/<timestamp>.json. See benchmarks/README.md."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec

from benchmarks import cpu, profile, report, scaling, wrk
from benchmarks.scenarios import BASELINE, SCENARIOS, Scenario, SetupContext, Stack
from benchmarks.servers import APPS, ROOT, SERVERS
from benchmarks.stack import SANDBOX_CALLBACK_DELAY_S, ProbeContext, RunningStack

RESULTS_DIR = ROOT / "benchmarks" / "results"


def scenario_groups() -> dict[str, list[str]]:
    """Names --scenarios accepts besides scenario names."""
    api = [name for name, s in SCENARIOS.items() if s.target == "api"]
    return {
        "default": [name for name in api if not SCENARIOS[name].on_demand],
        "payments": [name for name in api if SCENARIOS[name].on_demand
                     and not name.startswith(("auth.", "security.", "audit.", "admin.", "scale."))],
        "auth": ["orders.get", *(name for name in api if name.startswith("auth."))],
        "security": [name for name in api if name.startswith("security.")],
        "audit": [name for name in api if name.startswith("audit.")],
        "admin": [name for name in api if name.startswith("admin.")],
        "scale": [name for name in api if name.startswith("scale.")],
        "all": api,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    groups = scenario_groups()
    api_scenarios = groups["default"]
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per scenario (10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds before each measurement (2)")
    parser.add_argument("--concurrency", type=int, default=32, help="connections kept busy (32)")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (2)")
    parser.add_argument("--server", choices=[*SERVERS, "both"], default="both")
    parser.add_argument("--repeat", type=int, default=1,
                        help="measure everything N times, interleaved, and report medians (noisy machines)")
    parser.add_argument("--scenarios", default=",".join(api_scenarios),
                        help=f"comma-separated, from: {', '.join(groups['all'])}, or the groups "
                             f"default ({', '.join(groups['default'])}), payments ({', '.join(groups['payments'])}), scale, "
                             "all (the baseline always runs; default: default)")
    flows = parser.add_argument_group("payment flow and worker scenarios (on demand)")
    flows.add_argument("--flow-concurrency", type=int, default=16,
                       help="virtual users of a flow scenario, each one payment at a time (16)")
    flows.add_argument("--poll-ms", type=float, default=10.0,
                       help="a flow polls this long after each answer until the order is paid (10)")
    flows.add_argument("--poll", choices=["order", "payment"], default="order",
                       help="poll GET /orders/{id} until PAYMENT_DONE (order), or GET /payments/{id} "
                            "until SUCCESS (payment)")
    flows.add_argument("--flow-timeout", type=float, default=30.0, help="seconds a payment may take (30)")
    flows.add_argument("--worker-processes", type=int, default=2,
                       help="`app.workers.main --processes` for the worker scenarios (2)")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto",
                        help="load generator: wrk when installed (auto), or the Python one")
    parser.add_argument("--api-app", default=APPS["api"],
                        help="ASGI app of the API (module:attribute), to benchmark a variant")
    parser.add_argument("--profile", action="store_true",
                        help="sample the API workers with py-spy during each API scenario (lowers the figures)")
    parser.add_argument("--keep-logs", action="store_true", help="keep the server logs (path printed)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    args = parser.parse_args(argv)
    names = [expanded for name in args.scenarios.split(",") if name.strip()
             for expanded in groups.get(name.strip(), [name.strip()])]
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    args.scenario_list = [SCENARIOS[BASELINE], *(SCENARIOS[n] for n in dict.fromkeys(names) if n != BASELINE)]
    args.servers = list(SERVERS) if args.server == "both" else [args.server]
    if args.client == "wrk" and not wrk.available():
        parser.error("--client wrk: wrk is not installed (apt-get install -y wrk)")
    args.client = "wrk" if args.client == "wrk" or (args.client == "auto" and wrk.available()) else "python"
    if args.profile and profile.py_spy() is None:
        parser.error("--profile needs py-spy: .venv/bin/pip install py-spy")
    if args.duration <= 0 or min(args.concurrency, args.workers, args.repeat) < 1 or args.warmup < 0:
        parser.error("--duration, --concurrency, --workers and --repeat must be positive, --warmup not negative")
    if min(args.flow_concurrency, args.worker_processes) < 1 or args.poll_ms < 0 or args.flow_timeout <= 0:
        parser.error("--flow-concurrency, --worker-processes and --flow-timeout must be positive, "
                     "--poll-ms not negative")
    return args


async def _setup(scenario: Scenario, base_url: str, api_key: str, merchant_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30,
                                 headers={"Authorization": f"Bearer {api_key}"}) as client:
        return await scenario.setup(SetupContext(base_url, api_key, client, merchant_id))


def drive(scenario: Scenario, context: dict[str, Any], port: int, args: argparse.Namespace) -> dict[str, Any]:
    """One measurement, by a load generator in its own process (flows: always the Python one)."""
    if args.client == "wrk" and scenario.kind == "requests":
        return wrk.run(scenario, context, "127.0.0.1", port, args.concurrency, args.duration, args.warmup)
    concurrency = args.flow_concurrency if scenario.kind == "flow" else args.concurrency
    spec = {"host": "127.0.0.1", "port": port, "scenario": scenario.name, "context": context,
            "concurrency": concurrency, "duration": args.duration, "warmup": args.warmup}
    timeout = args.warmup + args.duration + 120 + (args.flow_timeout if scenario.kind == "flow" else 0)
    result = subprocess.run([sys.executable, "-m", "benchmarks.loadgen"], input=msgspec.json.encode(spec),
                            capture_output=True, cwd=ROOT, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{result.stderr.decode(errors='replace')}")
    return msgspec.json.decode(result.stdout)


def _flow_context(args: argparse.Namespace) -> dict[str, Any]:
    return {"poll": args.poll, "poll_ms": args.poll_ms, "flow_timeout_s": args.flow_timeout}


def _stack(scenario: Scenario, args: argparse.Namespace) -> Stack:
    stack = scenario.stack
    return replace(stack, workers=args.worker_processes) if stack.workers else stack


def _figures(result: dict[str, Any]) -> str:
    """The progress line's figures for one result."""
    unit = result.get("unit", "req")
    latency = result.get("latency_ms") or {}
    line = f"{result['rps']:8.0f} {unit}/s"
    if latency:
        line += f"  p50 {latency['p50']:6.1f} ms  p99 {latency['p99']:6.1f} ms  errors {result['errors']}"
    usage = result.get("cpu") or {}
    notes = []
    if result.get("kind") == "flow":
        polls = (result.get("per_flow") or {}).get("polls")
        notes.append(f"{polls} polls/pay, {result.get('http_rps', 0):.0f} HTTP req/s" if polls is not None
                     else f"{result.get('http_rps', 0):.0f} HTTP req/s")
        cores = ", ".join(f"{name} {value:.2f}" for name, value in (usage.get("components") or {}).items())
        notes.append(f"cores: {cores}")
    elif "server_cores" in usage:
        notes.append(f"server {usage['server_cores']:.2f} cores")
    if "cpu_ms_per_op" in usage:
        notes.append(f"{usage['cpu_ms_per_op']:.2f} CPU ms/{unit}")
    if "postgres_cpu_ms_per_op" in usage:
        notes.append(f"PostgreSQL {usage['postgres_cpu_ms_per_op']:.2f} CPU ms/{unit}")
    if "loadgen_cores" in result:
        notes.append(f"load generator {result['loadgen_cores']:.2f} cores")
    if "machine_busy_pct" in usage:
        notes.append(f"machine {usage['machine_busy_pct']:.0f}% busy")
    return f"{line}  ({', '.join(notes)})" if notes else line


def measure(scenario: Scenario, running: RunningStack, server: str, target: str, database: Any,
            args: argparse.Namespace, profile_dir: Path, repetition: int) -> list[dict[str, Any]]:
    """One scenario on a started stack -> its result row(s)."""
    label = f"[{repetition + 1}/{args.repeat}] " if args.repeat > 1 else ""
    prefix = f"{label}{server:<8} "
    base = {"server": server, "scenario": scenario.name, "title": scenario.title, "target": target,
            "kind": scenario.kind, "unit": scenario.unit}
    if scenario.kind == "probe":
        print(f"  {prefix}{scenario.title} ({scenario.name}) ...", flush=True)
        rows = [{**base, **row} for row in scenario.probe(ProbeContext(database, running, args))]
        for row in rows:
            print(f"  {prefix}{row['title']:<22} {_figures(row)}", flush=True)
        return rows
    context: dict[str, Any] = {"api_key": database.api_key}
    if scenario.kind == "flow":
        context |= _flow_context(args)
    if running.stack.webhooks:
        context |= running.webhook_context()
    if scenario.setup is not None:
        context |= asyncio.run(_setup(scenario, running.api.base_url, database.api_key, database.merchant_id))
    database.checkpoint()
    print(f"  {prefix}{scenario.title:<22} ", end="", flush=True)
    recorder = None
    if args.profile and target == "api":
        workers = [pid for pid in running.api.worker_pids() if pid != running.api.process.pid]
        recorder = profile.Recorder(workers, profile_dir, f"{server}-{scenario.name}-{repetition + 1}")
        recorder.start(delay=args.warmup, seconds=args.duration)
    components = running.components()
    postgres = database.server_pid  # its CPU is reported apart: not in CPU ms/op
    before = {name: cpu.Snapshot.take(groups) for name, groups in components.items()}
    postgres_before = cpu.tree_seconds(postgres) if postgres is not None else None
    measured = drive(scenario, context, running.api.port, args)
    after = {name: cpu.Snapshot.take(running.components()[name]) for name in components}
    postgres_after = cpu.tree_seconds(postgres) if postgres is not None else None
    usage = after["server"].since(before["server"])  # warm-up included
    if usage.get("server_cores") and measured["rps"]:
        usage["server_cpu_ms_per_request"] = round(1000 * usage["server_cores"] / measured["rps"], 3)
    if len(components) > 1 or scenario.kind == "flow":
        cores = {name: after[name].since(before[name]).get("server_cores", 0.0) for name in components}
        usage["components"] = {("api" if name == "server" else name): value for name, value in cores.items()}
        if measured["rps"]:  # every process of the stack, per completed operation
            usage["cpu_ms_per_op"] = round(1000 * sum(cores.values()) / measured["rps"], 3)
    if postgres_before is not None and postgres_after is not None and measured["rps"]:
        seconds = after["server"].at - before["server"].at
        usage["postgres_cpu_ms_per_op"] = round(1000 * (postgres_after - postgres_before) / seconds / measured["rps"], 3)
    if recorder is not None:
        measured["profile"] = profile.summarize(recorder.wait())
    result = {**base, **measured, "cpu": usage}
    print(_figures(result), flush=True)
    return [result]


def run_target(server: str, target: str, database: Any, args: argparse.Namespace, pool: tuple[int, int],
               log_dir: Path, profile_dir: Path, repetition: int) -> list[dict[str, Any]]:
    """Start `target` (the API or the baseline) under `server`, with what each group of its
    scenarios needs next to it (benchmarks/stack.py), measure them, stop it all."""
    scenarios = [s for s in args.scenario_list if s.target == target]
    if not scenarios:
        return []
    env = {
        "baseline": {"BENCH_DATABASE_URL": database.url, "BENCH_POOL_MIN": str(pool[0]),
                     "BENCH_POOL_MAX": str(pool[1])},
        "api": {**database.env, "FXP_DATABASE__POOL_MIN": str(pool[0]), "FXP_DATABASE__POOL_MAX": str(pool[1])},
    }[target]
    app = args.api_app if target == "api" else APPS[target]
    stacks: dict[Stack, list[Scenario]] = {}
    for scenario in scenarios:  # one start per stack, in the order the scenarios were asked for
        stacks.setdefault(_stack(scenario, args), []).append(scenario)
    results = []
    for index, (stack, group) in enumerate(stacks.items()):
        stack_logs = log_dir / f"{server}-{target}-{index + 1}"
        stack_logs.mkdir(parents=True, exist_ok=True)
        running = RunningStack(stack, server, target, env, database, args.workers, stack_logs, app)
        running.start()
        try:
            for scenario in group:
                results += measure(scenario, running, server, target, database, args, profile_dir, repetition)
                died = running.died()
                if died is not None:
                    raise RuntimeError(f"a process died during {scenario.name}: {died}")
        finally:
            running.stop()
    return results


def _code_version() -> dict[str, Any]:
    """Which code was measured (read-only git queries; absent outside a checkout)."""
    def git(*command: str) -> str | None:
        try:
            return subprocess.run(["git", *command], cwd=ROOT, capture_output=True, text=True,
                                  timeout=10, check=True).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(status) if status is not None else None}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the setup's requests are not news
    if args.list:
        for scenario in SCENARIOS.values():
            tags = ", ".join([scenario.target, *([scenario.kind] if scenario.kind != "requests" else []),
                              *(["on demand"] if scenario.on_demand else [])])
            print(f"{scenario.name:<22} {scenario.title:<18} [{tags}] {scenario.description}")
        return 0

    from benchmarks.provision import BenchDatabase, Services
    from config.settings import settings_from_env

    # a plain `kill` unwinds like Ctrl-C: servers stopped, throw-away databases dropped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))

    database_settings = settings_from_env().database
    pool = (database_settings.pool_min, database_settings.pool_max)
    background = cpu.background_busy_pct()
    if background is not None and background > 15:
        print(f"warning: the machine is already {background:.0f}% busy before the benchmark starts; "
              "figures will be lower and noisier than on a quiet machine", file=sys.stderr)
    services = Services.from_env()
    started = datetime.now(UTC)
    log_dir = Path(tempfile.mkdtemp(prefix="fxp-bench-logs-"))
    print(f"FusionXPay benchmark: {', '.join(args.servers)} x {args.workers} workers, pool {pool[0]}-{pool[1]}, "
          f"concurrency {args.concurrency}, {args.duration:g} s (+{args.warmup:g} s warm-up), "
          f"client {args.client}, {services.describe()}, {os.cpu_count()} CPUs", flush=True)
    kinds = {s.kind for s in args.scenario_list}
    if "flow" in kinds:
        polled = "GET /orders/{id} until PAYMENT_DONE" if args.poll == "order" else "GET /payments/{id} until SUCCESS"
        print(f"payment flows: {args.flow_concurrency} virtual users (Python generator), polling {polled} "
              f"{args.poll_ms:g} ms after each answer, sandbox callback delay "
              f"{os.environ.get('SANDBOX_CALLBACK_DELAY_S', SANDBOX_CALLBACK_DELAY_S)} s", flush=True)
    if kinds & {"flow", "probe"}:
        print(f"workers: app.workers.main --processes {args.worker_processes}, relay interval "
              f"{os.environ.get('FXP_WORKERS__RELAY_INTERVAL_S', 'default (0.2)')} s", flush=True)

    runs: list[dict[str, Any]] = []
    databases: dict[str, BenchDatabase] = {}  # one per server, kept across repetitions
    failed = True
    began = time.monotonic()
    profile_dir = RESULTS_DIR / f"{started.strftime('%Y%m%dT%H%M%SZ')}-profiles"
    try:
        for repetition in range(args.repeat):
            for server in args.servers:  # servers interleaved, baseline next to the API: drift hits both
                if server not in databases:
                    databases[server] = BenchDatabase.create(services)
                for target in ("baseline", "api"):
                    runs += run_target(server, target, databases[server], args, pool, log_dir, profile_dir,
                                       repetition)
        failed = False
    finally:
        for database in databases.values():
            database.drop()
        if failed or args.keep_logs:
            print(f"server logs kept in {log_dir}", file=sys.stderr)
        else:
            shutil.rmtree(log_dir, ignore_errors=True)

    results = report.aggregate(runs)
    report.add_ratios(results)
    report.add_versus(results)
    comparison = report.compare_servers(results)
    scale = scaling.add_scaling(results)
    document = {
        "started_at": started.isoformat(),
        "elapsed_s": round(time.monotonic() - began, 1),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "busy_pct_before_start": background},
        "code": _code_version(),
        "config": {"duration_s": args.duration, "warmup_s": args.warmup, "concurrency": args.concurrency,
                   "workers": args.workers, "repeat": args.repeat, "pool_min": pool[0], "pool_max": pool[1],
                   "servers": args.servers, "scenarios": [s.name for s in args.scenario_list], "client": args.client,
                   "database": services.database_mode, "redis": services.redis_mode,
                   "log_level": os.environ.get("FXP_LOG_LEVEL", "INFO"), "api_app": args.api_app,
                   "profiled": args.profile,
                   **({"flow": {"concurrency": args.flow_concurrency, "poll": args.poll, "poll_ms": args.poll_ms,
                                "flow_timeout_s": args.flow_timeout,
                                "sandbox_callback_delay_s": float(os.environ.get("SANDBOX_CALLBACK_DELAY_S", SANDBOX_CALLBACK_DELAY_S)),
                                "worker_processes": args.worker_processes}}
                      if any(s.kind != "requests" for s in args.scenario_list) else {})},
        "results": results,
        "comparison": comparison,
        **({"scaling": scale} if scale else {}),
    }
    path = RESULTS_DIR / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    report.write_json(path, document)
    print()
    if args.repeat > 1:
        print(f"Medians of {args.repeat} repetitions (each one is in the JSON file):")
    print(report.table(results))
    if security_cost := report.vs_off_text(results):
        print(security_cost)
    if comparison:
        print()
        print(report.comparison_text(comparison))
    if side_by_side := report.versus_text(results):
        print()
        print(side_by_side)
    if scale:
        print()
        print(scaling.scaling_text(scale))
    for r in results:
        if r.get("profile"):
            print()
            print(profile.summary_text(f"{r['server']} {r['title']}", r["profile"]))
    if args.profile:
        print("\n(--profile: py-spy sampling took CPU from the server; compare these figures only with each other)")
    print(f"\nresults: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
