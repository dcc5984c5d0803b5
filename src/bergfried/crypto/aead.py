"""AES-256-GCM encryption at rest (signing keys, webhook signing keys).

The ciphertext is `version byte || 12-byte nonce || ciphertext+tag`; the associated data binds
a blob to its row (for example the key id), so a ciphertext copied to another row fails to open.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bergfried.crypto.masterkey import MasterKey
from bergfried.errors import BergfriedError

_VERSION = b"\x01"


class DecryptionError(BergfriedError):
    """A blob did not open: wrong master key, or the data was changed."""


class Sealer:
    def __init__(self, master: MasterKey, purpose: str) -> None:
        self._aead = AESGCM(master.derive(f"bergfried/aead/{purpose}/v1"))

    def seal(self, plaintext: bytes, associated: bytes) -> bytes:
        nonce = os.urandom(12)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, associated)

    def open(self, blob: bytes, associated: bytes) -> bytes:
        if blob[:1] != _VERSION or len(blob) < 29:
            raise DecryptionError("unknown ciphertext format")
        try:
            return self._aead.decrypt(blob[1:13], blob[13:], associated)
        except InvalidTag as exc:
            raise DecryptionError("ciphertext does not open with this master key") from exc
