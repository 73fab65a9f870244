-- Users, their refresh-token families, the card vault, and who placed an order.
-- One live refresh token per family and one account per email per merchant are
-- database guarantees, not only code.

CREATE TABLE users (
    id uuid PRIMARY KEY,
    merchant_id uuid REFERENCES merchants (id),
    email text NOT NULL CHECK (length(email) BETWEEN 3 AND 254 AND email = lower(email)),
    role varchar(16) NOT NULL CHECK (role IN ('customer', 'merchant', 'admin')),
    password_hash text NOT NULL,
    created_at timestamptz NOT NULL,
    password_changed_at timestamptz NOT NULL,
    CHECK ((role = 'admin') = (merchant_id IS NULL))
);
CREATE UNIQUE INDEX users_email_key
    ON users (COALESCE(merchant_id, '00000000-0000-0000-0000-000000000000'::uuid), email);

CREATE TABLE refresh_tokens (
    id uuid PRIMARY KEY,
    family_id uuid NOT NULL,
    user_id uuid NOT NULL REFERENCES users (id),
    token_hash text NOT NULL UNIQUE,
    issued_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    rotated_at timestamptz,
    revoked_at timestamptz
);
CREATE UNIQUE INDEX refresh_tokens_one_live_per_family ON refresh_tokens (family_id)
    WHERE rotated_at IS NULL AND revoked_at IS NULL;
CREATE INDEX refresh_tokens_user_live_idx ON refresh_tokens (user_id) WHERE revoked_at IS NULL;

CREATE TABLE saved_cards (
    token text PRIMARY KEY CHECK (token LIKE 'card\_%'),
    merchant_id uuid NOT NULL REFERENCES merchants (id),
    user_id uuid REFERENCES users (id),
    brand varchar(16) NOT NULL,
    last4 varchar(4) NOT NULL,
    exp_month smallint NOT NULL CHECK (exp_month BETWEEN 1 AND 12),
    exp_year integer NOT NULL,
    holder_name text NOT NULL CHECK (length(holder_name) BETWEEN 1 AND 100),
    fingerprint text NOT NULL,
    key_id text,
    pan_sealed bytea,
    created_at timestamptz NOT NULL,
    deleted_at timestamptz,
    -- a live card has its sealed number and key id; a deleted one has neither
    CHECK ((deleted_at IS NULL) = (pan_sealed IS NOT NULL) AND (pan_sealed IS NULL) = (key_id IS NULL))
);
CREATE INDEX saved_cards_owner_idx ON saved_cards (merchant_id, user_id, created_at DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX saved_cards_key_idx ON saved_cards (key_id) WHERE deleted_at IS NULL;

ALTER TABLE orders ADD COLUMN user_id uuid REFERENCES users (id);
CREATE INDEX orders_merchant_user_created_idx ON orders (merchant_id, user_id, created_at DESC, id DESC)
    WHERE user_id IS NOT NULL;
