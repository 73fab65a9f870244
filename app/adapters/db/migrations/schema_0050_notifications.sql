-- Shopper notifications (email, SMS). One row per (event, channel, recipient): the
-- unique key is what makes a message go out at most once per event whoever plans it
-- twice (two relays, a redelivered message). Each row is a durable job like
-- webhook_schedule: status, the attempt due next and when, and a lease; the broker only
-- carries wake-ups naming a lease token, so a scheduled retry survives losing Redis.
CREATE TABLE notification_deliveries (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    order_id uuid NOT NULL,
    category varchar(32) NOT NULL,
    channel varchar(8) NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient text NOT NULL,
    status varchar(16) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempt integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),  -- the attempt due next
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_token uuid,  -- the wake-up (or sender) that owns the row until leased_until
    leased_until timestamptz,
    last_error text,
    provider_message_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT notification_deliveries_once UNIQUE (event_id, channel, recipient)
);
CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notification_deliveries_order_idx ON notification_deliveries (order_id);

-- Every attempt, whatever its outcome.
CREATE TABLE notification_attempts (
    id bigserial PRIMARY KEY,
    delivery_id uuid NOT NULL REFERENCES notification_deliveries (id) ON DELETE CASCADE,
    attempt integer NOT NULL,
    outcome varchar(16) NOT NULL,
    latency_ms integer NOT NULL,
    error text,
    provider_message_id text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_attempts_delivery_idx ON notification_attempts (delivery_id, id);

-- Channels per category: a user's own (owner_id = user id), or a merchant's for its guest
-- customers (owner_id = merchant id, user_id NULL).
CREATE TABLE notification_preferences (
    owner_id uuid PRIMARY KEY,
    merchant_id uuid NOT NULL,
    user_id uuid,
    channels jsonb NOT NULL,
    email text,
    phone text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (user_id IS NULL AND owner_id = merchant_id OR user_id IS NOT NULL AND owner_id = user_id)
);
