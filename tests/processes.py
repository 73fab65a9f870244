"""Small helpers for starting our own processes on loopback, shared by the tests and the
benchmarks (not part of the product, so not under app/)."""

from __future__ import annotations

import signal
import socket
import sys
import time
from collections.abc import Callable

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, alive: Callable[[], bool], timeout_s: float = 30.0) -> None:
    """Until `url` answers 200; raises if the process dies (`alive()` false) or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"{url}: the process exited")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout_s:.0f}s")


def die_with_parent(signum: int = signal.SIGTERM) -> None:
    """In a child, before exec (`preexec_fn`): Linux sends it `signum` when its parent dies,
    however the parent died (SIGKILL included), so no child outlives its supervisor."""
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signum)  # PR_SET_PDEATHSIG
