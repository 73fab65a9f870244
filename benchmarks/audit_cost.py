"""The cost of the audit trail, on demand: POST /orders (its order_creation record
inserted in the order's own transaction) and GET /orders/{id} (its data_lookup record
queued and written in batches by a background task) with the trail on, against the same
with FXP_AUDIT__ENABLED=false, in the same run. The "on / off" lines print the ratios
(throughput, p50, API CPU per request)."""

from __future__ import annotations

from benchmarks.scenarios import Scenario, Stack, _order_create, _order_get, _order_get_setup, register

for mode in ("on", "off"):
    register(Scenario(
        f"audit.orders_create.{mode}", f"POST /orders audit {mode}", "api", _order_create,
        unique_headers=("Idempotency-Key",), stack=Stack(audit=mode), on_demand=True,
        description=f"POST /orders with the audit trail {mode}",
    ))
    register(Scenario(
        f"audit.orders_get.{mode}", f"GET /orders audit {mode}", "api", _order_get, setup=_order_get_setup,
        stack=Stack(audit=mode), on_demand=True,
        description=f"GET /orders/{{id}} with the audit trail {mode} (a data_lookup record per read)",
    ))
