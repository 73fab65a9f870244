"""The Python load generator, run as its own process: `python -m benchmarks.loadgen`.

Reads a JSON spec on stdin, prints one JSON result on stdout. Closed loop: `concurrency`
keep-alive connections, each sending its next request as soon as the previous answer is
read. Requests completing during the warm-up are discarded; throughput and latency are
taken from the requests that complete inside the measured window.

It speaks HTTP/1.1 itself over asyncio streams (uvloop when available) rather than through
httpx: on a 2-core machine the generator shares the CPU with the server and PostgreSQL,
and httpx costs several times more CPU per request, which would tax the faster app most."""

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


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; returns (status, server wants the connection closed)."""
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
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                    pass
                break
            await reader.readexactly(size + 2)
    elif length:
        await reader.readexactly(length)
    elif length is None and status not in (204, 304) and status >= 200:
        await reader.read()  # body delimited by the end of the connection
        close = True
    return status, close


async def run(spec: Spec) -> dict[str, Any]:
    scenario = SCENARIOS[spec.scenario]
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
                status, close = await read_response(reader)
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


def main() -> None:
    spec = msgspec.json.decode(sys.stdin.buffer.read(), type=Spec)
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover - uvloop is a dependency
        runner = asyncio.run
    result = runner(run(spec))
    sys.stdout.buffer.write(msgspec.json.encode(result) + b"\n")


if __name__ == "__main__":
    main()
