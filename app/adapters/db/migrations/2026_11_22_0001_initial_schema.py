"""Initial schema, applied with `piccolo migrations forwards fusionxpay`."""

from pathlib import Path

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-22T18:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "initial schema: merchants, orders, attempts, refunds, outbox, inbox, idempotency"

SQL = Path(__file__).with_name("schema_0001.sql").read_text()


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="fusionxpay", description=DESCRIPTION)

    async def run_ddl():
        from config.piccolo_conf import DB

        async with DB.transaction() as transaction:
            await transaction.connection.execute(SQL)

    async def drop_all():
        from config.piccolo_conf import DB

        await DB.run_ddl(
            "DROP TABLE IF EXISTS idempotency_keys, callback_inbox, outbox, refunds,"
            " payment_attempts, orders, merchants CASCADE"
        )

    manager.add_raw(run_ddl)
    manager.add_raw_backwards(drop_all)
    return manager
