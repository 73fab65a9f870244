-- GET /events: a merchant's events newest first (keyset on occurred_at, id), and the
-- events of one order. The outbox keeps events after they are published: it is the
-- record the merchant reads back (the payload each webhook carried).
CREATE INDEX outbox_merchant_events_idx ON outbox (merchant_id, occurred_at DESC, id DESC);
CREATE INDEX outbox_merchant_order_idx ON outbox (merchant_id, (payload->>'order_id'), occurred_at DESC);
