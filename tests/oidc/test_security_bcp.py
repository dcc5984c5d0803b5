"""The OAuth 2.0 Security BCP (RFC 9700) items that no other test pins down on its own:
PKCE downgrade, `iss` in every authorization response, a code bound to its client, and no code,
token or client secret kept in clear in the database (docs/security.md)."""
# ruff: noqa: F811  (the `world` fixture of test_code_flow.py is used by name)

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from bergfried.crypto.hashing import generate_secret
from bergfried.store import tables as t
from tests.oidc.test_code_flow import REDIRECT, World, authorize, basic, code_for, login, redeem, world  # noqa: F401


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@pytest.mark.rule("RFC 9700 §4.8.2: a code_verifier for a code issued without a code_challenge is refused")
async def test_pkce_downgrade_a_verifier_without_a_challenge_is_invalid_grant(world: World) -> None:
    code = await code_for(world)  # the attacker stripped code_challenge from the authorization request
    response = await redeem(world, code, code_verifier=generate_secret(48))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "no code_challenge" in response.json()["error_description"]


@pytest.mark.rule("RFC 7636 §4.6, RFC 9700 §2.1.1: a code issued with a challenge needs its verifier")
async def test_a_code_with_a_challenge_needs_its_verifier(world: World) -> None:
    verifier = generate_secret(48)
    code = await code_for(world, code_challenge=_challenge(verifier), code_challenge_method="S256")
    missing = await redeem(world, code)
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"
    plain = await redeem(world, code, code_verifier=_challenge(verifier))  # the challenge itself is no verifier
    assert plain.json()["error"] == "invalid_grant"


@pytest.mark.rule("RFC 9207 §2 / RFC 9700 §4.4.2: a successful authorization response names the issuer")
async def test_a_successful_authorization_response_carries_iss(world: World) -> None:
    response = await authorize(world)
    final = await login(world, response.headers["location"])
    query = parse_qs(urlsplit(final).query)
    assert query["iss"] == [world.services.settings.issuer]
    assert "code" in query


@pytest.mark.rule("RFC 9700 §4.5 / RFC 6749 §4.1.3: a code is redeemed only by the client it was issued to")
async def test_a_code_of_another_client_is_invalid_grant(world: World) -> None:
    code = await code_for(world)
    stolen = await world.client.post("/oauth/v2/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": world.public_client_id, "code_verifier": generate_secret(48)})
    assert stolen.status_code in (400, 401)
    assert stolen.json()["error"] in ("invalid_grant", "invalid_client")
    assert (await redeem(world, code)).status_code == 200  # the rightful client still can


@pytest.mark.rule("RFC 9700 §4.14, OWASP ASVS V2.10.4/V3.5: codes, tokens and client secrets are stored hashed only")
async def test_no_code_token_or_client_secret_is_stored_in_clear(world: World) -> None:
    code = await code_for(world, scope="openid offline_access")
    body = (await redeem(world, code)).json()
    refreshed = (await world.client.post("/oauth/v2/token", data={
        "grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        headers={"authorization": basic(world.client_id, world.secret)})).json()
    secrets = {"code": code, "access_token": body["access_token"], "refresh_token": body["refresh_token"],
               "rotated_refresh_token": refreshed["refresh_token"], "client_secret": world.secret}
    dump = await _dump(world)
    for name, value in secrets.items():
        assert len(value) >= 20, name
        assert value not in dump, f"{name} is stored in clear"


async def _dump(world: World) -> str:
    """Every text and JSON value of every table, as one string."""
    parts: list[str] = []
    async with world.services.store.read() as conn:
        for table in t.metadata.sorted_tables:
            for row in (await conn.execute(sa.select(table))).all():
                parts.extend(str(value) for value in row)
    return "\n".join(parts)


@pytest.mark.rule("OIDC Core §3.2.2.1, §16.16: implicit requests without a nonce are refused (token injection)")
async def test_implicit_without_a_nonce_is_refused(world: World) -> None:
    for response_type in ("id_token", "id_token token"):
        response = await authorize(world, response_type=response_type, scope="openid")
        assert response.status_code == 302
        location = response.headers["location"]
        assert location.startswith(REDIRECT)
        answer = parse_qs(urlsplit(location).fragment or urlsplit(location).query)
        assert answer["error"] == ["invalid_request"]
        assert "nonce" in answer["error_description"][0]
