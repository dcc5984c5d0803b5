"""The `ZITADEL-Signature` header (spec/actions.md §3.3) against a hand-computed HMAC."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from bergfried.actions.v2 import signing


@pytest.mark.rule("spec/actions.md §3.3: t=<unix>,v1=<hex HMAC-SHA256 of \"<t>.<body>\"> keyed by the signing key")
def test_header_and_verify() -> None:
    body = b'{"function":"function/preuserinfo"}'
    expected = hmac.new(b"key", b"1700000000." + body, hashlib.sha256).hexdigest()
    header = signing.header(1700000000, body, "key")
    assert header == f"t=1700000000,v1={expected}"
    assert signing.verify(header, body, "key", now=1700000000 + 300)
    assert not signing.verify(header, body, "key", now=1700000000 + 301)  # older than the tolerance
    assert not signing.verify(header, body + b" ", "key", now=1700000000)
    assert not signing.verify(header, body, "other", now=1700000000)
    assert not signing.verify("t=x,v1=00", body, "key", now=1700000000)
    assert not signing.verify("", body, "key", now=1700000000)
