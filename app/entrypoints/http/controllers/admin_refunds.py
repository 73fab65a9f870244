"""Admin views of money to reconcile: refunds (the FAILED ones, whose retries ran out, wait
here for an operator, who can start a fresh round of tries) and the provider verdicts
refused because they did not match their attempt. Same guard as the other admin endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
from litestar import Controller, get, post
from litestar.params import Parameter

from app.domain.model.refund import Refund as RefundModel
from app.domain.model.refund import RefundPurpose, RefundStatus
from app.domain.model.mismatch import VerdictMismatch
from app.domain.services.refunds import RefundService
from app.entrypoints.http.access import authorize
from app.entrypoints.http.controllers.admin import ADMIN_ERRORS, ADMIN_ONLY
from app.domain.services.verdicts import MismatchLog
from app.entrypoints.http.dependencies import from_container
from app.entrypoints.http.schemas import patterns


class AdminRefund(msgspec.Struct):
    id: uuid.UUID
    merchant_id: uuid.UUID
    order_id: uuid.UUID
    payment_id: uuid.UUID
    provider: str
    purpose: RefundPurpose
    status: RefundStatus
    amount: int
    currency: str
    target_reference: str | None  # the capture being refunded
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    failure_code: str | None
    failure_message: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, r: RefundModel) -> AdminRefund:
        return cls(r.id, r.merchant_id, r.order_id, r.payment_id, r.provider, r.purpose, r.status,
                   r.amount.amount_minor, r.amount.currency, r.target_reference, r.attempts, r.next_attempt_at,
                   r.last_error, r.failure_code, r.failure_message, r.created_at, r.updated_at)


class AdminRefundList(msgspec.Struct):
    data: list[AdminRefund]
    count: int


class AdminRefundsController(Controller):
    path = "/admin/refunds"
    tags = ["admin"]
    guards = [authorize]  # also where the controller is mounted alone (the app applies it too)

    @get("/", responses=ADMIN_ERRORS, **ADMIN_ONLY, summary="Refunds in a state, newest first (FAILED: waiting for an operator)")
    async def list_refunds(self, refunds: RefundService,
                           status: str = Parameter(default="FAILED", pattern=patterns.any_case("pending", "success", "failed")),
                           limit: int = Parameter(default=100, ge=1, le=500)) -> AdminRefundList:
        found = await refunds.by_status(RefundStatus(status.upper()), limit)
        return AdminRefundList([AdminRefund.from_domain(r) for r in found], len(found))

    @post("/{refund_id:uuid}/retry", responses=ADMIN_ERRORS, **ADMIN_ONLY, status_code=202,
          summary="Give a FAILED refund a fresh round of tries")
    async def retry_refund(self, refund_id: uuid.UUID, refunds: RefundService) -> AdminRefund:
        return AdminRefund.from_domain(await refunds.reopen(refund_id))


class AdminVerdictMismatch(msgspec.Struct):
    id: uuid.UUID
    provider: str
    source: str
    event_id: str | None
    payment_id: uuid.UUID | None  # the attempt the verdict named
    merchant_id: uuid.UUID | None
    reasons: list[str]
    outcome: str
    reported_reference: str | None
    reported_amount: int | None
    reported_currency: str | None
    refund_id: uuid.UUID | None  # the refund of the capture it reported, if one was made
    created_at: datetime

    @classmethod
    def from_domain(cls, m: VerdictMismatch) -> AdminVerdictMismatch:
        return cls(m.id, m.provider, m.source, m.event_id, m.attempt_id, m.merchant_id, list(m.reasons), m.outcome,
                   m.reported_reference, m.reported.amount_minor, m.reported.currency, m.refund_id, m.created_at)


class AdminVerdictMismatchList(msgspec.Struct):
    data: list[AdminVerdictMismatch]
    count: int


class AdminVerdictMismatchesController(Controller):
    path = "/admin/verdict-mismatches"
    tags = ["admin"]
    guards = [authorize]  # also where the controller is mounted alone (the app applies it too)
    dependencies = {"mismatches": from_container("mismatches")}

    @get("/", responses=ADMIN_ERRORS, **ADMIN_ONLY, summary="Provider verdicts refused as not matching their attempt, newest first")
    async def list_mismatches(self, mismatches: MismatchLog,
                              limit: int = Parameter(default=100, ge=1, le=500)) -> AdminVerdictMismatchList:
        found = await mismatches.recent(limit)
        return AdminVerdictMismatchList([AdminVerdictMismatch.from_domain(m) for m in found], len(found))
