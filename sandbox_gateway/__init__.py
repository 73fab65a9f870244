"""A small stand-alone service that behaves like a third-party card gateway, for
FusionXPay's local runs and tests. It imports nothing from `app/`. See README.md."""

from sandbox_gateway.app import create_app
from sandbox_gateway.settings import GatewaySettings

__all__ = ["GatewaySettings", "create_app"]
