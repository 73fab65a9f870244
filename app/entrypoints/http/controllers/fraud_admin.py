"""Admin fraud endpoints: a merchant's rule set (read, replace whole) and the review
queue (list, approve, reject). Thin: each calls one use case."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, post, put
from litestar.params import Dependency, Parameter

from app.domain.services.fraud import FraudRuleService
from app.domain.services.reviews import ReviewService
from app.entrypoints.http.access import authorize
from app.entrypoints.http.controllers.admin import ADMIN_ONLY
from app.entrypoints.http.dependencies import from_container
from app.entrypoints.http.problems import problem_responses
from app.entrypoints.http.schemas.fraud import FraudRuleSet, FraudRuleSetUpdate, Review, ReviewList

RULE_ERRORS = problem_responses(400, 401, 403, 404, 413, 415, 422)
REVIEW_ERRORS = problem_responses(400, 401, 403, 404, 409)

Rules = Annotated[FraudRuleService, Dependency(skip_validation=True)]
Reviews = Annotated[ReviewService, Dependency(skip_validation=True)]


class FraudAdminController(Controller):
    path = "/admin"
    tags = ["admin", "fraud"]
    guards = [authorize]  # also where the controller is mounted alone (the app applies it too)
    dependencies = {"rules": from_container("fraud_rules"), "reviews": from_container("reviews")}

    @get("/merchants/{merchant_id:uuid}/fraud-rules", responses=RULE_ERRORS, **ADMIN_ONLY, summary="A merchant's fraud rules")
    async def get_rules(self, merchant_id: uuid.UUID, rules: Rules) -> FraudRuleSet:
        return FraudRuleSet.from_domain(merchant_id, await rules.get(merchant_id))

    @put("/merchants/{merchant_id:uuid}/fraud-rules", responses=RULE_ERRORS, **ADMIN_ONLY,
         summary="Replace a merchant's fraud rules (the whole set, or nothing)")
    async def replace_rules(self, merchant_id: uuid.UUID, data: FraudRuleSetUpdate, rules: Rules) -> FraudRuleSet:
        stored = await rules.replace(merchant_id, [rule.to_domain() for rule in data.rules])
        return FraudRuleSet.from_domain(merchant_id, stored)

    @get("/reviews", responses=REVIEW_ERRORS, **ADMIN_ONLY, summary="Payments held for review, oldest first")
    async def list_reviews(self, reviews: Reviews,
                           limit: Annotated[int, Parameter(ge=1, le=500)] = 100) -> ReviewList:
        held = await reviews.open_reviews(limit)
        return ReviewList([Review.from_domain(attempt) for attempt in held], len(held))

    @post("/reviews/{payment_id:uuid}/approve", responses=REVIEW_ERRORS, **ADMIN_ONLY, status_code=200,
          summary="Approve a held payment: it is sent to its provider")
    async def approve(self, payment_id: uuid.UUID, reviews: Reviews) -> Review:
        return Review.from_domain(await reviews.approve(payment_id))

    @post("/reviews/{payment_id:uuid}/reject", responses=REVIEW_ERRORS, **ADMIN_ONLY, status_code=200,
          summary="Reject a held payment: it fails with fraud_rejected")
    async def reject(self, payment_id: uuid.UUID, reviews: Reviews) -> Review:
        return Review.from_domain(await reviews.reject(payment_id))
