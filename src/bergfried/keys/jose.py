"""The JOSE algorithm allow-list and the two primitives built on it: sign a claims set as a JWS in
compact form (RFC 7515 §7.1), and check one against a key the caller chose by `kid`.

- The verifier decides which algorithms it accepts; the token's header never does
  (RFC 8725 §3.1). `none` and every HMAC algorithm are missing from the table, so an HS256
  token "signed" with a public key as its secret cannot verify (RFC 8725 §2.1, key confusion).
- The header's `alg` must also be the algorithm the key was made for (RFC 7517 §4.4), not just
  one its key type can do.
- `crit` is refused: we understand no extension, so none may be critical (RFC 7515 §4.1.11);
  this also shuts out unencoded payloads (RFC 7797 §6).
- Failures say little: `InvalidToken` carries a short description and never the library's
  message, which could tell an attacker which check failed how.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwa import EdDSAAlgorithm, ESAlgorithm, JWSAlgModel, RSAAlgorithm
from joserfc.jwk import Key

from bergfried.errors import InvalidToken


class _EdDSA(EdDSAAlgorithm):
    # RFC 9864 deprecates the name "EdDSA" in favour of "Ed25519"; ZITADEL's web keys and the
    # clients that read its JWKS still use "EdDSA" (zitadel `key.go` `supportedWebKeyAlgs`).
    security_warning = ""  # falsy: no SecurityWarning on every use


# The allow-list: one row per algorithm a Bergfried signing key may use (keys/generate.py).
ALGORITHMS: dict[str, JWSAlgModel] = {
    "RS256": RSAAlgorithm(256, True),
    "ES256": ESAlgorithm("ES256", "P-256", 256, True),
    "EdDSA": _EdDSA(),
}


class _Registry(jws.JWSRegistry):
    """Knows only the allow-listed algorithms (the library's own table is process-wide)."""

    def __init__(self) -> None:
        super().__init__(algorithms=list(ALGORITHMS))
        self.algorithms = dict(ALGORITHMS)
        self.recommended = list(ALGORITHMS)


REGISTRY = _Registry()

# RFC 7518 §6.2.1, §6.3.1 and RFC 8037 §2: the public members of each key type. A JWKS entry is
# built from this table, never by deleting private members, so a new private member can't leak.
PUBLIC_MEMBERS: dict[str, tuple[str, ...]] = {
    "RSA": ("n", "e"),
    "EC": ("crv", "x", "y"),
    "OKP": ("crv", "x"),
}


def public_jwk(jwk: Mapping[str, Any]) -> dict[str, Any]:
    """A JWKS entry in ZITADEL's member order: `use`, `kty`, `kid`, `alg`, then the public key."""
    head = {"use": jwk.get("use", "sig"), "kty": jwk["kty"], "kid": jwk["kid"], "alg": jwk["alg"]}
    return {**head, **{name: jwk[name] for name in PUBLIC_MEMBERS[jwk["kty"]]}}


def sign(claims: Mapping[str, Any], key: Key, *, alg: str, kid: str, typ: str) -> str:
    header = {"alg": alg, "kid": kid, "typ": typ}
    return jws.serialize_compact(header, orjson.dumps(claims), key, registry=REGISTRY)


def parse(token: str) -> tuple[dict[str, Any], jws.CompactSignature]:
    """Split and decode without verifying; returns the protected header and the object."""
    try:
        obj = jws.extract_compact(token.encode("ascii"), registry=REGISTRY)
    except (JoseError, ValueError, TypeError, UnicodeError):
        raise InvalidToken("malformed token") from None
    header = dict(obj.headers())
    if header.get("alg") not in ALGORITHMS:
        raise InvalidToken("signature algorithm not allowed")
    if "crit" in header:
        raise InvalidToken("unsupported critical header")
    if not isinstance(header.get("kid"), str):
        raise InvalidToken("token has no key id")
    return header, obj


def check(obj: jws.CompactSignature, key: Key, key_alg: str) -> dict[str, Any]:
    """The claims of `obj` once its signature verifies with `key`, made for `key_alg`."""
    if obj.headers().get("alg") != key_alg:
        raise InvalidToken("signature algorithm does not match the key")
    try:
        valid = jws.validate_compact(obj, key, registry=REGISTRY)
    except (JoseError, ValueError, TypeError):
        valid = False
    if not valid:
        raise InvalidToken("invalid signature")
    try:
        claims = orjson.loads(obj.payload)
    except orjson.JSONDecodeError:
        raise InvalidToken("token payload is not JSON") from None
    if not isinstance(claims, dict):
        raise InvalidToken("token payload is not a JSON object")
    return claims
