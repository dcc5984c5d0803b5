"""The only place that turns errors into wire forms.

ZITADEL's API error JSON (grpc-gateway `Status`): `{"code": <gRPC code>, "message": "<text> (<id>)",
"details": [{"@type": "type.googleapis.com/zitadel.v1.ErrorDetail", "id", "message"}]}`. Unknown
routes and wrong methods answer as the gateway does (code 5 / 12, empty details). Anything
unexpected is a 500 with the request id; its traceback goes to the log only.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from bergfried.errors import DomainError, OAuthError

ERROR_DETAIL_TYPE = "type.googleapis.com/zitadel.v1.ErrorDetail"
JSON = "application/json"
# The gateway's gRPC → HTTP table read backwards, one code per status; anything else is UNKNOWN.
GRPC_CODE_BY_HTTP_STATUS = {400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 429: 8, 499: 1, 500: 13, 501: 12, 503: 14,
                            504: 4}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=JSON, headers=headers)


def status_body(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "details": []}


def _headers(exc: DomainError) -> dict[str, str] | None:
    retry_after = getattr(exc, "retry_after", None)  # ratelimit.TooManyRequests
    return {"retry-after": str(retry_after)} if retry_after is not None else None


def domain_error(exc: DomainError) -> Response:
    if exc.plain:
        return json_response(status_body(exc.grpc_code, exc.description), exc.http_status, _headers(exc))
    body = {
        "code": exc.grpc_code,
        "message": f"{exc.description} ({exc.error_id})",
        "details": [{"@type": ERROR_DETAIL_TYPE, "id": exc.error_id, "message": exc.description}],
    }
    return json_response(body, exc.http_status, _headers(exc))


# Connect's error codes and HTTP statuses (connectrpc.com/docs/protocol#error-codes) by gRPC code.
CONNECT_CODES: dict[int, tuple[str, int]] = {
    1: ("canceled", 499), 2: ("unknown", 500), 3: ("invalid_argument", 400), 4: ("deadline_exceeded", 504),
    5: ("not_found", 404), 6: ("already_exists", 409), 7: ("permission_denied", 403),
    8: ("resource_exhausted", 429), 9: ("failed_precondition", 400), 12: ("unimplemented", 501),
    13: ("internal", 500), 14: ("unavailable", 503), 16: ("unauthenticated", 401),
}


def connect_error(exc: DomainError) -> Response:
    """A Connect unary error: `{"code": "<name>", "message"}` with the code's HTTP status. The
    message is the gateway's; ZITADEL's ErrorDetail (a binary proto in Connect) is left out."""
    name, status = CONNECT_CODES.get(exc.grpc_code, ("unknown", 500))
    message = exc.description if exc.plain else f"{exc.description} ({exc.error_id})"
    return json_response({"code": name, "message": message}, status, _headers(exc))


def http_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """An HTTP error raised by the framework itself, in the same shape as a gRPC status."""
    return json_response(status_body(GRPC_CODE_BY_HTTP_STATUS.get(status, 2), message), status, headers)


def not_found() -> Response:
    return json_response(status_body(5, "Not Found"), 404)


def method_not_allowed(allowed: str | None = None) -> Response:
    headers = {"allow": allowed} if allowed else None
    return json_response(status_body(12, "Method Not Allowed"), 405, headers)


def internal_error(request_id: str) -> Response:
    return json_response(status_body(13, f"Internal error (request id {request_id})"), 500)


def unavailable(request_id: str) -> Response:
    body = status_body(14, f"The database is not reachable; try again shortly (request id {request_id})")
    return json_response(body, 503, {"retry-after": "5"})


NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}


def oauth_error(exc: OAuthError) -> Response:
    """RFC 6749 §5.2 JSON: `{"error", "error_description"}` with the error's status and headers
    (such as `WWW-Authenticate`), never cached."""
    body = {"error": exc.code, "error_description": exc.description}
    return json_response(body, exc.status, {**NO_STORE, **exc.headers})
