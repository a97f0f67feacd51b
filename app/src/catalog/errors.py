"""Errors the service answers with a status and a JSON `{"error", "detail"}` body."""

from __future__ import annotations


class ServiceError(Exception):
    """An error with an HTTP status and a stable machine-readable code."""

    status_code = 500
    code = "internal_error"
    headers: dict[str, str] | None = None

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFoundError(ServiceError):
    """The resource does not exist."""

    status_code = 404
    code = "not_found"


class ConflictError(ServiceError):
    """The write conflicts with the current state (duplicate SKU, stale expected_version)."""

    status_code = 409
    code = "conflict"


class InvalidReferenceError(ServiceError):
    """The body is well-formed but refers to something that does not exist (e.g. a category)."""

    status_code = 422
    code = "invalid_reference"


class BadRequestError(ServiceError):
    """A parameter is malformed in a way the schema cannot express (e.g. a cursor we did not issue)."""

    status_code = 400
    code = "bad_request"


class DatabaseUnavailableError(ServiceError):
    """PostgreSQL is down, unreachable, shutting down or timing out; the client may retry."""

    status_code = 503
    code = "database_unavailable"
    headers = {"Retry-After": "5"}  # noqa: RUF012 - read-only class default


class CacheUnavailableForOpsError(ServiceError):
    """An ops action that needs Redis (prefix invalidation) found it unusable; it was queued."""

    status_code = 503
    code = "cache_unavailable"
    headers = {"Retry-After": "5"}  # noqa: RUF012 - read-only class default
