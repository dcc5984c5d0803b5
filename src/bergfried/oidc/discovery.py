"""The OpenID Provider metadata (OIDC Discovery §3, RFC 8414 §2) as ZITADEL publishes it.

Rules, all from spec/endpoints.md §2 (zitadel `server.go` `createDiscoveryConfig`):
- every endpoint is the issuer plus ZITADEL's default path (spec/endpoints.md §1);
- `scopes_supported` lists only the six standard scopes, never reserved ones;
- `grant_types_supported` omits token exchange although the token endpoint accepts it;
- `request_uri_parameter_supported` is always present and `false`;
- `backchannel_logout_supported` and `_session_supported` are `true`: Bergfried always has
  ZITADEL's `enableBackChannelLogout` feature on;
- `check_session_iframe`, `registration_endpoint`, `acr_values_supported`,
  `claims_parameter_supported` and encryption algorithms are absent.
"""

from __future__ import annotations

from typing import Any

# Field order follows ZITADEL's output (oidc `pkg/oidc/discovery.go`), so the bytes read alike.
ENDPOINT_PATHS: dict[str, str] = {
    "authorization_endpoint": "/oauth/v2/authorize",
    "token_endpoint": "/oauth/v2/token",
    "introspection_endpoint": "/oauth/v2/introspect",
    "userinfo_endpoint": "/oidc/v1/userinfo",
    "revocation_endpoint": "/oauth/v2/revoke",
    "end_session_endpoint": "/oidc/v1/end_session",
    "device_authorization_endpoint": "/oauth/v2/device_authorization",
    "jwks_uri": "/oauth/v2/keys",
}

_CLIENT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post", "private_key_jwt"]

METADATA: dict[str, Any] = {
    "scopes_supported": ["openid", "profile", "email", "phone", "address", "offline_access"],
    "response_types_supported": ["code", "id_token", "id_token token"],
    "response_modes_supported": ["query", "fragment", "form_post"],
    "grant_types_supported": [
        "authorization_code", "implicit", "refresh_token", "client_credentials",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "urn:ietf:params:oauth:grant-type:device_code",
    ],
    "subject_types_supported": ["public"],
    "id_token_signing_alg_values_supported": ["EdDSA", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512"],
    "request_object_signing_alg_values_supported": ["RS256"],
    "token_endpoint_auth_methods_supported": _CLIENT_AUTH_METHODS,
    "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
    "revocation_endpoint_auth_methods_supported": _CLIENT_AUTH_METHODS,
    "revocation_endpoint_auth_signing_alg_values_supported": ["RS256"],
    "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"],
    "introspection_endpoint_auth_signing_alg_values_supported": ["RS256"],
    "claims_supported": [
        "sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "acr", "amr", "c_hash", "at_hash",
        "act", "scopes", "client_id", "azp", "preferred_username", "name", "family_name",
        "given_name", "locale", "email", "email_verified", "phone_number", "phone_number_verified",
    ],
    "code_challenge_methods_supported": ["S256"],
    # every language ZITADEL ships at the basis commit (no instance language restrictions)
    "ui_locales_supported": ["bg", "cs", "de", "en", "es", "fr", "hu", "id", "it", "ja", "ko", "mk", "nl", "pl",
                             "pt", "ro", "ru", "sv", "tr", "zh"],
    "request_parameter_supported": True,
    "request_uri_parameter_supported": False,
    "backchannel_logout_supported": True,
    "backchannel_logout_session_supported": True,
}


def discovery_document(issuer: str) -> dict[str, Any]:
    """The metadata for `issuer` (scheme://host[:port][/path], no trailing slash needed)."""
    base = issuer.rstrip("/")
    endpoints = {name: base + path for name, path in ENDPOINT_PATHS.items()}
    return {"issuer": issuer, **endpoints, **_copy(METADATA)}


def _copy(metadata: dict[str, Any]) -> dict[str, Any]:
    """Fresh lists, so a caller that edits its document cannot change the next one."""
    return {name: list(value) if isinstance(value, list) else value for name, value in metadata.items()}
