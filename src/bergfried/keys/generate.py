"""Key generation for the algorithms a signing key may use (RS256 by default)."""

from __future__ import annotations

import enum
from typing import Any

from joserfc.jwk import ECKey, OKPKey, RSAKey


class Algorithm(enum.StrEnum):
    RS256 = "RS256"
    ES256 = "ES256"
    EDDSA = "EdDSA"


def generate(algorithm: Algorithm, kid: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new key pair as (public JWK, private JWK), both carrying `kid`, `alg` and `use`."""
    key: RSAKey | ECKey | OKPKey
    if algorithm == Algorithm.RS256:
        key = RSAKey.generate_key(2048, auto_kid=False)
    elif algorithm == Algorithm.ES256:
        key = ECKey.generate_key("P-256", auto_kid=False)
    else:
        key = OKPKey.generate_key("Ed25519", auto_kid=False)
    extra = {"kid": kid, "alg": str(algorithm), "use": "sig"}
    public = {**key.as_dict(private=False), **extra}
    private = {**key.as_dict(private=True), **extra}
    return public, private
