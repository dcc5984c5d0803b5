"""`find_access_token`: from a presented string to a live access-token row, on both engines
(spec/endpoints.md §8 "verification of any access token")."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bergfried.services import Services
from bergfried.store.tokens import AccessTokenRecord
from bergfried.tokens.lookup import find_access_token
from tests.oidc.conftest import Resources, access_token, issue_tokens, resigned, unsigned, unverified


async def lookup(services: Services, token: str) -> AccessTokenRecord | None:
    async with services.store.read() as conn:
        return await find_access_token(services, conn, token)


@pytest.mark.rule("spec/endpoints.md §8: an opaque token is found by its hash")
async def test_opaque_token_is_found(res: Resources) -> None:
    token = await access_token(res, res.web, "openid email")
    record = await lookup(res.services, token)
    assert record is not None
    assert record.format == "opaque"
    assert record.grant.client_id == res.web.client_id
    assert record.grant.scopes == ("openid", "email")


@pytest.mark.rule("spec/endpoints.md §8: a JWT is verified, then found by its jti")
async def test_jwt_is_found_by_jti(res: Resources) -> None:
    token = await access_token(res, res.jwt_app)
    record = await lookup(res.services, token)
    assert record is not None
    assert record.format == "jwt"
    assert record.id == unverified(token)[1]["jti"]


@pytest.mark.rule("RFC 8725 §2.1, RFC 7515 §5.2: unsigned and foreign-signed JWTs are not found")
async def test_forged_jwts_are_not_found(res: Resources) -> None:
    token = await access_token(res, res.jwt_app)
    assert await lookup(res.services, unsigned(token)) is None
    assert await lookup(res.services, resigned(token)) is None


@pytest.mark.rule("RFC 9068 §4: a JWT of another issuer is not ours, even signed by our key")
async def test_jwt_of_another_issuer_is_not_found(res: Resources) -> None:
    token = await access_token(res, res.jwt_app)
    claims = unverified(token)[1]
    assert await lookup(res.services, await res.services.keyring.sign({**claims, "iss": "https://evil"})) is None


@pytest.mark.rule("RFC 9068 §4: a JWT past its exp is not found, though its row still lives")
async def test_jwt_past_exp_is_not_found(res: Resources) -> None:
    token = await access_token(res, res.jwt_app)
    claims = unverified(token)[1]
    expired = await res.services.keyring.sign({**claims, "exp": int(time.time()) - 1})
    assert await lookup(res.services, expired) is None


@pytest.mark.rule("tokens/lookup.py: a signed JWT naming an opaque token's row is not that token")
async def test_jwt_with_the_id_of_an_opaque_row_is_not_found(res: Resources) -> None:
    opaque = await lookup(res.services, await access_token(res, res.web))
    assert opaque is not None
    claims = unverified(await access_token(res, res.jwt_app))[1]
    assert await lookup(res.services, await res.services.keyring.sign({**claims, "jti": opaque.id})) is None


@pytest.mark.rule("tokens/lookup.py: a JWT with another subject than its row is not found")
async def test_jwt_with_another_subject_is_not_found(res: Resources) -> None:
    claims = unverified(await access_token(res, res.jwt_app))[1]
    assert await lookup(res.services, await res.services.keyring.sign({**claims, "sub": "someone-else"})) is None


@pytest.mark.rule("OIDC Core §2: an ID token has no jti and is not an access token")
async def test_id_token_is_not_found(res: Resources) -> None:
    issued = await issue_tokens(res, res.jwt_app)
    assert issued.id_token is not None
    assert await lookup(res.services, issued.id_token) is None


@pytest.mark.rule("tokens/lookup.py: garbage is None, never an exception")
@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(token=st.one_of(st.text(max_size=300), st.sampled_from([
    "", ".", "..", "a.b.c", "a..", "x" * 20000, "\ud800", "eyJhbGciOiJub25lIn0.e30.", "eyJ9.eyJ9.eyJ9",
    "eyJhbGciOiJSUzI1NiIsImtpZCI6MX0.e30.AAAA", "=====", "a b", "\x00"])))
async def test_garbage_is_none(res: Resources, token: str) -> None:
    assert await lookup(res.services, token) is None
