"""The API server (granian, as `fusionxpay run` starts it) serves HTTPS with a configured
certificate and key, and answers over HTTPS carry Strict-Transport-Security."""

from __future__ import annotations

import datetime
import ipaddress
import os
import subprocess
import time

import httpx
import msgspec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.entrypoints.server_command import api_server_command
from tests.e2e.live_stack import ROOT, VAULT_KEY
from tests.processes import free_port


def self_signed(directory) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


def wait_for_https(url: str, cert: str, process: subprocess.Popen, timeout_s: float = 30.0) -> httpx.Response:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            return httpx.get(url, verify=cert, timeout=2.0)
        except httpx.TransportError:
            time.sleep(0.1)
    raise TimeoutError(url)


def test_https_with_a_configured_certificate(settings, tmp_path):
    cert, key = self_signed(tmp_path)
    port = free_port()
    api = msgspec.structs.replace(settings.api, tls_cert_file=cert, tls_key_file=key)
    env = {**os.environ, "FXP_PORT": str(port), "FXP_VAULT__KEYS": VAULT_KEY, "FXP_LOG_LEVEL": "WARNING",
           "FXP_API__TLS_CERT_FILE": cert, "FXP_API__TLS_KEY_FILE": key}
    process = subprocess.Popen(api_server_command(api, port), cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        response = wait_for_https(f"https://127.0.0.1:{port}/health", cert, process)
        assert response.status_code == 200
        assert response.headers["strict-transport-security"].startswith("max-age=31536000")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "access-control-allow-origin" not in response.headers
        refused = None
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=2.0)
        except httpx.TransportError as exc:  # plain HTTP on the TLS port gets no answer
            refused = exc
        assert refused is not None
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
