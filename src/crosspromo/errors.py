"""One exception tree. Each error has a stable ``code``, an HTTP status and a CLI exit code.

They are translated in exactly one place each: ``web/errors.py`` (problem+json) and
``cli/main.py`` (one line on stderr plus the exit code).
"""

from __future__ import annotations

from typing import Any, ClassVar


class CrossPromoError(Exception):
    """Base of every error crosspromo raises on purpose."""

    code: ClassVar[str] = "internal_error"
    http_status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1
    title: ClassVar[str] = "Internal error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ConfigError(CrossPromoError):
    code = "config_error"
    http_status = 500
    exit_code = 3
    title = "Invalid configuration"


class DatabaseError(CrossPromoError):
    code = "database_unavailable"
    http_status = 503
    exit_code = 3
    title = "Database unavailable"


class SchemaOutOfDateError(DatabaseError):
    code = "schema_out_of_date"
    title = "Database schema out of date"


class NotFoundError(CrossPromoError):
    code = "not_found"
    http_status = 404
    exit_code = 4
    title = "Not found"


class InvalidInputError(CrossPromoError):
    code = "invalid_input"
    http_status = 422
    exit_code = 5
    title = "Invalid input"


class MalformedBodyError(InvalidInputError):
    code = "malformed_body"
    http_status = 400
    title = "Malformed request body"


class PayloadTooLargeError(InvalidInputError):
    code = "payload_too_large"
    http_status = 413
    title = "Payload too large"


class ProtocolMessageError(InvalidInputError):
    """An overlap protocol message that is not the one its session expects: another session's
    or step's, altered, replayed, cut short or too large."""

    code = "protocol_message_refused"
    http_status = 422


class ConflictError(CrossPromoError):
    code = "conflict"
    http_status = 409
    exit_code = 6
    title = "Conflict"


class InvalidTransitionError(ConflictError):
    code = "invalid_transition"
    title = "Invalid status transition"


class AuthenticationError(CrossPromoError):
    code = "unauthenticated"
    http_status = 401
    exit_code = 7
    title = "Authentication required"


class PermissionDeniedError(CrossPromoError):
    code = "forbidden"
    http_status = 403
    exit_code = 7
    title = "Forbidden"


class TooManyAttemptsError(CrossPromoError):
    code = "too_many_attempts"
    http_status = 429
    exit_code = 7
    title = "Too many attempts"


class MissingExtraError(CrossPromoError):
    code = "missing_extra"
    http_status = 501
    exit_code = 8
    title = "Optional dependency missing"


class RemoteServerError(CrossPromoError):
    """The other crosspromo server refused a request or could not be reached."""

    code = "remote_error"
    http_status = 502
    exit_code = 9
    title = "The other server refused"


ALL_ERRORS: tuple[type[CrossPromoError], ...] = (
    CrossPromoError,
    ConfigError,
    DatabaseError,
    SchemaOutOfDateError,
    NotFoundError,
    InvalidInputError,
    MalformedBodyError,
    PayloadTooLargeError,
    ProtocolMessageError,
    ConflictError,
    InvalidTransitionError,
    AuthenticationError,
    PermissionDeniedError,
    TooManyAttemptsError,
    MissingExtraError,
    RemoteServerError,
)
