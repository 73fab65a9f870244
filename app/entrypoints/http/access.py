"""Which roles and which credentials each endpoint accepts, declared once per handler:
the `authorize` guard enforces it and the OpenAPI document shows it (each operation's
`security` and a line in its description). PUBLIC marks the open ones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import Scope

from app.domain.errors import Forbidden
from app.domain.model.principal import Credential, Principal
from app.domain.model.user import Role

SCHEMES = {
    Credential.API_KEY: ("MerchantKey", SecurityScheme(
        type="http", scheme="bearer", description="Merchant secret key (sk_…): acts as the merchant")),
    Credential.JWT: ("UserJWT", SecurityScheme(
        type="http", scheme="bearer", bearer_format="JWT",
        description="A user's access token from POST /auth/login (HS256, 15 min)")),
    Credential.ADMIN_KEY: ("AdminKey", SecurityScheme(
        type="http", scheme="bearer", description="The static operator key FXP_ADMIN_API_KEY (bootstrap)")),
}
SECURITY_COMPONENTS = Components(security_schemes=dict(SCHEMES.values()))
R, C = Role, Credential


@dataclass(frozen=True)
class Access:
    roles: frozenset[Role]
    credentials: frozenset[Credential]

    def route(self) -> dict[str, Any]:
        """Keyword arguments for a route decorator: the rule, its OpenAPI security, its description."""
        security: list[dict[str, list[str]]] = [{SCHEMES[c][0]: []} for c in Credential if c in self.credentials]
        described = (f"Roles: {', '.join(sorted(self.roles))}. "
                     f"Credentials: {', '.join(SCHEMES[c][0] for c in Credential if c in self.credentials)}.")
        return {"opt": {"access": self}, "security": security, "description": described}


class Public:
    """No credentials: the endpoint is open (login, callbacks verified by signature, health)."""

    def route(self) -> dict[str, Any]:
        return {"opt": {"access": self}, "security": [], "description": "Public: no credentials."}


PUBLIC = Public()


def access(roles: set[Role], credentials: set[Credential]) -> Access:
    return Access(frozenset(roles), frozenset(credentials))


# The rules the API uses; a merchant's API key and its staff's JWTs see the same things.
MERCHANT = access({R.MERCHANT}, {C.API_KEY, C.JWT})
MERCHANT_OR_CUSTOMER = access({R.MERCHANT, R.CUSTOMER}, {C.API_KEY, C.JWT})
ANY_USER = access({R.CUSTOMER, R.MERCHANT, R.ADMIN}, {C.JWT})
ADMIN = access({R.ADMIN}, {C.ADMIN_KEY, C.JWT})


async def authorize(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """The guard: authenticate (401) and check the handler's rule (403)."""
    await authorize_scope(connection.scope, handler)


async def authorize_scope(scope: Scope, handler: BaseRouteHandler) -> None:
    """`authorize` on the ASGI scope (no connection object, no parsed headers): run by
    route_entry_middleware on every request, before the body is read or validated, so a
    caller without the right credential gets 401/403, never a verdict on a body it may
    not send."""
    rule = handler.opt.get("access")
    if not isinstance(rule, Access):  # public, or Litestar's own (OpenAPI document, OPTIONS)
        return
    state = scope.setdefault("state", {})  # shared with the request log (child tasks)
    principal = state.get("principal")  # the idempotency middleware may have authenticated already
    if not isinstance(principal, Principal):
        authorization = next((value.decode("latin-1") for name, value in scope["headers"]
                              if name == b"authorization"), None)
        principal = await scope["app"].state.authenticator.authenticate(authorization)
        state["principal"] = principal
    if principal.merchant_id is not None:
        state["merchant_id"] = str(principal.merchant_id)
    if principal.credential not in rule.credentials:
        raise Forbidden(f"this endpoint does not take a {principal.credential} credential",
                        code="credential_not_accepted")
    if principal.role not in rule.roles:
        raise Forbidden(f"a {principal.role} may not use this endpoint", code="role_not_allowed")
