-- Admin searches run across merchants: the merchant-first indexes of 0001 cannot serve them.
-- Every search pages newest first on (created_at, id), so each index ends with those.
CREATE INDEX orders_created_idx ON orders (created_at DESC, id DESC);
CREATE INDEX orders_reference_idx ON orders (merchant_reference, created_at DESC, id DESC)
    WHERE merchant_reference IS NOT NULL;
CREATE INDEX orders_customer_email_idx ON orders (lower(customer ->> 'email'), created_at DESC, id DESC);
CREATE INDEX orders_status_created_idx ON orders (status, created_at DESC, id DESC);

CREATE INDEX payment_attempts_created_idx ON payment_attempts (created_at DESC, id DESC);
CREATE INDEX payment_attempts_last4_idx ON payment_attempts (card_last4, created_at DESC, id DESC)
    WHERE card_last4 IS NOT NULL;
CREATE INDEX payment_attempts_provider_created_idx ON payment_attempts (provider, created_at DESC, id DESC);

-- An order's timeline: the events of the order, its attempts and its refunds.
CREATE INDEX outbox_aggregate_idx ON outbox (aggregate_id, occurred_at);
CREATE INDEX refunds_created_idx ON refunds (created_at);

-- Every call to a provider (after retries: what the payment waited for), and every verified
-- callback: the order timeline shows them, the provider report takes its latencies here.
CREATE TABLE provider_calls (
    id bigserial PRIMARY KEY,
    provider varchar(32) NOT NULL,
    operation varchar(16) NOT NULL CHECK (operation IN ('purchase', 'refund', 'get_status', 'callback')),
    attempt_id uuid,
    refund_id uuid,
    outcome varchar(24) NOT NULL,
    failure_code varchar(64),
    latency_ms integer NOT NULL CHECK (latency_ms >= 0),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX provider_calls_attempt_idx ON provider_calls (attempt_id) WHERE attempt_id IS NOT NULL;
CREATE INDEX provider_calls_refund_idx ON provider_calls (refund_id) WHERE refund_id IS NOT NULL;
CREATE INDEX provider_calls_report_idx ON provider_calls (created_at, provider) INCLUDE (latency_ms)
    WHERE operation = 'purchase';
