-- The first schema. Invariants that protect money live here, in the database,
-- not only in code: one in-flight and one successful attempt per order, one
-- refund per payment, each provider event applied once.

CREATE TABLE merchants (
    id uuid PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    api_key_hash text NOT NULL UNIQUE,
    webhook_url text,
    webhook_secret text,
    webhook_enabled boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    id uuid PRIMARY KEY,
    merchant_id uuid NOT NULL REFERENCES merchants (id),
    merchant_reference text,
    status varchar(32) NOT NULL CHECK (status IN ('CREATED', 'PAYMENT_IN_PROGRESS', 'PAYMENT_DONE',
        'PAYMENT_FAILED', 'ORDER_CANCELLED', 'FULFILLMENT_STARTED')),
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    currency varchar(3) NOT NULL,
    items jsonb NOT NULL DEFAULT '[]',
    customer jsonb NOT NULL DEFAULT '{}',
    description text,
    attempt_count integer NOT NULL DEFAULT 0,
    estimated_delivery date,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX orders_merchant_reference_key ON orders (merchant_id, merchant_reference)
    WHERE merchant_reference IS NOT NULL;
CREATE INDEX orders_merchant_created_idx ON orders (merchant_id, created_at DESC, id DESC);
CREATE INDEX orders_merchant_status_created_idx ON orders (merchant_id, status, created_at DESC, id DESC);

CREATE TABLE payment_attempts (
    id uuid PRIMARY KEY,
    order_id uuid NOT NULL REFERENCES orders (id),
    merchant_id uuid NOT NULL REFERENCES merchants (id),
    provider varchar(32) NOT NULL,
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    currency varchar(3) NOT NULL,
    status varchar(16) NOT NULL CHECK (status IN ('INITIATED', 'PENDING', 'SUCCESS', 'FAILED')),
    attempt_number integer NOT NULL,
    card_brand varchar(16),
    card_last4 varchar(4),
    provider_reference text,
    redirect_url text,
    failure_code varchar(64),
    failure_message text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    UNIQUE (order_id, attempt_number)
);
CREATE UNIQUE INDEX payment_attempts_one_in_flight ON payment_attempts (order_id)
    WHERE status IN ('INITIATED', 'PENDING');
CREATE UNIQUE INDEX payment_attempts_one_success ON payment_attempts (order_id)
    WHERE status = 'SUCCESS';
CREATE INDEX payment_attempts_unsettled_idx ON payment_attempts (updated_at)
    WHERE status IN ('INITIATED', 'PENDING');
CREATE INDEX payment_attempts_provider_ref_idx ON payment_attempts (provider, provider_reference);

CREATE TABLE refunds (
    id uuid PRIMARY KEY,
    order_id uuid NOT NULL REFERENCES orders (id),
    payment_id uuid NOT NULL UNIQUE REFERENCES payment_attempts (id),
    merchant_id uuid NOT NULL REFERENCES merchants (id),
    provider varchar(32) NOT NULL,
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    currency varchar(3) NOT NULL,
    status varchar(16) NOT NULL CHECK (status IN ('PENDING', 'SUCCESS', 'FAILED')),
    provider_reference text,
    failure_code varchar(64),
    failure_message text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX refunds_order_idx ON refunds (order_id);

CREATE TABLE outbox (
    id uuid PRIMARY KEY,
    seq bigserial NOT NULL,
    event_type varchar(64) NOT NULL,
    aggregate_id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    payload jsonb NOT NULL,
    correlation_id text,
    occurred_at timestamptz NOT NULL,
    published_at timestamptz
);
CREATE INDEX outbox_unpublished_idx ON outbox (seq) WHERE published_at IS NULL;

CREATE TABLE callback_inbox (
    id bigserial PRIMARY KEY,
    provider varchar(32) NOT NULL,
    event_id text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, event_id)
);

CREATE TABLE idempotency_keys (
    id bigserial PRIMARY KEY,
    merchant_id uuid NOT NULL,
    key text NOT NULL,
    fingerprint text NOT NULL,
    status_code integer,
    response_body bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (merchant_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
