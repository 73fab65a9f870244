"""Our migrations are raw SQL files run by Piccolo's migration manager: the schema's
money-protecting constraints (partial unique indexes, checks) are plain DDL."""

from __future__ import annotations

from pathlib import Path

from piccolo.apps.migrations.auto.migration_manager import MigrationManager


def raw_sql_migration(migration_id: str, description: str, sql_file: str, drop_tables: str = "",
                      undo_sql: str = "") -> MigrationManager:
    """Forwards runs `sql_file` (next to this module) in one transaction; backwards drops
    `drop_tables` (tables it created) or runs `undo_sql` (for changes to existing tables)."""
    sql = Path(__file__).with_name(sql_file).read_text()
    manager = MigrationManager(migration_id=migration_id, app_name="fusionxpay", description=description)

    async def run_ddl() -> None:
        from config.piccolo_conf import DB

        async with DB.transaction() as transaction:
            await transaction.connection.execute(sql)

    async def drop() -> None:
        from config.piccolo_conf import DB

        await DB.run_ddl(undo_sql or f"DROP TABLE IF EXISTS {drop_tables} CASCADE")

    manager.add_raw(run_ddl)
    manager.add_raw_backwards(drop)
    return manager
