"""`fusionxpay vault rekey`: every saved card re-sealed under the newest key, in a real
process against the test database; the numbers still open, under the new key id."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from app.adapters.clock import SystemClock
from app.adapters.db.tables import SavedCardTable
from app.adapters.vault.cvc_cache import RedisCvcCache
from app.adapters.vault.keyring import VaultKeyring
from app.domain.services.vault import CardVaultService, NewCard

ROOT = Path(__file__).resolve().parents[3]
OLD, NEW = base64.b64encode(b"o" * 32).decode(), base64.b64encode(b"n" * 32).decode()
FINGERPRINT_KEY = base64.b64encode(b"f" * 32).decode()


def vault(container, keys: dict[str, bytes], current: str) -> CardVaultService:
    keyring = VaultKeyring(keys, current, b"f" * 32)
    return CardVaultService(container.uow, SystemClock(), keyring, RedisCvcCache(container.redis, keyring, 60))


async def test_rekey_command_reseals_every_card_under_the_newest_key(container, merchant):
    old_vault = vault(container, {"old": b"o" * 32}, "old")
    cards = [await old_vault.save(uuid.UUID(merchant.id), None, NewCard("4242424242424242", 12, 2034, "123", "Ada"))
             for _ in range(3)]
    env = {**os.environ, "FXP_VAULT__KEYS": f"old:{OLD},new:{NEW}", "FXP_VAULT__FINGERPRINT_KEY": FINGERPRINT_KEY}
    done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "app.entrypoints.cli", "vault", "rekey"],
                                   env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["key_id"] == "new" and report["resealed"] >= 3
    rows = await SavedCardTable.select().where(SavedCardTable.token.is_in([c.token for c in cards])).run()
    assert {row["key_id"] for row in rows} == {"new"}
    new_vault = vault(container, {"old": b"o" * 32, "new": b"n" * 32}, "new")
    opened = await new_vault.reveal(uuid.UUID(merchant.id), cards[0].token)
    assert opened is not None and opened.number == "4242424242424242"
    only_new = vault(container, {"new": b"n" * 32}, "new")  # the old key can now be retired
    assert (await only_new.reveal(uuid.UUID(merchant.id), cards[1].token)).number == "4242424242424242"
