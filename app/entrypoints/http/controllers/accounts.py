"""Users and sessions: register, log in, refresh, log out, read yourself, change your
password; merchants add staff, admins add admins. Thin: parse, one use case, map."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar import Controller, Request, get, post
from litestar.di import Provide

from app.domain.model.principal import Principal
from app.domain.services.accounts import AccountService
from app.domain.services.sessions import SessionService
from app.entrypoints.http.access import ADMIN, ANY_USER, MERCHANT, PUBLIC
from app.entrypoints.http.auth import provide_principal
from app.entrypoints.http.problems import problem_responses
from app.entrypoints.http.schemas.accounts import (
    Login, PasswordChange, RefreshRequest, Register, Tokens, UserCreate, UserOut,
)

AUTH_ERRORS = problem_responses(400, 401, 409, 413, 422, 429)
USER_ERRORS = problem_responses(400, 401, 403, 404, 409, 413, 422)


def client_ip(request: Request) -> str:
    """The caller's address as throttling sees it (forwarded only from trusted proxies)."""
    return request.app.state.client_address.of(request.scope) or "unknown"


def _tokens(session: object) -> Tokens:
    return Tokens.from_session(session, datetime.now(UTC))  # type: ignore[arg-type]


class AuthController(Controller):
    path = "/auth"
    tags = ["users"]
    # Public: these endpoints hand out the credentials.

    @post("/register", responses=AUTH_ERRORS, **PUBLIC.route(), status_code=201,
          summary="Register a customer of a merchant (logged in at once)")
    async def register(self, data: Register, request: Request, accounts: AccountService) -> Tokens:
        return _tokens(await accounts.register(data.merchant_id, data.email, data.password, client_ip(request)))

    @post("/login", responses=AUTH_ERRORS, **PUBLIC.route(), status_code=200, summary="Log in: an access JWT and a refresh token")
    async def login(self, data: Login, request: Request, accounts: AccountService) -> Tokens:
        return _tokens(await accounts.login(data.email, data.password, data.merchant_id, client_ip(request)))

    @post("/refresh", responses=AUTH_ERRORS, **PUBLIC.route(), status_code=200,
          summary="Trade a refresh token for a new pair (the old one is spent; reusing it revokes the login)")
    async def refresh(self, data: RefreshRequest, sessions: SessionService) -> Tokens:
        return _tokens(await sessions.refresh(data.refresh_token))

    @post("/logout", responses=AUTH_ERRORS, **PUBLIC.route(), status_code=204, summary="End the login the refresh token belongs to")
    async def logout(self, data: RefreshRequest, sessions: SessionService) -> None:
        await sessions.logout(data.refresh_token, None)


class MeController(Controller):
    path = "/me"
    tags = ["users"]
    dependencies = {"principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/", responses=USER_ERRORS, summary="The logged-in user", **ANY_USER.route())
    async def me(self, principal: Principal, accounts: AccountService) -> UserOut:
        assert principal.user_id is not None  # JWT principals always name their user
        return UserOut.from_domain(await accounts.me(principal.user_id))

    @post("/password", responses=USER_ERRORS, status_code=200,
          summary="Change your password: every session ends, this answer carries a new one", **ANY_USER.route())
    async def change_password(self, data: PasswordChange, principal: Principal, accounts: AccountService) -> Tokens:
        assert principal.user_id is not None
        return _tokens(await accounts.change_password(principal.user_id, data.current_password, data.new_password))


class UsersController(Controller):
    tags = ["users"]
    dependencies = {"principal": Provide(provide_principal, sync_to_thread=False)}

    @post("/staff", responses=USER_ERRORS, status_code=201, summary="Add a staff user to your merchant",
          **MERCHANT.route())
    async def create_staff(self, data: UserCreate, principal: Principal, accounts: AccountService) -> UserOut:
        return UserOut.from_domain(await accounts.create_user(principal, data.email, data.password, data.role,
                                                              data.merchant_id))

    @post("/admin/users", responses=USER_ERRORS, status_code=201,
          summary="Add an admin, or staff of any merchant", **ADMIN.route())
    async def create_user(self, data: UserCreate, principal: Principal, accounts: AccountService) -> UserOut:
        return UserOut.from_domain(await accounts.create_user(principal, data.email, data.password, data.role,
                                                              data.merchant_id))
