"""Email over SMTP (aiosmtplib): one connection per message, STARTTLS or implicit TLS by
configuration. What the server answers decides what happens next: 2xx delivered, 5xx
refused for good (bad mailbox, policy), 4xx and network trouble (refused connection,
timeout, disconnect) tried again later. A timeout or disconnect once connected is
`unknown`: the server may have taken the message (after DATA) before we heard its 250."""

from __future__ import annotations

import socket
import time
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from app.domain.ports_notifications import RenderedMessage, SendResult

SECURITY = {"none": (False, False), "starttls": (False, True), "tls": (True, False)}  # (use_tls, start_tls)


def build_email(sender: str, recipient: str, message: RenderedMessage, message_key: str) -> EmailMessage:
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = sender, recipient, message.subject
    email["Date"] = formatdate(localtime=False)
    # The same Message-ID on every attempt of a delivery: a copy resent after a crash
    # between the server's "250" and our record of it is recognisably the same message.
    email["Message-ID"] = f"<{message_key}@fusionxpay>"
    email.set_content(message.text)
    if message.html is not None:
        email.add_alternative(message.html, subtype="html")
    return email


class SmtpEmailSender:
    def __init__(self, host: str, port: int, sender: str, *, username: str = "", password: str = "",
                 security: str = "starttls", timeout_s: float = 10.0) -> None:
        if security not in SECURITY:
            raise ValueError(f"smtp_security must be one of {', '.join(SECURITY)}, not {security!r}")
        self._host, self._port, self._sender = host, port, sender
        self._username, self._password = username or None, password or None
        self._use_tls, self._start_tls = SECURITY[security]
        self._timeout_s = timeout_s

    async def send(self, recipient: str, message: RenderedMessage, message_key: str) -> SendResult:
        email = build_email(self._sender, recipient, message, message_key)
        started = time.monotonic()

        def took() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            await aiosmtplib.send(email, hostname=self._host, port=self._port, username=self._username,
                                  password=self._password, use_tls=self._use_tls, start_tls=self._start_tls,
                                  timeout=self._timeout_s)
        except aiosmtplib.SMTPRecipientsRefused as exc:  # every recipient (we send to one)
            codes = [refused.code for refused in exc.recipients]
            detail = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            return SendResult(False, took(), error=f"recipient refused: {detail}"[:500],
                              permanent=all(code >= 500 for code in codes))
        except aiosmtplib.SMTPResponseException as exc:  # sender refused, data refused, auth...
            return SendResult(False, took(), error=f"SMTP {exc.code} {exc.message}"[:500], permanent=exc.code >= 500)
        except (aiosmtplib.SMTPException, OSError) as exc:  # timeouts, refused or dropped connections
            never_connected = isinstance(exc, (aiosmtplib.SMTPConnectError, ConnectionRefusedError, socket.gaierror))
            return SendResult(False, took(), error=f"{type(exc).__name__}: {exc}"[:500], unknown=not never_connected)
        return SendResult(True, took(), provider_message_id=email["Message-ID"])
