"""Proof Key for Code Exchange (RFC 7636).

- §4.1: a verifier is 43–128 characters of [A-Za-z0-9-._~].
- §4.2, §4.6: S256 compares BASE64URL(SHA256(verifier)) with the stored challenge, in constant time.
- `plain` is accepted where a client registered it at authorize (ZITADEL verifies it too), never
  chosen by default; a challenge without a method means `plain` (§4.3).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_CHALLENGE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
METHODS = ("S256", "plain")


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def valid_challenge(challenge: str) -> bool:
    return bool(_CHALLENGE.fullmatch(challenge))


def verify(verifier: str, challenge: str, method: str | None) -> bool:
    if not _VERIFIER.fullmatch(verifier):
        return False
    computed = s256(verifier) if (method or "plain") == "S256" else verifier
    return hmac.compare_digest(computed.encode(), challenge.encode())
