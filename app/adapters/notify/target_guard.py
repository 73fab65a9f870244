"""Which webhook targets we refuse to call: a merchant-supplied URL must not turn the
gateway into a proxy to our own network (SSRF). The host is resolved and every address
it resolves to is checked; one private address is enough to refuse."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (address.is_private or address.is_loopback or address.is_link_local or address.is_multicast
            or address.is_reserved or address.is_unspecified)


async def refusal_reason(url: str) -> str | None:
    """Why `url` may not be called, or None when it may (or cannot be resolved now:
    that is a delivery failure to retry, not a refusal)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"webhook URL {url!r} is not an absolute http(s) URL"
    try:
        literal = ipaddress.ip_address(parts.hostname)
        addresses = {literal}
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, parts.port or 443,
                                                                 type=socket.SOCK_STREAM)
        except socket.gaierror:
            return None
        addresses = {ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos}
    blocked = sorted(str(address) for address in addresses if _forbidden(address))
    if blocked:
        return f"webhook target {parts.hostname} resolves to a non-public address ({', '.join(blocked)})"
    return None
