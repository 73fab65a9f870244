"""The dev webhook receiver `make run` starts for the demo merchant (the only loopback
target `make run` allowlists): it takes webhooks and lists the last ones."""

from __future__ import annotations

import httpx

from app.entrypoints.dev_receiver import create_dev_receiver


async def test_the_dev_receiver_keeps_what_it_got():
    transport = httpx.ASGITransport(app=create_dev_receiver())
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8200") as receiver:
        sent = await receiver.post("/webhooks", json={"type": "order.status_changed"}, headers={"webhook-id": "e1"})
        listed = (await receiver.get("/webhooks")).json()
    assert sent.status_code == 204
    assert listed == [{"webhook_id": "e1", "payload": {"type": "order.status_changed"}}]
