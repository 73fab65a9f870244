-- Workers: consumer-side dedupe and the merchant webhook delivery log.

-- One row per (consumer, event) that has had its effect. Consumers insert it with
-- ON CONFLICT DO NOTHING, in the same transaction as the effect when the effect is in
-- this database, so an event relayed twice (at-least-once) still acts once.
CREATE TABLE processed_events (
    consumer varchar(64) NOT NULL,
    event_id uuid NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
CREATE INDEX processed_events_processed_at_idx ON processed_events (processed_at);

-- Every attempt to deliver a merchant webhook, successful or not (append-only).
CREATE TABLE webhook_deliveries (
    id bigserial PRIMARY KEY,
    event_id uuid NOT NULL,
    merchant_id uuid NOT NULL REFERENCES merchants (id),
    attempt integer NOT NULL CHECK (attempt >= 1),
    url text NOT NULL,
    status_code integer,
    latency_ms integer,
    error text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id, attempt);
CREATE INDEX webhook_deliveries_merchant_created_idx ON webhook_deliveries (merchant_id, created_at DESC);
