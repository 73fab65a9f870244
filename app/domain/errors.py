"""One hierarchy of domain errors. Each carries a stable machine-readable code;
the HTTP layer maps the classes to status codes in a single table."""

from __future__ import annotations

import math
from typing import Any


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code:  # a more specific stable code than the class's own
            self.code = code


class MalformedRequest(DomainError):
    """The request itself is malformed (a parameter's format, a cursor, an encoding): a
    schema-level error, as opposed to a business rule (ValidationFailed)."""

    code = "malformed_request"

    def __init__(self, message: str, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message, field=field)
        if code:
            self.code = code


class ValidationFailed(DomainError):
    """The input is well-formed but breaks a business rule (amount, currency, items...)."""

    code = "business_rule_violated"

    def __init__(self, message: str, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message, code, field=field)


class NotFound(DomainError):
    code = "not_found"


class InvalidStateTransition(DomainError):
    """The aggregate is not in a state that allows the requested operation."""

    code = "invalid_state_transition"


class Conflict(DomainError):
    code = "conflict"


class DuplicateOrder(Conflict):
    code = "duplicate_order"


class InsufficientStock(Conflict):
    """Not enough unreserved, unallocated stock for what was asked (details: skus)."""

    code = "insufficient_stock"


class RetryLimitReached(Conflict):
    code = "retry_limit_reached"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class Forbidden(DomainError):
    code = "forbidden"


class Throttled(DomainError):
    """Too many failures from this client: wait `retry_after_s` before trying again."""

    code = "too_many_attempts"

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message, retry_after=max(1, math.ceil(retry_after_s)))
        self.retry_after_s = retry_after_s


class CallbackSourceRefused(Forbidden):
    """A provider callback from an address outside that provider's allowlist."""

    code = "callback_source_refused"


class InvalidCallback(DomainError):
    """A provider callback whose signature, timestamp or body cannot be trusted."""

    code = "invalid_callback"

    def __init__(self, message: str, code: str = "invalid_signature") -> None:
        super().__init__(message, code)


class MalformedCallback(InvalidCallback):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="malformed_callback")


class ProviderUnavailable(DomainError):
    code = "provider_unavailable"


class UnknownProvider(ValidationFailed):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown payment provider {name!r}", field="provider", code="unknown_provider")
