"""A webhook endpoint for `make run`: the demo merchant's webhooks land here, so a
developer sees them without exposing anything (`curl 127.0.0.1:8200/webhooks` lists the
last ones). It is the only loopback target `make run` allowlists; a merchant's own local
receiver must be allowlisted explicitly (FXP_WORKERS__WEBHOOK_ALLOWLIST).

python -m app.entrypoints.dev_receiver --port 8200"""

from __future__ import annotations

import argparse
import json
from collections import deque
from typing import Any

import uvicorn
from litestar import Litestar, Request, get, post

DEV_RECEIVER_PORT = 8200
KEPT = 50


def create_dev_receiver() -> Litestar:
    received: deque[dict[str, Any]] = deque(maxlen=KEPT)

    @post("/webhooks", status_code=204)
    async def receive(request: Request) -> None:
        body = await request.body()
        try:
            payload = json.loads(body)
        except ValueError:
            payload = body.decode("utf-8", "replace")
        entry = {"webhook_id": request.headers.get("webhook-id"), "payload": payload}
        received.append(entry)
        print(json.dumps({"event": "dev_webhook_received", **entry}), flush=True)

    @get("/webhooks")
    async def recent() -> list[dict[str, Any]]:
        return list(reversed(received))

    @get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return Litestar([receive, recent, health], openapi_config=None)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app.entrypoints.dev_receiver")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEV_RECEIVER_PORT)
    args = parser.parse_args(argv)
    uvicorn.run(create_dev_receiver(), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
