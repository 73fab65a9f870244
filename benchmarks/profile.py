"""`--profile`: sample the server's worker processes with py-spy during a measurement.

Writes py-spy's collapsed stacks (`--format raw`; open them in https://speedscope.app or
feed them to flamegraph.pl / inferno) and prints where the workers' CPU went: by layer
(asyncpg, Piccolo, Litestar, the app, logging, server/event loop) by the frame that was
running, and the app's own functions by inclusive share. Sampling costs the server CPU, so
figures measured with --profile run lower than without: compare them with each other only.
py-spy comes with the dev extras (pyproject.toml)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
LAYERS = [  # first match on the running (leaf) frame's file wins
    ("asyncpg (driver, socket I/O)", ("asyncpg/",)),
    ("piccolo (query building, results)", ("piccolo/",)),
    ("litestar (routing, DI, (de)serialisation)", ("litestar/", "msgspec", "anyio/", "sniffio/")),
    ("app code", ("app/", "config/")),
    ("logging (structlog, json)", ("structlog/", "json/", "logging/")),
    ("server + event loop", ("granian/", "uvicorn/", "h11/", "httptools/", "uvloop/", "asyncio/", "selectors")),
]


def py_spy() -> str | None:
    return shutil.which("py-spy") or next(
        (str(p) for p in [Path(sys.executable).with_name("py-spy")] if p.exists()), None)


class Recorder:
    """py-spy on each given process, started after `delay` seconds, for `seconds`."""

    def __init__(self, pids: list[int], out_dir: Path, label: str, rate: int = 200) -> None:
        self.pids, self.out_dir, self.label, self.rate = pids, out_dir, label, rate
        self.files: list[Path] = []
        self._thread: threading.Thread | None = None
        self._spies: list[subprocess.Popen] = []

    def start(self, delay: float, seconds: float) -> None:
        binary = py_spy()
        if binary is None:
            raise RuntimeError("--profile needs py-spy (the dev extras: make .venv/.installed)")
        self.out_dir.mkdir(parents=True, exist_ok=True)

        def run() -> None:
            time.sleep(delay)
            for pid in self.pids:
                path = self.out_dir / f"{self.label}-{pid}.txt"
                self.files.append(path)
                self._spies.append(subprocess.Popen(
                    [binary, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds))),
                     "--rate", str(self.rate), "--format", "raw", "--nonblocking", "-o", str(path)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                ))

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def wait(self) -> list[Path]:
        if self._thread is not None:
            self._thread.join()
        for spy in self._spies:
            try:
                spy.wait(timeout=30)
            except subprocess.TimeoutExpired:
                spy.kill()
        return [path for path in self.files if path.exists()]


def summarize(files: list[Path], top: int = 15) -> dict:
    total = 0
    layers: Counter[str] = Counter()
    app_inclusive: Counter[str] = Counter()
    leaf_functions: Counter[str] = Counter()
    for path in files:
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            samples = int(count)
            total += samples
            frames = [m.groupdict() for m in map(FRAME.match, stack.split(";")) if m] if stack.strip() else []
            if not frames:
                layers["native threads (no Python frame)"] += samples
                continue
            leaf = frames[-1]
            layer = next((name for name, prefixes in LAYERS if leaf["file"].startswith(prefixes)), "other Python")
            layers[layer] += samples
            leaf_functions[f"{leaf['function']} ({leaf['file']})"] += samples
            seen = set()
            for frame in frames:
                if frame["file"].startswith(("app/", "config/")):
                    key = f"{frame['function']} ({frame['file']})"
                    if key not in seen:
                        seen.add(key)
                        app_inclusive[key] += samples

    def share(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, round(100 * n / total, 1)) for name, n in counter.most_common(top)] if total else []

    return {"samples": total, "by_layer": share(layers), "app_functions_inclusive": share(app_inclusive),
            "hottest_frames": share(leaf_functions), "files": [str(p) for p in files]}


def summary_text(title: str, summary: dict) -> str:
    lines = [f"Profile of {title} ({summary['samples']} samples; % of the workers' busy time)"]
    for heading, key in (("by layer (running frame)", "by_layer"),
                         ("app functions (inclusive)", "app_functions_inclusive"),
                         ("hottest running frames", "hottest_frames")):
        lines.append(f"  {heading}:")
        lines += [f"    {pct:5.1f}%  {name}" for name, pct in summary[key]]
    return "\n".join(lines)
