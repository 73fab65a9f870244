"""Idempotency keys in PostgreSQL (Stripe semantics). The claim is one atomic
INSERT ... ON CONFLICT inside the request's transaction: a concurrent request with
the same key waits on the uncommitted row (up to the lock timeout, then 409) and then
sees the stored response, so there is never a read-then-write race. For a route whose
effects are database writes only, the claim goes into the commit statement instead, with
the response (`claim_at_commit`, commit_writes.CLAIM): the same INSERT ... ON CONFLICT,
the same waits, one round trip for the whole request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from piccolo.engine.postgres import PostgresEngine

from app.adapters.db import hot_path
from app.adapters.db.unit_of_work import current_root

CLAIM_SQL = """
INSERT INTO idempotency_keys (merchant_id, key, fingerprint, created_at)
VALUES ($1, $2, $3, now())
ON CONFLICT (merchant_id, key) DO UPDATE
    SET fingerprint = EXCLUDED.fingerprint, status_code = NULL, response_body = NULL, created_at = now()
    WHERE idempotency_keys.created_at < now() - make_interval(secs => $4)
RETURNING 1
"""
SELECT_SQL = "SELECT fingerprint, status_code, response_body FROM idempotency_keys WHERE merchant_id = $1 AND key = $2"
# The key as a claim would find it: an expired one is free to take over.
SELECT_LIVE_SQL = SELECT_SQL + " AND created_at >= now() - make_interval(secs => $3)"
STORE_SQL = "UPDATE idempotency_keys SET status_code = $3, response_body = $4 WHERE merchant_id = $1 AND key = $2"
PURGE_SQL = """
WITH purged AS (DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1) RETURNING 1)
SELECT count(*) FROM purged
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
        connection = hot_path.connection(self._engine)
        if await connection.fetchval(CLAIM_SQL, merchant_id, key, fingerprint, float(self._ttl_s)) is not None:
            return None
        row = await connection.fetchrow(SELECT_SQL, merchant_id, key)
        return StoredResponse(row["fingerprint"], row["status_code"], row["response_body"])

    async def store(self, merchant_id: uuid.UUID, key: str, status_code: int, body: bytes) -> None:
        """The response for the claimed key, in the caller's transaction: inside a unit of
        work it goes with the unit's commit (no round trip of its own)."""
        root = current_root()
        if root is not None:
            root.store_response_at_commit(merchant_id, key, status_code, body)
            return
        await hot_path.connection(self._engine).execute(STORE_SQL, merchant_id, key, status_code, body)

    def claim_at_commit(self, merchant_id: uuid.UUID, key: str, fingerprint: str, status_code: int,
                        body: bytes) -> None:
        """Claim the key with its response in the commit of the unit of work this task is
        in: that commit then raises KeyNotClaimed when the key is another request's (and
        writes nothing)."""
        root = current_root()
        if root is None:
            raise RuntimeError("a claim at commit needs a unit of work to commit it")
        root.claim_at_commit(merchant_id, key, fingerprint, float(self._ttl_s), status_code, body)

    async def held(self, merchant_id: uuid.UUID, key: str) -> StoredResponse | None:
        """What the key holds, if a request claimed it and it has not expired (committed
        claims only: a running request's is not seen)."""
        row = await hot_path.connection(self._engine).fetchrow(SELECT_LIVE_SQL, merchant_id, key,
                                                               float(self._ttl_s))
        return StoredResponse(row["fingerprint"], row["status_code"], row["response_body"]) if row else None

    async def purge_expired(self) -> int:
        return int(await hot_path.one_statement(self._engine, "fetchval", PURGE_SQL, float(self._ttl_s)))
