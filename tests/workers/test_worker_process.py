"""`python -m app.workers.main` as a real process: the scheduler relays an outbox event,
a worker process (own Container, real Redis broker) delivers the webhook with the
originating correlation id in its header and its log line, SIGTERM stops everything."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from standardwebhooks import Webhook

from tests.workers.conftest import add_event, webhook_merchant
from tests.workers.receiver import WebhookReceiver

ROOT = Path(__file__).resolve().parents[2]


def worker_env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "FXP_WORKERS__NAMESPACE": f"fxp-proc-{uuid.uuid4().hex[:8]}",
        "FXP_WORKERS__WEBHOOK_ALLOWLIST": "127.0.0.0/8",
        "FXP_WORKERS__RELAY_INTERVAL_S": "0.1",
        "FXP_WORKERS__IDLE_POLL_MS": "100",
        "FXP_PAYMENTS__DISPATCH": "outbox",
        "FXP_LOG_LEVEL": "INFO",
        **extra,
    }


async def test_worker_main_relays_delivers_and_stops_on_sigterm(container, quiet_outbox, tmp_path):
    async with WebhookReceiver() as receiver:
        shop = await webhook_merchant(container, receiver.url)
        event_id = await add_event("order.status_changed", shop.merchant.id, {"status": "PAYMENT_DONE"},
                                   correlation_id="req-proc")
        log = tmp_path / "workers.log"
        process = subprocess.Popen([sys.executable, "-m", "app.workers.main", "--processes", "1", "--threads", "2"],
                                   cwd=ROOT, env=worker_env(), stdout=log.open("w"), stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while not receiver.received:
                assert process.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, f"no webhook delivered:\n{log.read_text()[-3000:]}"
                await asyncio.sleep(0.1)
            [request] = receiver.received
            Webhook(shop.webhook_secret).verify(request.body, request.headers)
            assert request.headers["webhook-id"] == str(event_id)
            assert request.headers["x-correlation-id"] == "req-proc"
            await asyncio.sleep(0.2)  # the actor logs right after the response
            lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
            sent = [line for line in lines if line.get("event") == "webhook_sent"]
            assert sent and sent[0]["correlation_id"] == "req-proc", sent  # bound by CorrelationLogging
        finally:
            process.send_signal(signal.SIGTERM)
            code = await asyncio.to_thread(process.wait, 30)
    assert code == 0
