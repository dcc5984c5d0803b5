"""The JWT profile grant (`urn:ietf:params:oauth:grant-type:jwt-bearer`, RFC 7523 §2.1, §3) with a
machine key in ZITADEL's JSON key file format (spec/other-grants.md §2)."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from authlib.integrations.httpx_client import AsyncAssertionClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc import jwt
from joserfc.jwk import RSAKey

from bergfried.store import tables as t
from bergfried.web.app import create_app
from tests.conftest import Database
from tests.oidc.conftest import Resources, basic, bearer, other_process, unverified
from tests.oidc.machines import INTROSPECT, JWT_BEARER, TOKEN, USERINFO, Machine, key_file, make_machine
from tests.web.conftest import serving


def _aud(res: Resources) -> str:
    return f"urn:zitadel:iam:org:project:id:{res.api.project_id}:aud"


def assertion(res: Resources, key: dict[str, Any], *, header: dict[str, Any] | None = None,
              private_pem: str | None = None, **changes: Any) -> str:
    """An assertion as zitadel/oidc's `NewJWTProfileAssertionFromFileData` makes it."""
    now = int(res.clock().timestamp())
    claims: dict[str, Any] = {"iss": key["userId"], "sub": key["userId"], "aud": [res.services.settings.issuer],
                              "iat": now, "exp": now + 600, "jti": uuid.uuid4().hex}
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode({"alg": "RS256", "kid": key["keyId"], **(header or {})}, claims,
                      RSAKey.import_key(private_pem or key["key"]))


async def redeem(res: Resources, signed: str, scope: str = "openid") -> httpx.Response:
    return await res.client.post(TOKEN, data={"grant_type": JWT_BEARER, "assertion": signed, "scope": scope})


async def keyed(res: Resources, username: str = "svc", *, jwt: bool = False) -> tuple[Machine, dict[str, Any]]:
    machine = await make_machine(res, username, jwt=jwt)
    return machine, await key_file(res, machine)


@pytest.mark.rule("RFC 7523 §2.1; spec/other-grants.md §2: Authlib's assertion client with ZITADEL's key file "
                  "gets an access token for the machine user; audience from the …:aud scope; no refresh token")
async def test_jwt_profile_with_authlib(res: Resources) -> None:
    machine, key = await keyed(res)
    issuer = res.services.settings.issuer
    async with AsyncAssertionClient(TOKEN, issuer=key["userId"], subject=key["userId"], audience=issuer,
                                    key=key["key"], header={"alg": "RS256", "kid": key["keyId"]},
                                    scope=f"openid offline_access {_aud(res)}", transport=res.client._transport,
                                    base_url="http://testserver") as client:
        token = await client.refresh_token()
    assert token["token_type"] == "Bearer"
    assert "refresh_token" not in token
    introspected = (await res.client.post(INTROSPECT, data={"token": token["access_token"]},
                                          headers=basic(res.api.client_id, res.api_secret))).json()
    assert introspected["active"] is True
    assert introspected["sub"] == machine.id
    assert introspected["client_id"] == machine.username
    info = await res.client.get(USERINFO, headers=bearer(token["access_token"]))
    assert info.status_code == 200
    assert info.json()["sub"] == machine.id


@pytest.mark.rule("spec/other-grants.md §2: the token type is the machine user's accessTokenType; aud may be a "
                  "string (RFC 7519 §4.1.3)")
async def test_jwt_access_token_type(res: Resources) -> None:
    machine, key = await keyed(res, jwt=True)
    answer = await redeem(res, assertion(res, key, aud=res.services.settings.issuer), f"openid {_aud(res)}")
    assert answer.status_code == 200, answer.text
    _, claims = unverified(answer.json()["access_token"])
    assert claims["sub"] == machine.id
    assert claims["client_id"] == machine.username
    assert res.api.project_id in claims["aud"]


@pytest.mark.rule("RFC 7523 §3 item 7: a jti is used once; two concurrent redemptions of one assertion, by two "
                  "processes sharing the database, end with exactly one success (the other invalid_grant)")
