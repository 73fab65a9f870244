-- The idempotency key is its own primary key. Nothing reads idempotency_keys.id: every
-- statement finds a key by (merchant_id, key), the unique constraint the claims' ON CONFLICT
-- arbitrates on. The surrogate id cost every claim a nextval() of its sequence and one more
-- index entry. The uniqueness that makes a key claimable once stays, as the primary key on
-- the same columns (created before the old constraint goes, in this one transaction).
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (merchant_id, key);
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_merchant_id_key_key;
ALTER TABLE idempotency_keys DROP COLUMN id;  -- its sequence (owned by the column) goes with it
