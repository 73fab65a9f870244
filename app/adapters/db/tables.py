"""Piccolo table definitions. The schema itself (constraints, partial unique
indexes) lives in the migrations; these classes are what queries are built from."""

from __future__ import annotations

from piccolo.columns import (
    JSONB, UUID, Array, BigInt, Boolean, Bytea, Date, Integer, Serial, Text, Timestamptz, Varchar,
)
from piccolo.table import Table


class MerchantTable(Table, tablename="merchants"):
    id = UUID(primary_key=True)
    name = Text()
    api_key_hash = Text(unique=True)
    webhook_url = Text(null=True)
    webhook_secret = Text(null=True)
    webhook_enabled = Boolean(default=True)
    created_at = Timestamptz()
    active = Boolean(default=True)
    previous_webhook_secret = Text(null=True, default=None)
    previous_webhook_secret_expires_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(null=True, default=None)
    api_key_rotation_id = Text(null=True, default=None)
    webhook_secret_rotation_id = Text(null=True, default=None)


class OrderTable(Table, tablename="orders"):
    id = UUID(primary_key=True)
    merchant_id = UUID()
    merchant_reference = Text(null=True)
    status = Varchar(length=32)
    amount_minor = BigInt()
    currency = Varchar(length=3)
    items = JSONB()
    customer = JSONB()
    description = Text(null=True)
    attempt_count = Integer(default=0)
    estimated_delivery = Date(null=True, default=None)
    user_id = UUID(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    status_reason = Text(null=True, default=None)


class PaymentAttemptTable(Table, tablename="payment_attempts"):
    id = UUID(primary_key=True)
    order_id = UUID()
    merchant_id = UUID()
    provider = Varchar(length=32)
    amount_minor = BigInt()
    currency = Varchar(length=3)
    status = Varchar(length=16)
    attempt_number = Integer()
    card_brand = Varchar(length=16, null=True)
    card_last4 = Varchar(length=4, null=True)
    provider_reference = Text(null=True)
    redirect_url = Text(null=True)
    return_url = Text(null=True)
    failure_code = Varchar(length=64, null=True)
    failure_message = Text(null=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    card_fingerprint = Varchar(length=64, null=True, default=None)
    fraud_action = Varchar(length=8, null=True, default=None)
    fraud_rule = Text(null=True, default=None)
    fraud_score = Integer(null=True, default=None)
    fraud_reasons = JSONB(null=True, default=None)


class FraudRuleSetTable(Table, tablename="fraud_rule_sets"):
    merchant_id = UUID(primary_key=True)
    rules = JSONB()
    updated_at = Timestamptz()


class RefundTable(Table, tablename="refunds"):
    id = UUID(primary_key=True)
    order_id = UUID()
    payment_id = UUID()
    merchant_id = UUID()
    provider = Varchar(length=32)
    amount_minor = BigInt()
    currency = Varchar(length=3)
    status = Varchar(length=16)
    provider_reference = Text(null=True)
    failure_code = Varchar(length=64, null=True)
    failure_message = Text(null=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    target_reference = Text(null=True)
    purpose = Varchar(length=32, default="cancellation")
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(null=True, default=None)
    last_error = Text(null=True)


class VerdictMismatchTable(Table, tablename="provider_verdict_mismatches"):
    id = UUID(primary_key=True)
    provider = Varchar(length=32)
    source = Varchar(length=16)
    event_id = Text(null=True)
    attempt_id = UUID(null=True)
    merchant_id = UUID(null=True)
    reasons = Array(base_column=Text())
    outcome = Varchar(length=16)
    reported_reference = Text(null=True)
    reported_amount_minor = BigInt(null=True)
    reported_currency = Text(null=True)
    reported_attempt_id = UUID(null=True)
    reported_order_id = UUID(null=True)
    reported_merchant_id = UUID(null=True)
    refund_id = UUID(null=True)
    created_at = Timestamptz()


class OutboxTable(Table, tablename="outbox"):
    id = UUID(primary_key=True)  # the domain event id: consumers dedupe on it
    seq = Serial()
    event_type = Varchar(length=64)
    aggregate_id = UUID()
    merchant_id = UUID()
    payload = JSONB()
    correlation_id = Text(null=True)
    occurred_at = Timestamptz()
    published_at = Timestamptz(null=True, default=None)  # Piccolo would default to now()
    traceparent = Text(null=True)  # W3C trace context of the writing request (tracing on)


class CallbackInboxTable(Table, tablename="callback_inbox"):
    id = Serial(primary_key=True)
    provider = Varchar(length=32)
    event_id = Text()
    received_at = Timestamptz()


class ProductTable(Table, tablename="products"):
    id = UUID(primary_key=True)
    merchant_id = UUID()
    sku = Varchar(length=64)
    name = Text()
    unit_amount_minor = BigInt()
    currency = Varchar(length=3)
    lead_time_days = Integer()
    active = Boolean(default=True)
    on_hand = Integer(default=0)
    reserved = Integer(default=0)
    allocated = Integer(default=0)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class StockAdjustmentTable(Table, tablename="stock_adjustments"):
    id = UUID(primary_key=True)
    product_id = UUID()
    merchant_id = UUID()
    delta = Integer()
    reason = Text()
    on_hand_after = Integer()
    created_at = Timestamptz()


class StockReservationTable(Table, tablename="stock_reservations"):
    id = UUID(primary_key=True)
    order_id = UUID()
    merchant_id = UUID()
    product_id = UUID()
    sku = Varchar(length=64)
    quantity = Integer()
    status = Varchar(length=16)
    payment_id = UUID(null=True, default=None)
    expires_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class UserTable(Table, tablename="users"):
    id = UUID(primary_key=True)
    merchant_id = UUID(null=True, default=None)
    email = Text()
    role = Varchar(length=16)
    password_hash = Text()
    created_at = Timestamptz()
    password_changed_at = Timestamptz()


class RefreshTokenTable(Table, tablename="refresh_tokens"):
    id = UUID(primary_key=True)
    family_id = UUID()
    user_id = UUID()
    token_hash = Text(unique=True)
    issued_at = Timestamptz()
    expires_at = Timestamptz()
    rotated_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class SavedCardTable(Table, tablename="saved_cards"):
    token = Text(primary_key=True)
    merchant_id = UUID()
    user_id = UUID(null=True, default=None)
    brand = Varchar(length=16)
    last4 = Varchar(length=4)
    exp_month = Integer()
    exp_year = Integer()
    holder_name = Text()
    fingerprint = Text()
    key_id = Text(null=True, default=None)
    pan_sealed = Bytea(null=True, default=None)
    created_at = Timestamptz()
    deleted_at = Timestamptz(null=True, default=None)


ALL_TABLES = [
    MerchantTable, OrderTable, PaymentAttemptTable, RefundTable, OutboxTable,
    CallbackInboxTable, ProductTable, StockAdjustmentTable, StockReservationTable,
    VerdictMismatchTable,
    UserTable, RefreshTokenTable, SavedCardTable,
]
