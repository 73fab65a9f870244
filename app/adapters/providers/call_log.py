"""Every provider call and verified callback, with how long it took, as a row of
provider_calls: an order's timeline shows them, the provider report takes its p50/p95
latencies from them. The log never stands in a payment's way: a row rides on the
commit that follows the call in the same task (the verdict's settle: app/adapters/db/
log_rides.py), else it is written on its own, and a row that cannot be written so within
RECORD_TIMEOUT_S (database down or slow) is dropped with a warning."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from piccolo.engine.postgres import PostgresEngine

from app.adapters.db import hot_path, log_rides
from app.domain.model.money import Money
from app.domain.model.provider import PaymentRequest, ProviderEvent, ProviderResult, RefundRequest
from app.adapters.providers.wrapping import ProviderWrapper
from app.domain.ports import PaymentProvider

log = structlog.get_logger(__name__)
RECORD_TIMEOUT_S = 1.0
INSERT = ("INSERT INTO provider_calls (provider, operation, attempt_id, refund_id, outcome, failure_code, latency_ms)"
          " VALUES ($1, $2, $3, $4, $5, $6, $7)")


@dataclass(frozen=True, slots=True)
class ProviderCall:
    provider: str
    operation: str  # purchase | refund | get_status | callback
    attempt_id: uuid.UUID | None
    refund_id: uuid.UUID | None
    outcome: str
    failure_code: str | None
    latency_ms: int


class CallLog(Protocol):
    async def record(self, call: ProviderCall) -> None: ...


class PiccoloProviderCallLog:
    def __init__(self, engine: PostgresEngine) -> None:
        self._engine = engine

    async def record(self, call: ProviderCall) -> None:
        log_rides.offer(_values(call), self.write)

    async def write(self, values: tuple[Any, ...]) -> None:
        """One row on its own pooled connection, never the caller's transaction: a payment's
        rollback must not take the record with it, nor may a failed insert abort the payment's."""
        try:
            async with asyncio.timeout(RECORD_TIMEOUT_S):
                await hot_path.one_statement(self._engine, "execute", INSERT, *values, join=False)
        except Exception as error:  # noqa: BLE001 - a lost log row must not fail the payment
            log.warning("provider_call_not_recorded", provider=values[0], operation=values[1],
                        error=f"{type(error).__name__}: {error}")


def _values(call: ProviderCall) -> tuple[Any, ...]:  # (commit_writes.CALL_COLUMNS)
    return (call.provider, call.operation, call.attempt_id, call.refund_id, call.outcome[:24],
            call.failure_code[:64] if call.failure_code else None, call.latency_ms)


class RecordingProvider(ProviderWrapper):
    """A provider whose calls are logged; outside the retries, so a call's latency is what
    the payment waited for."""

    def __init__(self, inner: PaymentProvider, calls: CallLog) -> None:
        super().__init__(inner)
        self._calls = calls
        self.needs_payment_method = inner.needs_payment_method

    async def purchase(self, request: PaymentRequest) -> ProviderResult:
        started = time.perf_counter()
        result = await self._inner.purchase(request)
        await self._record("purchase", request.attempt_id, None, result, started)
        return result

    async def refund(self, request: RefundRequest) -> ProviderResult:
        started = time.perf_counter()
        result = await self._inner.refund(request)
        await self._record("refund", request.attempt_id, request.refund_id, result, started)
        return result

    async def get_status(self, attempt_id: uuid.UUID, provider_reference: str | None,
                         amount: Money | None = None) -> ProviderResult:
        started = time.perf_counter()
        result = await self._inner.get_status(attempt_id, provider_reference, amount)
        await self._record("get_status", attempt_id, None, result, started)
        return result

    async def parse_callback(self, headers: Mapping[str, str], body: bytes) -> ProviderEvent:
        # Only verified callbacks naming our attempt or refund: forged ones would fill the log.
        started = time.perf_counter()
        event = await self._inner.parse_callback(headers, body)
        if event.attempt_id is not None or event.refund_id is not None:
            await self._record("callback", event.attempt_id, event.refund_id, event.result, started)
        return event

    async def _record(self, operation: str, attempt_id: uuid.UUID | None, refund_id: uuid.UUID | None,
                      result: ProviderResult, started: float) -> None:
        latency_ms = round((time.perf_counter() - started) * 1000)
        await self._calls.record(ProviderCall(self.name, operation, attempt_id, refund_id, result.outcome.value,
                                              result.failure_code, latency_ms))
