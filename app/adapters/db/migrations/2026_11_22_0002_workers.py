"""Workers: processed_events (consumer dedupe) and webhook_deliveries (delivery log)."""

from pathlib import Path

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-22T18:00:00:000002"
VERSION = "1.38.0"
DESCRIPTION = "workers: processed events, webhook deliveries"

SQL = Path(__file__).with_name("schema_0002.sql").read_text()


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="fusionxpay", description=DESCRIPTION)

    async def run_ddl():
        from config.piccolo_conf import DB

        async with DB.transaction() as transaction:
            await transaction.connection.execute(SQL)

    async def drop_tables():
        from config.piccolo_conf import DB

        await DB.run_ddl("DROP TABLE IF EXISTS webhook_deliveries, processed_events CASCADE")

    manager.add_raw(run_ddl)
    manager.add_raw_backwards(drop_tables)
    return manager
