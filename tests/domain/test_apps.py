"""Applications: ZITADEL's hard OIDC rules, the compliance warnings, client ids and secrets."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bergfried.domain.apps import (
    MAX_CLOCK_SKEW,
    AppType,
    AuthMethodType,
    GrantType,
    OIDCConfig,
    ResponseType,
    client_id_for,
    compliance,
    needs_secret,
    validate_app_name,
    validate_oidc_config,
)
from bergfried.errors import InvalidArgument

APPS = "spec/management-api.md §7"

CODE = GrantType.AUTHORIZATION_CODE
IMPLICIT = GrantType.IMPLICIT


def config(**changes: object) -> OIDCConfig:
    values: dict[str, object] = {"redirect_uris": ("https://app.example.com/cb",)}
    values.update(changes)
    return OIDCConfig(**values)  # type: ignore[arg-type]


# --- client ids and secrets -----------------------------------------------------------------


@pytest.mark.rule(APPS + " (clientId `170086824411201793@portal`)")
def test_client_id_is_app_id_at_project_name() -> None:
    assert client_id_for("170086824411201793", "portal") == "170086824411201793@portal"


@pytest.mark.rule(APPS)
def test_client_id_project_part_is_lower_case_with_underscores_for_spaces() -> None:
    assert client_id_for("1", "  My Portal App ") == "1@my_portal_app"


@pytest.mark.rule(APPS + " (clientSecret only for BASIC or POST)")
@pytest.mark.parametrize(
    ("method", "secret"),
    [
        (AuthMethodType.BASIC, True),
        (AuthMethodType.POST, True),
        (AuthMethodType.NONE, False),
        (AuthMethodType.PRIVATE_KEY_JWT, False),
    ],
)
def test_only_basic_and_post_auth_methods_get_a_secret(method: AuthMethodType, secret: bool) -> None:
    assert needs_secret(config(auth_method_type=method)) is secret


@pytest.mark.parametrize("name", ["a", "portal-web", "x" * 200])
def test_app_name_of_1_to_200_characters_is_accepted(name: str) -> None:
    assert validate_app_name(name) == name


@pytest.mark.parametrize("name", ["", "  ", "x" * 201])
def test_app_name_empty_or_longer_than_200_is_invalid(name: str) -> None:
    with pytest.raises(InvalidArgument):
        validate_app_name(name)


# --- hard rules: response types need grant types --------------------------------------------

RESPONSE_GRANTS = APPS + " (response types need matching grant types)"


@pytest.mark.rule(RESPONSE_GRANTS)
@pytest.mark.parametrize(
    ("response_types", "grant_types"),
    [
        ((ResponseType.CODE,), (CODE,)),
        ((ResponseType.CODE,), (CODE, GrantType.REFRESH_TOKEN)),
        ((ResponseType.CODE,), (GrantType.DEVICE_CODE,)),
        ((ResponseType.ID_TOKEN,), (IMPLICIT,)),
        ((ResponseType.ID_TOKEN_TOKEN,), (IMPLICIT,)),
        ((ResponseType.CODE, ResponseType.ID_TOKEN), (CODE, IMPLICIT)),
        ((), ()),
    ],
)
def test_response_types_with_their_grant_types_are_valid(
    response_types: tuple[ResponseType, ...], grant_types: tuple[GrantType, ...]
) -> None:
    valid = config(response_types=response_types, grant_types=grant_types)
    assert validate_oidc_config(valid) is valid


@pytest.mark.rule(RESPONSE_GRANTS)
@pytest.mark.parametrize(
    ("response_types", "grant_types"),
    [
        ((ResponseType.CODE,), (IMPLICIT,)),
        ((ResponseType.CODE,), (GrantType.REFRESH_TOKEN,)),
        ((ResponseType.CODE,), ()),
        ((ResponseType.ID_TOKEN,), (CODE,)),
        ((ResponseType.ID_TOKEN_TOKEN,), (CODE, GrantType.REFRESH_TOKEN)),
        ((ResponseType.CODE, ResponseType.ID_TOKEN), (CODE,)),
        ((ResponseType.CODE, ResponseType.ID_TOKEN), (IMPLICIT,)),
    ],
)
def test_response_type_without_its_grant_type_is_app_invalid(
    response_types: tuple[ResponseType, ...], grant_types: tuple[GrantType, ...]
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_oidc_config(config(response_types=response_types, grant_types=grant_types))
    assert caught.value.key == "Errors.Project.App.Invalid"
    assert caught.value.grpc_code == 3


# --- hard rules: clock skew -----------------------------------------------------------------

SKEW = APPS + " (clockSkew must be 0–5 s)"


@pytest.mark.rule(SKEW)
@pytest.mark.parametrize("skew", [timedelta(0), timedelta(seconds=1), timedelta(seconds=5)])
def test_clock_skew_from_0_to_5_seconds_is_valid(skew: timedelta) -> None:
    assert validate_oidc_config(config(clock_skew=skew)).clock_skew == skew


@pytest.mark.rule(SKEW)
@pytest.mark.parametrize(
    "skew", [timedelta(seconds=5, milliseconds=1), timedelta(seconds=6), timedelta(milliseconds=-1)]
)
def test_clock_skew_outside_0_to_5_seconds_is_invalid(skew: timedelta) -> None:
    with pytest.raises(InvalidArgument):
        validate_oidc_config(config(clock_skew=skew))


def test_max_clock_skew_is_five_seconds() -> None:
    assert timedelta(seconds=5) == MAX_CLOCK_SKEW


# --- hard rules: additional origins ---------------------------------------------------------

ORIGINS = APPS + " (additionalOrigins must be origins); RFC 6454 §6.2"


@pytest.mark.rule(ORIGINS)
@pytest.mark.parametrize(
    "origin", ["https://app.example.com", "http://localhost:3000", "https://app.example.com:8443", "http://127.0.0.1"]
)
def test_scheme_host_and_port_is_an_origin(origin: str) -> None:
    validate_oidc_config(config(additional_origins=(origin,)))


@pytest.mark.rule(ORIGINS)
@pytest.mark.parametrize(
    "origin",
    [
        "app.example.com",
        "https://",
        "https://app.example.com/",
        "https://app.example.com/path",
        "https://app.example.com?x=1",
        "https://app.example.com#fragment",
        "",
    ],
)
def test_anything_but_an_origin_is_invalid(origin: str) -> None:
    with pytest.raises(InvalidArgument):
        validate_oidc_config(config(additional_origins=("https://ok.example.com", origin)))


# --- compliance warnings --------------------------------------------------------------------

COMPLIANCE = APPS + " (noneCompliant, complianceProblems)"


@pytest.mark.rule(COMPLIANCE)
def test_web_code_app_with_https_redirects_and_secret_is_compliant() -> None:
    result = compliance(config(app_type=AppType.WEB, auth_method_type=AuthMethodType.BASIC))
    assert result.none_compliant is False
    assert result.problems == ()


@pytest.mark.rule(COMPLIANCE)
def test_web_code_app_may_use_http_redirects() -> None:
    result = compliance(config(redirect_uris=("http://localhost/cb",), app_type=AppType.WEB))
    assert result.problems == ()


@pytest.mark.rule(COMPLIANCE)
def test_no_redirect_uris_is_a_compliance_problem() -> None:
    result = compliance(config(redirect_uris=()))
    assert result.none_compliant is True
    assert "Application.OIDC.V1.NoRedirectUris" in result.problems


@pytest.mark.rule(COMPLIANCE)
def test_http_redirect_for_a_user_agent_code_app_is_http_only_for_web() -> None:
    result = compliance(config(redirect_uris=("http://app.example.com/cb",), app_type=AppType.USER_AGENT,
                               auth_method_type=AuthMethodType.NONE))
    assert result.problems == ("Application.OIDC.V1.Code.RedirectUris.HttpOnlyForWeb",)
    assert result.none_compliant is True


@pytest.mark.rule(COMPLIANCE)
def test_native_app_with_http_localhost_redirect_is_compliant() -> None:
    result = compliance(config(redirect_uris=("http://localhost:7777/cb", "http://127.0.0.1/cb"),
                               app_type=AppType.NATIVE, auth_method_type=AuthMethodType.NONE))
    assert result.problems == ()


@pytest.mark.rule(COMPLIANCE)
def test_custom_scheme_redirect_is_only_for_native_apps() -> None:
    web = compliance(config(redirect_uris=("com.example.app:/cb",), app_type=AppType.WEB))
    native = compliance(config(redirect_uris=("com.example.app:/cb",), app_type=AppType.NATIVE,
                               auth_method_type=AuthMethodType.NONE))
    assert "Application.OIDC.V1.Code.RedirectUris.CustomOnlyForNative" in web.problems
    assert native.problems == ()


@pytest.mark.rule(COMPLIANCE)
def test_native_app_with_a_secret_auth_method_is_not_none() -> None:
    result = compliance(config(app_type=AppType.NATIVE, auth_method_type=AuthMethodType.BASIC))
    assert "Application.OIDC.V1.Native.AuthMethodType.NotNone" in result.problems


def test_user_agent_app_with_a_secret_auth_method_is_not_none() -> None:
    result = compliance(config(app_type=AppType.USER_AGENT, auth_method_type=AuthMethodType.POST))
    assert "Application.OIDC.V1.UserAgent.AuthMethodType.NotNone" in result.problems


@pytest.mark.rule(COMPLIANCE)
def test_implicit_web_app_with_http_redirect_is_http_not_allowed() -> None:
    result = compliance(config(redirect_uris=("http://app.example.com/cb",), response_types=(ResponseType.ID_TOKEN,),
                               grant_types=(IMPLICIT,), app_type=AppType.WEB))
    assert "Application.OIDC.V1.Implicit.RedirectUris.HttpNotAllowed" in result.problems


def test_implicit_app_with_custom_scheme_redirect_is_custom_not_allowed() -> None:
    result = compliance(config(redirect_uris=("myapp://cb",), response_types=(ResponseType.ID_TOKEN,),
                               grant_types=(IMPLICIT,), app_type=AppType.NATIVE, auth_method_type=AuthMethodType.NONE))
    assert "Application.OIDC.V1.Implicit.RedirectUris.CustomNotAllowed" in result.problems


def test_compliance_flag_is_set_exactly_when_there_are_problems() -> None:
    configs = [
        config(),
        config(redirect_uris=()),
        config(app_type=AppType.NATIVE),
        config(redirect_uris=("http://x.example.com/cb",), app_type=AppType.USER_AGENT),
    ]
    for checked in configs:
        result = compliance(checked)
        assert result.none_compliant is bool(result.problems)


@pytest.mark.rule(APPS + " (AddOIDCApp defaults)")
def test_oidc_config_defaults_are_code_flow_web_basic_bearer() -> None:
    default = OIDCConfig()
    assert default.response_types == (ResponseType.CODE,)
    assert default.grant_types == (CODE,)
    assert default.app_type == AppType.WEB
    assert default.auth_method_type == AuthMethodType.BASIC
    assert default.clock_skew == timedelta(0)
    assert default.login_v2_base_uri is None
