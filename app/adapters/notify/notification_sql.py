"""The SQL of the notification jobs (app/adapters/notify/notification_jobs.py)."""

UUID_TEXT = "'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'"

# What planning needs per event: the order's customer fields, the account's email when a
# user placed it, and the preferences that apply (the user's; the merchant's for guests).
PLAN_FACTS = f"""
SELECT e.id AS event_id, e.event_type, e.merchant_id, e.payload, o.id AS order_id, o.customer,
       u.email AS user_email, p.channels, p.email AS pref_email, p.phone AS pref_phone
FROM outbox e
JOIN orders o ON o.id = CASE WHEN e.payload->>'order_id' ~ {UUID_TEXT} THEN (e.payload->>'order_id')::uuid END
    AND o.merchant_id = e.merchant_id
LEFT JOIN users u ON u.id = o.user_id
LEFT JOIN notification_preferences p ON p.owner_id = COALESCE(o.user_id, o.merchant_id)
WHERE e.id = ANY($1::uuid[]) AND e.event_type = ANY($2::text[])
"""
INSERT_PLANNED = """
INSERT INTO notification_deliveries (event_id, merchant_id, order_id, category, channel, recipient)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[])
ON CONFLICT ON CONSTRAINT notification_deliveries_once DO NOTHING
"""
PENDING_OF_EVENT = "SELECT id FROM notification_deliveries WHERE event_id = $1 AND status = 'pending' ORDER BY channel"
# The wake-up may arrive before the transaction that leased the row commits (it is sent
# from inside it): locking the row first waits for that commit, then reads its token.
LOCK_PENDING = """
SELECT id, event_id, merchant_id, order_id, category, channel, recipient, attempt, lease_token,
       sending_since, sending_digest, next_attempt_at <= now() AND (leased_until IS NULL OR leased_until <= now()) AS free
FROM notification_deliveries WHERE id = $1 AND status = 'pending' FOR UPDATE
"""
TAKE_LEASE = """
UPDATE notification_deliveries SET lease_token = gen_random_uuid(), leased_until = now() + make_interval(secs => $2),
    updated_at = now()
WHERE id = $1 RETURNING lease_token
"""
# Right before the message is handed over, under the sender's lease (migration 0130).
BEGIN_SEND = """
UPDATE notification_deliveries SET sending_since = now(), sending_digest = $3, updated_at = now()
WHERE id = $1 AND lease_token = $2 AND status = 'pending'
"""
LOG_ATTEMPT = """
INSERT INTO notification_attempts (delivery_id, attempt, outcome, latency_ms, error, provider_message_id)
VALUES ($1, $2, $3, $4, $5, $6)
"""
# Only the sender holding the lease moves the job; 'pending' again means the next attempt.
SETTLE = """
UPDATE notification_deliveries SET status = $3::text,
    attempt = CASE WHEN $3::text = 'pending' THEN attempt + 1 ELSE attempt END,
    next_attempt_at = CASE WHEN $3::text = 'pending' THEN now() + make_interval(secs => $4) ELSE next_attempt_at END,
    lease_token = NULL, leased_until = NULL, last_error = $5,
    provider_message_id = COALESCE($6, provider_message_id), updated_at = now(),
    sending_since = CASE WHEN $7::boolean THEN sending_since END,
    sending_digest = CASE WHEN $7::boolean THEN sending_digest END
WHERE id = $1 AND lease_token = $2 AND status = 'pending'
"""
REOPEN = """
UPDATE notification_deliveries SET status = 'pending', attempt = 1, next_attempt_at = now(), lease_token = NULL,
    leased_until = NULL, sending_since = NULL, sending_digest = NULL, updated_at = now()
WHERE id = $1 AND status = 'dead'
"""
WAKE_DUE = """
WITH due AS (
    SELECT id FROM notification_deliveries
    WHERE status = 'pending' AND next_attempt_at <= now() AND (leased_until IS NULL OR leased_until <= now())
    ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED
)
UPDATE notification_deliveries d SET lease_token = gen_random_uuid(),
    leased_until = now() + make_interval(secs => $2), updated_at = now()
FROM due
WHERE d.id = due.id
RETURNING d.id, d.lease_token, (SELECT correlation_id FROM outbox WHERE outbox.id = d.event_id) AS correlation_id
"""
DELIVERIES_OF_EVENT = """
SELECT d.id, d.category, d.channel, d.recipient, d.status, d.attempt, d.last_error, d.provider_message_id,
       (SELECT count(*) FROM notification_attempts a WHERE a.delivery_id = d.id) AS attempts
FROM notification_deliveries d WHERE d.event_id = $1 ORDER BY d.channel, d.recipient
"""
