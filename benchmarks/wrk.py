"""wrk as the load generator, when it is installed (`apt-get install -y wrk`).

wrk cannot call the Python request factories, so the harness renders a pool of requests
with the scenario's factory into a Lua script; wrk cycles through the pool and appends a
per-request suffix (run nonce, thread, counter) to the scenario's `unique_headers`, so an
Idempotency-Key never repeats. The warm-up is a separate wrk invocation whose results are
discarded; `done()` prints the summary as one JSON line that is parsed here."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

from benchmarks.scenarios import Scenario

POOL_SIZE = 1024
MARKER = "BENCH_JSON "

LUA_TEMPLATE = r"""
local pool = {
%(pool)s
}
local unique = { %(unique)s }
local counter = 0
local nonce = ""
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end

function init(args)
  nonce = args[1] or ""
end

function request()
  counter = counter + 1
  local r = pool[(counter - 1) %% #pool + 1]
  local headers = {}
  for k, v in pairs(r.headers) do headers[k] = v end
  for _, name in ipairs(unique) do
    if headers[name] then headers[name] = headers[name] .. "-" .. nonce .. "-" .. tid .. "-" .. counter end
  end
  return wrk.format(r.method, r.path, headers, r.body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%(marker)s{"requests":%%d,"duration_us":%%d,"status_errors":%%d,"connect":%%d,"read":%%d,' ..
    '"write":%%d,"timeout":%%d,"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,"p99_9_us":%%d,' ..
    '"max_us":%%d,"mean_us":%%.1f}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def _lua_string(value: bytes | str) -> str:
    data = value.encode() if isinstance(value, str) else value
    out = []
    for byte in data:
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def render_script(scenario: Scenario, context: dict[str, Any], pool_size: int = POOL_SIZE) -> str:
    entries = []
    for n in range(pool_size):
        request = scenario.request(context, n)
        headers = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in request.headers.items())
        entries.append(f"  {{ method = {_lua_string(request.method)}, path = {_lua_string(request.path)}, "
                       f"headers = {{ {headers} }}, body = {_lua_string(request.body)} }},")
    unique = ", ".join(_lua_string(name) for name in scenario.unique_headers)
    return LUA_TEMPLATE % {"pool": "\n".join(entries), "unique": unique, "marker": MARKER}


def _invoke(script: Path, url: str, concurrency: int, seconds: float, threads: int) -> dict[str, Any]:
    command = ["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{max(1, round(seconds))}s",
               "--timeout", "30s", "-s", str(script), url, "--", uuid.uuid4().hex[:12]]
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    line = next((l for l in result.stdout.splitlines() if l.startswith(MARKER)), None)
    if result.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return json.loads(line[len(MARKER):])


def run(scenario: Scenario, context: dict[str, Any], host: str, port: int, concurrency: int,
        duration: float, warmup: float, threads: int = 2) -> dict[str, Any]:
    threads = max(1, min(threads, concurrency))
    with tempfile.TemporaryDirectory(prefix="fxp-wrk-") as folder:
        script = Path(folder) / "scenario.lua"
        script.write_text(render_script(scenario, context))
        url = f"http://{host}:{port}"
        if warmup > 0:
            _invoke(script, url, concurrency, warmup, threads)
        raw = _invoke(script, url, concurrency, duration, threads)
    seconds = raw["duration_us"] / 1e6
    transport = {k: raw[k] for k in ("connect", "read", "write", "timeout") if raw[k]}
    return {
        "client": "wrk",
        "requests": raw["requests"],
        "duration_s": round(seconds, 3),
        "rps": round(raw["requests"] / seconds, 2) if seconds else 0.0,
        "latency_ms": {
            "p50": raw["p50_us"] / 1000, "p90": raw["p90_us"] / 1000, "p99": raw["p99_us"] / 1000,
            "p99.9": raw["p99_9_us"] / 1000, "max": raw["max_us"] / 1000, "mean": round(raw["mean_us"] / 1000, 3),
        },
        "status_counts": {},  # wrk only counts failures: status >= 400
        "non_2xx": raw["status_errors"],
        "transport_errors": transport,
        "errors": raw["status_errors"] + sum(transport.values()),
    }
