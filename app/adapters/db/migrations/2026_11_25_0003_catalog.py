"""Catalog, inventory and fulfillment: products with their stock level and its CHECKs,
stock adjustments, reservations; orders get a status reason."""

from app.adapters.db.migrations.raw_sql import raw_sql_migration

ID = "2026-11-25T18:00:00:000003"
VERSION = "1.38.0"
DESCRIPTION = "catalog: products, stock adjustments, stock reservations, order status reason"


async def forwards():
    return raw_sql_migration(ID, DESCRIPTION, "schema_0003.sql",
                             "stock_reservations, stock_adjustments, products")
