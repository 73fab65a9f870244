"""The webhook target guard (SSRF): which addresses are refused, the allowlist, names that
do not resolve, credentials, and that the connection goes to the checked address."""

from __future__ import annotations

import httpcore
import httpx
import pytest

from app.adapters.notify.pinned_transport import PinnedTransport, pinned
from app.adapters.notify.target_guard import CheckedTarget, TargetRefused, WebhookTargetGuard
from app.domain.model.webhook_url import redact_url

REFUSED_URLS = [
    "http://10.0.0.8/h", "http://172.16.5.4/h", "http://192.168.1.1/h",  # private
    "http://127.0.0.1/h", "http://127.255.255.254:8080/h", "http://[::1]:9/h",  # loopback
    "http://169.254.169.254/latest", "http://[fe80::1]/h",  # link-local (cloud metadata)
    "http://100.64.0.1/h", "http://100.127.255.254/h",  # CGNAT
    "http://224.0.0.1/h", "http://239.255.255.250/h", "http://[ff02::1]/h",  # multicast
    "http://240.0.0.1/h", "http://255.255.255.255/h", "http://198.18.0.1/h", "http://192.0.2.1/h",  # reserved
    "http://0.0.0.0/h", "http://[::]/h",  # unspecified
    "http://[fc00::1]/h", "http://[fd12:3456::1]/h",  # unique local
    "http://[2002:7f00:1::]/h", "http://[2002:a00:1::]/h",  # 6to4 of 127.0.0.1, 10.0.0.1
    "http://[64:ff9b::7f00:1]/h", "http://[64:ff9b::a9fe:a9fe]/h",  # NAT64 of loopback, metadata
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/h",  # Teredo
    "http://[::ffff:127.0.0.1]/h", "http://[::ffff:192.168.1.1]/h",  # IPv4-mapped
    "http://[::127.0.0.1]/h", "http://[::a00:1]/h",  # IPv4-compatible
    "http://localhost/h", "http://LOCALHOST./h", "http://LocalHost.../h", "http://api.localhost/h",
    "http://localhost.localdomain/h",
    "http://2130706433/h", "http://0x7f.1/h", "http://127.1/h",  # numeric IPv4 forms (resolver)
    "http://rebind.example/h",  # resolves to loopback (fake resolver)
    "http://mixed.example/h",  # one public and one private address: one is enough
    "http://nowhere.example/h",  # does not resolve
    "https://user:pass@public.example/h", "ftp://public.example/h", "http:///h",
]
ALLOWED_URLS = ["https://93.184.216.34/webhooks", "https://public.example/h", "http://[2606:4700::1111]/h",
                "http://[2002:5db8:d822::]/h", "http://[::ffff:8.8.8.8]/h", "http://[64:ff9b::808:808]/h"]
DNS = {"rebind.example": ["127.0.0.1"], "localhost": ["127.0.0.1", "::1"], "mixed.example": ["93.184.216.34", "10.1.2.3"],
       "public.example": ["93.184.216.34", "2606:2800:220:1::"], "receiver.test": ["127.0.0.1"],
       "2130706433": ["127.0.0.1"], "0x7f.1": ["127.0.0.1"], "127.1": ["127.0.0.1"]}


class FakeResolver:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        if host not in DNS:
            raise OSError(-2, "Name or service not known")
        return DNS[host]


@pytest.mark.parametrize("url", REFUSED_URLS)
async def test_non_public_targets_are_refused(url):
    with pytest.raises(TargetRefused):
        await WebhookTargetGuard("", FakeResolver()).check(url)


@pytest.mark.parametrize("url", ALLOWED_URLS)
async def test_public_targets_are_allowed(url):
    target = await WebhookTargetGuard("", FakeResolver()).check(url)
    assert target.addresses


