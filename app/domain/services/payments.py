"""Payment use cases: request, retry, read, dispatch to the provider, reconcile.

The request path only writes (attempt INITIATED + `payment.requested` in the outbox, in
the order's transaction); the provider is called by `dispatch`, which the event handlers
run after commit — in-process or from a worker, the same code."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.errors import InvalidStateTransition, NotFound, ValidationFailed
from app.domain.model.audit import AuditType
from app.domain.model.card import CardToken, PaymentMethod
from app.domain.model.saved_card import TOKEN_PREFIX as SAVED_CARD_PREFIX
from app.domain.model.order import Order, OrderStatus
from app.domain.model.payment import AttemptStatus, FailureCode, PaymentAttempt
from app.domain.model.refund import Refund, RefundPurpose
from app.domain.model.provider import Outcome, PaymentRequest, ProviderResult
from app.domain.model.return_url import checked_return_url
from app.domain.model.verdict import VerdictOrigin, VerdictSource, verdict_mismatches
from app.domain.ports import (
    CardDataCache, Clock, ProviderRegistry, UnitOfWork, UnitOfWorkFactory, WriteSkipped,
)
from app.domain.services.inventory import InventoryPolicy, StockKeeper
from app.domain.services.fraud import FraudScreen
from app.domain.services.orders import load_order
from app.domain.services.settlement import Applied, apply_result
from app.domain.services.verdicts import VerdictGate
from app.domain.services.vault import usable_card


@dataclass(frozen=True, slots=True)
class PaymentPolicy:
    max_attempts: int = 3
    pending_timeout_s: float = 60.0  # PENDING this long without news: ask the provider
    give_up_after_s: float = 3600.0  # still unknown this long after the request: gateway_timeout
    reconcile_batch: int = 100
    allow_http_loopback_return_url: bool = False  # test and dev: a shop on localhost without TLS


class PaymentService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, providers: ProviderRegistry,
                 cards: CardDataCache, policy: PaymentPolicy, gate: VerdictGate,
                 stock: StockKeeper | None = None, fraud: FraudScreen | None = None) -> None:
        self._uow, self._clock, self._providers = uow, clock, providers
        self._cards, self._policy = cards, policy
        self._stock = stock or StockKeeper(InventoryPolicy())
        self._fraud = fraud
        self.gate = gate

    async def request(self, merchant_id: uuid.UUID, order_id: uuid.UUID, provider: str,
                      method: PaymentMethod, return_url: str | None = None,
                      client_ip: str | None = None, customer_id: uuid.UUID | None = None) -> PaymentAttempt:
        """Pay for a CREATED order (POST /payments); a customer pays only its own orders.
        `return_url`: where a provider that sends the shopper away (3-D Secure, PayPal
        approval) sends them back; `client_ip`: the caller's address, as fraud rules see it."""
        return await self._start(merchant_id, order_id, provider, method, {OrderStatus.CREATED}, return_url,
                                 client_ip, customer_id)

    async def retry(self, merchant_id: uuid.UUID, payment_id: uuid.UUID, method: PaymentMethod,
                    return_url: str | None = None, client_ip: str | None = None,
                    customer_id: uuid.UUID | None = None) -> PaymentAttempt:
        """A new attempt for an order whose last attempt failed."""
        previous = await self.get(merchant_id, payment_id, customer_id)
        return await self._start(merchant_id, previous.order_id, previous.provider, method,
                                 {OrderStatus.PAYMENT_FAILED}, return_url, client_ip, customer_id)

    async def get(self, merchant_id: uuid.UUID, payment_id: uuid.UUID,
                  customer_id: uuid.UUID | None = None) -> PaymentAttempt:
        async with self._uow() as uow:
            uow.audit.record(AuditType.DATA_LOOKUP, action="payment", merchant=merchant_id, payment=payment_id)
            attempt = await uow.payments.get(payment_id, merchant_id=merchant_id)
            if attempt is not None and customer_id is not None:
                order = await uow.orders.get(merchant_id, attempt.order_id)
                attempt = attempt if order is not None and order.visible_to(customer_id) else None
        if attempt is None:
            raise NotFound(f"payment {payment_id} not found", resource="payment", id=str(payment_id))
        return attempt

    async def _start(self, merchant_id: uuid.UUID, order_id: uuid.UUID, provider: str, method: PaymentMethod,
                     allowed_from: set[OrderStatus], return_url: str | None,
                     client_ip: str | None, customer_id: uuid.UUID | None) -> PaymentAttempt:
        chosen = self._providers.get(provider)  # unknown provider: 422 before anything is written
        if method is None and chosen.needs_payment_method:
            raise ValidationFailed("payment_method is required for this provider", field="payment_method",
                                   code="payment_method_required")
        if return_url is not None:
            checked_return_url(return_url, self._policy.allow_http_loopback_return_url)
        # Concurrent requests for one order queue on its row lock (FOR UPDATE, bounded by
        # the database's lock_timeout: 409 past it); that lock and the partial unique
        # indexes of payment_attempts are the guarantee of one attempt in flight.
        async with self._uow() as uow:
            audit = uow.audit.record(AuditType.PAYMENT_PROCESSING, action="request", merchant=merchant_id,
                                     order=order_id, provider=provider, user=customer_id)
            order = await load_order(uow, merchant_id, order_id, lock=True, customer_id=customer_id)
            if isinstance(method, CardToken) and method.token.startswith(SAVED_CARD_PREFIX):
                method = await usable_card(uow, order, customer_id, method.token, self._clock)
            if order.status not in allowed_from:
                raise InvalidStateTransition(
                    f"order {order_id} is {order.status}; a payment can start only from "
                    + " or ".join(sorted(allowed_from)), current_state=str(order.status))
            now = self._clock.now()
            order.start_payment(now, self._policy.max_attempts)
            attempt = PaymentAttempt.start(order, provider, method, now, return_url)
            if self._fraud is not None:
                attempt.card_fingerprint = self._fraud.fingerprint(merchant_id, method)
                if decision := await self._fraud.screen(uow, order, attempt, method, client_ip, now):
                    attempt.screen(decision, now)
            audit.add(payment=attempt.id)
            if attempt.status is AttemptStatus.FAILED:  # blocked: no stock held, no card kept
                order.mark_payment_failed(now, attempt.failure_code)
                audit.fail(str(attempt.failure_code), attempt.failure_message)
            # Locked above and not read back: its UPDATE goes with the commit's statement.
            await uow.orders.save(order, at_commit=True)
            await uow.payments.add(attempt)
            if attempt.status is not AttemptStatus.FAILED:
                # Catalog units are held before any provider call: no stock, no charge.
                await self._stock.reserve(uow, order, attempt.id, now)
                if method is not None:
                    await self._cards.put(attempt.id, method)
            await uow.commit()
        return attempt

    async def dispatch(self, attempt_id: uuid.UUID) -> Applied | None:
        """Send an INITIATED attempt to its provider and apply an answer known at once.
        Safe to run twice: the attempt id is the provider's idempotency key."""
        async with self._uow.reading() as uow:  # one statement: no transaction around it
            attempt = await uow.payments.get(attempt_id)
        if attempt is None or attempt.status is not AttemptStatus.INITIATED:
            return None
        card = await self._cards.get(attempt_id)
        if attempt.card_brand and card is None:
            # Another dispatch may have sent it and discarded the card meanwhile: only an
            # attempt still INITIATED under the row lock is failed for lack of card data.
            expired = ProviderResult(Outcome.FAILED, failure_code=FailureCode.PROCESSING_ERROR,
                                     failure_message="card data expired before the payment could be sent")
            return await self.settle(attempt_id, expired, only_if=AttemptStatus.INITIATED, found=attempt)
        provider = self._providers.get(attempt.provider)
        result = await provider.purchase(PaymentRequest(attempt.id, attempt.order_id, attempt.merchant_id,
                                                        attempt.amount, card, return_url=attempt.return_url))
        applied = await self.settle(attempt_id, result, found=attempt,
                                    origin=VerdictOrigin(attempt.provider, VerdictSource.PURCHASE))
        if result.outcome is not Outcome.UNKNOWN:
            await self._cards.discard(attempt_id)
        return applied

    async def settle(self, attempt_id: uuid.UUID, result: ProviderResult, uow: UnitOfWork | None = None,
                     only_if: AttemptStatus | None = None, *, origin: VerdictOrigin | None = None,
                     found: PaymentAttempt | None = None,
                     locked: tuple[Order, PaymentAttempt] | None = None) -> Applied:
        """Apply a verdict under the order's and the attempt's row locks (order first, always);
        with `only_if`, only while the attempt is still in that state. A provider's verdict
        (`origin` given) passes the gate first: one that does not match is never applied.
        Without `origin` the verdict is our own (card data expired, given up).
        `found`: the attempt as the caller already read it (unlocked), for the one-statement
        "pending" below; the locked path reads it again under its row lock, with its order.
        `locked`: the order and the attempt as `uow` already holds them locked (a callback)."""
        if uow is None:
            if found is not None and origin is not None and only_if is None \
                    and await self._pending_at_once(found, result, origin):
                return Applied.PENDING
            async with self._uow() as own:
                applied = await self.settle(attempt_id, result, own, only_if, origin=origin, found=found)
                await own.commit()
                return applied
        audit = uow.audit.record(AuditType.PAYMENT_PROCESSING, payment=attempt_id,
                                 action=f"settle_{origin.source.value if origin else 'own'}")
        # One read for both row locks (the order's first) instead of the attempt, its order
        # locked, then the attempt locked: the attempt's order and merchant never change.
        locked = locked if locked is not None and locked[1].id == attempt_id \
            else await uow.orders.locked_with_attempt(attempt_id)
        if locked is None:
            raise NotFound(f"payment {attempt_id} not found", resource="payment", id=str(attempt_id))
        order, attempt = locked
        audit.add(merchant=attempt.merchant_id, order=attempt.order_id, provider=attempt.provider)
        now = self._clock.now()
        if origin is not None and not await self.gate.admit(uow, origin, attempt_id, attempt, result):
            if not attempt.is_final:  # asked again next reconciliation round, not at every tick
                attempt.updated_at = now
                await uow.payments.save(attempt)
            audit.fail("verdict_mismatch", "the verdict does not match the attempt: not applied")
            return Applied.MISMATCH
        if only_if is not None and attempt.status is not only_if:
            return Applied.ALREADY_FINAL if attempt.is_final else Applied.PENDING
        applied = apply_result(attempt, order, result, now)
        if applied is not Applied.ALREADY_FINAL:
            # Both rows are locked and nothing below reads them back: their UPDATEs go with
            # the commit's statement (outbox, audit) instead of two round trips of their own.
            await uow.payments.save(attempt, at_commit=True)
            await uow.orders.save(order, at_commit=True)
        if applied is Applied.FAILED:
            audit.fail(str(result.failure_code or "payment_failed"), result.failure_message)
        if applied is Applied.FAILED:  # what this attempt held goes back, in the same transaction
            await self._stock.release_for_payment(uow, order, attempt.id, now)
        elif attempt.status is AttemptStatus.FAILED and result.outcome is Outcome.SUCCEEDED:
            await self._refund_late_success(uow, attempt, result, now)
        return applied

    async def _pending_at_once(self, found: PaymentAttempt, result: ProviderResult, origin: VerdictOrigin) -> bool:
        """The provider's "pending" to our purchase (a verdict that comes later): it moves
        an INITIATED attempt to PENDING and changes nothing else (no event, the order
        stays PAYMENT_IN_PROGRESS), so it is written as one conditional statement with its
        audit record instead of a transaction holding the order's and the attempt's row
        locks. The gate judges the attempt as read: what it compares (provider, amount,
        currency, order, merchant, and the reference, which an INITIATED attempt has not
        got) never changes while the statement's condition holds, and the condition is
        that the stored attempt is still INITIATED with no reference. False (nothing
        written) for anything else: a mismatch, a redirect to report, an attempt that
        moved on; the locked path then decides."""
        if (result.outcome not in (Outcome.PENDING, Outcome.UNKNOWN) or result.redirect_url
                or found.status is not AttemptStatus.INITIATED or found.provider_reference is not None
                or verdict_mismatches(found, origin, result)):
            return False
        pending = copy.copy(found)
        pending.mark_pending(self._clock.now(), result.provider_reference)
        try:
            async with self._uow.single_statement() as uow:
                uow.audit.record(AuditType.PAYMENT_PROCESSING, payment=found.id, action=f"settle_{origin.source.value}",
                                 merchant=found.merchant_id, order=found.order_id, provider=found.provider)
                await uow.payments.mark_pending_if_initiated(pending)
                await uow.commit()
        except WriteSkipped:
            return False
        return True

    async def _refund_late_success(self, uow: UnitOfWork, attempt: PaymentAttempt, result: ProviderResult,
                                   now: datetime) -> None:
        """The provider captured money for an attempt we had already failed (e.g. given up
        as gateway_timeout): the shopper may pay again, so this capture goes back. The
        verdict matched, so its reference is the attempt's own capture."""
        if any(refund.payment_id == attempt.id for refund in await uow.refunds.for_order(attempt.order_id)):
            return
        attempt.provider_reference = attempt.provider_reference or result.provider_reference
        await uow.refunds.add(Refund.request(attempt, now, RefundPurpose.LATE_CAPTURE))

    async def reconcile(self) -> dict[str, int]:
        """Resolve attempts stuck INITIATED (never dispatched) or PENDING (no news)."""
        now = self._clock.now()
        async with self._uow() as uow:
            stuck = await uow.payments.unsettled(now - timedelta(seconds=self._policy.pending_timeout_s),
                                                 self._policy.reconcile_batch)
        counts = {"redispatched": 0, "resolved": 0, "still_pending": 0, "timed_out": 0}
        for attempt in stuck:
            if attempt.status is AttemptStatus.INITIATED:
                await self.dispatch(attempt.id)
                counts["redispatched"] += 1
                continue
            result = await self._providers.get(attempt.provider).get_status(attempt.id, attempt.provider_reference,
                                                                             attempt.amount)
            status = VerdictOrigin(attempt.provider, VerdictSource.STATUS)
            if result.outcome in (Outcome.SUCCEEDED, Outcome.FAILED):
                await self.settle(attempt.id, result, origin=status)
                counts["resolved"] += 1
            elif (now - attempt.created_at).total_seconds() >= self._policy.give_up_after_s:
                await self.settle(attempt.id, ProviderResult(
                    Outcome.FAILED, attempt.provider_reference, FailureCode.GATEWAY_TIMEOUT,
                    "the provider gave no verdict in time"))
                counts["timed_out"] += 1
            else:
                await self.settle(attempt.id, result, origin=status)  # touches updated_at: asked again next round
                counts["still_pending"] += 1
        return counts
