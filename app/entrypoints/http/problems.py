"""RFC 9457 problem details: every error leaves the API as application/problem+json
with a stable `code`. Domain errors map to HTTP statuses in this one table; a code listed
in problem_codes.PROBLEM_CODES always gets the status listed there."""

from __future__ import annotations

from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example
from litestar.plugins.problem_details import ProblemDetailsConfig, ProblemDetailsException, ProblemDetailsPlugin
from litestar.types import ExceptionHandlersMap

from app.adapters.outages import RETRY_AFTER_S, outage_of
from app.domain import errors
from app.entrypoints.http.problem_codes import status_of

# A relative reference (RFC 9457 3.1.1: resolved against the response's URL): the page
# for each code is served by the API itself, GET /problems/{code}.
PROBLEM_TYPE_BASE = "/problems/"

STATUS_BY_ERROR: list[tuple[type[errors.DomainError], int]] = [
    (errors.MalformedCallback, 400),
    (errors.MalformedRequest, 400),
    (errors.InvalidCallback, 401),
    (errors.ValidationFailed, 422),
    (errors.NotFound, 404),
    (errors.InvalidStateTransition, 409),
    (errors.Conflict, 409),
    (errors.Unauthenticated, 401),
    (errors.Forbidden, 403),
    (errors.Throttled, 429),
    (errors.ProviderUnavailable, 503),
]

TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
          409: "Conflict", 413: "Request body too large", 415: "Unsupported media type",
          422: "Unprocessable content", 429: "Too many requests", 500: "Internal server error",
          503: "Service unavailable"}
CODES_BY_STATUS = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
                   405: "method_not_allowed", 409: "conflict", 413: "request_too_large",
                   415: "unsupported_media_type", 429: "rate_limited", 503: "service_unavailable"}

logger = structlog.get_logger("fusionxpay.http")


def problem(status: int, code: str, detail: str, **extra: Any) -> dict[str, Any]:
    body = {"type": PROBLEM_TYPE_BASE + code, "title": TITLES.get(status, "Error"), "status": status,
            "detail": detail, "code": code}
    body.update({key: value for key, value in extra.items() if value is not None})
    return body


def domain_problem(exc: errors.DomainError) -> dict[str, Any]:
    status = status_of(exc.code, next(code for cls, code in STATUS_BY_ERROR if isinstance(exc, cls)))
    details = dict(exc.details)
    field = details.pop("field", None)
    if field:
        details["errors"] = [{"field": field, "message": exc.message}]
    return problem(status, exc.code, exc.message, **details)


def _exception(body: dict[str, Any], headers: dict[str, str] | None = None) -> ProblemDetailsException:
    extra = {key: value for key, value in body.items() if key not in {"type", "title", "status", "detail"}}
    return ProblemDetailsException(status_code=body["status"], type_=body["type"], title=body["title"],
                                   detail=body["detail"], extra=extra, headers=headers)


def from_domain_error(exc: errors.DomainError) -> ProblemDetailsException:
    headers = None
    if isinstance(exc, errors.Unauthenticated):
        headers = {"WWW-Authenticate": 'Bearer realm="fusionxpay"'}
    elif isinstance(exc, errors.Throttled):
        headers = {"Retry-After": str(exc.details["retry_after"])}
    elif isinstance(exc, errors.ProviderUnavailable):
        headers = {"Retry-After": str(RETRY_AFTER_S)}
    return _exception(domain_problem(exc), headers)


def from_validation_error(exc: ValidationException) -> ProblemDetailsException:
    fields = [
        {"field": item.get("key") or item.get("source") or "body", "message": item.get("message", str(item))}
        for item in (exc.extra if isinstance(exc.extra, list) else [])
        if isinstance(item, dict)
    ]
    detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields) or str(exc.detail)
    return _exception(problem(400, "validation_failed", detail, errors=fields or None))


def from_http_error(exc: HTTPException) -> ProblemDetailsException:
    status = exc.status_code
    if status >= 500:
        return _exception(problem(status, "internal_error", "an unexpected error occurred"))
    return _exception(problem(status, CODES_BY_STATUS.get(status, "http_error"), str(exc.detail)), exc.headers)


def _outage_body(dependency: str) -> dict[str, Any]:
    return problem(503, "service_unavailable",
                   f"a service this request needs is unavailable ({dependency}); retry later", dependency=dependency)


