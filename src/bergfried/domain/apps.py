"""Applications of a project: OIDC apps and API apps, their settings and ZITADEL's rules."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from bergfried.domain.common import check_length
from bergfried.domain.ids import AppId, OrgId, ProjectId
from bergfried.errors import InvalidArgument


class AppState(enum.StrEnum):
    UNSPECIFIED = "APP_STATE_UNSPECIFIED"
    ACTIVE = "APP_STATE_ACTIVE"
    INACTIVE = "APP_STATE_INACTIVE"


class AppKind(enum.StrEnum):
    OIDC = "oidc"
    API = "api"


class ResponseType(enum.StrEnum):
    CODE = "OIDC_RESPONSE_TYPE_CODE"
    ID_TOKEN = "OIDC_RESPONSE_TYPE_ID_TOKEN"
    ID_TOKEN_TOKEN = "OIDC_RESPONSE_TYPE_ID_TOKEN_TOKEN"


class GrantType(enum.StrEnum):
    AUTHORIZATION_CODE = "OIDC_GRANT_TYPE_AUTHORIZATION_CODE"
    IMPLICIT = "OIDC_GRANT_TYPE_IMPLICIT"
    REFRESH_TOKEN = "OIDC_GRANT_TYPE_REFRESH_TOKEN"
    DEVICE_CODE = "OIDC_GRANT_TYPE_DEVICE_CODE"
    TOKEN_EXCHANGE = "OIDC_GRANT_TYPE_TOKEN_EXCHANGE"


class AppType(enum.StrEnum):
    WEB = "OIDC_APP_TYPE_WEB"
    USER_AGENT = "OIDC_APP_TYPE_USER_AGENT"
    NATIVE = "OIDC_APP_TYPE_NATIVE"


class AuthMethodType(enum.StrEnum):
    BASIC = "OIDC_AUTH_METHOD_TYPE_BASIC"
    POST = "OIDC_AUTH_METHOD_TYPE_POST"
    NONE = "OIDC_AUTH_METHOD_TYPE_NONE"
    PRIVATE_KEY_JWT = "OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"


class ApiAuthMethodType(enum.StrEnum):
    BASIC = "API_AUTH_METHOD_TYPE_BASIC"
    PRIVATE_KEY_JWT = "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"


class TokenType(enum.StrEnum):
    BEARER = "OIDC_TOKEN_TYPE_BEARER"
    JWT = "OIDC_TOKEN_TYPE_JWT"


MAX_CLOCK_SKEW = timedelta(seconds=5)


@dataclass(frozen=True, slots=True)
class OIDCConfig:
    redirect_uris: tuple[str, ...] = ()
    response_types: tuple[ResponseType, ...] = (ResponseType.CODE,)
    grant_types: tuple[GrantType, ...] = (GrantType.AUTHORIZATION_CODE,)
    app_type: AppType = AppType.WEB
    auth_method_type: AuthMethodType = AuthMethodType.BASIC
    post_logout_redirect_uris: tuple[str, ...] = ()
    dev_mode: bool = False
    access_token_type: TokenType = TokenType.BEARER
    access_token_role_assertion: bool = False
    id_token_role_assertion: bool = False
    id_token_userinfo_assertion: bool = False
    clock_skew: timedelta = timedelta(0)
    additional_origins: tuple[str, ...] = ()
    skip_native_app_success_page: bool = False
    back_channel_logout_uri: str = ""
    login_v2_base_uri: str | None = None  # None: login v1 (the hosted login)


@dataclass(frozen=True, slots=True)
class Application:
    id: AppId
    project_id: ProjectId
    org_id: OrgId
    name: str
    kind: AppKind
    client_id: str
    state: AppState = AppState.ACTIVE
    oidc: OIDCConfig | None = None
    api_auth_method_type: ApiAuthMethodType | None = None
    has_secret: bool = False


@dataclass(frozen=True, slots=True)
class Compliance:
    none_compliant: bool
    problems: tuple[str, ...] = field(default_factory=tuple)


def client_id_for(app_id: str, project_name: str) -> str:
    """ZITADEL's older, still documented form `<id>@<project-name>` (seed 000 shows it)."""
    return f"{app_id}@{project_name.strip().replace(' ', '_').lower()}"


