"""The provider call log times each call and never stands in a payment's way."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import pytest

from app.adapters.db import log_rides
from app.adapters.providers import call_log
from app.adapters.providers.call_log import PiccoloProviderCallLog, ProviderCall, RecordingProvider
from app.domain.model.card import CardDetails
from app.domain.model.money import Money
from app.domain.model.provider import Outcome, PaymentRequest, ProviderResult
from tests.unit.fake_providers import FakeProvider


class Kept:
    def __init__(self) -> None:
        self.calls: list[ProviderCall] = []

    async def record(self, call: ProviderCall) -> None:
        self.calls.append(call)


def request() -> PaymentRequest:
    card = CardDetails.parse("4242424242424242", 12, 2035, "123", date(2026, 1, 1))
    return PaymentRequest(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), Money.of(100, "USD"), card)


async def test_each_call_is_logged_with_its_outcome_and_latency():
    kept = Kept()
    provider = FakeProvider(default=ProviderResult(Outcome.FAILED, failure_code="card_declined"))
    sent = request()
    result = await RecordingProvider(provider, kept).purchase(sent)
    assert result.outcome is Outcome.FAILED
    [call] = kept.calls
    assert (call.provider, call.operation, call.attempt_id, call.outcome, call.failure_code) == (
        "sandbox", "purchase", sent.attempt_id, "failed", "card_declined")
    assert call.latency_ms >= 0


class DeadPool:
    def acquire(self):
        raise ConnectionRefusedError("database down")


class HangingPool:
    def acquire(self):
        return self

    async def __aenter__(self):
        await asyncio.sleep(60)

    async def __aexit__(self, *exc):
        return False


class Engine:
    def __init__(self, pool) -> None:
        self.pool = pool


@pytest.mark.parametrize("pool", [DeadPool(), HangingPool()], ids=["down", "hanging"])
async def test_a_log_row_that_cannot_be_written_does_not_fail_the_payment(pool, monkeypatch):
    # No commit follows the call here, so the row is written on its own: tried, and dropped.
    monkeypatch.setattr(call_log, "RECORD_TIMEOUT_S", 0.05)
    monkeypatch.setattr(log_rides, "RIDE_S", 0.0)
    log = PiccoloProviderCallLog(Engine(pool))  # type: ignore[arg-type]
    tried: list[tuple] = []
    write = log.write

    async def tracked(values: tuple) -> None:
        await write(values)
        tried.append(values)

    monkeypatch.setattr(log, "write", tracked)
    recording = RecordingProvider(FakeProvider(), log)
    assert (await recording.purchase(request())).outcome is Outcome.SUCCEEDED
    for _ in range(100):
        if tried:
            break
        await asyncio.sleep(0.01)
    assert [values[:2] for values in tried] == [("sandbox", "purchase")]
