"""Who is calling: the TCP peer, unless that peer is a configured trusted proxy, in which
case X-Forwarded-For is read right to left and the first address that is not a trusted
proxy is the client. With no trusted proxies (the default) X-Forwarded-For is ignored:
anyone can write that header. Used by rate limits, fraud rules and callback allowlists."""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from litestar.types import Scope

from app.domain.errors import CallbackSourceRefused

Network = IPv4Network | IPv6Network


def parse_networks(text: str, setting: str) -> tuple[Network, ...]:
    """Comma-separated CIDRs (or addresses); a bad entry stops the process at start-up."""
    try:
        return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise ValueError(f"{setting}: {exc}") from None


def in_networks(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        parsed: IPv4Address | IPv6Address = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)


class ClientAddress:
    def __init__(self, trusted_proxies: str = "") -> None:
        self._trusted = parse_networks(trusted_proxies, "FXP_API__TRUSTED_PROXIES")

    def of(self, scope: Scope) -> str | None:
        client = scope.get("client")
        peer = client[0] if client else None
        if peer is None or not self._trusted or not in_networks(peer, self._trusted):
            return peer
        hops = [hop.strip() for name, value in scope["headers"] if name == b"x-forwarded-for"
                for hop in value.decode("latin-1").split(",") if hop.strip()]
        for hop in reversed(hops):
            if not in_networks(hop, self._trusted):
                return hop if _is_address(hop) else peer
        return hops[0] if hops and _is_address(hops[0]) else peer


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class CallbackSources:
    """Optional per-provider allowlists of callback source addresses; a provider without
    one takes callbacks from anywhere (their signatures are what is always checked)."""

    def __init__(self, allowlists: dict[str, str]) -> None:
        self._networks = {provider: parse_networks(cidrs, f"FXP_API__CALLBACK_ALLOWLIST ({provider})")
                          for provider, cidrs in allowlists.items()}

    def check(self, provider: str, client_ip: str | None) -> None:
        allowed = self._networks.get(provider)
        if allowed and (client_ip is None or not in_networks(client_ip, allowed)):
            raise CallbackSourceRefused(f"callbacks for {provider} are not accepted from {client_ip}")
