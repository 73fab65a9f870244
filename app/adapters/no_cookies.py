"""A cookie jar that keeps nothing, for every outbound HTTP client of ours (providers,
merchant webhooks, SMS). httpx keeps the cookies a server sets and sends them back on
later requests, and has no switch for that: a merchant endpoint's or a provider's cookie
would be stored in a process-wide client and replayed. Its clients take any CookieJar;
this one stores nothing (and skips parsing Set-Cookie headers on every response)."""

from __future__ import annotations

from http.client import HTTPResponse
from http.cookiejar import Cookie, CookieJar
from urllib.request import Request


class KeepNoCookies(CookieJar):
    def extract_cookies(self, response: HTTPResponse, request: Request) -> None:
        """What httpx calls with every response: nothing is kept."""

    def set_cookie(self, cookie: Cookie) -> None:
        """Nor anything set by hand."""
