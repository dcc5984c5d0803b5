"""Application keys for private_key_jwt clients (spec/management-api.md §7 AddAppKey)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bergfried.domain.apps import ApiAuthMethodType, AuthMethodType, OIDCConfig
from bergfried.errors import NotFound, PreconditionFailed
from bergfried.store import app_keys, apps
from tests.factories import make_org, make_project, make_web_app


def _public_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.mark.rule("spec/management-api.md §7: keys only for apps with private key JWT authentication")
async def test_app_key_needs_private_key_jwt_auth_method(store):
    project = await make_project(store, await make_org(store))
    basic_app = await make_web_app(store, project)
    async with store.write() as tx:
        with pytest.raises(PreconditionFailed) as raised:
            await app_keys.add(tx, basic_app, _public_pem())
    assert raised.value.key == "Errors.Project.App.AuthMethodNoPrivateKeyJWT"


async def test_app_key_round_trip_expiry_and_removal(store):
    project = await make_project(store, await make_org(store))
    config = OIDCConfig(redirect_uris=("https://a.example/cb",), auth_method_type=AuthMethodType.PRIVATE_KEY_JWT)
    app = await make_web_app(store, project, config=config, secret_hash=None)
    pem = _public_pem()
    soon = datetime.now(UTC) + timedelta(hours=1)
    async with store.write() as tx:
        key, details = await app_keys.add(tx, app, pem, expires_at=soon)
    assert details.sequence > 0
    assert details.creation_date is not None
    async with store.read() as conn:
        assert await app_keys.public_key(conn, app.id, key.id, datetime.now(UTC)) == pem
        assert await app_keys.public_key(conn, app.id, key.id, soon + timedelta(seconds=1)) is None
        assert [k.id for k in await app_keys.list_for_app(conn, app.id)] == [key.id]
    async with store.write() as tx:
        await app_keys.remove(tx, app, key.id)
    async with store.write() as tx:
        with pytest.raises(NotFound):
            await app_keys.remove(tx, app, key.id)


async def test_api_app_with_private_key_jwt_accepts_keys(store):
    project = await make_project(store, await make_org(store))
    async with store.write() as tx:
        api_app, _ = await apps.add_api(tx, project, "api", ApiAuthMethodType.PRIVATE_KEY_JWT, secret_hash=None)
        key, _ = await app_keys.add(tx, api_app, _public_pem())
    assert key.type == "KEY_TYPE_JSON"
    assert key.expires_at.year == 9999
