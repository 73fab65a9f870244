"""User use cases: register, log in, read yourself, change your password, create staff
and admins. Sessions (tokens) are SessionService's; this service decides who gets one."""

from __future__ import annotations

import hashlib
import unicodedata
import uuid
from typing import NoReturn

from app.domain.errors import Conflict, Forbidden, NotFound, Throttled, Unauthenticated, ValidationFailed
from app.domain.model.audit import Actor, ActorKind, AuditType
from app.domain.model.principal import Principal
from app.domain.model.user import Role, User, check_password, normalize_email
from app.domain.ports import Clock, UnitOfWork, UnitOfWorkFactory
from app.domain.ports_accounts import LoginThrottle, PasswordHasher
from app.domain.services.sessions import Session, SessionService

BAD_CREDENTIALS = "invalid email or password"


def throttle_keys(client_ip: str, email: str) -> list[str]:
    """Per client address, and per (address, account): the email is hashed, not stored."""
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return [f"ip:{client_ip}", f"ip-email:{client_ip}:{account}"]


class AccountService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, hasher: PasswordHasher, sessions: SessionService,
                 throttle: LoginThrottle) -> None:
        self._uow, self._clock, self._hasher = uow, clock, hasher
        self._sessions, self._throttle = sessions, throttle
        self._dummy_hash: str | None = None

    async def register(self, merchant_id: uuid.UUID, email: str, password: str, client_ip: str) -> Session:
        """A customer of `merchant_id`, logged in at once."""
        async with self._uow() as uow:
            if await uow.merchants.get(merchant_id) is None:
                raise ValidationFailed("unknown merchant", field="merchant_id", code="unknown_merchant")
            user = await self._add(uow, email, password, Role.CUSTOMER, merchant_id, client_ip)
            session = await self._sessions.start(uow, user)
            await uow.commit()
        return session

    async def create_user(self, creator: Principal, email: str, password: str, role: Role,
                          merchant_id: uuid.UUID | None) -> User:
        """Merchants create their own staff; admins create admins and any merchant's staff."""
        if creator.role is Role.MERCHANT and role is Role.MERCHANT and merchant_id in (None, creator.merchant_id):
            merchant_id = creator.merchant_id
        elif creator.role is not Role.ADMIN or role is Role.CUSTOMER:
            raise Forbidden(f"a {creator.role} may not create {role} users")
        async with self._uow() as uow:
            # An operator's (or a merchant's, for its staff) account change: recorded with the user.
            audit = uow.audit.record(AuditType.ADMIN_ACTION, action="user_create", role=role.value,
                                     merchant=None if role is Role.ADMIN else merchant_id)
            if role is Role.MERCHANT and (merchant_id is None or await uow.merchants.get(merchant_id) is None):
                raise ValidationFailed("staff need an existing merchant", field="merchant_id", code="unknown_merchant")
            user = await self._add(uow, email, password, role, None if role is Role.ADMIN else merchant_id, None)
            audit.add(user=user.id)
            await uow.commit()
        return user

    async def login(self, email: str, password: str, merchant_id: uuid.UUID | None, client_ip: str) -> Session:
        """The same answer, after the same work, for an unknown email and a wrong password."""
        keys = throttle_keys(client_ip, email)
        if (wait := await self._throttle.retry_after(keys)) is not None:
            await self._failed_login(Throttled("too many failed logins; try again later", wait), None, merchant_id)
        email = normalize_email(email)
        password = unicodedata.normalize("NFKC", password)
        async with self._uow() as uow:
            user = await uow.users.by_email(merchant_id, email)
        matches = await self._hasher.verify(user.password_hash if user else await self._dummy(), password)
        if user is None or not matches:
            await self._throttle.failed(keys)
            await self._failed_login(Unauthenticated(BAD_CREDENTIALS, code="invalid_credentials"),
                                     user.id if user else None, merchant_id)
        await self._throttle.succeeded(keys[1:])
        async with self._uow() as uow:
            uow.audit.record(AuditType.USER_LOGIN, actor=Actor(ActorKind.USER, str(user.id)), user=user.id,
                             merchant=user.merchant_id)
            if self._hasher.needs_rehash(user.password_hash):  # parameters were raised since
                user.password_hash = await self._hasher.hash(password)
                await uow.users.save(user)
            session = await self._sessions.start(uow, user)
            await uow.commit()
        return session

    async def _failed_login(self, error: Exception, user_id: uuid.UUID | None,
                            merchant_id: uuid.UUID | None) -> NoReturn:
        """Record the refused login (the unit ends by the error: a failed record), then raise it."""
        async with self._uow() as uow:
            uow.audit.record(AuditType.USER_LOGIN, actor=Actor(ActorKind.USER, str(user_id) if user_id else None),
                             user=user_id, merchant=merchant_id)
            raise error

    async def me(self, user_id: uuid.UUID) -> User:
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
        if user is None:
            raise NotFound("user not found", resource="user", id=str(user_id))
        return user

    async def change_password(self, user_id: uuid.UUID, current: str, new: str) -> Session:
        """Every session of the user ends; the caller gets a fresh one."""
        user = await self.me(user_id)
        if not await self._hasher.verify(user.password_hash, unicodedata.normalize("NFKC", current)):
            raise Unauthenticated("the current password is wrong", code="invalid_credentials")
        new = check_password(new, user.email)
        user.password_hash = await self._hasher.hash(new)
        async with self._uow() as uow:
            user.password_changed_at = self._clock.now()
            await uow.users.save(user)
            ended = await self._sessions.end_all(uow, user.id)
            session = await self._sessions.start(uow, user)
            await uow.commit()
        await self._sessions.publish_revoked(ended)
        return session

    async def _add(self, uow: UnitOfWork, email: str, password: str, role: Role, merchant_id: uuid.UUID | None,
                   client_ip: str | None) -> User:
        email = normalize_email(email)
        password_hash = await self._hasher.hash(check_password(password, email))
        now = self._clock.now()
        user = User(uuid.uuid4(), email, role, password_hash, now, now, merchant_id)
        if not await uow.users.add(user):
            if client_ip is not None:  # probing for accounts costs the prober like failed logins
                await self._throttle.failed(throttle_keys(client_ip, "")[:1])
            raise Conflict("this email is already registered", code="email_taken")
        return user

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self._hasher.hash("not-a-password-" + uuid.uuid4().hex)
        return self._dummy_hash
