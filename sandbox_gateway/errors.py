"""Gateway errors and their JSON shape: {"error": {"code": ..., "message": ...}}."""

from __future__ import annotations

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException


class GatewayError(Exception):
    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code, self.code, self.message = status_code, code, message


def error_response(status_code: int, code: str, message: str) -> Response[dict[str, dict[str, str]]]:
    return Response({"error": {"code": code, "message": message}}, status_code=status_code)


def handle_gateway_error(_: Request, exc: GatewayError) -> Response[dict[str, dict[str, str]]]:
    return error_response(exc.status_code, exc.code, exc.message)


def handle_http_exception(_: Request, exc: HTTPException) -> Response[dict[str, dict[str, str]]]:
    """Litestar's own errors (bad JSON, schema mismatch, unknown route) in the same shape.
    msgspec's messages name the field, never the value, so no card data is echoed."""
    message = exc.detail
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list):
        details = [f"{item.get('message')} (at {item.get('key')})" for item in exc.extra if isinstance(item, dict)]
        message = "; ".join([message, *details])
    code = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, message)
