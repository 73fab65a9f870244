-- Fraud rules (issue 13): each merchant's rule set, and the verdict on every attempt.

-- A held attempt (REQUIRES_REVIEW) is in flight: the order may have no other until it is decided.
ALTER TABLE payment_attempts DROP CONSTRAINT IF EXISTS payment_attempts_status_check;
ALTER TABLE payment_attempts ADD CONSTRAINT payment_attempts_status_check
    CHECK (status IN ('INITIATED', 'PENDING', 'SUCCESS', 'FAILED', 'REQUIRES_REVIEW'));
DROP INDEX payment_attempts_one_in_flight;
CREATE UNIQUE INDEX payment_attempts_one_in_flight ON payment_attempts (order_id)
    WHERE status IN ('INITIATED', 'PENDING', 'REQUIRES_REVIEW');

ALTER TABLE payment_attempts
    ADD COLUMN card_fingerprint varchar(64),
    ADD COLUMN fraud_action varchar(8) CHECK (fraud_action IN ('allow', 'review', 'block')),
    ADD COLUMN fraud_rule text,
    ADD COLUMN fraud_score smallint CHECK (fraud_score BETWEEN 0 AND 100),
    ADD COLUMN fraud_reasons jsonb;

-- Repeated failures per card, and the review queue.
CREATE INDEX payment_attempts_card_failures_idx ON payment_attempts (merchant_id, card_fingerprint, updated_at)
    WHERE status = 'FAILED' AND card_fingerprint IS NOT NULL;
CREATE INDEX payment_attempts_review_idx ON payment_attempts (updated_at) WHERE status = 'REQUIRES_REVIEW';

-- One row per merchant: the whole set is replaced in one statement, never half-applied.
CREATE TABLE fraud_rule_sets (
    merchant_id uuid PRIMARY KEY REFERENCES merchants (id),
    rules jsonb NOT NULL,
    updated_at timestamptz NOT NULL
);
