"""Which webhook targets we refuse to call: a merchant-supplied URL must not turn the
gateway into a proxy to our own network (SSRF).

The host is resolved once, every address it resolves to is checked (one non-public
address is enough to refuse), and the sender then connects to exactly those addresses
(`pinned_transport`), so a DNS answer that changes between check and connect (rebinding)
cannot reach anything unchecked. Names that do not resolve are refused. Non-public
targets are called only when the operator's allowlist names them: a CIDR, or a
`host:port` (an IP literal or a name)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.adapters.notify.non_public import IPAddress, is_forbidden, is_local_name, normalise_host
from app.domain.model.webhook_url import redact_url

Resolver = Callable[[str, int], Awaitable[list[str]]]

@dataclass(frozen=True, slots=True)
class Allowlist:
    """Operator-named exceptions: CIDRs (any port) and host:port pairs."""

    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    endpoints: frozenset[tuple[str, int]] = frozenset()

    @classmethod
    def parse(cls, entries: str | Iterable[str]) -> Allowlist:
        items = entries.split(",") if isinstance(entries, str) else entries
        networks, endpoints = [], set()
        for entry in (item.strip() for item in items):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            parts = urlsplit(f"//{entry}")
            try:
                port = parts.port
            except ValueError:
                port = None
            if not parts.hostname or port is None:
                raise ValueError(f"webhook allowlist entry {entry!r} is neither a CIDR nor host:port")
            endpoints.add((normalise_host(parts.hostname), port))
        return cls(tuple(networks), frozenset(endpoints))

    def allows(self, host: str, port: int, address: IPAddress) -> bool:
        return ((normalise_host(host), port) in self.endpoints or (str(address), port) in self.endpoints
                or any(address in network for network in self.networks))


@dataclass(frozen=True, slots=True)
class CheckedTarget:
    host: str  # as in the URL (Host header, TLS SNI)
    port: int
    addresses: tuple[str, ...]  # the only addresses the sender may connect to, in order


class TargetRefused(Exception):
    """The URL may not be called; the message is safe to log and store."""


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]).split("%", 1)[0] for info in infos]


class WebhookTargetGuard:
    def __init__(self, allowlist: Allowlist | str = "", resolver: Resolver = system_resolver) -> None:
        self._allowlist = allowlist if isinstance(allowlist, Allowlist) else Allowlist.parse(allowlist)
        self._resolve = resolver

    def refusal(self, url: str) -> str | None:
        """Why `url` can never be called, judged without DNS (for input: names are judged
        when a delivery resolves them), or None."""
        try:
            host, port, literal = self._static_check(url)
        except TargetRefused as refused:
            return str(refused)
        if literal is not None and is_forbidden(literal) and not self._allowlist.allows(host, port, literal):
            return f"webhook target {host} is a non-public address"
        return None

    async def check(self, url: str) -> CheckedTarget:
        """The addresses `url` may be called at, resolved once; TargetRefused otherwise."""
        host, port, literal = self._static_check(url)
        addresses: list[IPAddress] = [literal] if literal is not None else []
        if literal is None:
            try:
                resolved = await self._resolve(normalise_host(host), port)
                addresses = [ipaddress.ip_address(a) for a in dict.fromkeys(resolved)]
            except (OSError, UnicodeError, ValueError):
                pass
            if not addresses:
                raise TargetRefused(f"webhook target {host} does not resolve")
        blocked = [str(a) for a in addresses if is_forbidden(a) and not self._allowlist.allows(host, port, a)]
        if blocked:
            raise TargetRefused(f"webhook target {host} resolves to a non-public address ({', '.join(blocked)})")
        return CheckedTarget(host, port, tuple(str(a) for a in addresses))

    def _static_check(self, url: str) -> tuple[str, int, IPAddress | None]:
        """(host, port, the host as an IP literal if it is one); TargetRefused for URLs
        that are not absolute http(s), carry credentials, or name a local host."""
        parts = urlsplit(url)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise TargetRefused(f"webhook URL {redact_url(url)!r} has an invalid port") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TargetRefused(f"webhook URL {redact_url(url)!r} is not an absolute http(s) URL")
        if "@" in parts.netloc:
            raise TargetRefused("webhook URL carries credentials (user:password@); they are not sent")
        host = parts.hostname
        if is_local_name(host) and (normalise_host(host), port) not in self._allowlist.endpoints:
            raise TargetRefused(f"webhook target {host} is a local name")
        try:
            return host, port, ipaddress.ip_address(host)
        except ValueError:
            return host, port, None
