-- Merchant management: deactivation, API keys with a grace period after rotation,
-- webhook signing secrets with an overlap after rotation (both sign meanwhile).
ALTER TABLE merchants
    ADD COLUMN active boolean NOT NULL DEFAULT true,
    ADD COLUMN previous_webhook_secret text NULL,
    ADD COLUMN previous_webhook_secret_expires_at timestamptz NULL,
    ADD COLUMN updated_at timestamptz NULL,
    ADD COLUMN api_key_rotation_id text NULL,
    ADD COLUMN webhook_secret_rotation_id text NULL;

-- Every key a merchant was issued, as a hash; a rotated key works until expires_at.
CREATE TABLE merchant_api_keys (
    key_hash text PRIMARY KEY,
    merchant_id uuid NOT NULL REFERENCES merchants (id),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NULL
);
CREATE INDEX merchant_api_keys_merchant ON merchant_api_keys (merchant_id);
INSERT INTO merchant_api_keys (key_hash, merchant_id, created_at)
SELECT api_key_hash, id, created_at FROM merchants
ON CONFLICT DO NOTHING;

CREATE INDEX merchants_newest ON merchants (created_at DESC, id DESC);
