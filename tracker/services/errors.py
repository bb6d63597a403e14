"""Errors a use case raises; the API layer turns each into its problem document."""
from __future__ import annotations


class ServiceError(Exception):
    """Base of the refusals a service can give."""

    status = 400

    def __init__(self, message: str, **extra):
        super().__init__(message)
        self.message = message
        self.extra = extra


class Invalid(ServiceError):
    """Values that fail a rule the schema cannot see (422, with errors per field)."""

    status = 422

    def __init__(self, errors: dict[str, list[str]], message: str | None = None):
        super().__init__(message or "Some values are invalid.", errors=errors)


class Conflict(ServiceError):
    """A duplicate or a state that does not allow the operation (409)."""

    status = 409


class NotFound(ServiceError):
    """Unknown, or outside the caller's scope (404)."""

    status = 404


class Forbidden(ServiceError):
    """Authenticated but not allowed (403)."""

    status = 403


class Stale(ServiceError):
    """``If-Match`` no longer matches (412)."""

    status = 412
