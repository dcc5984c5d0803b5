"""Signing and verifying through the key ring, on both engines: what it signs verifies with a plain
JOSE library and the served JWKS; what it accepts is only what its own published keys signed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import warnings
from datetime import timedelta
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from joserfc import jws
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, KeySet, RSAKey, import_key

from bergfried.errors import InvalidToken, ServerError
from bergfried.keys.generate import Algorithm, generate
from bergfried.keys.keyring import KeyRing
from bergfried.store import signing_keys
from bergfried.store import tables as t
from bergfried.store.tx import Store
from tests.keys.conftest import MovableClock, new_sealer

ALGORITHMS = [Algorithm.RS256, Algorithm.ES256, Algorithm.EDDSA]
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi")
DESCRIPTIONS = {"malformed token", "signature algorithm not allowed", "unsupported critical header",
                "token has no key id", "signature algorithm does not match the key", "invalid signature",
                "unknown signing key", "token payload is not JSON", "token payload is not a JSON object"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}.{b64(signature)}"


def verify_with_jwks(token: str, jwks: bytes, alg: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """An outside verifier: joserfc with the JWKS as served, nothing of Bergfried's."""
    key_set = KeySet.import_key_set(orjson.loads(jwks))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)  # joserfc flags "EdDSA" (RFC 9864)
        obj = jws.deserialize_compact(token, key_set, algorithms=[alg])
    return dict(obj.headers()), orjson.loads(obj.payload)


async def rejected(keyring: KeyRing, token: str) -> InvalidToken:
    with pytest.raises(InvalidToken) as caught:
        await keyring.verify(token)
    error = caught.value
    assert error.description in DESCRIPTIONS  # short, ours, never the library's text
    assert error.detail is None
    assert error.code == "invalid_token"
    return error


async def signed(keyring: KeyRing, algorithm: Algorithm = Algorithm.RS256) -> tuple[str, str]:
    await keyring.ensure_key(algorithm)
    token = await keyring.sign({"sub": "42", "iss": keyring.issuer})
    kid = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "==="))["kid"]
    return token, kid


@pytest.mark.rule("RFC 7515 §7.1, RFC 7517 §5")
@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_each_algorithm_signs_a_compact_jws_that_verifies_against_the_served_jwks(
        keyring: KeyRing, algorithm: Algorithm) -> None:
    await keyring.ensure_key(algorithm)
    claims = {"iss": keyring.issuer, "sub": "4711", "aud": ["client"], "exp": 2_000_000_000, "name": "Zoë"}
    token = await keyring.sign(claims)
    access_token = await keyring.sign({"sub": "4711"}, typ="at+jwt")
    jwks = await keyring.jwks_json()

    header, payload = verify_with_jwks(token, jwks, str(algorithm))
    assert payload == claims
    assert header["alg"] == str(algorithm)
    assert header["typ"] == "JWT"
    assert header["kid"] == orjson.loads(jwks)["keys"][0]["kid"]
    assert verify_with_jwks(access_token, jwks, str(algorithm))[0]["typ"] == "at+jwt"
    assert await keyring.current_algorithm() == str(algorithm)
    assert await keyring.verify(token) == claims


@pytest.mark.rule("RFC 7517 §5, RFC 7517 §4.5")
async def test_jwks_lists_each_published_key_with_use_kty_kid_alg_and_public_members_only(keyring: KeyRing,
                                                                                         store: Store) -> None:
    assert orjson.loads(await keyring.jwks_json()) == {"keys": []}
    _, kid = await signed(keyring, Algorithm.ES256)
    (entry,) = orjson.loads(await keyring.jwks_json())["keys"]
    assert list(entry) == ["use", "kty", "kid", "alg", "crv", "x", "y"]
    assert (entry["use"], entry["kty"], entry["kid"], entry["alg"]) == ("sig", "EC", kid, "ES256")
    assert entry["crv"] == "P-256"
    async with store.read() as conn:
        public = (await conn.execute(sa.select(t.signing_keys.c.public_jwk))).scalar_one()
    assert entry["x"] == public["x"]
    assert entry["y"] == public["y"]


