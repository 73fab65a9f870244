"""Local mail and SMS sinks for `make run`: shopper notifications go somewhere real
without any account. An SMTP server (aiosmtpd) keeps every message it is sent; an HTTP
server speaking the Twilio Messages API (POST /2010-04-01/Accounts/{sid}/Messages.json,
Basic auth, form-encoded To/From/Body, 201 with the message resource, Twilio's error
JSON otherwise) keeps every SMS, and lists them as Twilio does (GET the same path, `To` and
`From` filters, newest first: how an in-doubt send is looked up). `GET /messages` lists what
both caught, newest first (`fusionxpay messages` prints it); an email whose Message-ID
arrived before is marked `duplicate` (what a receiver dropping copies would drop).

python -m app.entrypoints.dev_sinks --smtp-port 8025 --http-port 8300
(the SMS sink accepts FXP_NOTIFICATIONS__SMS_ACCOUNT_SID / __SMS_AUTH_TOKEN, as the app sends)"""

from __future__ import annotations

import argparse
import asyncio
import base64
import re
import secrets
import threading
from collections import deque
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from litestar import Litestar, Request, Response, get, post

SMTP_PORT, HTTP_PORT = 8025, 8300
KEPT = 500
E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")


class CaughtMessages:
    """What the sinks caught, newest last; shared by the SMTP thread and the HTTP loop."""

    def __init__(self, kept: int = KEPT) -> None:
        self._messages: deque[dict[str, Any]] = deque(maxlen=kept)
        self._lock = threading.Lock()

    def add(self, message: dict[str, Any]) -> None:
        with self._lock:
            seen = message.get("message_id") and any(m.get("message_id") == message["message_id"]
                                                     for m in self._messages)
            self._messages.append({**message, "received_at": datetime.now(UTC).isoformat(),
                                   **({"duplicate": True} if seen else {})})

    def list(self, channel: str | None = None, to: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            caught = list(self._messages)
        return [m for m in reversed(caught) if (channel is None or m["channel"] == channel)
                and (to is None or to in m["to"])]


def parse_email(content: bytes) -> dict[str, Any]:
    parsed = message_from_bytes(content, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    text, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    return {"subject": str(parsed["Subject"] or ""), "from": str(parsed["From"] or ""),
            "message_id": str(parsed["Message-ID"] or ""), "text": text.get_content() if text else None,
            "html": html.get_content() if html else None}


class CatchingHandler:
    """aiosmtpd handler: accepts every message and keeps it."""

    def __init__(self, caught: CaughtMessages) -> None:
        self.caught = caught

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.caught.add({"channel": "email", "to": list(envelope.rcpt_tos), "envelope_from": envelope.mail_from,
                         **parse_email(envelope.original_content or envelope.content)})
        return "250 Message accepted for delivery"


def _twilio_error(status: int, code: int, message: str) -> Response[dict[str, Any]]:
    return Response({"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                     "status": status}, status_code=status)


def _authorized(header: str | None, sid: str, token: str) -> bool:
    expected = "Basic " + base64.b64encode(f"{sid}:{token}".encode()).decode()
    return header is not None and secrets.compare_digest(header, expected)


def create_sms_sink(caught: CaughtMessages, account_sid: str, auth_token: str) -> Litestar:
    @post("/2010-04-01/Accounts/{sid:str}/Messages.json", status_code=201)
    async def create_message(sid: str, request: Request) -> Response[dict[str, Any]]:
        if sid != account_sid or not _authorized(request.headers.get("authorization"), account_sid, auth_token):
            return _twilio_error(401, 20003, "Authenticate")
        form = await request.form()
        to, sender, body = form.get("To"), form.get("From"), form.get("Body")
        if not isinstance(to, str) or not E164.match(to):
            return _twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not isinstance(body, str) or not body:
            return _twilio_error(400, 21602, "Message body is required.")
        message_sid = "SM" + secrets.token_hex(16)
        now = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
        resource = {
            "sid": message_sid, "account_sid": account_sid, "to": to, "from": sender, "body": body,
            "status": "queued", "direction": "outbound-api", "api_version": "2010-04-01", "num_segments": "1",
            "num_media": "0", "date_created": now, "date_updated": now, "date_sent": None, "price": None,
            "price_unit": "USD", "error_code": None, "error_message": None, "messaging_service_sid": None,
            "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{message_sid}.json",
        }
        caught.add({"channel": "sms", "to": [to], "from": sender, "text": body, "sid": message_sid,
                    "resource": resource})
        return Response(resource, status_code=201)

    @get("/2010-04-01/Accounts/{sid:str}/Messages.json")
    async def list_messages(sid: str, request: Request) -> Response[dict[str, Any]]:
        """Twilio's Messages list (To / From filters, PageSize, newest first; one page)."""
        if sid != account_sid or not _authorized(request.headers.get("authorization"), account_sid, auth_token):
            return _twilio_error(401, 20003, "Authenticate")
        to, sender = request.query_params.get("To"), request.query_params.get("From")
        size = min(int(request.query_params.get("PageSize") or 50), 1000)
        found = [m["resource"] for m in caught.list("sms", to) if "resource" in m
                 and (to is None or m["resource"]["to"] == to) and (sender is None or m["resource"]["from"] == sender)]
        uri = f"/2010-04-01/Accounts/{account_sid}/Messages.json?PageSize={size}&Page=0"
        return Response({"messages": found[:size], "end": min(len(found), size) - 1, "first_page_uri": uri,
                         "next_page_uri": None, "page": 0, "page_size": size, "previous_page_uri": None,
                         "start": 0, "uri": uri})

    @get("/messages")
    async def messages(channel: str | None = None, to: str | None = None) -> list[dict[str, Any]]:
        return [{k: v for k, v in m.items() if k != "resource"} for m in caught.list(channel, to)]

    @get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return Litestar([create_message, list_messages, messages, health], openapi_config=None)


async def serve_smtp_sink(caught: CaughtMessages, host: str, port: int) -> asyncio.Server:
    """The SMTP server on the running loop (the HTTP sink's): no second thread contending
    for the interpreter with it."""
    handler = CatchingHandler(caught)
    return await asyncio.get_running_loop().create_server(lambda: SMTP(handler, hostname="fusionxpay-sink"),
                                                          host, port)


def start_smtp_sink(caught: CaughtMessages, host: str = "127.0.0.1", port: int = SMTP_PORT) -> Controller:
    """A real SMTP server on its own thread (tests; stop() it when done)."""
    controller = Controller(CatchingHandler(caught), hostname=host, port=port)
    controller.start()
    return controller


def sink_environment(environ: dict[str, str], smtp_port: int, http_port: int) -> dict[str, str]:
    """FXP_NOTIFICATIONS__* for `make run`: each channel not configured by the environment
    goes to its local sink (a set SMTP host or SMS account is left alone)."""
    env: dict[str, str] = {}
    prefix = "FXP_NOTIFICATIONS__"
    if not environ.get(prefix + "SMTP_HOST"):
        env |= {prefix + "SMTP_HOST": "127.0.0.1", prefix + "SMTP_PORT": str(smtp_port),
                prefix + "SMTP_SECURITY": "none"}
    if not environ.get(prefix + "SMS_ACCOUNT_SID"):
        env |= {prefix + "SMS_BASE_URL": f"http://127.0.0.1:{http_port}", prefix + "SMS_ACCOUNT_SID": "AC" + "0" * 32,
                prefix + "SMS_AUTH_TOKEN": secrets.token_urlsafe(24), prefix + "SMS_FROM": "+15005550006"}
    return env


def print_caught(url: str, channel: str | None, to: str | None, limit: int, as_json: bool) -> int:
    """`fusionxpay messages`: what the running sinks caught, newest first."""
    import json

    import httpx

    params = {k: v for k, v in (("channel", channel), ("to", to)) if v}
    try:
        caught = httpx.get(url, params=params, timeout=5).raise_for_status().json()[:limit]
    except httpx.HTTPError as exc:
        print(f"cannot read {url} ({type(exc).__name__}): is `make run` running?")
        return 1
    if as_json:
        print(json.dumps(caught, indent=2))
        return 0
    for m in caught:
        head = m["subject"] if m["channel"] == "email" else m["text"]
        print(f"{m['received_at']}  {m['channel']:<5} to {', '.join(m['to'])}: {head}")
    print(f"({len(caught)} message{'s' if len(caught) != 1 else ''})")
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app.entrypoints.dev_sinks")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=SMTP_PORT)
    parser.add_argument("--http-port", type=int, default=HTTP_PORT)
    args = parser.parse_args(argv)
    from config.settings import get_settings

    n = get_settings().notifications  # the credentials the app sends with (secrets stay off argv)
    caught = CaughtMessages()
    app = create_sms_sink(caught, n.sms_account_sid, n.sms_auth_token)
    servers: list[asyncio.Server] = []

    async def start_smtp() -> None:
        servers.append(await serve_smtp_sink(caught, args.host, args.smtp_port))

    async def stop_smtp() -> None:
        for server in servers:
            server.close()

    app.on_startup.append(start_smtp)
    app.on_shutdown.append(stop_smtp)
    uvicorn.run(app, host=args.host, port=args.http_port, log_level="warning")


if __name__ == "__main__":
    main()
