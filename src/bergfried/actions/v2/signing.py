"""The `ZITADEL-Signature` header on every call to a target (spec/actions.md §3.3, ZITADEL
`pkg/actions/signing.go`): `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, keyed by the
target's signing key. The timestamp inside the MAC lets a receiver refuse replays older than its
tolerance (ZITADEL's own verifier allows 300 s)."""

from __future__ import annotations

import hashlib
import hmac

HEADER = "ZITADEL-Signature"
TOLERANCE_SECONDS = 300


def _mac(timestamp: int, body: bytes, key: str) -> str:
    return hmac.new(key.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def header(timestamp: int, body: bytes, key: str) -> str:
    return f"t={timestamp},v1={_mac(timestamp, body, key)}"


def verify(value: str, body: bytes, key: str, *, now: int, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """A receiver's check (what a target runs; used by our tests and usable by Python targets)."""
    parts = dict(item.split("=", 1) for item in value.split(",") if "=" in item)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(parts.get("v1", ""), _mac(timestamp, body, key))
