"""Keyed hashes of generated secrets (client secrets, personal access tokens, codes, tokens).

These secrets are 256-bit random strings, so a slow hash buys nothing: HMAC-SHA256 with a key
derived from the master key is enough against a stolen database, and it keeps the token
endpoint fast. Compare with `hmac.compare_digest` only.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from bergfried.crypto.masterkey import MasterKey


class SecretHasher:
    def __init__(self, master: MasterKey) -> None:
        self._key = master.derive("bergfried/secret-hash/v1")

    def hash(self, secret: str) -> str:
        return hmac.new(self._key, secret.encode("utf-8"), hashlib.sha256).hexdigest()

    def verify(self, secret: str, stored_hash: str) -> bool:
        return hmac.compare_digest(self.hash(secret), stored_hash)


def generate_secret(nbytes: int = 32) -> str:
    """A URL-safe random secret of `nbytes` bytes of entropy."""
    return secrets.token_urlsafe(nbytes)