@pytest.mark.rule("RFC 7517 §9.2")
@pytest.mark.parametrize("algorithm", [Algorithm.RS256, Algorithm.EDDSA])
async def test_private_key_is_never_in_clear_in_the_database_nor_in_the_jwks(keyring: KeyRing, store: Store,
                                                                            algorithm: Algorithm) -> None:
    await keyring.ensure_key(algorithm)
    await keyring.sign({"sub": "1"})
    async with store.read() as conn:
        row = (await conn.execute(sa.select(t.signing_keys))).one()
    private = orjson.loads(new_sealer().open(bytes(row.private_key_sealed), associated=row.kid.encode()))
    members = [private[name] for name in PRIVATE_MEMBERS if name in private]
    assert members  # the sealed half really is the private key
    stored = b"".join(str(value).encode() for value in row) + bytes(row.private_key_sealed)
    jwks = await keyring.jwks_json()
    for value in members:
        assert value.encode() not in stored
        assert value.encode() not in jwks
        assert base64.urlsafe_b64decode(value + "===") not in stored
    assert not set(PRIVATE_MEMBERS) & set(row.public_jwk)


@pytest.mark.rule("RFC 8725 §3.1 (alg none)")
async def test_a_token_with_alg_none_is_rejected(keyring: KeyRing) -> None:
    token, kid = await signed(keyring)
    claims = await keyring.verify(token)
    error = await rejected(keyring, compact({"alg": "none", "kid": kid, "typ": "JWT"}, claims))
    assert error.description == "signature algorithm not allowed"
    _, body, signature = token.split(".")
    none_header = b64(json.dumps({"alg": "none", "kid": kid}).encode())
    await rejected(keyring, f"{none_header}.{body}.{signature}")  # even with a real signature attached
    await rejected(keyring, compact({"alg": "None", "kid": kid}, claims))


@pytest.mark.rule("RFC 8725 §2.1 (key confusion: HMAC keyed with the public key)")
async def test_an_hs256_token_signed_with_the_public_key_as_secret_is_rejected(keyring: KeyRing) -> None:
    _, kid = await signed(keyring)
    (public,) = orjson.loads(await keyring.jwks_json())["keys"]
    pem = RSAKey.import_key(public).as_pem(private=False)
    secrets_tried = [pem, json.dumps(public).encode(), await keyring.jwks_json()]
    for secret in secrets_tried:
        header = b64(json.dumps({"alg": "HS256", "kid": kid, "typ": "JWT"}).encode())
        body = b64(json.dumps({"sub": "admin"}).encode())
        mac = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
        error = await rejected(keyring, f"{header}.{body}.{b64(mac)}")
        assert error.description == "signature algorithm not allowed"


@pytest.mark.rule("RFC 7515 §5.2")
async def test_a_changed_signature_or_payload_is_rejected(keyring: KeyRing) -> None:
    token, _ = await signed(keyring)
    head, body, signature = token.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    assert (await rejected(keyring, f"{head}.{body}.{flipped}")).description == "invalid signature"
    other_body = b64(json.dumps({"sub": "admin", "iss": keyring.issuer}).encode())
    assert (await rejected(keyring, f"{head}.{other_body}.{signature}")).description == "invalid signature"
    await rejected(keyring, f"{head}.{body}.")


@pytest.mark.rule("RFC 7515 §5.2")
async def test_a_token_signed_by_another_key_under_a_published_kid_is_rejected(keyring: KeyRing) -> None:
    _, kid = await signed(keyring, Algorithm.ES256)
    _, forged = generate(Algorithm.ES256, kid)
    token = jws.serialize_compact({"alg": "ES256", "kid": kid}, b'{"sub":"admin"}', ECKey.import_key(forged))
    assert (await rejected(keyring, token)).description == "invalid signature"


@pytest.mark.rule("RFC 7517 §4.4")
async def test_a_header_alg_other_than_the_keys_alg_is_rejected(keyring: KeyRing) -> None:
    _, kid = await signed(keyring, Algorithm.RS256)
    _, other = generate(Algorithm.ES256, kid)
    token = jws.serialize_compact({"alg": "ES256", "kid": kid}, b'{"sub":"admin"}', import_key(other))
    assert (await rejected(keyring, token)).description == "signature algorithm does not match the key"


