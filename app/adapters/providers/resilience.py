"""Resilience around any PaymentProvider, itself a PaymentProvider.

Each try has a timeout; transport failures are retried with exponential backoff by
stamina (a 429's Retry-After is waited for, up to a cap); purchase, refund and
get_status share one aiobreaker circuit per provider. Retrying purchase/refund is safe:
adapters send our attempt/refund id as the provider's idempotency key. Transport
problems never reach the caller as exceptions. When no verdict comes, a purchase/refund
that may have reached the provider on any try is UNKNOWN (reconciliation finds out);
one that surely did not (refused connection, 429, open circuit, rejected credentials) is
FAILED "provider_unavailable"; get_status is UNKNOWN; parse_callback raises
ProviderUnavailable (503: the provider redelivers). Callbacks skip the breaker: only
PayPal's touch the network, and forged ones must not reset its failure count.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any, TypeVar

import msgspec
import stamina
import structlog
from aiobreaker import CircuitBreaker, CircuitBreakerError, CircuitBreakerListener

from app.adapters.observability.business_metrics import circuit_state
from app.adapters.providers.errors import ProviderRateLimited, ProviderTimeout, ProviderTransportError
from app.adapters.providers.http import ProviderCredentialsRejected
from app.adapters.providers.metrics import PROVIDER_CALL_DURATION, PROVIDER_CALLS
from app.domain.errors import InvalidCallback, ProviderUnavailable
from app.domain.model.money import Money
from app.domain.model.payment import FailureCode
from app.domain.model.provider import Outcome, PaymentRequest, ProviderEvent, ProviderResult, RefundRequest
from app.domain.ports import PaymentProvider

T = TypeVar("T")
log = structlog.get_logger(__name__)


class ResiliencePolicy(msgspec.Struct, frozen=True):
    call_timeout_s: float = 15.0  # per try; adapters' own HTTP timeouts should be shorter
    attempts: int = 3
    wait_initial_s: float = 0.2
    wait_max_s: float = 2.0
    wait_jitter_s: float = 0.2
    retry_budget_s: float = 30.0  # all tries and waits of one call together
    max_retry_after_s: float = 5.0  # a longer Retry-After is not waited for: give up now
    breaker_fail_max: int = 5  # consecutive failed tries that open the circuit
    breaker_reset_s: float = 30.0  # how long it stays open before one trial call


class GaveUp(Exception):
    """Retries ran out, or the circuit was open, without a verdict."""

    def __init__(self, error: Exception, may_have_reached: bool) -> None:
        super().__init__(str(error))
        self.circuit_open = isinstance(error, CircuitBreakerError) and transport_cause(error) is None
        self.may_have_reached = may_have_reached
        self.label = "circuit_open" if self.circuit_open else "unknown" if may_have_reached else "unavailable"


def transport_cause(error: BaseException) -> ProviderTransportError | None:
    """The transport error behind `error` (the breaker wraps the one that trips it)."""
    if isinstance(error, ProviderTransportError):
        return error
    cause = error.__cause__
    return cause if isinstance(cause, ProviderTransportError) else None


class BreakerLog(CircuitBreakerListener):
    def state_change(self, breaker: CircuitBreaker, old: Any, new: Any) -> None:
        log.warning("provider_circuit_state", breaker=breaker.name, state=new.state.name.lower())
        circuit_state(breaker.name.removeprefix("provider:"), new.state.name.lower())


class ResilientProvider:
    def __init__(self, inner: PaymentProvider, policy: ResiliencePolicy | None = None,
                 breaker: CircuitBreaker | None = None) -> None:
        self.name = inner.name
        self.needs_payment_method = inner.needs_payment_method
        self._inner = inner
        self._policy = policy or ResiliencePolicy()
        self.breaker = breaker or CircuitBreaker(
            fail_max=self._policy.breaker_fail_max,
            timeout_duration=timedelta(seconds=self._policy.breaker_reset_s),
            exclude=[lambda error: not isinstance(error, ProviderTransportError)],
            listeners=[BreakerLog()], name=f"provider:{inner.name}",
        )
        circuit_state(inner.name, self.breaker.current_state.name.lower())

    async def aclose(self) -> None:
        close = getattr(self._inner, "aclose", None)
        if close is not None:
            await close()

    async def purchase(self, request: PaymentRequest) -> ProviderResult:
        return await self._result_call("purchase", self._inner.purchase, request)

    async def refund(self, request: RefundRequest) -> ProviderResult:
        return await self._result_call("refund", self._inner.refund, request)

    async def get_status(self, attempt_id: uuid.UUID, provider_reference: str | None,
                         amount: Money | None = None) -> ProviderResult:
        return await self._result_call("get_status", self._inner.get_status, attempt_id, provider_reference, amount)

    async def parse_callback(self, headers: Mapping[str, str], body: bytes) -> ProviderEvent:
        started, outcome = time.perf_counter(), "error"
        try:
            event = await self._with_retries(self._inner.parse_callback, headers, body, guarded=False)
            outcome = "accepted"
            return event
        except InvalidCallback:
            outcome = "rejected"
            raise
        except GaveUp as gave_up:
            outcome = gave_up.label
            raise ProviderUnavailable(f"{self.name} cannot verify callbacks right now") from None
        finally:
            self._observe("parse_callback", outcome, started)

    async def _result_call(self, operation: str, call: Callable[..., Awaitable[ProviderResult]],
                           *args: Any) -> ProviderResult:
        started, outcome = time.perf_counter(), "error"
        try:
            result = await self._with_retries(call, *args, guarded=True)
            outcome = result.outcome.value
        except GaveUp as gave_up:
            outcome = gave_up.label
            log.warning("provider_call_gave_up", provider=self.name, operation=operation, error=str(gave_up),
                        may_have_reached_provider=gave_up.may_have_reached, circuit_open=gave_up.circuit_open)
            result = self._fallback(operation, gave_up)
        finally:
            self._observe(operation, outcome, started)
        return result

    def _fallback(self, operation: str, gave_up: GaveUp) -> ProviderResult:
        if operation == "get_status" or gave_up.may_have_reached:
            return ProviderResult(Outcome.UNKNOWN, failure_message=f"no verdict from {self.name}: {gave_up}")
        return ProviderResult(Outcome.FAILED, failure_code=FailureCode.PROVIDER_UNAVAILABLE,
                              failure_message=f"{self.name} is unavailable: {gave_up}")

    async def _with_retries(self, call: Callable[..., Awaitable[T]], *args: Any, guarded: bool) -> T:
        policy, reached = self._policy, False
        try:
            async for attempt in stamina.retry_context(
                on=self._retry_decision, attempts=policy.attempts, timeout=policy.retry_budget_s,
                wait_initial=policy.wait_initial_s, wait_max=policy.wait_max_s, wait_jitter=policy.wait_jitter_s,
            ):
                with attempt:
                    try:
                        if guarded:
                            return await self.breaker.call_async(self._one_try, call, *args)
                        return await self._one_try(call, *args)
                    except (ProviderTransportError, CircuitBreakerError) as error:
                        cause = transport_cause(error)
                        reached = reached or (cause is not None and cause.may_have_reached_provider)
                        raise
        except (ProviderTransportError, CircuitBreakerError) as error:
            raise GaveUp(error, reached) from error
        raise AssertionError("stamina ended without a result or an error")

    async def _one_try(self, call: Callable[..., Awaitable[T]], *args: Any) -> T:
        try:
            async with asyncio.timeout(self._policy.call_timeout_s):
                return await call(*args)
        except TimeoutError:
            raise ProviderTimeout(self.name, f"no answer within {self._policy.call_timeout_s}s") from None

    def _retry_decision(self, error: Exception) -> bool | float:
        """stamina's hook: False stops, True backs off exponentially, a number waits that long."""
        if isinstance(error, ProviderRateLimited) and error.retry_after is not None:
            return error.retry_after if error.retry_after <= self._policy.max_retry_after_s else False
        return isinstance(error, ProviderTransportError) and not isinstance(error, ProviderCredentialsRejected)

    def _observe(self, operation: str, outcome: str, started: float) -> None:
        PROVIDER_CALLS.labels(self.name, operation, outcome).inc()
        PROVIDER_CALL_DURATION.labels(self.name, operation).observe(time.perf_counter() - started)
