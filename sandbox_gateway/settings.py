"""Settings of the sandbox gateway, read from the environment so the same image can
run slow (realistic) in a demo and fast in tests."""

from __future__ import annotations

import os
from collections.abc import Mapping

import msgspec

DEFAULT_CALLBACK_SECRET = "sandbox_dev_secret"  # a simulator default; set SANDBOX_CALLBACK_SECRET for real runs
# The key API callers must present (`Authorization: Bearer ...`). A placeholder for a gateway
# started by hand; `make run`, the tests and the deployment files set SANDBOX_API_KEY to a
# random one shared with FusionXPay only (FXP_PROVIDERS__SANDBOX__API_KEY).
DEFAULT_API_KEY = "sandbox_dev_api_key"
SECRET_FIELDS = ("callback_secret", "api_key")


class GatewaySettings(msgspec.Struct, frozen=True, kw_only=True):
    callback_secret: str = DEFAULT_CALLBACK_SECRET
    api_key: str = DEFAULT_API_KEY
    callback_delay_s: float = 0.2  # time between accepting a payment/refund and settling it
    timeout_hold_s: float = 30.0  # how long the "timeout" test card holds the HTTP response
    callback_max_attempts: int = 4  # deliveries per event when the receiver fails (bounded)
    callback_backoff_s: float = 0.5  # first retry wait; doubles after each failure
    callback_timeout_s: float = 5.0  # HTTP timeout of one callback delivery
    public_url: str = ""  # how shoppers' browsers reach the gateway (3-D Secure page); "": as requested

    def __repr__(self) -> str:  # the secrets must not end up in logs
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in msgspec.structs.fields(self)
                          if f.name not in SECRET_FIELDS)
        return f"GatewaySettings({shown}, callback_secret=***, api_key=***)"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GatewaySettings:
        """Every field can be set as SANDBOX_<FIELD_NAME_UPPERCASE>; unset ones keep the default."""
        env = os.environ if environ is None else environ
        values: dict[str, str] = {}
        for field in msgspec.structs.fields(cls):
            raw = env.get(f"SANDBOX_{field.name.upper()}")
            if raw is not None:
                values[field.name] = raw
        # strict=False lets msgspec turn "0.2" / "4" into the declared float / int types.
        return msgspec.convert(values, cls, strict=False)
