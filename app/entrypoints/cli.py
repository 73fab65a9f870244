"""The `fusionxpay` command line: merchants, migrations, the card vault's keys, and the
whole local stack."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys


async def _create_merchant(name: str, webhook_url: str | None) -> dict:
    from app.bootstrap import build_container
    from config.settings import get_settings

    container = build_container(get_settings())
    await container.start()
    try:
        created = await container.merchants.create(name, webhook_url)
    finally:
        await container.stop()
    return {
        "merchant_id": str(created.merchant.id),
        "name": created.merchant.name,
        "api_key": created.api_key,
        "webhook_url": created.merchant.webhook_url,
        "webhook_secret": created.webhook_secret,
        "note": "the api_key is shown once and stored only as a hash; keep it now",
    }


async def _rekey_vault() -> dict:
    """Re-seal every saved card under the newest FXP_VAULT__KEYS key (run after adding one;
    the older key can be removed once this reports nothing left under it)."""
    from app.bootstrap import build_container
    from config.settings import get_settings

    container = build_container(get_settings())
    await container.start()
    try:
        resealed = await container.vault.rekey()
    finally:
        await container.stop()
    return {"resealed": resealed, "key_id": container.vault.current_key_id}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fusionxpay", description="FusionXPay payment gateway")
    commands = parser.add_subparsers(dest="command", required=True)

    merchants = commands.add_parser("merchants", help="manage merchants").add_subparsers(dest="action", required=True)
    create = merchants.add_parser("create", help="create a merchant and print its secret API key once")
    create.add_argument("--name", required=True)
    create.add_argument("--webhook-url")

    vault = commands.add_parser("vault", help="the card vault").add_subparsers(dest="action", required=True)
    vault.add_parser("rekey", help="re-encrypt every saved card under the newest FXP_VAULT__KEYS key")

    messages = commands.add_parser("messages", help="shopper email and SMS caught by `make run`'s local sinks")
    messages.add_argument("--channel", choices=["email", "sms"])
    messages.add_argument("--to", help="only messages to this address or number")
    messages.add_argument("--limit", type=int, default=20)
    messages.add_argument("--json", action="store_true", help="whole messages (text and HTML bodies) as JSON")
    messages.add_argument("--url", default="http://127.0.0.1:8300/messages", help="the sinks' listing")

    commands.add_parser("migrate", help="apply database migrations to FXP_DATABASE_URL")
    run = commands.add_parser("run", help="run API, workers and sandbox (embedded DB/Redis if no URLs set)")
    run.add_argument("--workers", type=int, default=None, help="worker processes (default 2)")
    run.add_argument("--api-workers", type=int, default=2, help="API server processes (default 2)")

    args = parser.parse_args(argv)
    if args.command == "merchants":
        from app.domain.errors import DomainError

        try:
            print(json.dumps(asyncio.run(_create_merchant(args.name, args.webhook_url)), indent=2))
        except DomainError as exc:
            print(json.dumps({"error": exc.code, "detail": exc.message}), file=sys.stderr)
            return 2
        return 0
    if args.command == "vault":
        print(json.dumps(asyncio.run(_rekey_vault())))
        return 0
    if args.command == "messages":
        from app.entrypoints.dev_sinks import print_caught

        return print_caught(args.url, args.channel, args.to, args.limit, args.json)
    if args.command == "migrate":
        from app.entrypoints.migrate import apply_migrations
        from config.settings import get_settings

        apply_migrations(get_settings().database.url)
        print("migrations applied")
        return 0
    from app.entrypoints.supervisor import run_stack

    return run_stack(worker_processes=args.workers, api_workers=args.api_workers)


if __name__ == "__main__":
    sys.exit(main())
