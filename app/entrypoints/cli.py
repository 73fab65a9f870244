"""The `fusionxpay` command line: merchants, migrations, the card vault's keys, and the
whole local stack.

Commands use the servers `make run` uses (app/entrypoints/local_stack.py): on a fresh
clone with no FXP_ URLs, the embedded ones under `.fusionxpay/`, joined while `make run`
runs and started (and migrated) otherwise. Answers are JSON on stdout, logs go to stderr;
an expected failure (no database, a port in use, a bad setting) is one line on stderr
naming the fix, and exit status 1 (2 for a refused input)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.entrypoints.local_stack import CommandFailed

if TYPE_CHECKING:
    from app.bootstrap import Container
    from config.settings import Settings

Command = Callable[["Container", argparse.Namespace], Awaitable[Any]]


async def _create_merchant(container: Container, args: argparse.Namespace) -> dict:
    created = await container.merchants.create(args.name, args.webhook_url)
    return {
        "merchant_id": str(created.merchant.id),
        "name": created.merchant.name,
        "api_key": created.api_key,
        "webhook_url": created.merchant.webhook_url,
        "webhook_secret": created.webhook_secret,
        "note": "the api_key is shown once and stored only as a hash; keep it now",
    }


def _view(value: Any) -> Any:
    import msgspec

    return msgspec.to_builtins(value)


async def _list_merchants(container: Container, args: argparse.Namespace) -> Any:
    from app.entrypoints.http.pagination import decode_cursor, next_cursor
    from app.entrypoints.http.schemas.merchants import Merchant, MerchantPage

    found = await container.merchants.list(args.limit + 1, decode_cursor(args.cursor) if args.cursor else None)
    page, has_more = found[:args.limit], len(found) > args.limit
    return _view(MerchantPage([Merchant.from_domain(m) for m in page], has_more, next_cursor(page, has_more)))


async def _show_merchant(container: Container, args: argparse.Namespace) -> Any:
    from app.entrypoints.http.schemas.merchants import Merchant

    return _view(Merchant.from_domain(await container.merchants.get(args.merchant_id)))


async def _update_merchant(container: Container, args: argparse.Namespace) -> Any:
    from app.entrypoints.http.schemas.merchants import Merchant

    changes = {name: value for name, value in (("name", args.name), ("webhook_url", args.webhook_url))
               if value is not None}
    return _view(Merchant.from_domain(await container.merchants.update(args.merchant_id, **changes)))


async def _rotate_api_key(container: Container, args: argparse.Namespace) -> Any:
    from app.entrypoints.http.schemas.merchants import ApiKeyRotated

    rotation = await container.merchants.rotate_api_key(args.merchant_id, args.idempotency_key, args.grace_period)
    return _view(ApiKeyRotated.from_domain(rotation))


async def _rotate_webhook_secret(container: Container, args: argparse.Namespace) -> Any:
    from app.entrypoints.http.schemas.merchants import WebhookSecretRotated

    rotation = await container.merchants.rotate_webhook_secret(args.merchant_id, args.idempotency_key, args.overlap)
    return _view(WebhookSecretRotated.from_domain(rotation))


async def _enable_webhooks(container: Container, args: argparse.Namespace) -> Any:
    from app.entrypoints.http.schemas.merchants import Merchant, MerchantChanged

    change = await container.merchants.enable_webhooks(args.merchant_id)
    return _view(MerchantChanged(Merchant.from_domain(change.merchant), change.changed))


async def _deactivate_merchant(container: Container, args: argparse.Namespace) -> Any:
    from app.entrypoints.http.schemas.merchants import Merchant, MerchantChanged

    change = await container.merchants.deactivate(args.merchant_id)
    return _view(MerchantChanged(Merchant.from_domain(change.merchant), change.changed))


async def _rekey_vault(container: Container, args: argparse.Namespace) -> dict:
    """Re-seal every saved card and webhook secret under the newest FXP_VAULT__KEYS key (run after adding one;
    the older key can be removed once this reports nothing left under it)."""
    from app.adapters.db.merchant_secrets import reseal_webhook_secrets

    resealed = await container.vault.rekey()
    webhook_secrets = await reseal_webhook_secrets(container.engine, container.webhook_secrets)
    return {"resealed": resealed, "webhook_secrets_resealed": webhook_secrets, "key_id": container.vault.current_key_id}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fusionxpay", description="FusionXPay payment gateway")
    commands = parser.add_subparsers(dest="command", required=True)

    merchants = commands.add_parser("merchants", help="manage merchants").add_subparsers(dest="action", required=True)
    create = merchants.add_parser("create", help="create a merchant and print its secret API key once")
    create.add_argument("--name", required=True)
    create.add_argument("--webhook-url")
    create.set_defaults(handler=_create_merchant)
    listing = merchants.add_parser("list", help="merchants, newest first")
    listing.add_argument("--limit", type=int, default=50, choices=range(1, 101), metavar="1-100")
    listing.add_argument("--cursor", help="next_cursor of the previous page")
    listing.set_defaults(handler=_list_merchants)
    for name, help_, handler in (
            ("show", "one merchant", _show_merchant),
            ("update", "change its name and/or webhook URL", _update_merchant),
            ("rotate-key", "a new API key (shown once); the current one works until its grace period ends",
             _rotate_api_key),
            ("rotate-webhook-secret", "a new webhook secret (shown once); both sign webhooks during the overlap",
             _rotate_webhook_secret),
            ("enable-webhooks", "deliver webhooks again to an endpoint disabled by a 410 Gone", _enable_webhooks),
            ("deactivate", "its API keys stop working at once; nothing is deleted", _deactivate_merchant)):
        command = merchants.add_parser(name, help=help_)
        command.add_argument("merchant_id", type=_merchant_id, metavar="MERCHANT_ID")
        command.set_defaults(handler=handler)
        if name == "update":
            command.add_argument("--name")
            command.add_argument("--webhook-url")
        if name.startswith("rotate"):
            command.add_argument("--idempotency-key", help="the same key again is the same rotation (no second one)")
        if name == "rotate-key":
            command.add_argument("--grace-period", type=int, metavar="SECONDS",
                                 help="how long the current key keeps working (default 86400)")
        if name == "rotate-webhook-secret":
            command.add_argument("--overlap", type=int, metavar="SECONDS",
                                 help="how long the current secret keeps signing too (default 86400)")

    vault = commands.add_parser("vault", help="the card vault").add_subparsers(dest="action", required=True)
    vault.add_parser("rekey", help="re-encrypt every saved card under the newest FXP_VAULT__KEYS key").set_defaults(
        handler=_rekey_vault)

    messages = commands.add_parser("messages", help="shopper email and SMS caught by `make run`'s local sinks")
    messages.add_argument("--channel", choices=["email", "sms"])
    messages.add_argument("--to", help="only messages to this address or number")
    messages.add_argument("--limit", type=int, default=20)
    messages.add_argument("--json", action="store_true", help="whole messages (text and HTML bodies) as JSON")
    messages.add_argument("--url", default="http://127.0.0.1:8300/messages", help="the sinks' listing")

    commands.add_parser("migrate", help="apply the database migrations (FXP_DATABASE_URL, else the embedded database)")
    run = commands.add_parser("run", help="run API, workers and sandbox (embedded DB/Redis if no URLs set)")
    run.add_argument("--workers", type=int, default=None, help="worker processes (default 2)")
    run.add_argument("--api-workers", type=int, default=2, help="API server processes (default 2)")
    return parser


def _merchant_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a merchant id (a UUID): {value!r}") from None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except CommandFailed as exc:
        print(f"fusionxpay: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    settings = _settings()
    if args.command == "messages":  # reads make run's sinks over HTTP: no database
        from app.entrypoints.dev_sinks import print_caught

        return print_caught(args.url, args.channel, args.to, args.limit, args.json)
    if args.command == "run":
        _check_ports(settings)
        from app.entrypoints.supervisor import run_stack

        return run_stack(worker_processes=args.workers, api_workers=args.api_workers)
    from config.logging import configure_logging

    # Warnings and errors only, unless FXP_LOG_LEVEL asks for more; always on stderr.
    configure_logging(os.environ.get("FXP_LOG_LEVEL", "WARNING"), stream=sys.stderr)
    from app.entrypoints.local_stack import local_services, migrate

    with local_services(Path(settings.data_dir).resolve(), redis=args.command != "migrate") as env:
        if args.command == "migrate":
            if os.environ.get("FXP_DATABASE_URL"):  # the embedded database was just migrated
                migrate(env["FXP_DATABASE_URL"], env)
            print(json.dumps({"migrated": True}))
            return 0
        return _run_command(args, _settings(env))


def _settings(env: dict[str, str] | None = None) -> Settings:
    """The settings, from the environment plus `env` (the servers found for us); a bad
    FXP_ variable is a CommandFailed naming it."""
    from config.settings import SettingsError, get_settings

    if env:
        os.environ.update(env)
        get_settings.cache_clear()
    try:
        settings = get_settings()
    except SettingsError as exc:
        raise CommandFailed(str(exc)) from None
    if env and "config.piccolo_conf" in sys.modules:  # imported before we knew the database
        sys.modules["config.piccolo_conf"].configure(settings.database)
    return settings


def _run_command(args: argparse.Namespace, settings: Settings) -> int:
    from app.domain.errors import DomainError

    try:
        answer = asyncio.run(_with_container(settings, args.handler, args))
    except DomainError as exc:
        print(json.dumps({"error": exc.code, "detail": exc.message}), file=sys.stderr)
        return 2
    print(json.dumps(answer, indent=2))
    return 0


async def _with_container(settings: Settings, handler: Command, args: argparse.Namespace) -> Any:
    import asyncpg

    from app.adapters.outages import outage_of
    from app.bootstrap import build_container

    container = build_container(settings)
    _bind_operator()
    try:
        await container.start()
        try:
            return await handler(container, args)
        finally:
            await container.stop()
    except asyncpg.UndefinedTableError:
        raise CommandFailed("the database at FXP_DATABASE_URL has no FusionXPay tables yet: run "
                            "`./fusionxpay migrate` first") from None
    except Exception as exc:
        dependency = outage_of(exc)
        if dependency is None:
            raise
        raise CommandFailed(_unreachable(dependency, exc)) from None


def _bind_operator() -> None:
    """Who the audit trail says acted: an operator at this machine's shell (its login name),
    under a correlation id of its own per command."""
    import getpass

    import structlog

    from app.adapters.audit import context as audit_context
    from app.domain.model.audit import Actor, ActorKind

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        user = str(os.getuid())
    structlog.contextvars.bind_contextvars(correlation_id=f"cli-{uuid.uuid4().hex}")
    audit_context.bind_actor(Actor(ActorKind.ADMIN, f"cli:{user}"))


def _unreachable(dependency: str, exc: BaseException) -> str:
    variable = {"redis": "FXP_REDIS_URL"}.get(dependency, "FXP_DATABASE_URL")
    where = "the configured server" if os.environ.get(variable) else "the embedded server"
    return (f"cannot reach {'Redis' if dependency == 'redis' else 'PostgreSQL'} ({where}: {type(exc).__name__}: "
            f"{str(exc)[:160]}): start it, or check {variable}")


def _check_ports(settings: Settings) -> None:
    """Before anything starts: the ports `fusionxpay run` serves on must be free."""
    from app.entrypoints.dev_sinks import HTTP_PORT, SMTP_PORT

    ports = [("FXP_PORT", settings.api.host, settings.api.port),
             ("FXP_SANDBOX_PORT", "127.0.0.1", _port_variable("FXP_SANDBOX_PORT", 8100)),
             ("FXP_DEV_RECEIVER_PORT", "127.0.0.1", _port_variable("FXP_DEV_RECEIVER_PORT", 8200)),
             ("FXP_DEV_SMTP_PORT", "127.0.0.1", _port_variable("FXP_DEV_SMTP_PORT", SMTP_PORT)),
             ("FXP_DEV_SINKS_PORT", "127.0.0.1", _port_variable("FXP_DEV_SINKS_PORT", HTTP_PORT))]
    for variable, host, port in ports:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # what the servers do too
            try:
                probe.bind((host, port))
            except OSError as exc:
                raise CommandFailed(f"port {port} on {host} is in use ({exc.strerror}): stop what listens there "
                                    f"(another `make run`?) or choose another port with {variable}") from None


def _port_variable(name: str, default: int) -> int:
    value = os.environ.get(name, str(default))
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise CommandFailed(f"{name}={value!r} is invalid: expected a port number (1-65535)")
    return int(value)


if __name__ == "__main__":
    sys.exit(main())