@pytest.mark.parametrize(("allowlist", "url", "allowed"), [
    ("127.0.0.1:8200", "http://127.0.0.1:8200/webhooks", True),
    ("127.0.0.1:8200", "http://127.0.0.1:8201/webhooks", False),  # another port on the same host
    ("127.0.0.1:8200", "http://10.0.0.1:8200/webhooks", False),
    ("localhost:8200", "http://localhost.:8200/webhooks", True),  # a named host:port, trailing dot
    ("localhost:8200", "http://127.0.0.1:8200/webhooks", False),  # names the name, not the address
    ("10.20.0.0/16", "http://10.20.3.4:9000/h", True),
    ("10.20.0.0/16", "http://10.21.3.4:9000/h", False),
    ("10.20.0.0/16, [::1]:9", "http://[::1]:9/h", True),
    ("192.168.0.0/16", "http://mixed.example/h", False),  # 10.1.2.3 is still not allowed
    ("receiver.test:80", "http://receiver.test/h", True),
])
async def test_only_what_the_allowlist_names_is_let_through(allowlist, url, allowed):
    guard = WebhookTargetGuard(allowlist, FakeResolver())
    if allowed:
        assert (await guard.check(url)).addresses
    else:
        with pytest.raises(TargetRefused):
            await guard.check(url)


@pytest.mark.parametrize("entry", ["not an entry", "10.0.0.0/33", "host-without-port"])
def test_a_malformed_allowlist_entry_is_a_startup_error(entry):
    with pytest.raises(ValueError):
        WebhookTargetGuard(entry)


async def test_refusal_reasons_never_show_credentials():
    with pytest.raises(TargetRefused) as refused:
        await WebhookTargetGuard("", FakeResolver()).check("https://alice:s3cret@10.0.0.1/h")
    assert "s3cret" not in str(refused.value)
    assert redact_url("POST https://alice:s3cret@h.example/x failed") == "POST https://[REDACTED]@h.example/x failed"


class RecordingStream(httpcore.AsyncNetworkStream):
    def __init__(self) -> None:
        self.server_hostname: str | None = None

    async def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        self.server_hostname = server_hostname
        raise httpcore.ConnectError("stop after recording the TLS server name")


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Records where the transport connects; never touches the network."""

    def __init__(self) -> None:
        self.connected: list[tuple[str, int]] = []
        self.stream = RecordingStream()

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.connected.append((host, port))
        return self.stream


async def test_the_connection_goes_to_the_checked_address_with_the_original_name_for_tls():
    resolver = FakeResolver()
    target = await WebhookTargetGuard("", resolver).check("https://public.example/h")
    backend = RecordingBackend()
    async with httpx.AsyncClient(transport=PinnedTransport(backend)) as client:
        with pinned(target), pytest.raises(httpx.ConnectError):
            await client.post("https://public.example/h", content=b"{}")
    assert backend.connected == [("93.184.216.34", 443)]  # the checked IP, not a new lookup
    assert backend.stream.server_hostname == "public.example"  # SNI and certificate check: the name
    assert resolver.calls == ["public.example"]  # resolved once


async def test_a_host_without_a_pin_is_not_connected_to():
    backend = RecordingBackend()
    async with httpx.AsyncClient(transport=PinnedTransport(backend)) as client:
        with pinned(CheckedTarget("other.example", 443, ("93.184.216.34",))):
            with pytest.raises(httpx.ConnectError, match="no checked address"):
                await client.post("https://public.example/h", content=b"{}")
    assert backend.connected == []


@pytest.mark.parametrize(("url", "refused"), [
    ("http://127.0.0.1:3000/hooks", True), ("http://[::1]/hooks", True), ("http://LOCALHOST./hooks", True),
    ("http://10.1.2.3/hooks", True), ("http://100.64.0.1/hooks", True), ("http://[2002:7f00:1::]/h", True),
    ("https://u:p@public.example/h", True),
    ("http://127.0.0.1:8200/webhooks", False),  # allowlisted
    ("https://merchant.example/hooks", False),  # a name: judged when a delivery resolves it
    ("https://93.184.216.34/hooks", False),
])
def test_input_refusal_judges_literals_and_local_names_without_dns(url, refused):
    reason = WebhookTargetGuard("127.0.0.1:8200", FakeResolver()).refusal(url)
    assert bool(reason) is refused, reason
