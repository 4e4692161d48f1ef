"""The error envelope: a small exception hierarchy and the one middleware that renders it."""

import logging
from typing import Any

import grpc
from aiohttp import web

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 1


class KushimError(Exception):
    status = 500
    code = "internal"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def headers(self) -> dict[str, str]:
        return {}


class ValidationError(KushimError):
    status = 400
    code = "validation_error"

    def __init__(self, message: str, field: str | None = None, **details: Any) -> None:
        if field is not None:
            details = {"field": field, **details}
        super().__init__(message, details)


class Unauthorized(KushimError):
    status = 401
    code = "unauthorized"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="kushim"'}


class Forbidden(KushimError):
    status = 403
    code = "forbidden"


class NotFound(KushimError):
    status = 404
    code = "not_found"


class MethodNotAllowed(KushimError):
    status = 405
    code = "method_not_allowed"


class Conflict(KushimError):
    status = 409
    code = "conflict"


class PayloadTooLarge(KushimError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(KushimError):
    status = 415
    code = "unsupported_media_type"


class RateLimited(KushimError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, {"retryAfter": retry_after})
        self.retry_after = max(1, retry_after)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class Unavailable(KushimError):
    status = 503
    code = "unavailable"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(RETRY_AFTER_SECONDS)}


def from_grpc(exc: grpc.aio.AioRpcError) -> KushimError | None:
    """The envelope error for an upstream status, or None for a real failure (500)."""
    code = exc.code()
    message = exc.details() or code.name.lower()
    if code == grpc.StatusCode.NOT_FOUND:
        return NotFound(message)
    if code == grpc.StatusCode.ALREADY_EXISTS:
        return Conflict(message)
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return ValidationError(message)
    if code == grpc.StatusCode.FAILED_PRECONDITION:
        return Conflict(message)
    if code in (
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.ABORTED,
    ):
        return Unavailable("a backing service is unavailable, retry shortly")
    return None


def _from_http(exc: web.HTTPException) -> KushimError:
    if exc.status == 404:
        return NotFound("no such route")
    if exc.status == 405:
        return MethodNotAllowed("method not allowed on this route")
    if exc.status == 413:
        return PayloadTooLarge("request body is too large")
    if exc.status == 401:
        return Unauthorized(exc.text or "unauthorized")
    if exc.status == 400:
        return ValidationError(exc.reason)
    error = KushimError(exc.reason)
    error.status = exc.status
    error.code = exc.reason.lower().replace(" ", "_")
    return error


def render(error: KushimError) -> web.Response:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details:
        body["details"] = error.details
    return web.json_response({"error": body}, status=error.status, headers=error.headers())


@web.middleware
async def error_middleware(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except KushimError as exc:
        return render(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return render(_from_http(exc))
    except grpc.aio.AioRpcError as exc:
        mapped = from_grpc(exc)
        if mapped is None:
            log.error("Upstream failure on %s %s: %s %s", request.method, request.path,
                      exc.code().name, exc.details())
            return render(KushimError("internal error"))
        if isinstance(mapped, Unavailable):
            log.warning("Upstream unavailable on %s %s: %s %s", request.method, request.path,
                        exc.code().name, exc.details())
        return render(mapped)
    except Exception:
        log.exception("Unexpected error on %s %s", request.method, request.path)
        return render(KushimError("internal error"))
