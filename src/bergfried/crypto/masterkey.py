"""The master key and the purpose keys derived from it.

One secret from configuration (`BERGFRIED_MASTERKEY`, or a file made on first start) yields a
separate 256-bit key per purpose through HKDF, so a key used to hash secrets is never the key
that encrypts signing keys.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bergfried.errors import ConfigError

MASTERKEY_LENGTH = 32  # ZITADEL's masterkey is 32 characters as well


@dataclass(frozen=True, slots=True)
class MasterKey:
    secret: bytes

    def __repr__(self) -> str:  # never let the key reach a log through repr()
        return "MasterKey(***)"

    def derive(self, purpose: str) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(self.secret)


def from_text(text: str, *, name: str = "BERGFRIED_MASTERKEY") -> MasterKey:
    if len(text) != MASTERKEY_LENGTH:
        raise ConfigError(f"{name} must be exactly {MASTERKEY_LENGTH} characters long")
    return MasterKey(text.encode("utf-8"))


def load_or_create(path: Path) -> tuple[MasterKey, bool]:
    """Read the key file, or create it with mode 0600. Returns the key and whether it is new."""
    if path.exists():
        return from_text(path.read_text(encoding="utf-8").strip(), name=f"master key file {path}"), False
    path.parent.mkdir(parents=True, exist_ok=True)
    text = secrets.token_urlsafe(24)  # 32 characters
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
    return from_text(text), True
