"""The API server's command line (granian), shared by `fusionxpay run` and the tests: HTTPS
when a certificate and key are configured (FXP_API__TLS_CERT_FILE / FXP_API__TLS_KEY_FILE)."""

from __future__ import annotations

import sys

from config.settings import ApiSettings


def api_server_command(api: ApiSettings, port: int, workers: int = 1, respawn: bool = False) -> list[str]:
    command = [sys.executable, "-m", "granian", "--interface", "asgi", "--host", api.host, "--port", str(port),
               "--workers", str(workers), "--loop", "uvloop"]
    if respawn:  # granian restarts a dead worker; with two, the other serves meanwhile
        command += ["--respawn-failed-workers", "--respawn-interval", "0.5"]
    if api.tls:
        command += ["--ssl-certificate", api.tls_cert_file, "--ssl-keyfile", api.tls_key_file]
    return [*command, "app.entrypoints.http.asgi:app"]
