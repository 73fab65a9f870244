"""Merchant management for operators: list, show, create, update, rotate the API key or
the webhook secret, re-enable a webhook endpoint disabled by a 410, deactivate. Thin:
each calls one MerchantService use case. Same guard as the other admin endpoints.

Admin routes are outside the Idempotency-Key middleware; the rotations take the header
themselves: the same key again (concurrently or later) is the same rotation, answered
`replayed: true` without showing the secret again."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.params import Parameter

from app.domain.services.merchants import MerchantService
from app.entrypoints.http.access import authorize
from app.entrypoints.http.controllers.admin import ADMIN_ERRORS, ADMIN_ONLY
from app.entrypoints.http.pagination import decode_cursor, next_cursor
from app.entrypoints.http.problems import problem_responses
from app.entrypoints.http.schemas import patterns
from app.entrypoints.http.schemas.merchants import (
    ApiKeyRotate, ApiKeyRotated, CreatedMerchant, Merchant, MerchantChanged, MerchantCreate, MerchantPage,
    MerchantUpdate, WebhookSecretRotate, WebhookSecretRotated,
)

CHANGE_ERRORS = {**ADMIN_ERRORS, **problem_responses(409, 422)}
ROTATION_KEY = Parameter(header="Idempotency-Key", required=False, min_length=1, max_length=255,
                         pattern=patterns.IDEMPOTENCY_KEY,
                         description="The same key again is the same rotation (answered `replayed: true`)")


class AdminMerchantsController(Controller):
    path = "/admin/merchants"
    tags = ["admin"]
    guards = [authorize]  # also where the controller is mounted alone (the app applies it too)

    @get("/", responses=ADMIN_ERRORS, **ADMIN_ONLY, summary="Merchants, newest first")
    async def list_merchants(self, merchants: MerchantService,
                             cursor: Annotated[str | None, Parameter(max_length=200)] = None,
                             limit: Annotated[int, Parameter(ge=1, le=100)] = 50) -> MerchantPage:
        found = await merchants.list(limit + 1, decode_cursor(cursor) if cursor else None)
        page, has_more = found[:limit], len(found) > limit
        return MerchantPage([Merchant.from_domain(m) for m in page], has_more, next_cursor(page, has_more))

    @post("/", responses=CHANGE_ERRORS, **ADMIN_ONLY, status_code=201,
          summary="Create a merchant (its API key and webhook secret are shown once)")
    async def create_merchant(self, data: MerchantCreate, merchants: MerchantService) -> CreatedMerchant:
        created = await merchants.create(data.name, data.webhook_url)
        return CreatedMerchant(Merchant.from_domain(created.merchant), created.api_key, created.webhook_secret)

    @get("/{merchant_id:uuid}", responses=ADMIN_ERRORS, **ADMIN_ONLY, summary="A merchant")
    async def get_merchant(self, merchant_id: uuid.UUID, merchants: MerchantService) -> Merchant:
        return Merchant.from_domain(await merchants.get(merchant_id))

    @patch("/{merchant_id:uuid}", responses=CHANGE_ERRORS, **ADMIN_ONLY, summary="Change its name or webhook URL")
    async def update_merchant(self, merchant_id: uuid.UUID, data: MerchantUpdate,
                              merchants: MerchantService) -> Merchant:
        changes = {name: value for name, value in (("name", data.name), ("webhook_url", data.webhook_url))
                   if value is not None}
        return Merchant.from_domain(await merchants.update(merchant_id, **changes))

    @post("/{merchant_id:uuid}/api-key/rotate", responses=CHANGE_ERRORS, **ADMIN_ONLY, status_code=200,
          summary="A new API key; the current one works until its grace period ends")
    async def rotate_api_key(self, merchant_id: uuid.UUID, merchants: MerchantService,
                             data: ApiKeyRotate | None = None,
                             idempotency_key: Annotated[str | None, ROTATION_KEY] = None) -> ApiKeyRotated:
        rotation = await merchants.rotate_api_key(merchant_id, idempotency_key, data.grace_period_s if data else None)
        return ApiKeyRotated.from_domain(rotation)

    @post("/{merchant_id:uuid}/webhook-secret/rotate", responses=CHANGE_ERRORS, **ADMIN_ONLY, status_code=200,
          summary="A new webhook signing secret; both sign webhooks until the overlap ends")
    async def rotate_webhook_secret(self, merchant_id: uuid.UUID, merchants: MerchantService,
                                    data: WebhookSecretRotate | None = None,
                                    idempotency_key: Annotated[str | None, ROTATION_KEY] = None
                                    ) -> WebhookSecretRotated:
        rotation = await merchants.rotate_webhook_secret(merchant_id, idempotency_key, data.overlap_s if data else None)
        return WebhookSecretRotated.from_domain(rotation)

    @post("/{merchant_id:uuid}/webhooks/enable", responses=CHANGE_ERRORS, **ADMIN_ONLY, status_code=200,
          summary="Deliver webhooks again to an endpoint disabled by a 410 Gone")
    async def enable_webhooks(self, merchant_id: uuid.UUID, merchants: MerchantService) -> MerchantChanged:
        change = await merchants.enable_webhooks(merchant_id)
        return MerchantChanged(Merchant.from_domain(change.merchant), change.changed)

    @post("/{merchant_id:uuid}/deactivate", responses=CHANGE_ERRORS, **ADMIN_ONLY, status_code=200,
          summary="Deactivate: its keys stop working at once; nothing is deleted")
    async def deactivate_merchant(self, merchant_id: uuid.UUID, merchants: MerchantService) -> MerchantChanged:
        change = await merchants.deactivate(merchant_id)
        return MerchantChanged(Merchant.from_domain(change.merchant), change.changed)
