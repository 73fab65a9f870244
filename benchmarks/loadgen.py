"""The Python load generator, run as its own process: `python -m benchmarks.loadgen`.

Reads a JSON spec on stdin, prints one JSON result on stdout. Closed loop: `concurrency`
keep-alive connections, each sending its next request as soon as the previous answer is
read. Requests completing during the warm-up are discarded; throughput and latency are
taken from the requests that complete inside the measured window.

It speaks HTTP/1.1 itself over asyncio streams (uvloop when available) rather than through
httpx: on a 2-core machine the generator shares the CPU with the server and PostgreSQL,
and httpx costs several times more CPU per request, which would tax the faster app most.

Flow scenarios (`kind="flow"`, e.g. the payment flow) run `concurrency` virtual users
instead: each repeats the scenario's flow coroutine on its own keep-alive connection
(`VirtualUser.call` sends one request and returns status and body). Throughput and latency
are those of the flows that complete inside the measured window, as reported by the flow
(`VirtualUser.done`); every step's latency and status is recorded too."""

from __future__ import annotations

import asyncio
import itertools
import math
import sys
import time
from collections import Counter
from typing import Any

import msgspec

from benchmarks.scenarios import SCENARIOS, Request


class Spec(msgspec.Struct):
    host: str
    port: int
    scenario: str
    context: dict[str, Any]
    concurrency: int
    duration: float
    warmup: float
    grace: float = 10.0  # after the window closes, how long to wait for requests in flight


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list (0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def latency_summary_ms(latencies_s: list[float]) -> dict[str, float]:
    values = sorted(latencies_s)
    summary = {f"p{p:g}": percentile(values, p) * 1000 for p in (50, 90, 99, 99.9)}
    summary["max"] = (values[-1] if values else 0.0) * 1000
    summary["mean"] = (sum(values) / len(values) if values else 0.0) * 1000
    return {key: round(value, 3) for key, value in summary.items()}


def render(request: Request, host_header: bytes) -> bytes:
    lines = [f"{request.method} {request.path} HTTP/1.1".encode(), b"Host: " + host_header]
    lines += [f"{name}: {value}".encode("latin-1") for name, value in request.headers.items()]
    if request.body or request.method in ("POST", "PUT", "PATCH"):
        lines.append(b"Content-Length: %d" % len(request.body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + request.body


async def read_response(reader: asyncio.StreamReader, keep_body: bool = False) -> tuple[int, bool, bytes]:
    """Read one response; returns (status, server wants the connection closed, body if
    `keep_body` else b"")."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length: int | None = None
    chunked = close = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            close = b"close" in value.lower()
    body = b""
    if chunked:
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                    pass
                break
            chunks.append((await reader.readexactly(size + 2))[:-2])
        body = b"".join(chunks)
    elif length:
        body = await reader.readexactly(length)
    elif length is None and status not in (204, 304) and status >= 200:
        body = await reader.read()  # body delimited by the end of the connection
        close = True
    return status, close, body if keep_body else b""


async def run(spec: Spec) -> dict[str, Any]:
    scenario = SCENARIOS[spec.scenario]
    if scenario.kind == "flow":
        return await run_flows(spec)
    host_header = f"{spec.host}:{spec.port}".encode()
    counter = itertools.count()
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    transport_errors: Counter[str] = Counter()
    clock = time.perf_counter
    started = clock()
    measure_from = started + spec.warmup
    stop_at = measure_from + spec.duration
    stopping = False

    async def connection_worker() -> None:
        reader = writer = None
        while not stopping:
            payload = render(scenario.request(spec.context, next(counter)), host_header)
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(spec.host, spec.port)
                sent = clock()
                writer.write(payload)
                status, close, _ = await read_response(reader)
                done = clock()
                if measure_from <= done <= stop_at:
                    latencies.append(done - sent)
                    statuses[status] += 1
                if close:
                    writer.close()
                    reader = writer = None
            except (OSError, EOFError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
                if measure_from <= clock() <= stop_at:
                    transport_errors[type(exc).__name__] += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
                await asyncio.sleep(0.05)
        if writer is not None:
            writer.close()

    workers = [asyncio.create_task(connection_worker()) for _ in range(spec.concurrency)]
    await asyncio.sleep(max(0.0, stop_at - clock()))
    stopping = True
    _, pending = await asyncio.wait(workers, timeout=spec.grace)
    for task in pending:  # stuck past the window: not counted, just stopped
        task.cancel()
    await asyncio.gather(*workers, return_exceptions=True)

    non_2xx = sum(count for status, count in statuses.items() if not 200 <= status < 300)
    transport = sum(transport_errors.values())
    return {
        "client": "python",
        "requests": len(latencies),
        "duration_s": spec.duration,
        "rps": round(len(latencies) / spec.duration, 2),
        "latency_ms": latency_summary_ms(latencies),
        "status_counts": {str(status): count for status, count in sorted(statuses.items())},
        "non_2xx": non_2xx,
        "transport_errors": dict(transport_errors),
        "errors": non_2xx + transport,
    }


# --- flows ------------------------------------------------------------------------------

TRANSPORT_ERRORS = (OSError, EOFError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError)


class FlowAborted(Exception):
    """A step failed (transport error or unexpected answer): the flow iteration ends."""


class FlowRun:
    """What the virtual users of one measurement record (only inside the measured window)."""

    def __init__(self, spec: Spec) -> None:
        self.clock = time.perf_counter
        self.started = self.clock()
        self.measure_from = self.started + spec.warmup
        self.stop_at = self.measure_from + spec.duration
        self.stopping = False
        self.latencies: list[float] = []          # per completed flow, as the flow measured it
        self.steps: dict[str, list[float]] = {}   # per step name, request latencies
        self.statuses: Counter[str] = Counter()   # "<step> <status>"
        self.errors: Counter[str] = Counter()     # flow failures by reason
        self.counts: Counter[str] = Counter()     # flow-defined counters (e.g. polls)

    def in_window(self, at: float) -> bool:
        return self.measure_from <= at <= self.stop_at


class VirtualUser:
    """One closed-loop user of a flow scenario, with its own keep-alive connection."""

    def __init__(self, run: FlowRun, host: str, port: int) -> None:
        self.run, self.host, self.port = run, host, port
        self.host_header = f"{host}:{port}".encode()
        self.clock = run.clock
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def call(self, request: Request, step: str) -> tuple[int, bytes]:
        """Send one request, return (status, body). A transport error is recorded and
        raised as FlowAborted (the connection is reopened by the next call)."""
        payload = render(request, self.host_header)
        try:
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            sent = self.clock()
            self.writer.write(payload)
            status, close, body = await read_response(self.reader, keep_body=True)
        except TRANSPORT_ERRORS as exc:
            self.close()
            raise FlowAborted(f"{step}: {type(exc).__name__}") from exc
        done = self.clock()
        if self.run.in_window(done):
            self.run.steps.setdefault(step, []).append(done - sent)
            self.run.statuses[f"{step} {status}"] += 1
        if close:
            self.close()
        return status, body

    def done(self, latency_s: float, **counts: int) -> None:
        """The flow completed; `latency_s` is what the scenario measures (e.g. pay -> paid)."""
        if self.run.in_window(self.clock()):
            self.run.latencies.append(latency_s)
            self.run.counts.update(counts)

    def fail(self, reason: str) -> None:
        if self.run.in_window(self.clock()):
            self.run.errors[reason] += 1

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def run_flows(spec: Spec) -> dict[str, Any]:
    flow = SCENARIOS[spec.scenario].flow
    run = FlowRun(spec)

    async def virtual_user() -> None:
        user = VirtualUser(run, spec.host, spec.port)
        while not run.stopping:
            try:
                await flow(user, spec.context)
            except FlowAborted as exc:
                user.fail(str(exc))
                await asyncio.sleep(0.05)
        user.close()

    users = [asyncio.create_task(virtual_user()) for _ in range(spec.concurrency)]
    await asyncio.sleep(max(0.0, run.stop_at - run.clock()))
    run.stopping = True  # flows under way finish (not counted), no new ones start
    _, pending = await asyncio.wait(users, timeout=spec.grace)
    for task in pending:
        task.cancel()
    await asyncio.gather(*users, return_exceptions=True)

    completed = len(run.latencies)
    non_2xx = sum(count for key, count in run.statuses.items() if not 200 <= int(key.rsplit(" ", 1)[1]) < 300)
    http_requests = sum(len(values) for values in run.steps.values())
    return {
        "client": "python",
        "kind": "flow",
        "requests": completed,
        "duration_s": spec.duration,
        "rps": round(completed / spec.duration, 2),
        "latency_ms": latency_summary_ms(run.latencies),
        "steps": {step: {"requests": len(values), **latency_summary_ms(values)} for step, values in run.steps.items()},
        "http_requests": http_requests,
        "http_rps": round(http_requests / spec.duration, 2),
        "per_flow": {name: round(total / completed, 2) for name, total in run.counts.items()} if completed else {},
        "status_counts": dict(sorted(run.statuses.items())),
        "error_counts": dict(run.errors),
        "non_2xx": non_2xx,
        "transport_errors": {},
        "errors": sum(run.errors.values()),
    }


def main() -> None:
    spec = msgspec.json.decode(sys.stdin.buffer.read(), type=Spec)
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover - uvloop is a dependency
        runner = asyncio.run
    cpu_before, started = time.process_time(), time.perf_counter()
    result = runner(run(spec))
    # what the generator itself took from the machine (warm-up and grace included)
    result["loadgen_cores"] = round((time.process_time() - cpu_before) / (time.perf_counter() - started), 2)
    sys.stdout.buffer.write(msgspec.json.encode(result) + b"\n")


if __name__ == "__main__":
    main()
