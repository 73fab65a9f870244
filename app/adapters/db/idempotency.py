"""Idempotency keys in PostgreSQL (Stripe semantics). The claim is one atomic
INSERT ... ON CONFLICT inside the request's transaction: a concurrent request with
the same key waits on the uncommitted row (up to the lock timeout, then 409) and then
sees the stored response, so there is never a read-then-write race."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from piccolo.engine.postgres import PostgresEngine

from app.adapters.db.tables import IdempotencyKeyTable

CLAIM_SQL = """
INSERT INTO idempotency_keys (merchant_id, key, fingerprint, created_at)
VALUES ({}, {}, {}, now())
ON CONFLICT (merchant_id, key) DO UPDATE
    SET fingerprint = EXCLUDED.fingerprint, status_code = NULL, response_body = NULL, created_at = now()
    WHERE idempotency_keys.created_at < now() - make_interval(secs => {})
RETURNING id
"""


@dataclass(frozen=True, slots=True)
class StoredResponse:
    fingerprint: str
    status_code: int | None
    body: bytes | None


class PiccoloIdempotencyStore:
    def __init__(self, engine: PostgresEngine, ttl_s: int) -> None:
        self._engine = engine
        self._ttl_s = ttl_s

    async def claim(self, merchant_id: uuid.UUID, key: str, fingerprint: str) -> StoredResponse | None:
        """None when this request now owns the key; else what the key already holds.
        Must run inside a transaction, which the caller commits with the response."""
        claimed = await IdempotencyKeyTable.raw(CLAIM_SQL, merchant_id, key, fingerprint, self._ttl_s).run()
        if claimed:
            return None
        row = await (
            IdempotencyKeyTable.select(IdempotencyKeyTable.fingerprint, IdempotencyKeyTable.status_code,
                                       IdempotencyKeyTable.response_body)
            .where((IdempotencyKeyTable.merchant_id == merchant_id) & (IdempotencyKeyTable.key == key))
            .first().run()
        )
        return StoredResponse(row["fingerprint"], row["status_code"], row["response_body"])

    async def store(self, merchant_id: uuid.UUID, key: str, status_code: int, body: bytes) -> None:
        await IdempotencyKeyTable.update(
            {IdempotencyKeyTable.status_code: status_code, IdempotencyKeyTable.response_body: body}
        ).where((IdempotencyKeyTable.merchant_id == merchant_id) & (IdempotencyKeyTable.key == key)).run()

    async def purge_expired(self) -> int:
        deleted = await IdempotencyKeyTable.raw(
            "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => {}) RETURNING id",
            self._ttl_s,
        ).run()
        return len(deleted)
