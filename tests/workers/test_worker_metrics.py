"""Each worker process serves its own metrics: the first free port from the configured
one, so N processes on one host are N scrape targets (P, P+1, ...)."""

from __future__ import annotations

import socket
import urllib.request

from dramatiq.brokers.stub import StubBroker

from app.workers.metrics import MetricsExposition


def free_port_pair() -> int:
    for _ in range(50):
        with socket.socket() as a, socket.socket() as b:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
            try:
                b.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port
    raise RuntimeError("no two free ports in a row")


def test_two_processes_take_consecutive_ports_and_serve_the_business_counters():
    port = free_port_pair()
    first, second = MetricsExposition(port), MetricsExposition(port)  # as two worker processes would
    first.after_process_boot(StubBroker())
    second.after_process_boot(StubBroker())
    assert (first.port, second.port) == (port, port + 1)
    body = urllib.request.urlopen(f"http://127.0.0.1:{second.port}/metrics", timeout=5).read().decode()
    assert "# TYPE fxp_payments_total counter" in body and "fxp_circuit_breaker_state" in body
