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

from app.domain.model.webhook_url import redact_url

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

# Not all of these are in the stdlib's is_private/is_global on every 3.11.x: listed
# explicitly so the answer does not depend on the patch release.
FORBIDDEN_V4 = [ipaddress.IPv4Network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4")]
FORBIDDEN_V6 = [ipaddress.IPv6Network(n) for n in (
    "::/96",  # unspecified, loopback and the deprecated IPv4-compatible forms
    "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8")]
TEREDO = ipaddress.IPv6Network("2001::/32")  # inside 2001::/23 already; named for the reader
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries to (mapped, 6to4, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_forbidden(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if (inner := embedded_ipv4(address)) is not None:
            return is_forbidden(inner)
        if address in TEREDO or any(address in network for network in FORBIDDEN_V6):
            return True
    elif any(address in network for network in FORBIDDEN_V4):
        return True
    return (not address.is_global or address.is_private or address.is_loopback or address.is_link_local
            or address.is_multicast or address.is_reserved or address.is_unspecified)


def normalise_host(host: str) -> str:
    return host.strip().rstrip(".").lower()


def is_local_name(host: str) -> bool:
    name = normalise_host(host)
    return name in LOCAL_NAMES or name.endswith(".localhost")


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

    async def check(self, url: str) -> CheckedTarget:
        """The addresses `url` may be called at, resolved once; TargetRefused otherwise."""
        parts = urlsplit(url)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise TargetRefused(f"webhook URL {redact_url(url)!r} has an invalid port") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TargetRefused(f"webhook URL {redact_url(url)!r} is not an absolute http(s) URL")
        if parts.username is not None or parts.password is not None:
            raise TargetRefused("webhook URL carries credentials (user:password@); they are not sent")
        host = parts.hostname
        if is_local_name(host) and (normalise_host(host), port) not in self._allowlist.endpoints:
            raise TargetRefused(f"webhook target {host} is a local name")
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                addresses = [ipaddress.ip_address(a) for a in dict.fromkeys(await self._resolve(normalise_host(host), port))]
            except (OSError, UnicodeError, ValueError):
                addresses = []
            if not addresses:
                raise TargetRefused(f"webhook target {host} does not resolve") from None
        blocked = [str(a) for a in addresses if is_forbidden(a) and not self._allowlist.allows(host, port, a)]
        if blocked:
            raise TargetRefused(f"webhook target {host} resolves to a non-public address ({', '.join(blocked)})")
        return CheckedTarget(host, port, tuple(str(a) for a in addresses))
