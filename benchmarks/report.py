"""Ratios against the baseline, the server comparison, the printed table and the JSON file."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from benchmarks.scenarios import BASELINE, SCENARIOS

PRIMARY = "orders.create"  # the scenario that decides which ASGI server "won"


def _median_cpu(group: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of each CPU figure; nested ones (per component) figure by figure."""
    cpus = [run.get("cpu") or {} for run in group]
    result: dict[str, Any] = {}
    for key in {key for cpu in cpus for key in cpu}:
        values = [cpu[key] for cpu in cpus if key in cpu]
        if isinstance(values[0], dict):
            result[key] = {sub: statistics.median(v[sub] for v in values if sub in v)
                           for sub in {sub for v in values for sub in v}}
        else:
            result[key] = statistics.median(values)
    return result


def aggregate(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One result per (server, scenario, metric): with --repeat, the median of each figure
    over the repetitions (errors and requests summed); every repetition is kept under "runs"."""
    groups: dict[tuple[str, str, str | None], list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault((run["server"], run["scenario"], run.get("metric")), []).append(run)
    results = []
    for group in groups.values():
        if len(group) == 1:
            results.append({**group[0], "repeat": 1})
            continue
        first = group[0]
        latency_keys = first["latency_ms"].keys()
        results.append({
            **{key: first[key] for key in ("server", "scenario", "title", "target", "client", "kind", "unit",
                                           "metric") if key in first},
            "repeat": len(group),
            "requests": sum(run["requests"] for run in group),
            "duration_s": sum(run["duration_s"] for run in group),
            "rps": round(statistics.median(run["rps"] for run in group), 2),
            "latency_ms": {key: round(statistics.median(run["latency_ms"][key] for run in group), 3)
                           for key in latency_keys},
            "non_2xx": sum(run["non_2xx"] for run in group),
            "errors": sum(run["errors"] for run in group),
            "cpu": _median_cpu(group),
            "profile": next((run["profile"] for run in group if run.get("profile")), None),
            "runs": [{"rps": run["rps"], "latency_ms": run["latency_ms"], "errors": run["errors"],
                      "status_counts": run.get("status_counts"), "transport_errors": run.get("transport_errors"),
                      "cpu": run.get("cpu"),
                      **{key: run[key] for key in ("steps", "per_flow", "error_counts", "http_rps", "duration_s")
                         if key in run}} for run in group],
        })
    return results


def _cpu_per_op(result: dict[str, Any]) -> float | None:
    usage = result.get("cpu") or {}
    return usage.get("cpu_ms_per_op", usage.get("server_cpu_ms_per_request"))


def _vs_off(results: list[dict[str, Any]]) -> None:
    """A "<name>.on" result against "<name>.off" under the same server (benchmarks/security.py):
    throughput, p50 and CPU per operation, on over off."""
    by_key = {(r["server"], r["scenario"]): r for r in results}
    for result in results:
        off = by_key.get((result["server"], result["scenario"].removesuffix(".on") + ".off"))
        if not result["scenario"].endswith(".on") or off is None:
            continue
        on_cpu, off_cpu = _cpu_per_op(result), _cpu_per_op(off)
        result["vs_off"] = {
            "rps_ratio": _round(result["rps"] / off["rps"]) if off["rps"] else None,
            "p50_ratio": _round(result["latency_ms"]["p50"] / off["latency_ms"]["p50"])
            if off["latency_ms"]["p50"] else None,
            "cpu_per_op_ratio": _round(on_cpu / off_cpu) if on_cpu and off_cpu else None,
        }


def vs_off_text(results: list[dict[str, Any]]) -> str:
    lines = [f"  {r['server']:<8} {SCENARIOS[r['scenario']].title:<20} throughput {_fmt(v['rps_ratio'])}x, "
             f"p50 {_fmt(v['p50_ratio'])}x, CPU/op {_fmt(v['cpu_per_op_ratio'])}x"
             for r in results if (v := r.get("vs_off"))]
    return "\n".join(["On / off (same server, same run; security.*: rate limiting + fraud rules, audit.*: "
                      "the audit trail):", *lines]) if lines else ""


def add_ratios(results: list[dict[str, Any]]) -> None:
    """Each result gets its ratio to the baseline measured under the same server, and
    whether it meets its scenario's goal."""
    _vs_off(results)
    baselines = {r["server"]: r for r in results if r["scenario"] == BASELINE}
    orders = {r["server"]: r for r in results if r["scenario"] == PRIMARY}
    for result in results:
        primary = orders.get(result["server"])
        result["vs_orders"] = (_round(result["rps"] / primary["rps"]) if primary and primary["rps"]
                               and result["scenario"] not in (BASELINE, PRIMARY) else None)
        base = baselines.get(result["server"])
        if base is None or result["scenario"] == BASELINE:
            result["vs_baseline"] = None
            result["goal"] = None
            continue
        rps_ratio = result["rps"] / base["rps"] if base["rps"] else None
        # latency ratios only between single requests (a flow's latency spans several)
        p99_ratio = (result["latency_ms"]["p99"] / base["latency_ms"]["p99"]
                     if result.get("kind", "requests") == "requests" and base["latency_ms"]["p99"] else None)
        result["vs_baseline"] = {"rps_ratio": _round(rps_ratio), "p99_ratio": _round(p99_ratio)}
        goal = SCENARIOS[result["scenario"]].goal
        if goal is None or rps_ratio is None or p99_ratio is None:
            result["goal"] = None
            continue
        result["goal"] = {
            "min_rps_ratio": goal.min_rps_ratio, "max_p99_ratio": goal.max_p99_ratio,
            "rps_met": rps_ratio >= goal.min_rps_ratio, "p99_met": p99_ratio <= goal.max_p99_ratio,
            "met": rps_ratio >= goal.min_rps_ratio and p99_ratio <= goal.max_p99_ratio,
        }


def add_versus(results: list[dict[str, Any]]) -> None:
    """A scenario with `versus` gets its figures over that scenario's (same server, same run)."""
    for result in results:
        other_name = SCENARIOS[result["scenario"]].versus if result["scenario"] in SCENARIOS else None
        other = next((r for r in results if r["scenario"] == other_name and r["server"] == result["server"]), None)
        if other is None:
            continue
        mine, theirs = result["latency_ms"], other["latency_ms"]
        result["versus"] = {
            "scenario": other_name,
            "rps_ratio": _round(result["rps"] / other["rps"] if other["rps"] else None),
            "p50_ratio": _round(mine["p50"] / theirs["p50"] if theirs.get("p50") else None),
            "p99_ratio": _round(mine["p99"] / theirs["p99"] if theirs.get("p99") else None),
        }


def versus_text(results: list[dict[str, Any]]) -> str:
    lines = [f"  {r['server']:<8} {r['title']} vs {SCENARIOS[r['versus']['scenario']].title}: "
             f"{_fmt(r['versus']['rps_ratio'])}x throughput, {_fmt(r['versus']['p50_ratio'])}x p50, "
             f"{_fmt(r['versus']['p99_ratio'])}x p99"
             for r in results if r.get("versus")]
    return "\n".join(["Same run, side by side:", *lines]) if lines else ""


def compare_servers(results: list[dict[str, Any]]) -> dict[str, Any] | None:
    servers = sorted({r["server"] for r in results})
    if len(servers) < 2:
        return None
    per_scenario = {}
    served = [r for r in results if r.get("kind", "requests") != "probe"]  # probes do not involve the server
    for name in dict.fromkeys(r["scenario"] for r in served):
        runs = {r["server"]: r for r in served if r["scenario"] == name}
        if len(runs) < 2:
            continue
        best = max(runs.values(), key=lambda r: r["rps"])
        other = min(runs.values(), key=lambda r: r["rps"])
        per_scenario[name] = {
            "rps": {server: r["rps"] for server, r in runs.items()},
            "p99_ms": {server: r["latency_ms"]["p99"] for server, r in runs.items()},
            "faster": best["server"],
            "rps_advantage": _round(best["rps"] / other["rps"] - 1 if other["rps"] else None),
            "lower_p99": min(runs.values(), key=lambda r: r["latency_ms"]["p99"])["server"],
        }
    if not per_scenario:
        return None
    decider = PRIMARY if PRIMARY in per_scenario else next(iter(per_scenario))
    return {"per_scenario": per_scenario, "winner": per_scenario[decider]["faster"], "decided_by": decider}


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _fmt(value: float | None, spec: str = ".2f", suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def table(results: list[dict[str, Any]]) -> str:
    header = ["server", "scenario", "throughput", "p50 ms", "p99 ms", "errors", "x base", "p99 x base",
              "x POST /orders", "CPU ms/op", "PG ms/op", "goal"]
    rows = [header]
    for r in results:
        ratios = r.get("vs_baseline") or {}
        goal = r.get("goal")
        if goal:
            verdict = ("MET" if goal["met"] else "MISSED") + \
                f" (>={goal['min_rps_ratio']}x, <={goal['max_p99_ratio']}x p99)"
        else:
            verdict = "baseline" if r["scenario"] == BASELINE else ""
        latency = r.get("latency_ms") or {}
        usage = r.get("cpu") or {}
        rows.append([
            r["server"], r.get("title") or SCENARIOS[r["scenario"]].title, f"{r['rps']:.0f} {r.get('unit', 'req')}/s",
            _fmt(latency.get("p50"), ".1f"), _fmt(latency.get("p99"), ".1f"),
            str(r["errors"]) if r.get("kind") != "probe" else "-",
            _fmt(ratios.get("rps_ratio"), suffix="x"), _fmt(ratios.get("p99_ratio"), suffix="x"),
            _fmt(r.get("vs_orders"), suffix="x"),
            _fmt(usage.get("cpu_ms_per_op", usage.get("server_cpu_ms_per_request"))),
            _fmt(usage.get("postgres_cpu_ms_per_op")), verdict,
        ])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    numeric = {2, 3, 4, 5, 6, 7, 8, 9, 10}
    lines = []
    for index, row in enumerate(rows):
        cells = [cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    kinds = {r.get("kind", "requests") for r in results}
    if kinds - {"requests"}:
        lines += ["", "x base / x POST /orders: throughput over the baseline's req/s and POST /orders' req/s "
                      "(same server, same run).",
                  "CPU ms/op: requests - the API server's CPU per request; pay flows - API + sandbox + "
                  "workers per completed payment;",
                  "  relay, in-process - the relay process per event; actor runs - all worker processes per run."]
    if any("postgres_cpu_ms_per_op" in (r.get("cpu") or {}) for r in results):
        lines.append("PG ms/op: the PostgreSQL server's CPU (every process of it, background ones included) per "
                     "operation; not in CPU ms/op.")
    if "flow" in kinds:
        lines.append("pay flows: p50/p99 = POST /payments sent -> PAYMENT_DONE seen by polling "
                     "(resolution: poll interval + one GET).")
    return "\n".join(lines)


def comparison_text(comparison: dict[str, Any] | None) -> str:
    if comparison is None:
        return ""
    lines = ["ASGI servers (same workers, pool, generator and concurrency):"]
    for name, c in comparison["per_scenario"].items():
        figures = ", ".join(f"{server} {rps:.0f} req/s p99 {c['p99_ms'][server]:.1f} ms"
                            for server, rps in sorted(c["rps"].items()))
        unit = SCENARIOS[name].unit
        figures = figures.replace(" req/s", f" {unit}/s")
        lines.append(f"  {SCENARIOS[name].title:<18} {figures}  -> {c['faster']} "
                     f"(+{100 * (c['rps_advantage'] or 0):.0f}% {unit}/s), lower p99: {c['lower_p99']}")
    lines.append(f"Winner: {comparison['winner']} (by {SCENARIOS[comparison['decided_by']].title} throughput)")
    return "\n".join(lines)


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
