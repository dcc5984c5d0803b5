"""Which login answers an authorization request, and where the browser goes (spec/api-v2.md §5;
ZITADEL's `internal/api/oidc/auth_request.go` `CreateAuthRequest`, `client_converter.go` `LoginURL`).

First match wins:
1. the authorize call carries `x-zitadel-login-client: <user id of the login UI's service user>`
   → a `V2_` request bound to that login client;
2. the application's login version is v2 (`login_v2_base_uri` is not None) → a `V2_` request
   without a login client (the UI then needs `session.read` / `session.link`);
3. otherwise the hosted login (v1).
The instance feature `loginV2.required` is not modelled: Bergfried's own login is v1.

A `V2_` request's browser goes to `<baseUri>/login?authRequest=V2_…`, or to ZITADEL's default
`/ui/v2/login/login?authRequest=V2_…` when the app has no base URI.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from bergfried.domain.apps import Application
from bergfried.domain.auth_requests import V2_PREFIX
from bergfried.errors import InvalidRequest

LOGIN_CLIENT_HEADER = "x-zitadel-login-client"
DEFAULT_LOGIN_URL_V2 = "/ui/v2/login/login"  # cmd/defaults.yaml OIDC.DefaultLoginURLV2
_USER_ID = re.compile(r"[0-9A-Za-z_-]{1,20}")


def login_client(header: str | None) -> str | None:
    """The login client named by the header, or None. A value that cannot be a user id is refused
    before anything is stored (it is an error page: the redirect URI is not trusted yet)."""
    if header is None or not header.strip():
        return None
    value = header.strip()
    if not _USER_ID.fullmatch(value):
        raise InvalidRequest(f"{LOGIN_CLIENT_HEADER} must be the user id of the login client", redirectable=False)
    return value


def uses_login_v2(app: Application, client: str | None) -> bool:
    return client is not None or (app.oidc is not None and app.oidc.login_v2_base_uri is not None)


def request_id(new_id: str, *, v2: bool) -> str:
    return V2_PREFIX + new_id if v2 else new_id


def login_url(app: Application, auth_request_id: str) -> str:
    base = app.oidc.login_v2_base_uri if app.oidc is not None else None
    target = base.rstrip("/") + "/login" if base else DEFAULT_LOGIN_URL_V2
    return f"{target}?{urlencode({'authRequest': auth_request_id})}"


# CreateCallback `error.error` → the OAuth error code the client receives
# (`internal/api/grpc/oidc/v2/oidc.go` `errorReasonToOIDC`); unknown reasons are server_error.
ERROR_REASONS: dict[str, str] = {
    f"ERROR_REASON_{code.upper()}": code for code in (
        "invalid_request", "unauthorized_client", "access_denied", "unsupported_response_type", "invalid_scope",
        "interaction_required", "login_required", "account_selection_required", "consent_required",
        "invalid_request_uri", "invalid_request_object", "request_not_supported", "request_uri_not_supported",
        "registration_not_supported",
    )
} | {"ERROR_REASON_TEMPORARY_UNAVAILABLE": "temporarily_unavailable", "ERROR_REASON_UNSPECIFIED": "server_error",
     "ERROR_REASON_SERVER_ERROR": "server_error"}
