"""Domain errors. Services raise them; views turn them into JSON or messages."""
from __future__ import annotations

from typing import Any


class CommunityError(Exception):
    """Base of every error a caller can act on. ``code`` is stable for clients."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_json(self) -> dict[str, Any]:
        error = {"code": self.code, "message": str(self.message), "details": self.details or {}}
        return {"error": error}


class MalformedRequest(CommunityError):
    status, code = 400, "malformed_request"


class ValidationFailed(CommunityError):
    status, code = 422, "validation_failed"


class AuthenticationFailed(CommunityError):
    status, code = 401, "authentication_failed"


class Forbidden(CommunityError):
    status, code = 403, "forbidden"


class NotFound(CommunityError):
    status, code = 404, "not_found"


class Conflict(CommunityError):
    status, code = 409, "conflict"


class SoldOut(Conflict):
    code = "sold_out"


class PaymentProviderError(CommunityError):
    """The payment system refused or could not be reached; nothing was charged."""

    status, code = 502, "payment_provider_error"


class ServiceUnavailable(CommunityError):
    status, code = 503, "service_unavailable"


class PmsError(CommunityError):
    """The PMS refused a request (bad credentials, an unknown reservation, a bad answer)."""

    status, code = 502, "pms_error"


class PmsUnavailable(PmsError):
    """The PMS did not answer, timed out, or answered with a server error: try again later."""

    status, code = 503, "pms_unavailable"
