"""Fraud rule sets, and the fraud verdict on payment attempts (REQUIRES_REVIEW)."""

from app.adapters.db.migrations.raw_sql import raw_sql_migration

ID = "2026-11-25T20:13:00:000013"
VERSION = "1.38.0"
DESCRIPTION = "fraud rules and review queue"

UNDO = """
DROP TABLE IF EXISTS fraud_rule_sets;
DROP INDEX IF EXISTS payment_attempts_review_idx;
DROP INDEX IF EXISTS payment_attempts_card_failures_idx;
ALTER TABLE payment_attempts DROP COLUMN IF EXISTS card_fingerprint, DROP COLUMN IF EXISTS fraud_action,
    DROP COLUMN IF EXISTS fraud_rule, DROP COLUMN IF EXISTS fraud_score, DROP COLUMN IF EXISTS fraud_reasons;
"""


async def forwards():
    return raw_sql_migration(ID, DESCRIPTION, "schema_0013_fraud.sql", undo_sql=UNDO)