def needs_secret(config: OIDCConfig) -> bool:
    return config.auth_method_type in (AuthMethodType.BASIC, AuthMethodType.POST)


def validate_app_name(name: str) -> str:
    return check_length(name.strip(), "Name", min_len=1, max_len=200, message="AddOIDCAppRequest")


def _is_origin(value: str) -> bool:
    """`scheme://host[:port]` and nothing else: no path (not even `/`), query or fragment, as
    ZITADEL's `http.IsOrigin`; an `Origin` header never carries more, so it could never match."""
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc) and not parts.path and not parts.query and not parts.fragment


def validate_oidc_config(config: OIDCConfig) -> OIDCConfig:
    """ZITADEL's hard rules (`internal/domain/application_oidc.go`): response types need the
    matching grant types, clock skew 0–5 s, additional origins are origins."""
    grants = set(config.grant_types)
    for response_type in config.response_types:
        ok = (
            GrantType.AUTHORIZATION_CODE in grants or GrantType.DEVICE_CODE in grants
            if response_type == ResponseType.CODE
            else GrantType.IMPLICIT in grants
        )
        if not ok:
            raise InvalidArgument(
                "Errors.Project.App.Invalid", "Application is invalid: response types need their grant types",
                error_id="DOMAIN-1m9fS",
            )
    if not timedelta(0) <= config.clock_skew <= MAX_CLOCK_SKEW:
        raise InvalidArgument(
            "Errors.Project.App.OIDCClockSkewInvalid", "Clock skew must be between 0 and 5 seconds",
            error_id="DOMAIN-4m9fS",
        )
    for origin in config.additional_origins:
        if not _is_origin(origin):
            raise InvalidArgument(
                "Errors.Project.App.OIDCAdditionalOriginInvalid", f"{origin!r} is not an origin",
                error_id="DOMAIN-s9ndK",
            )
    return config


def _all_https(uris: Sequence[str]) -> bool:
    return all(uri.startswith("https://") for uri in uris)


def _custom_schemes(uris: Sequence[str]) -> bool:
    return any(not uri.startswith(("http://", "https://")) for uri in uris)


def _http_only_localhost(uris: Sequence[str]) -> bool:
    hosts = {urlsplit(uri).hostname for uri in uris if uri.startswith("http://")}
    return hosts <= {"localhost", "127.0.0.1", "::1"}


def compliance(config: OIDCConfig) -> Compliance:
    """Warnings ZITADEL stores on an app it still accepts (`GetOIDCV1Compliance`)."""
    problems: list[str] = []
    uris = config.redirect_uris
    grants = set(config.grant_types)
    if not uris:
        problems.append("Application.OIDC.V1.NoRedirectUris")
    elif not _all_https(uris):
        if GrantType.AUTHORIZATION_CODE in grants:
            if any(uri.startswith("http://") for uri in uris) and config.app_type != AppType.WEB and not (
                config.app_type == AppType.NATIVE and _http_only_localhost(uris)
            ):
                problems.append("Application.OIDC.V1.Code.RedirectUris.HttpOnlyForWeb")
            if _custom_schemes(uris) and config.app_type != AppType.NATIVE:
                problems.append("Application.OIDC.V1.Code.RedirectUris.CustomOnlyForNative")
        if GrantType.IMPLICIT in grants:
            if _custom_schemes(uris):
                problems.append("Application.OIDC.V1.Implicit.RedirectUris.CustomNotAllowed")
            if any(uri.startswith("http://") for uri in uris):
                if config.app_type != AppType.NATIVE:
                    problems.append("Application.OIDC.V1.Implicit.RedirectUris.HttpNotAllowed")
                elif not _http_only_localhost(uris):
                    problems.append("Application.OIDC.V1.Implicit.RedirectUris.NativeShouldBeHttpLocalhost")
    if config.app_type == AppType.NATIVE and config.auth_method_type != AuthMethodType.NONE:
        problems.append("Application.OIDC.V1.Native.AuthMethodType.NotNone")
    if config.app_type == AppType.USER_AGENT and config.auth_method_type != AuthMethodType.NONE:
        problems.append("Application.OIDC.V1.UserAgent.AuthMethodType.NotNone")
    return Compliance(none_compliant=bool(problems), problems=tuple(problems))
