-- The audit trail (seed 003's trace events): one row per operation, appended in the
-- transaction of the change it records (reads and failures on their own). Append-only:
-- a trigger refuses UPDATE, DELETE and TRUNCATE for every role, the owner included.
CREATE TABLE audit_log (
    id uuid PRIMARY KEY,
    occurred_at timestamptz NOT NULL,
    event_type varchar(32) NOT NULL CHECK (event_type IN (
        'user_login', 'order_creation', 'order_update', 'payment_processing', 'order_fulfillment', 'data_lookup',
        'callback_received', 'notification_sent', 'admin_action')),
    status varchar(8) NOT NULL CHECK (status IN ('success', 'failed')),
    action text,
    correlation_id text,
    actor_kind varchar(16) NOT NULL CHECK (actor_kind IN ('merchant', 'user', 'admin', 'provider', 'system')),
    actor_id text,
    entities jsonb NOT NULL DEFAULT '{}'::jsonb,  -- {"order": "<uuid>", "merchant": "<uuid>", ...}
    duration_ms double precision NOT NULL,
    error_code text,
    error_detail text
);
-- The admin view pages newest first; entity filters are containment (entities @> {...}).
CREATE INDEX audit_log_time_idx ON audit_log (occurred_at DESC, id DESC);
CREATE INDEX audit_log_type_idx ON audit_log (event_type, occurred_at DESC);
CREATE INDEX audit_log_entities_idx ON audit_log USING gin (entities jsonb_path_ops);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
