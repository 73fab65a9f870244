"""The composition root with in-memory fakes (cosmicpython's bootstrap() in tests): unit
tests take their use cases from build_container, wired as HTTP and the workers get them,
with every adapter that would reach a server replaced by its fake. Nothing connects."""

from __future__ import annotations

from typing import Any

import msgspec
from dramatiq.brokers.stub import StubBroker

from app.bootstrap import Container, build_container
from config.settings import Settings
from tests.unit.fake_accounts import (
    FakeAccessTokens, FakeCardSealer, FakePasswordHasher, InMemoryCvcCache, InMemoryKeyRevocations,
    InMemoryLoginThrottle,
    InMemorySessionRevocations,
)
from tests.unit.fake_fraud import (
    FakeCardFingerprints, InMemoryFraudRuleStore, InMemoryVelocityCounter, RecordingFraudMetrics,
)
from tests.unit.fake_providers import FakeProvider, FakeProviderRegistry, InMemoryCardDataCache, RecordingVerdictAlarm
from tests.unit.fake_audit import InMemoryAuditTrail
from tests.unit.fakes import FakeClock, InMemoryLockManager, InMemoryUnitOfWorkFactory


def unit_settings(env: str = "test", **groups: dict[str, Any]) -> Settings:
    """Test settings; `groups`: field changes per settings group, e.g. payments={...}."""
    base = Settings(env=env)
    # a JWT secret, as production requires one (env="prod" builds must not fail on it)
    changes = {"workers": {"broker": "stub"}, "auth": {"jwt_secret": "unit-tests-jwt-secret-" + "x" * 16}, **groups}
    return msgspec.structs.replace(base, **{
        group: msgspec.structs.replace(getattr(base, group), **fields) for group, fields in changes.items()})


def fake_container(settings: Settings | None = None, **overrides: Any) -> Container:
    uow = overrides.get("uow") or InMemoryUnitOfWorkFactory()
    fakes: dict[str, Any] = {
        "broker": StubBroker(), "clock": FakeClock(), "uow": uow,
        "audit": InMemoryAuditTrail(uow.db.audit if isinstance(uow, InMemoryUnitOfWorkFactory) else None),
        "providers": FakeProviderRegistry(FakeProvider()), "locks": InMemoryLockManager(),
        "card_cache": InMemoryCardDataCache(), "fraud_rules": InMemoryFraudRuleStore(),
        "velocity": InMemoryVelocityCounter(), "fingerprints": FakeCardFingerprints(),
        "fraud_metrics": RecordingFraudMetrics(), "alarm": RecordingVerdictAlarm(),
        "password_hasher": FakePasswordHasher(), "login_throttle": InMemoryLoginThrottle(),
        "session_revocations": InMemorySessionRevocations(), "token_issuer": FakeAccessTokens(),
        "card_sealer": FakeCardSealer(), "cvc_cache": InMemoryCvcCache(),
        "key_revocations": InMemoryKeyRevocations(),
    }
    return build_container(settings or unit_settings(), **{**fakes, **overrides})
