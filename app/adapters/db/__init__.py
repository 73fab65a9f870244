"""PostgreSQL adapter (Piccolo + asyncpg)."""

import os

# Piccolo finds its engine through this module path; set it for every entry point.
os.environ.setdefault("PICCOLO_CONF", "config.piccolo_conf")