async def test_two_redemptions_of_one_jti(res: Resources, database: Database, tmp_path: Path) -> None:
    machine, key = await keyed(res)
    signed = assertion(res, key)
    other, engine = await other_process(database, tmp_path)
    try:
        async with serving(create_app(other.settings, prebuilt=other)) as other_client:
            form = {"grant_type": JWT_BEARER, "assertion": signed, "scope": "openid"}
            answers = await asyncio.gather(res.client.post(TOKEN, data=form), other_client.post(TOKEN, data=form))
    finally:
        await engine.dispose()
    assert sorted(a.status_code for a in answers) == [200, 400], [a.text for a in answers]
    failed = next(a for a in answers if a.status_code == 400)
    assert failed.json()["error"] == "invalid_grant"
    async with res.services.store.read() as conn:
        issued = (await conn.execute(sa.select(sa.func.count()).select_from(t.access_tokens)
                                     .where(t.access_tokens.c.user_id == machine.id))).scalar_one()
    assert issued == 1  # the loser's transaction left nothing behind
    again = await redeem(res, signed)
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    fresh = await redeem(res, assertion(res, key))  # another jti from the same key still works
    assert fresh.status_code == 200


@pytest.mark.rule("spec/other-grants.md §2: missing assertion → invalid_request 'assertion missing'")
async def test_missing_assertion(res: Resources) -> None:
    answer = await res.client.post(TOKEN, data={"grant_type": JWT_BEARER})
    assert (answer.status_code, answer.json()["error"], answer.json()["error_description"]) == (
        400, "invalid_request", "assertion missing")


@pytest.mark.rule("RFC 7523 §3, §3.1: every rejected assertion is 400 invalid_grant (ZITADEL's 500 for malformed "
                  "ones is zitadel#12692): iss/sub, aud, exp, iat (1 s skew, 1 h age), jti, kid, signature, alg")
async def test_rejections(res: Resources) -> None:
    machine, key = await keyed(res)
    _, other_key = await keyed(res, "other")
    now = int(time.time())
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()).decode()
    cases = {
        "garbage": "not-a-jwt",
        "three garbage parts": "a.b.c",
        "sub is not iss": assertion(res, key, sub=other_key["userId"]),
        "iss is another user": assertion(res, key, iss=other_key["userId"], sub=other_key["userId"]),
        "aud without the issuer": assertion(res, key, aud=["https://elsewhere.example.com"]),
        "aud missing": assertion(res, key, aud=None),
        "expired": assertion(res, key, iat=now - 120, exp=now - 2),
        "exp missing": assertion(res, key, exp=None),
        "iat in the future": assertion(res, key, iat=now + 30),
        "iat older than 1 h": assertion(res, key, iat=now - 3700, exp=now + 600),
        "jti missing": assertion(res, key, jti=None),
        "unknown kid": assertion(res, key, header={"kid": "12345"}),
        "signed by another key": assertion(res, key, private_pem=stranger),
        "HS256": jwt.encode({"alg": "HS256", "kid": key["keyId"]},
                            {"iss": machine.id, "sub": machine.id, "aud": [res.services.settings.issuer],
                             "iat": now, "exp": now + 60, "jti": "x"}, jwt_secret()),
    }
    for name, signed in cases.items():
        answer = await redeem(res, signed)
        assert (answer.status_code, answer.json()["error"]) == (400, "invalid_grant"), name


def jwt_secret() -> Any:
    from joserfc.jwk import OctKey

    return OctKey.import_key("a-shared-secret-of-enough-length-for-hs256")


@pytest.mark.rule("spec/other-grants.md §2: the key must be an active key of an active user: a removed key and a "
                  "deactivated user are invalid_grant")
