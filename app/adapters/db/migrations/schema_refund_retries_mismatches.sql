-- Refunds: which capture they give back, why, and their retry schedule.
ALTER TABLE refunds
    ADD COLUMN target_reference text,
    ADD COLUMN purpose varchar(32) NOT NULL DEFAULT 'cancellation'
        CHECK (purpose IN ('cancellation', 'late_capture', 'unrequested_capture')),
    ADD COLUMN attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    ADD COLUMN next_attempt_at timestamptz,
    ADD COLUMN last_error text;

-- One refund of an attempt's own capture per attempt (as before), while refunds of
-- captures nobody asked for hang off the attempt a mismatching verdict named.
ALTER TABLE refunds DROP CONSTRAINT refunds_payment_id_key;
CREATE UNIQUE INDEX refunds_one_per_attempt ON refunds (payment_id) WHERE purpose <> 'unrequested_capture';
-- No capture is ever refunded twice, however many duplicate verdicts report it.
CREATE UNIQUE INDEX refunds_one_per_capture ON refunds (provider, target_reference)
    WHERE target_reference IS NOT NULL;
-- The retry job's queue: PENDING refunds by due time (picked FOR UPDATE SKIP LOCKED).
CREATE INDEX refunds_due_idx ON refunds (next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX refunds_status_created_idx ON refunds (status, created_at DESC);
UPDATE refunds SET next_attempt_at = updated_at WHERE status = 'PENDING';

-- Provider verdicts (callbacks, status look-ups, purchase answers) that did not match the
-- attempt they named: never applied, kept for operators (append-only).
CREATE TABLE provider_verdict_mismatches (
    id uuid PRIMARY KEY,
    provider varchar(32) NOT NULL,
    source varchar(16) NOT NULL CHECK (source IN ('purchase', 'status', 'callback')),
    event_id text,
    attempt_id uuid,  -- the attempt it named; no foreign key: it may be no attempt of ours
    merchant_id uuid,  -- that attempt's merchant
    reasons text[] NOT NULL,
    outcome varchar(16) NOT NULL,
    reported_reference text,
    reported_amount_minor bigint,
    reported_currency text,
    reported_attempt_id uuid,
    reported_order_id uuid,
    reported_merchant_id uuid,
    refund_id uuid REFERENCES refunds (id),
    created_at timestamptz NOT NULL
);
CREATE INDEX provider_verdict_mismatches_created_idx ON provider_verdict_mismatches (created_at DESC);
CREATE INDEX provider_verdict_mismatches_attempt_idx ON provider_verdict_mismatches (attempt_id);
