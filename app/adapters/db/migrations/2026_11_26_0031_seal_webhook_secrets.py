"""Webhook secrets stored before sealing are sealed under the vault's current key
(FXP_VAULT__KEYS). Without a configured key nothing changes: those rows stay readable
as they are and `fusionxpay vault rekey`, run once keys are set, seals them."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-26T01:10:00:000031"
VERSION = "1.38.0"
DESCRIPTION = "seal merchants' webhook secrets under the vault key"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="fusionxpay", description=DESCRIPTION)

    async def seal() -> None:
        from app.adapters.db.merchant_secrets import WebhookSecretBox, reseal_webhook_secrets
        from app.adapters.vault.keys import vault_keyring
        from config.piccolo_conf import DB
        from config.settings import get_settings

        settings = get_settings()
        if settings.vault.keys:
            await reseal_webhook_secrets(DB, WebhookSecretBox(vault_keyring(settings)))

    async def nothing() -> None:
        """Sealed secrets stay sealed: the code before this reads them only with the key."""

    manager.add_raw(seal)
    manager.add_raw_backwards(nothing)
    return manager
