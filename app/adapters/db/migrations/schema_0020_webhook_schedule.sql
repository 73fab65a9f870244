-- Merchant webhook deliveries as durable jobs: one row per notified event, its status,
-- the attempt due next and when, and a lease. The broker only carries wake-ups naming a
-- lease token; a wake-up lost with Redis is sent again once its lease runs out, so a
-- scheduled retry survives losing the broker. Each attempt stays logged in webhook_deliveries.
CREATE TABLE webhook_schedule (
    event_id uuid PRIMARY KEY,
    merchant_id uuid NOT NULL,
    status varchar(16) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'delivered', 'dead', 'disabled', 'refused', 'skipped')),
    attempt integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),  -- the attempt due next
    resend boolean NOT NULL DEFAULT false,  -- an admin asked for it again after delivery
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_token uuid,  -- the wake-up (or sender) that owns the row until leased_until
    leased_until timestamptz,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- The poller's queue: pending rows by due time (picked FOR UPDATE SKIP LOCKED).
CREATE INDEX webhook_schedule_due_idx ON webhook_schedule (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_schedule_status_idx ON webhook_schedule (status, updated_at DESC);
