"""A place of our own on a shared RabbitMQ: a fresh virtual host (management API, else
rabbitmqctl on this machine), deleted afterwards; where neither is available, uniquely
prefixed queues, deleted one by one. Tests never flush queues they did not create."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

MANAGEMENT_PORT = 15672


class RabbitmqNamespace:
    def __init__(self, amqp_url: str) -> None:
        self._parts = urlsplit(amqp_url)
        self.name = f"fxp-test-{uuid.uuid4().hex[:10]}"
        self._via: str | None = None  # "management" or "rabbitmqctl" once the vhost exists

    @property
    def url(self) -> str:
        """The AMQP URL to use: the new vhost's, or the original one (then use `prefix`)."""
        if self._via is None:
            return urlunsplit(self._parts)
        return urlunsplit(self._parts._replace(path="/" + quote(self.name, safe="")))

    @property
    def prefix(self) -> str:
        """A queue-name prefix: empty in our own vhost, unique on a shared one."""
        return "" if self._via else f"{self.name}."

    def _management(self, method: str, path: str) -> bool:
        user, password = self._parts.username or "guest", self._parts.password or "guest"
        try:
            response = httpx.request(method, f"http://{self._parts.hostname}:{MANAGEMENT_PORT}/api{path}",
                                     auth=(user, password), json={} if method == "PUT" else None, timeout=3)
        except httpx.HTTPError:
            return False
        return response.status_code in (200, 201, 204)

    def _rabbitmqctl(self, *args: str) -> bool:
        local = self._parts.hostname in ("127.0.0.1", "localhost", "::1")
        if not local or shutil.which("rabbitmqctl") is None:
            return False
        try:
            return subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, timeout=60).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            return False

    def create(self) -> RabbitmqNamespace:
        user, vhost = self._parts.username or "guest", quote(self.name, safe="")
        if self._management("PUT", f"/vhosts/{vhost}") and self._management(
                "PUT", f"/permissions/{vhost}/{quote(user, safe='')}"):
            self._via = "management"
        elif self._rabbitmqctl("add_vhost", self.name) and self._rabbitmqctl(
                "set_permissions", "-p", self.name, user, ".*", ".*", ".*"):
            self._via = "rabbitmqctl"
        return self

    def delete(self, declared_queues: set[str] = frozenset()) -> None:
        if self._via == "management":
            self._management("DELETE", f"/vhosts/{quote(self.name, safe='')}")
        elif self._via == "rabbitmqctl":
            self._rabbitmqctl("delete_vhost", self.name)
        else:
            self._delete_queues(declared_queues)

    def _delete_queues(self, queues: set[str]) -> None:
        import pika

        connection = pika.BlockingConnection(pika.URLParameters(self.url))
        try:
            channel = connection.channel()
            for queue in queues:
                if queue.startswith(self.prefix):  # ours, by construction; never anyone else's
                    for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
                        channel.queue_delete(name)
        finally:
            connection.close()
