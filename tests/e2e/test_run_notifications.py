"""`fusionxpay run` with no mail or SMS account: a paid order's receipt reaches the local
SMTP sink (real SMTP, aiosmtpd) and the local SMS sink through the outbox, the workers and
the durable notification jobs, and `fusionxpay messages` shows them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.live_stack import ROOT
from tests.e2e.test_supervisor import CARD, ORDER, RunningStack


@pytest.fixture(scope="module")
def data_dir(run_dirs) -> Path:
    return run_dirs("make-run-notifications")


@pytest.mark.slow
def test_make_run_catches_shopper_email_and_sms(data_dir, tmp_path):
    stack = RunningStack(data_dir, tmp_path / "run.log")
    try:
        sinks = f"http://127.0.0.1:{stack.sinks_port}/messages"
        headers = {"Authorization": f"Bearer {stack.api_key}"}
        with httpx.Client(base_url=stack.api_url, timeout=10) as api:
            chosen = api.put("/me/notification-preferences", headers=headers,
                             json={"channels": {"payment_receipt": ["email", "sms"]}})
            assert chosen.status_code == 200, chosen.text
            email = f"shopper-{os.urandom(4).hex()}@example.com"
            order = api.post("/orders", headers={**headers, "Idempotency-Key": os.urandom(8).hex()}, json={
                **ORDER, "customer": {"email": email, "name": "Ada", "phone": "+14155550123"}}).json()
            paid = api.post("/payments", json={"order_id": order["id"], "provider": "sandbox", "payment_method": CARD},
                            headers={**headers, "Idempotency-Key": os.urandom(8).hex()})
            assert paid.status_code == 202, paid.text
        deadline, caught = time.monotonic() + 60, []
        while time.monotonic() < deadline:
            caught = [m for m in httpx.get(sinks, timeout=5).json()
                      if email in m["to"] or "+14155550123" in m["to"]]
            if {m["channel"] for m in caught if "payment of" in (m.get("text") or "")} == {"email", "sms"}:
                break
            time.sleep(0.3)
        receipts = [m for m in caught if "payment of 25.00 USD" in (m.get("text") or "")]
        assert sorted(m["channel"] for m in receipts) == ["email", "sms"], caught
        (mail,) = [m for m in receipts if m["channel"] == "email"]
        assert mail["subject"].startswith("Your payment to Demo shop") and "<strong>25.00 USD</strong>" in mail["html"]
        # make run's operator key (made once, kept in the data folder) opens the admin API;
        # another key does not.
        admin_key = json.loads((data_dir / "dev-secrets.json").read_text())["FXP_ADMIN_API_KEY"]
        with httpx.Client(base_url=stack.api_url, timeout=10) as api:
            found = api.get("/admin/orders", params={"id": order["id"]}, headers={"Authorization": f"Bearer {admin_key}"})
            assert found.status_code == 200, found.text
            assert [o["id"] for o in found.json()["data"]] == [order["id"]]
            assert api.get("/admin/orders", headers={"Authorization": "Bearer adm_wrong"}).status_code == 401
        listed = subprocess.run([sys.executable, "-m", "app.entrypoints.cli", "messages", "--to", email, "--url", sinks],
                                cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert listed.returncode == 0 and mail["subject"] in listed.stdout, listed.stdout + listed.stderr
    finally:
        stack.close()
