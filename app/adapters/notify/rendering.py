"""Message templates (Jinja2, shipped in this package under templates/): per category a
subject, a plain-text body and an HTML body for email, and a short text for SMS. HTML is
autoescaped (order item names come from merchants); a missing value is an error, not a
blank in a customer's inbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.domain.model.money import CURRENCY_EXPONENTS, Money
from app.domain.model.notification import Category, Channel
from app.domain.ports_notifications import RenderedMessage

TEMPLATES = Path(__file__).with_name("templates")


def money(amount_minor: int, currency: str) -> str:
    if currency not in CURRENCY_EXPONENTS:
        return f"{amount_minor} {currency}"
    return Money(amount_minor, currency).display()


class JinjaMessageRenderer:
    def __init__(self, directory: Path = TEMPLATES) -> None:
        self._env = Environment(loader=FileSystemLoader(directory), undefined=StrictUndefined,
                                autoescape=select_autoescape(enabled_extensions=("html",), default=False),
                                keep_trailing_newline=False, trim_blocks=True, lstrip_blocks=True)
        self._env.filters["money"] = money

    def _render(self, name: str, facts: dict[str, Any]) -> str:
        return self._env.get_template(name).render(**facts).strip()

    def render(self, category: Category, channel: Channel, facts: dict[str, Any]) -> RenderedMessage:
        if channel is Channel.SMS:
            return RenderedMessage(subject="", text=self._render(f"{category}.sms.txt", facts))
        subject = " ".join(self._render(f"{category}.subject.txt", facts).split())  # one header line
        return RenderedMessage(subject, self._render(f"{category}.txt", facts), self._render(f"{category}.html", facts))
