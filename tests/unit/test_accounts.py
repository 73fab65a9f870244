"""Account and session use cases over in-memory fakes: policy, login safety, rotation."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from app.domain.errors import Conflict, Forbidden, Throttled, Unauthenticated, ValidationFailed
from app.domain.model.principal import Credential, Principal
from app.domain.model.user import Role, check_password, normalize_email
from tests.unit.fake_accounts import FakePasswordHasher, InMemoryLoginThrottle, InMemorySessionRevocations
from tests.unit.fakes import FakeClock
from tests.unit.fake_container import fake_container, unit_settings
from tests.unit.builders import merchant_row

PASSWORD = "Correct-Horse-Battery-42"
IP = "203.0.113.9"


class World:
    """The account use cases as the composition root wires them, over fakes."""

    def __init__(self) -> None:
        self.hasher = FakePasswordHasher()
        self.revocations = InMemorySessionRevocations()
        self.throttle = InMemoryLoginThrottle(free=3)
        self.clock = FakeClock()
        container = fake_container(unit_settings(auth={"access_ttl_s": 900, "refresh_ttl_s": 3600}),
                                   clock=self.clock, password_hasher=self.hasher, session_revocations=self.revocations,
                                   login_throttle=self.throttle)
        self.uow = container.uow
        self.sessions, self.accounts = container.sessions, container.accounts
        self.merchant = merchant_row()
        self.uow.seed(self.merchant)

    async def register(self, email: str = "ada@example.com"):
        return await self.accounts.register(self.merchant.id, email, PASSWORD, IP)


@pytest.mark.parametrize(("password", "code"), [
    ("short-1", "weak_password"), ("1234567890", "weak_password"), ("aaaaaaaaaaaa", "weak_password"),
    ("ada.lovelace-rocks", "weak_password"), ("x" * 129, "password_too_long"),
])
def test_password_policy(password, code):
    with pytest.raises(ValidationFailed) as refused:
        check_password(password, "ada.lovelace@example.com")
    assert refused.value.code == code


def test_password_policy_accepts_a_long_passphrase_and_normalises_it():
    assert check_password("ｃｏｒｒｅｃｔ horse battery", "ada@example.com") == "correct horse battery"


@pytest.mark.parametrize("email", ["no-at-sign", "a@b", "a b@example.com", "a@-example.com", "x" * 250 + "@e.com"])
def test_malformed_emails_are_refused(email):
    with pytest.raises(ValidationFailed) as refused:
        normalize_email(email)
    assert refused.value.code == "invalid_email"


async def test_register_stores_a_hash_and_starts_a_session():
    world = World()
    session = await world.register("Ada@Example.com")
    stored = world.uow.db.users[session.user.id]
    assert stored.email == "ada@example.com" and PASSWORD not in stored.password_hash
    assert stored.role is Role.CUSTOMER and stored.merchant_id == world.merchant.id
    [token] = world.uow.db.refresh_tokens.values()
    assert session.refresh_token not in token.token_hash and token.family_id == session.session_id


async def test_duplicate_registration_is_a_conflict_and_writes_nothing():
    world = World()
    await world.register()
    with pytest.raises(Conflict) as refused:
        await world.register("ADA@example.com")
    assert refused.value.code == "email_taken"
    assert len(world.uow.db.users) == 1 and len(world.uow.db.refresh_tokens) == 1


async def test_unknown_email_and_wrong_password_get_the_same_answer_after_the_same_work():
    world = World()
    await world.register()
    answers = []
    for email, password in (("nobody@example.com", PASSWORD), ("ada@example.com", "wrong-password-1")):
        before = world.hasher.verified
        with pytest.raises(Unauthenticated) as refused:
            await world.accounts.login(email, password, world.merchant.id, f"198.51.100.{len(answers)}")
        answers.append((refused.value.code, refused.value.message, world.hasher.verified - before))
    assert answers[0] == answers[1] == ("invalid_credentials", "invalid email or password", 1)


async def test_failed_logins_are_throttled_before_the_password_is_checked():
    world = World()
    await world.register()
    for _ in range(3):
        with pytest.raises(Unauthenticated):
            await world.accounts.login("ada@example.com", "wrong-password-1", world.merchant.id, IP)
    verified = world.hasher.verified
    with pytest.raises(Throttled) as throttled:
        await world.accounts.login("ada@example.com", PASSWORD, world.merchant.id, IP)
    assert throttled.value.details["retry_after"] == 30 and world.hasher.verified == verified
    # another address is not held back by this one's failures
    await world.accounts.login("ada@example.com", PASSWORD, world.merchant.id, "198.51.100.7")


async def test_login_rehashes_a_password_hashed_under_old_parameters():
    world = World()
    await world.register()
    world.hasher.version = "v2"
    await world.accounts.login("ada@example.com", PASSWORD, world.merchant.id, IP)
    assert next(iter(world.uow.db.users.values())).password_hash.startswith("v2$")


async def test_refresh_rotates_within_the_family():
    world = World()
    first = await world.register()
    second = await world.sessions.refresh(first.refresh_token)
    assert second.session_id == first.session_id and second.refresh_token != first.refresh_token
    live = [t for t in world.uow.db.refresh_tokens.values() if t.is_live(world.clock.now())]
    assert len(live) == 1


async def test_reusing_a_rotated_token_revokes_the_family():
    world = World()
    first = await world.register()
    second = await world.sessions.refresh(first.refresh_token)
    with pytest.raises(Unauthenticated) as reused:
        await world.sessions.refresh(first.refresh_token)
    assert reused.value.code == "refresh_token_reused"
    assert all(t.revoked_at for t in world.uow.db.refresh_tokens.values())
    assert first.session_id in world.revocations.revoked
    with pytest.raises(Unauthenticated):
        await world.sessions.refresh(second.refresh_token)


async def test_two_concurrent_refreshes_one_rotates_then_reuse_revokes():
    world = World()
    first = await world.register()
    results = await asyncio.gather(*[world.sessions.refresh(first.refresh_token) for _ in range(2)],
                                   return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["Session", "Unauthenticated"]
    assert len(world.uow.db.refresh_tokens) == 2 and all(t.revoked_at for t in world.uow.db.refresh_tokens.values())


async def test_expired_refresh_token_is_refused():
    world = World()
    first = await world.register()
    world.clock.advance(3601)
    with pytest.raises(Unauthenticated) as refused:
        await world.sessions.refresh(first.refresh_token)
    assert refused.value.code == "invalid_refresh_token"


async def test_password_change_revokes_every_family_and_starts_a_new_one():
    world = World()
    laptop = await world.register()
    phone = await world.accounts.login("ada@example.com", PASSWORD, world.merchant.id, IP)
    fresh = await world.accounts.change_password(laptop.user.id, PASSWORD, "Another-Long-Passphrase-7")
    assert {laptop.session_id, phone.session_id} <= world.revocations.revoked
    assert fresh.session_id not in world.revocations.revoked
    for old in (laptop, phone):
        with pytest.raises(Unauthenticated):
            await world.sessions.refresh(old.refresh_token)


@pytest.mark.parametrize(("creator", "role", "allowed"), [
    (Principal(Role.MERCHANT, Credential.API_KEY, uuid.uuid4()), Role.MERCHANT, True),
    (Principal(Role.MERCHANT, Credential.API_KEY, uuid.uuid4()), Role.ADMIN, False),
    (Principal(Role.CUSTOMER, Credential.JWT, uuid.uuid4(), uuid.uuid4()), Role.MERCHANT, False),
    (Principal(Role.ADMIN, Credential.ADMIN_KEY), Role.ADMIN, True),
    (Principal(Role.ADMIN, Credential.JWT, None, uuid.uuid4()), Role.CUSTOMER, False),
])
async def test_who_may_create_which_users(creator, role, allowed):
    world = World()
    if creator.merchant_id is not None:
        world.uow.seed(merchant_row(creator.merchant_id))
    create = world.accounts.create_user(creator, f"{role}@example.com", PASSWORD, role, None)
    if allowed:
        user = await create
        assert user.role is role and user.merchant_id == (None if role is Role.ADMIN else creator.merchant_id)
    else:
        with pytest.raises(Forbidden):
            await create
