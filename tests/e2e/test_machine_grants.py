"""panva's openid-client drives the machine users' grants on a live server: client_credentials
(RFC 6749 §4.4) and the JWT profile grant (RFC 7523 §2.1), with a machine user, secret and key
file made through the management API (spec/other-grants.md §1, §2)."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.e2e.test_seed_guide import Demo, demo  # noqa: F401  (the live demo server fixture)

NODE_MACHINE = Path(__file__).with_name("node") / "machine.mjs"


def _node(*args: str) -> dict[str, Any]:
    result = subprocess.run(["node", str(NODE_MACHINE), *args], capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


@pytest.mark.rule("RFC 6749 §4.4, RFC 7523 §2.1; spec/other-grants.md §1, §2: openid-client gets tokens for a "
                  "machine user with its secret and with its key file; userinfo answers for them")
async def test_openid_client_machine_grants(demo: Demo) -> None:  # noqa: F811
    headers = {"authorization": f"Bearer {demo.pat}"}
    async with httpx.AsyncClient(base_url=demo.issuer, headers=headers) as api:
        added = await api.post("/management/v1/users/machine", json={"userName": "e2e-robot", "name": "Robot"})
        assert added.status_code == 200, added.text
        user_id = added.json()["userId"]
        generated = (await api.put(f"/management/v1/users/{user_id}/secret")).json()
        keys = await api.post(f"/management/v1/users/{user_id}/keys", json={"type": "KEY_TYPE_JSON"})
        key = json.loads(base64.b64decode(keys.json()["keyDetails"]))
    by_secret = await asyncio.to_thread(_node, "client_credentials", demo.issuer, generated["clientId"],
                                        generated["clientSecret"], "openid profile")
    now = int(time.time())
    assertion = jwt.encode({"alg": "RS256", "kid": key["keyId"]},
                           {"iss": user_id, "sub": user_id, "aud": demo.issuer, "iat": now, "exp": now + 300,
                            "jti": uuid.uuid4().hex}, RSAKey.import_key(key["key"]))
    by_key = await asyncio.to_thread(_node, "jwt-bearer", demo.issuer, user_id, assertion, "openid profile")
    async with httpx.AsyncClient(base_url=demo.issuer) as plain:
        for tokens in (by_secret, by_key):
            assert tokens["token_type"].lower() == "bearer"
            assert "refresh_token" not in tokens
            info = await plain.get("/oidc/v1/userinfo", headers={"authorization": f"Bearer {tokens['access_token']}"})
            assert info.status_code == 200, info.text
            assert info.json()["sub"] == user_id