def outage_problem(dependency: str) -> ProblemDetailsException:
    """503 for a dependency that is down: the request may be retried as it is (with its
    Idempotency-Key) after Retry-After seconds."""
    return _exception(_outage_body(dependency), {"Retry-After": str(RETRY_AFTER_S)})


def late_failure(exc: Exception, path: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Status, headers and body for a failure after the handler answered but before its
    answer could be committed (the idempotency middleware's commit), which Litestar's
    handlers no longer see: a domain error found at the commit (a unique value or the
    Idempotency-Key taken) as its problem, 503 for an outage, else 500, as problem details."""
    dependency = outage_of(exc)
    headers = [(b"content-type", b"application/problem+json")]
    if isinstance(exc, errors.DomainError):
        body = domain_problem(exc)
    elif dependency is not None:
        logger.warning("dependency_unavailable", path=path, dependency=dependency,
                       error=f"{type(exc).__name__}: {exc}"[:300])
        body = _outage_body(dependency)
        headers.append((b"retry-after", str(RETRY_AFTER_S).encode()))
    else:
        logger.error("unhandled_error", path=path, error_type=type(exc).__name__, exc_info=exc)
        body = problem(500, "internal_error", "an unexpected error occurred")
    encoded = msgspec.json.encode(body)
    return body["status"], [*headers, (b"content-length", str(len(encoded)).encode())], encoded


def handle_unexpected_error(request: Request, exc: Exception) -> Response:
    dependency = outage_of(exc)
    if dependency is not None:
        logger.warning("dependency_unavailable", path=request.url.path, dependency=dependency,
                       error=f"{type(exc).__name__}: {exc}"[:300])
        return outage_problem(dependency).to_response(request)
    logger.exception("unhandled_error", path=request.url.path, error_type=type(exc).__name__)
    return _exception(problem(500, "internal_error", "an unexpected error occurred")).to_response(request)


problem_details_plugin = ProblemDetailsPlugin(
    ProblemDetailsConfig(
        enable_for_all_http_exceptions=True,
        exception_to_problem_detail_map={
            errors.DomainError: from_domain_error,
            ValidationException: from_validation_error,
            HTTPException: from_http_error,
        },
    )
)
EXCEPTION_HANDLERS: ExceptionHandlersMap = {Exception: handle_unexpected_error}


class ProblemDetails(msgspec.Struct):
    """RFC 9457 problem details, as every error of this API is shaped."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[dict[str, str]] | None = None
    dependency: str | None = None  # 503 service_unavailable: what is down


# One real example per status, as the API answers it (not generated random strings).
EXAMPLE_PROBLEMS: dict[int, dict[str, Any]] = {
    400: problem(400, "validation_failed", "amount: Expected `int`, got `str`",
                 errors=[{"field": "amount", "message": "Expected `int`, got `str`"}]),
    401: problem(401, "unauthenticated", "missing or invalid credentials"),
    403: problem(403, "role_not_allowed", "a customer may not use this endpoint"),
    404: problem(404, "not_found", "no order 8f0c4a8e-6f0b-4b7e-9a52-0d5f3c1b2a77"),
    409: problem(409, "invalid_state_transition", "order 8f0c4a8e-6f0b-4b7e-9a52-0d5f3c1b2a77 cannot go from "
                 "PAYMENT_DONE to PAYMENT_IN_PROGRESS", current_state="PAYMENT_DONE"),
    413: problem(413, "request_too_large", "the body is larger than 65536 bytes"),
    415: problem(415, "unsupported_media_type", "send the JSON body as 'Content-Type: application/json'"),
    422: problem(422, "items_total_mismatch", "the items add up to a different total than the order amount",
                 errors=[{"field": "items", "message": "the items add up to a different total than the order amount"}]),
    429: problem(429, "rate_limited", "too many requests; retry after 1 s"),
    503: problem(503, "service_unavailable", "a service this request needs is unavailable (database); retry later",
                 dependency="database"),
}


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    return {status: ResponseSpec(
        ProblemDetails, description=TITLES.get(status, "Error"), media_type="application/problem+json",
        generate_examples=False,
        examples=[Example(summary=EXAMPLE_PROBLEMS[status]["code"], value=EXAMPLE_PROBLEMS[status])]
        if status in EXAMPLE_PROBLEMS else None) for status in statuses}


# What any merchant endpoint may answer besides success (503: a dependency is down).
MERCHANT_ERRORS = problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 503)
