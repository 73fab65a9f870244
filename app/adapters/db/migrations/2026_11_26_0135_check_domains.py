"""One-column CHECK constraints of the order and payment tables as domain constraints:
the same checks, no longer parsed again by every write (see the SQL file)."""

from app.adapters.db.migrations.raw_sql import raw_sql_migration

ID = "2026-11-26T13:50:00:000135"
VERSION = "1.38.0"
DESCRIPTION = "one-column CHECKs of orders, payment_attempts, audit_log, provider_calls as domain constraints"
UNDO = """
ALTER TABLE orders ALTER COLUMN status TYPE varchar(32), ALTER COLUMN amount_minor TYPE bigint,
    ADD CONSTRAINT orders_status_check CHECK (status::text = ANY ('{CREATED,PAYMENT_IN_PROGRESS,PAYMENT_DONE,PAYMENT_FAILED,ORDER_CANCELLED,FULFILLMENT_STARTED}'::text[])),
    ADD CONSTRAINT orders_amount_minor_check CHECK (amount_minor > 0);
ALTER TABLE payment_attempts ALTER COLUMN status TYPE varchar(16), ALTER COLUMN amount_minor TYPE bigint,
    ALTER COLUMN fraud_action TYPE varchar(8), ALTER COLUMN fraud_score TYPE smallint,
    ADD CONSTRAINT payment_attempts_status_check CHECK (status::text = ANY ('{INITIATED,PENDING,SUCCESS,FAILED,REQUIRES_REVIEW}'::text[])),
    ADD CONSTRAINT payment_attempts_amount_minor_check CHECK (amount_minor > 0),
    ADD CONSTRAINT payment_attempts_fraud_action_check CHECK (fraud_action::text = ANY ('{allow,review,block}'::text[])),
    ADD CONSTRAINT payment_attempts_fraud_score_check CHECK (fraud_score >= 0 AND fraud_score <= 100);
ALTER TABLE audit_log ALTER COLUMN event_type TYPE varchar(32), ALTER COLUMN status TYPE varchar(8),
    ALTER COLUMN actor_kind TYPE varchar(16),
    ADD CONSTRAINT audit_log_event_type_check CHECK (event_type::text = ANY ('{user_login,order_creation,order_update,payment_processing,order_fulfillment,data_lookup,callback_received,notification_sent,admin_action}'::text[])),
    ADD CONSTRAINT audit_log_status_check CHECK (status::text = ANY ('{success,failed}'::text[])),
    ADD CONSTRAINT audit_log_actor_kind_check CHECK (actor_kind::text = ANY ('{merchant,user,admin,provider,system}'::text[]));
ALTER TABLE provider_calls ALTER COLUMN operation TYPE varchar(16), ALTER COLUMN latency_ms TYPE integer,
    ADD CONSTRAINT provider_calls_operation_check CHECK (operation::text = ANY ('{purchase,refund,get_status,callback}'::text[])),
    ADD CONSTRAINT provider_calls_latency_ms_check CHECK (latency_ms >= 0);
DROP DOMAIN fxp_amount_minor, fxp_order_status, fxp_attempt_status, fxp_fraud_action, fxp_fraud_score,
    fxp_audit_event_type, fxp_audit_status, fxp_actor_kind, fxp_provider_operation, fxp_latency_ms;
"""


async def forwards():
    return raw_sql_migration(ID, DESCRIPTION, "schema_0135_check_domains.sql", undo_sql=UNDO)
