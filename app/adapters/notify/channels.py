"""The shopper notification transports the settings configure: SMTP when a host is set,
SMS when an account is set. A channel without one is never planned."""

from __future__ import annotations

from app.adapters.notify.sms import TwilioSmsSender
from app.adapters.notify.smtp import SmtpEmailSender
from app.domain.model.notification import Channel
from app.domain.ports_notifications import MessageSender
from config.settings import NotificationSettings


def message_senders(n: NotificationSettings) -> dict[Channel, MessageSender]:
    senders: dict[Channel, MessageSender] = {}
    if n.smtp_host:
        senders[Channel.EMAIL] = SmtpEmailSender(n.smtp_host, n.smtp_port, n.mail_from, username=n.smtp_username,
                                                 password=n.smtp_password, security=n.smtp_security,
                                                 timeout_s=n.smtp_timeout_s)
    if n.sms_account_sid:
        senders[Channel.SMS] = TwilioSmsSender(n.sms_account_sid, n.sms_auth_token, n.sms_from,
                                               base_url=n.sms_base_url, timeout_s=n.sms_timeout_s)
    return senders


async def close_senders(senders: dict[Channel, MessageSender]) -> None:
    for sender in senders.values():
        close = getattr(sender, "aclose", None)
        if close is not None:
            await close()
