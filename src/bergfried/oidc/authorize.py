"""The authorization endpoint's validation (RFC 6749 §3.1, §4.1.1, §4.1.2.1; OIDC Core §3.1.2.1–2,
§3.2.2; RFC 7636 §4.3; spec/endpoints.md §3).

Order, and where errors go:
1. `client_id` present and an active OIDC application — else an error *page* (not redirectable).
2. `redirect_uri` present and registered: exact string match; dev mode also matches registered
   URIs as glob patterns; native apps match loopback URIs on any port (RFC 8252 §7.3) — else a
   page. Only now is the redirect URI trusted.
3. Then every error is redirected with `state` and `iss` (RFC 9207): `response_type` supported
   and enabled for the app (`unsupported_response_type` / `unauthorized_client`), `scope`
   present, `prompt=none` alone, `nonce` for implicit flows (OIDC Core §3.2.2.1), a well-formed
   PKCE challenge with S256 or plain, PKCE required of public clients (RFC 9700 §2.1.1),
   `max_age` a non-negative integer.
Unknown scopes are dropped silently (spec/scopes.md §1); an invalid `response_mode` is ignored.
With the project's `projectRoleAssertion` and no role scope, a role scope for every role key of
the project is added before the request is stored (spec/scopes.md §4).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from bergfried.claims import scopes as sc
from bergfried.domain.apps import AppKind, Application, AppState, AppType, AuthMethodType, ResponseType
from bergfried.domain.auth_requests import AuthRequest
from bergfried.errors import (
    InvalidRequest,
    OAuthError,
    UnauthorizedClient,
    UnsupportedResponseType,
)
from bergfried.oidc import pkce

AUTH_REQUEST_LIFETIME = timedelta(minutes=30)

# response_type → the app setting that enables it, and the default response mode (OAuth 2.0
# Multiple Response Type Encoding Practices §2.1, §5).
RESPONSE_TYPES: dict[str, tuple[ResponseType, str]] = {
    "code": (ResponseType.CODE, "query"),
    "id_token": (ResponseType.ID_TOKEN, "fragment"),
    "id_token token": (ResponseType.ID_TOKEN_TOKEN, "fragment"),
}
RESPONSE_MODES = ("query", "fragment", "form_post")
PROMPTS = ("none", "login", "consent", "select_account", "create")
_LOOPBACK = ("localhost", "127.0.0.1", "::1")
_DIGITS = re.compile(r"[0-9]+")
MAX_AGE_CAP = 2**31 - 1  # the auth_requests.max_age column is a 32-bit integer
STORED_LENGTHS = {"state": 2048, "nonce": 2048, "login_hint": 512}  # the auth_requests columns' lengths


class AuthorizePageError(InvalidRequest):
    """An error before the client and redirect URI are trusted: shown as a page."""

    redirectable = False


@dataclass(frozen=True, slots=True)
class Validated:
    app: Application
    request: AuthRequest
    response_mode: str


def _normalize_response_type(value: str) -> str:
    return " ".join(sorted(value.split(), key=lambda part: part != "id_token"))


def _http_allowed(app: Application, uri: str) -> bool:
    """spec/endpoints.md §3: plain http only in dev mode, for web (confidential) apps, or to the
    loopback interface of a native app (RFC 8252 §7.3)."""
    assert app.oidc is not None
    if not uri.startswith("http://") or app.oidc.dev_mode or app.oidc.app_type == AppType.WEB:
        return True
    return app.oidc.app_type == AppType.NATIVE and urlsplit(uri).hostname in _LOOPBACK


def redirect_uri_matches(app: Application, uri: str) -> bool:
    assert app.oidc is not None
    registered = app.oidc.redirect_uris
    if not _http_allowed(app, uri):
        return False
    if uri in registered:
        return True
    if app.oidc.dev_mode and any(fnmatch.fnmatchcase(uri, pattern) for pattern in registered if "*" in pattern):
        return True
    if app.oidc.app_type == AppType.NATIVE:
        parts = urlsplit(uri)
        if parts.scheme in ("http", "https") and parts.hostname in _LOOPBACK:
            for candidate in registered:
                c = urlsplit(candidate)
                if (c.scheme, c.hostname, c.path, c.query) == (parts.scheme, parts.hostname, parts.path, parts.query):
                    return True
    return False


def trusted_client(app: Application | None, params: Mapping[str, str]) -> tuple[Application, str]:
    """Steps 1–2: an error here must never reach the redirect URI."""
    if app is None or app.kind != AppKind.OIDC or app.state != AppState.ACTIVE or app.oidc is None:
        raise AuthorizePageError("The client is unknown or not active.",
                                 detail=f"client_id {params.get('client_id')!r}")
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri:
        raise AuthorizePageError("The request has no redirect_uri.")
    if not redirect_uri_matches(app, redirect_uri):
        raise AuthorizePageError(
            "The redirect_uri is not registered for this client. Register it exactly, character for character.",
            detail=f"redirect_uri {redirect_uri!r}",
        )
    return app, redirect_uri


def _valid_response_mode(value: str | None) -> str | None:
    return value if value in RESPONSE_MODES else None  # an invalid one is ignored, so not stored either


def response_mode_for(params: Mapping[str, str]) -> str:
    requested = params.get("response_mode", "")
    response_type = _normalize_response_type(params.get("response_type", ""))
    default = RESPONSE_TYPES.get(response_type, (None, "query"))[1]
    if requested in RESPONSE_MODES and not (requested == "query" and response_type != "code"):
        return requested  # tokens never go into a query string (Multiple Response Types §5)
    return default


def _max_age(value: str | None) -> int | None:
    """ASCII digits only (`str.isdigit` admits `²`, which `int` refuses); a value past the column's
    32 bits (68 years) means the same as no limit, so it is capped rather than refused."""
    if value is None or value == "":
        return None
    if not _DIGITS.fullmatch(value):
        raise InvalidRequest("max_age must be a non-negative integer")
    return min(int(value), MAX_AGE_CAP)


def validate(
    app: Application,
    redirect_uri: str,
    params: Mapping[str, str],
    *,
    request_id: str,
    now: datetime,
    role_keys: list[str],
    hint_user_id: str | None = None,
    project_role_assertion: bool = False,
) -> Validated:
    """Step 3: everything after the redirect URI is trusted; errors here are redirectable."""
    assert app.oidc is not None
    for name, limit in STORED_LENGTHS.items():
        if len(params.get(name) or "") > limit:
            raise InvalidRequest(f"{name} is longer than {limit} characters")
    response_type = _normalize_response_type(params.get("response_type", ""))
    if not response_type:
        raise InvalidRequest("response_type is missing")
    if response_type not in RESPONSE_TYPES:
        raise UnsupportedResponseType(f"response_type {response_type!r} is not supported")
    if RESPONSE_TYPES[response_type][0] not in app.oidc.response_types:
        raise UnauthorizedClient(f"response_type {response_type!r} is not enabled for this client")
    requested = sc.parse(params.get("scope"))
    if not requested:
        raise InvalidRequest("The scope of your request is missing")
    prompt = tuple(dict.fromkeys(params.get("prompt", "").split()))
    if "none" in prompt and len(prompt) > 1:
        raise InvalidRequest("The prompt parameter `none` must only be used as a single value")
    unknown_prompts = [p for p in prompt if p not in PROMPTS]
    if unknown_prompts:
        raise InvalidRequest(f"unknown prompt values: {' '.join(unknown_prompts)}")
    nonce = params.get("nonce") or None
    if response_type != "code" and not nonce:
        raise InvalidRequest("The nonce is required for implicit flows (OIDC Core §3.2.2.1)")
    challenge = params.get("code_challenge") or None
    method = params.get("code_challenge_method") or None
    if challenge is not None:
        method = method or "plain"
        if method not in pkce.METHODS:
            raise InvalidRequest("code_challenge_method must be S256 (or plain)")
        if not pkce.valid_challenge(challenge):
            raise InvalidRequest("code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~]")
    elif method is not None:
        raise InvalidRequest("code_challenge_method without code_challenge")
    if response_type == "code" and challenge is None and app.oidc.auth_method_type == AuthMethodType.NONE:
        raise InvalidRequest("Public clients must use PKCE: send code_challenge with code_challenge_method=S256")
    request = AuthRequest(
        id=request_id, client_id=app.client_id, redirect_uri=redirect_uri,
        scopes=sc.with_asserted_roles(sc.allowed(requested, role_keys), role_keys, project_role_assertion),
        response_type=response_type, created_at=now,
        expires_at=now + AUTH_REQUEST_LIFETIME, response_mode=_valid_response_mode(params.get("response_mode")),
        state=params.get("state") or None, nonce=nonce, code_challenge=challenge, code_challenge_method=method,
        prompt=prompt, max_age=_max_age(params.get("max_age")), login_hint=params.get("login_hint") or None,
        ui_locales=tuple(params.get("ui_locales", "").split()), hint_user_id=hint_user_id,
    )
    return Validated(app=app, request=request, response_mode=response_mode_for(params))


def redirect_error(exc: OAuthError, state: str | None, issuer: str) -> dict[str, str]:
    """The parameters of an error redirect (RFC 6749 §4.1.2.1, RFC 9207 §2)."""
    params = {"error": exc.code, "error_description": exc.description}
    if state:
        params["state"] = state
    params["iss"] = issuer
    return params
