"""python -m sandbox_gateway --host 127.0.0.1 --port 8100 (settings from SANDBOX_* env vars)."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from sandbox_gateway.app import create_app
from sandbox_gateway.settings import GatewaySettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox_gateway", description="FusionXPay sandbox card gateway")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = create_app(GatewaySettings.from_env())
    # Building the app configured the root logger (Litestar's logging config, at INFO): without
    # this, --log-level warning still logged every payment and callback, about a tenth of the
    # gateway's CPU per payment in a benchmark.
    logging.getLogger().setLevel(args.log_level.upper())
    # One worker only: the gateway's state lives in this process's memory.
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, workers=1)


if __name__ == "__main__":
    main()
