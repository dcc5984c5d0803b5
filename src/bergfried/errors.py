"""The one error hierarchy of Bergfried.

```
BergfriedError                  root; never shown raw to a client
├── ConfigError                 a bad setting: one line, non-zero exit
├── DomainError                 a rule of the domain was broken (no I/O involved)
│   ├── InvalidArgument         bad input            → gRPC INVALID_ARGUMENT (3), HTTP 400
│   ├── NotFound                no such thing        → NOT_FOUND (5), 404
│   ├── AlreadyExists           unique rule broken   → ALREADY_EXISTS (6), 409
│   ├── PreconditionFailed      state forbids it     → FAILED_PRECONDITION (9), 400
│   ├── PermissionDenied        caller may not       → PERMISSION_DENIED (7), 403
│   └── Unauthenticated         no valid credential  → UNAUTHENTICATED (16), 401
└── StoreUnavailable            the database cannot be reached → UNAVAILABLE (14), 503
```

Each domain error carries ZITADEL's message key (`Errors.User.NotFound`) and an internal id
(`QUERY-Dfbg2` style), because ZITADEL's API error JSON shows both and scripts match on them.
`description` may be shown to clients; `detail` is for logs only. Only `web/errors.py` turns
these into wire forms.
"""

from __future__ import annotations

from typing import ClassVar


class BergfriedError(Exception):
    """Root of every error Bergfried raises on purpose."""


class ConfigError(BergfriedError):
    """A setting is missing or invalid; the CLI prints the message as one line and exits 1."""


class DomainError(BergfriedError):
    grpc_code: ClassVar[int] = 2  # UNKNOWN
    http_status: ClassVar[int] = 500

    def __init__(self, key: str, description: str, *, error_id: str = "BERG-0000", detail: str | None = None,
                 plain: bool = False):
        super().__init__(f"{description} ({error_id})")
        self.key = key
        self.description = description
        self.error_id = error_id
        self.detail = detail
        # A plain status (request validation, `auth header missing`): the message alone, no
        # error id and empty `details`, as ZITADEL's interceptors answer (spec/management-api.md §9).
        self.plain = plain


class InvalidArgument(DomainError):
    grpc_code = 3
    http_status = 400


class NotFound(DomainError):
    grpc_code = 5
    http_status = 404


class AlreadyExists(DomainError):
    grpc_code = 6
    http_status = 409


class PermissionDenied(DomainError):
    grpc_code = 7
    http_status = 403


class PreconditionFailed(DomainError):
    grpc_code = 9
    http_status = 400


class Unauthenticated(DomainError):
    grpc_code = 16
    http_status = 401


class StoreUnavailable(BergfriedError):
    """The database did not answer; requests get 503 with Retry-After."""


class OAuthError(BergfriedError):
    """An OAuth 2.0 / OIDC error (RFC 6749 §4.1.2.1, §5.2; OIDC Core §3.1.2.6).

    `description` goes to the client as `error_description`; `detail` only to the log.
    `redirectable` is False for errors raised before the client and its redirect URI are
    trusted: those are shown as a page, never sent to an unverified redirect URI.
    """

    code: ClassVar[str] = "invalid_request"
    status: ClassVar[int] = 400
    redirectable: ClassVar[bool] = True

    def __init__(self, description: str, *, detail: str | None = None, status: int | None = None,
                 redirectable: bool | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.detail = detail
        self.headers = headers or {}
        if status is not None:
            self.status = status  # type: ignore[misc]
        if redirectable is not None:
            self.redirectable = redirectable  # type: ignore[misc]


class InvalidRequest(OAuthError):
    code = "invalid_request"


class InvalidClient(OAuthError):
    code = "invalid_client"
    status = 401


class InvalidGrant(OAuthError):
    code = "invalid_grant"


class UnauthorizedClient(OAuthError):
    code = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    code = "unsupported_grant_type"


class UnsupportedResponseType(OAuthError):
    code = "unsupported_response_type"


class InvalidScope(OAuthError):
    code = "invalid_scope"


class AccessDenied(OAuthError):
    code = "access_denied"


class AuthorizationPending(OAuthError):
    """RFC 8628 §3.5: the user has not yet approved or denied the device authorization."""

    code = "authorization_pending"


class SlowDown(OAuthError):
    """RFC 8628 §3.5: polling too fast; the interval grows by 5 seconds."""

    code = "slow_down"


class ExpiredToken(OAuthError):
    """RFC 8628 §3.5: the device code has expired."""

    code = "expired_token"


class LoginRequired(OAuthError):
    code = "login_required"


class InteractionRequired(OAuthError):
    code = "interaction_required"


class ServerError(OAuthError):
    code = "server_error"
    status = 500


class InvalidToken(OAuthError):
    """RFC 6750 §3.1: the access token is expired, revoked, malformed or invalid."""

    code = "invalid_token"
    status = 401
