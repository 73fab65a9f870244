"""Real SMTP servers for tests: aiosmtpd catching mail (the dev sink's handler), with
recipients that are refused for good (nobody@...) or for now (later@...)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiosmtpd.controller import Controller

from app.entrypoints.dev_sinks import CatchingHandler, CaughtMessages


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PickyHandler(CatchingHandler):
    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user here"
        if address.startswith("later@"):
            return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@contextmanager
def smtp_sink() -> Iterator[tuple[int, CaughtMessages]]:
    caught, port = CaughtMessages(), free_port()
    controller = Controller(PickyHandler(caught), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, caught
    finally:
        controller.stop()
