"""GET/PUT /me/notification-preferences: a customer's own choice of email and/or SMS per
category; with a merchant key or staff token, the merchant's choice for its guest
customers (orders placed without a user)."""

from __future__ import annotations

from litestar import Controller, get, put
from litestar.di import Provide

from app.domain.model.principal import Principal
from app.domain.model.user import Role
from app.domain.services.notification_preferences import NotificationPreferenceService
from app.entrypoints.http.access import MERCHANT_OR_CUSTOMER
from app.entrypoints.http.auth import provide_principal
from app.entrypoints.http.problems import problem_responses
from app.entrypoints.http.schemas.notifications import NotificationPreferencesOut, NotificationPreferencesUpdate

ERRORS = problem_responses(400, 401, 403, 413, 415, 422, 503)


def _applies_to(principal: Principal) -> str:
    return "user" if principal.role is Role.CUSTOMER else "guest_customers"


class NotificationPreferencesController(Controller):
    path = "/me/notification-preferences"
    tags = ["notifications"]
    dependencies = {"principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/", responses=ERRORS, summary="Which notices go out by email and SMS", **MERCHANT_OR_CUSTOMER.route())
    async def get_preferences(self, principal: Principal,
                              notification_preferences: NotificationPreferenceService) -> NotificationPreferencesOut:
        return NotificationPreferencesOut.from_domain(await notification_preferences.get(principal),
                                                      _applies_to(principal))

    @put("/", responses=ERRORS, summary="Choose email and/or SMS per category (nothing is sent on a channel "
         "switched off)", **MERCHANT_OR_CUSTOMER.route())
    async def put_preferences(self, data: NotificationPreferencesUpdate, principal: Principal,
                              notification_preferences: NotificationPreferenceService) -> NotificationPreferencesOut:
        saved = await notification_preferences.put(principal, data.to_domain())
        return NotificationPreferencesOut.from_domain(saved, _applies_to(principal))
