"""Provider callbacks: verified and applied by the callback use case, answered fast."""

from __future__ import annotations

import structlog
from litestar import Request, post

from app.domain.services.callbacks import CallbackService
from app.entrypoints.http.access import PUBLIC
from app.entrypoints.http.problems import problem_responses
from app.entrypoints.http.schemas.payments import CallbackAck
from config.logging import info_line

logger = structlog.get_logger("fusionxpay.callbacks")
CALLBACK_ERRORS = problem_responses(400, 401, 403, 413, 422, 503)


async def receive_callback(provider: str, request: Request, callbacks: CallbackService) -> CallbackAck:
    request.app.state.callback_sources.check(provider, request.app.state.client_address.of(request.scope))
    body = await request.body()
    outcome = await callbacks.handle(provider, request.headers, body)
    fields = {"provider": provider, "outcome": str(outcome)}
    if not info_line("callback_received", fields):  # the configured chain, run directly (config.logging)
        logger.info("callback_received", **fields)
    return CallbackAck(str(outcome))


@post("/callbacks/{provider:str}", status_code=200, responses=CALLBACK_ERRORS, tags=["callbacks"], **PUBLIC.route(),
      summary="Signed callbacks from payment providers")
async def provider_callback(provider: str, request: Request, callbacks: CallbackService) -> CallbackAck:
    return await receive_callback(provider, request, callbacks)