async def test_removed_key_and_inactive_user(res: Resources) -> None:
    machine, key = await keyed(res)
    removed = await res.client.delete(f"/management/v1/users/{machine.id}/keys/{key['keyId']}",
                                      headers=machine.headers())
    assert removed.status_code == 200
    answer = await redeem(res, assertion(res, key))
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_grant")
    machine2, key2 = await keyed(res, "svc2")
    deactivated = await res.client.post(f"/management/v1/users/{machine2.id}/_deactivate", json={},
                                        headers=machine2.headers())
    assert deactivated.status_code == 200
    answer = await redeem(res, assertion(res, key2))
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_grant")


@pytest.mark.rule("spec/other-grants.md §2: the key must not be expired (the key file's expirationDate)")
async def test_expired_key(res: Resources) -> None:
    machine = await make_machine(res)
    soon = (res.clock() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    added = await res.client.post(f"/management/v1/users/{machine.id}/keys",
                                  json={"type": "KEY_TYPE_JSON", "expirationDate": soon}, headers=machine.headers())
    assert added.status_code == 200, added.text
    key = json.loads(base64.b64decode(added.json()["keyDetails"]))
    assert (await redeem(res, assertion(res, key))).status_code == 200
    res.clock.advance(timedelta(hours=2))
    answer = await redeem(res, assertion(res, key))
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_grant")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


CLAIM_VALUES = st.one_of(st.none(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20),
                         st.lists(st.text(max_size=10), max_size=3), st.booleans())
HOSTILE_ASSERTIONS = st.one_of(
    st.text(max_size=200),
    st.builds(lambda h, c: f"{_b64(json.dumps(h).encode())}.{_b64(json.dumps(c).encode())}.c2ln",
              st.dictionaries(st.sampled_from(["alg", "kid", "typ"]), CLAIM_VALUES, max_size=3),
              st.dictionaries(st.sampled_from(["iss", "sub", "aud", "exp", "iat", "jti"]), CLAIM_VALUES, max_size=6)),
)


@pytest.mark.rule("RFC 7523 §3.1: any malformed assertion is 400 invalid_grant (never ZITADEL's 500, "
                  "zitadel#12692), and nothing is written")
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(hostile=HOSTILE_ASSERTIONS, grant=st.sampled_from([JWT_BEARER, "client_credentials"]))
async def test_hostile_input_is_rejected_cleanly(res: Resources, hostile: str, grant: str) -> None:
    form = {"grant_type": grant, "assertion": hostile, "client_id": hostile[:60] or "x", "client_secret": hostile}
    try:
        answer = await res.client.post(TOKEN, data=form)
    except UnicodeEncodeError:
        return
    assert answer.status_code in (400, 401), answer.text
    assert answer.json()["error"] in ("invalid_request", "invalid_grant", "invalid_client")
    if grant == JWT_BEARER and hostile and "\x00" not in hostile:  # a NUL in any field: invalid_request first
        assert answer.json()["error"] == "invalid_grant"
    async with res.services.store.read() as conn:
        written = (await conn.execute(sa.select(sa.func.count()).select_from(t.access_tokens))).scalar_one()
    assert written == 0


@pytest.mark.rule("spec/other-grants.md §2: the JWT profile grant has role assertion on: a JWT access token "
                  "carries the roles of the …:aud project asked for by role scopes")
async def test_role_assertion_in_jwt_access_token(res: Resources) -> None:
    from bergfried.store import grants, projects, users

    machine, key = await keyed(res, jwt=True)
    async with res.services.store.write() as tx:
        user = await users.get(tx.conn, machine.id)
        await grants.add_user_grant(tx, user, await projects.get(tx.conn, res.api.project_id), ["admin"])
    scope = f"openid urn:zitadel:iam:org:project:role:admin {_aud(res)}"
    answer = await redeem(res, assertion(res, key), scope)
    assert answer.status_code == 200, answer.text
    _, claims = unverified(answer.json()["access_token"])
    assert set(claims[f"urn:zitadel:iam:org:project:{res.api.project_id}:roles"]) == {"admin"}
    assert "urn:zitadel:iam:org:project:roles" not in claims
