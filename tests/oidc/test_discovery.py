"""The discovery document against spec/endpoints.md itself: §2's JSON field by field and in order,
§1's table for the paths. The spec is read from shared/ beside the repository, never copied here."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bergfried.oidc.discovery import discovery_document

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "spec" / "endpoints.md"
SPEC_ISSUER = "https://auth.example.com"
SECTION_1 = "spec/endpoints.md §1"
SECTION_2 = "spec/endpoints.md §2"
ISSUERS = ["https://auth.example.com", "http://localhost:8080", "https://id.example.org:8443/tenant-a"]


def spec_section(number: int) -> str:
    text = SPEC.read_text(encoding="utf-8")
    match = re.search(rf"^## {number}\. .*?(?=^## )", text, flags=re.MULTILINE | re.DOTALL)
    assert match, f"section {number} not found in {SPEC}"
    return match.group(0)


def spec_document() -> dict[str, Any]:
    block = re.search(r"```json\n(.*?)```", spec_section(2), flags=re.DOTALL)
    assert block
    loaded: dict[str, Any] = json.loads(block.group(1))
    return loaded


def spec_paths() -> dict[str, str]:
    """§1's table: `| authorization | `/oauth/v2/authorize` | …` → {"authorization_endpoint": path}."""
    rows = re.findall(r"^\| ([a-zA-Z ]+) \| `(/[^`?]*)", spec_section(1), flags=re.MULTILINE)
    names = {"JWKS": "jwks_uri"}
    paths = {names.get(name, name.replace(" ", "_") + "_endpoint"): path for name, path in rows}
    paths.pop("discovery_endpoint")
    paths.pop("device_user_page_endpoint", None)
    paths.pop("authorize_callback_endpoint", None)
    return paths


@pytest.mark.rule(SECTION_2)
def test_the_document_is_the_specs_json_field_by_field_and_in_order() -> None:
    expected = spec_document()
    document = discovery_document(SPEC_ISSUER)
    assert list(document) == list(expected)
    for field, value in expected.items():
        assert document[field] == value, field
    assert document == expected


@pytest.mark.rule(SECTION_1)
@pytest.mark.parametrize("issuer", ISSUERS)
def test_every_endpoint_is_the_issuer_plus_zitadels_default_path(issuer: str) -> None:
    document = discovery_document(issuer)
    paths = spec_paths()
    assert len(paths) == 8
    assert document["issuer"] == issuer
    for field, path in paths.items():
        assert document[field] == issuer + path, field
    urls = {k: v for k, v in document.items() if k.endswith(("_endpoint", "_uri")) and isinstance(v, str)}
    assert set(urls) == set(paths)


@pytest.mark.rule(SECTION_2)
def test_a_trailing_slash_on_the_issuer_does_not_double_the_slash() -> None:
    document = discovery_document("https://auth.example.com/")
    assert document["token_endpoint"] == "https://auth.example.com/oauth/v2/token"


@pytest.mark.rule(f"{SECTION_2}: only the six standard scopes")
def test_scopes_supported_are_the_six_standard_scopes_and_no_reserved_scope() -> None:
    scopes = discovery_document(SPEC_ISSUER)["scopes_supported"]
    assert scopes == ["openid", "profile", "email", "phone", "address", "offline_access"]
    assert not [s for s in scopes if s.startswith("urn:")]


@pytest.mark.rule(f"{SECTION_2}: token exchange is not listed")
def test_token_exchange_is_not_a_listed_grant_type() -> None:
    grants = discovery_document(SPEC_ISSUER)["grant_types_supported"]
    assert "urn:ietf:params:oauth:grant-type:token-exchange" not in grants
    assert not [g for g in grants if "token-exchange" in g]
    assert "urn:ietf:params:oauth:grant-type:device_code" in grants


@pytest.mark.rule(f"{SECTION_2}: request_uri_parameter_supported is always present")
def test_request_uri_parameter_supported_is_present_and_false() -> None:
    document = discovery_document(SPEC_ISSUER)
    assert "request_uri_parameter_supported" in document
    assert document["request_uri_parameter_supported"] is False
    assert document["request_parameter_supported"] is True


@pytest.mark.rule(f"{SECTION_2}: back-channel logout feature on")
def test_backchannel_logout_is_advertised_with_sessions() -> None:
    document = discovery_document(SPEC_ISSUER)
    assert document["backchannel_logout_supported"] is True
    assert document["backchannel_logout_session_supported"] is True


@pytest.mark.rule(f"{SECTION_2}: absent fields")
@pytest.mark.parametrize("field", [
    "check_session_iframe", "registration_endpoint", "acr_values_supported", "claims_parameter_supported",
    "id_token_encryption_alg_values_supported", "userinfo_encryption_alg_values_supported",
    "request_object_encryption_alg_values_supported", "frontchannel_logout_supported",
])
def test_fields_zitadel_omits_are_absent(field: str) -> None:
    assert field not in discovery_document(SPEC_ISSUER)


def test_changing_one_document_leaves_the_next_one_alone() -> None:
    first = discovery_document(SPEC_ISSUER)
    first["scopes_supported"].append("urn:zitadel:iam:org:project:id:zitadel:aud")
    first["grant_types_supported"].clear()
    second = discovery_document(SPEC_ISSUER)
    assert second == spec_document()
