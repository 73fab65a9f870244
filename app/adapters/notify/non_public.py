"""Which addresses and names are not public: a webhook may not reach them unless the
operator's allowlist names them. IPv6 forms that carry an IPv4 address (mapped, 6to4,
NAT64) are judged by that address; Teredo and the IPv4-compatible forms are refused."""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

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