@pytest.mark.rule("RFC 7517 §4.5")
async def test_a_token_with_an_unknown_or_missing_kid_is_rejected(keyring: KeyRing) -> None:
    await signed(keyring, Algorithm.ES256)
    _, stranger = generate(Algorithm.ES256, "no-such-kid")
    token = jws.serialize_compact({"alg": "ES256", "kid": "no-such-kid"}, b'{"sub":"1"}', import_key(stranger))
    assert (await rejected(keyring, token)).description == "unknown signing key"
    no_kid = jws.serialize_compact({"alg": "ES256"}, b'{"sub":"1"}', import_key(stranger))
    assert (await rejected(keyring, no_kid)).description == "token has no key id"


@pytest.mark.rule("RFC 7515 §4.1.11")
async def test_a_critical_header_is_rejected(keyring: KeyRing) -> None:
    _, kid = await signed(keyring)
    await rejected(keyring, compact({"alg": "RS256", "kid": kid, "crit": ["exp"], "exp": 1}, {"sub": "1"}))


@pytest.mark.rule("RFC 7515 §7.1")
@pytest.mark.parametrize("mangle", [
    pytest.param(lambda token: "", id="empty"),
    pytest.param(lambda token: "garbage", id="garbage"),
    pytest.param(lambda token: "a.b", id="two-parts"),
    pytest.param(lambda token: token + ".x", id="four-parts"),
    pytest.param(lambda token: token[: len(token) // 2], id="truncated"),
    pytest.param(lambda token: token.split(".", 1)[1], id="header-cut-off"),
    pytest.param(lambda token: "!!!." + token.split(".", 1)[1], id="header-not-base64"),
    pytest.param(lambda token: b64(b"[1]") + "." + token.split(".", 1)[1], id="header-not-an-object"),
    pytest.param(lambda token: "ä" + token, id="not-ascii"),
    pytest.param(lambda token: token.replace(".", "..", 1), id="extra-dot"),
])
async def test_a_malformed_token_is_rejected_without_detail(keyring: KeyRing, mangle: Any) -> None:
    token, _ = await signed(keyring)
    await rejected(keyring, mangle(token))


@pytest.mark.rule("RFC 7519 §7.2 step 10")
async def test_a_payload_that_is_not_a_json_object_is_rejected(keyring: KeyRing, store: Store) -> None:
    _, kid = await signed(keyring, Algorithm.ES256)
    async with store.read() as conn:
        key = import_key(await signing_keys.private_jwk(conn, new_sealer(), kid))
    for payload in (b"[1, 2]", b"not json"):
        token = jws.serialize_compact({"alg": "ES256", "kid": kid}, payload, key)
        assert (await rejected(keyring, token)).description.startswith("token payload is not")


async def test_verify_checks_the_signature_only_not_expiry_or_issuer(keyring: KeyRing) -> None:
    await keyring.ensure_key(Algorithm.RS256)
    claims = {"iss": "https://elsewhere.example", "exp": 1, "sub": "1"}
    assert await keyring.verify(await keyring.sign(claims)) == claims


async def test_without_a_signing_key_signing_is_a_server_error(keyring: KeyRing) -> None:
    with pytest.raises(ServerError) as caught:
        await keyring.sign({"sub": "1"})
    assert caught.value.status == 500
    assert caught.value.detail is not None
    assert "keys rotate" in caught.value.detail
    with pytest.raises(ServerError):
        await keyring.current_algorithm()


async def test_ensure_key_makes_a_key_only_when_none_signs(keyring: KeyRing, store: Store) -> None:
    await keyring.ensure_key(Algorithm.ES256)
    await keyring.ensure_key(Algorithm.RS256)
    async with store.read() as conn:
        rows = (await conn.execute(sa.select(t.signing_keys.c.algorithm))).scalars().all()
    assert rows == ["ES256"]
    assert await keyring.current_algorithm() == "ES256"


async def test_the_signing_key_is_read_from_the_database_at_most_once_per_cache_period(
        keyring: KeyRing, store: Store, clock: MovableClock) -> None:
    await keyring.ensure_key(Algorithm.RS256)
    first = await keyring.sign({"sub": "1"})
    async with store.write() as tx:  # behind the ring's back: the key row disappears
        await tx.conn.execute(t.signing_keys.delete())
    second = await keyring.sign({"sub": "1"})
    assert second.split(".")[0] == first.split(".")[0]  # served from memory
    clock.advance(timedelta(seconds=30))
    with pytest.raises(ServerError):
        await keyring.sign({"sub": "1"})
