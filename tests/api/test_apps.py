"""Applications and application keys through the management API (spec/management-api.md §7), on
both databases; the seed guide's web app is made with plain HTTP and used at the token endpoint."""

from __future__ import annotations

import base64
import json

import pytest

from bergfried.store import app_keys
from bergfried.store import tables as t
from tests.api.calls import MGMT, add_project, expect_error, ok, project_owner
from tests.api.conftest import World
from tests.factories import events_after, latest_sequence
from tests.oidc import test_code_flow as flow
from tests.oidc.test_private_key_jwt import _redeem, assertion

# What the console sends for "web application, Code flow, redirect http://localhost" (seed 000).
SEED_WEB_APP = {
    "name": "web", "redirectUris": ["http://localhost"], "responseTypes": ["OIDC_RESPONSE_TYPE_CODE"],
    "grantTypes": ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE"], "appType": "OIDC_APP_TYPE_WEB",
    "authMethodType": "OIDC_AUTH_METHOD_TYPE_BASIC",
}


def code_world(world: World, client_id: str, secret: str) -> flow.World:
    return flow.World(world.client, world.services, client_id, secret, world.user.id, "")


async def redeem_with_basic(world: World, client_id: str, secret: str) -> int:
    cw = code_world(world, client_id, secret)
    return (await flow.redeem(cw, await flow.code_for(cw))).status_code


@pytest.mark.rule("seed 000: create a web application with Code flow and redirect http://localhost, note the "
                  "client secret, redeem the code at /oauth/v2/token with Basic auth")
async def test_seed_guide_web_app_made_over_http_works_at_the_token_endpoint(world: World) -> None:
    pid = await add_project(world, "docs-claims", roles=())
    before = await latest_sequence(world.services.store)
    added = ok(await world.call("POST", f"{MGMT}/projects/{pid}/apps/oidc", world.owner, json=SEED_WEB_APP))
    assert [e.event_type for e in await events_after(world.services.store, before)] == ["project.application.added"]
    assert added["clientId"] == f"{added['appId']}@docs-claims"  # seed 000: CLIENT_ID="16604...@docs-claims"
    assert len(added["clientSecret"]) >= 32
    assert "noneCompliant" not in added  # http for a web app is compliant
    assert added["details"]["resourceOwner"] == world.acme.id
    async with world.services.store.read() as conn:
        stored = (await conn.execute(t.applications.select().where(t.applications.c.id == added["appId"]))).one()
    assert stored.client_secret_hash != added["clientSecret"]  # only the keyed hash at rest
    assert world.services.hasher.verify(added["clientSecret"], stored.client_secret_hash)
    assert await redeem_with_basic(world, added["clientId"], added["clientSecret"]) == 200

    path = f"{MGMT}/projects/{pid}/apps/{added['appId']}/oidc_config/_generate_client_secret"
    fresh = ok(await world.call("POST", path, world.owner, json={}))["clientSecret"]
    assert fresh != added["clientSecret"]
    assert await redeem_with_basic(world, added["clientId"], added["clientSecret"]) == 401  # old secret is gone
    assert await redeem_with_basic(world, added["clientId"], fresh) == 200
    app = ok(await world.call("GET", f"{MGMT}/projects/{pid}/apps/{added['appId']}", world.owner))["app"]
    assert "clientSecret" not in json.dumps(app)

    cw = code_world(world, added["clientId"], fresh)
    code = await flow.code_for(cw)
    ok(await world.call("POST", f"{MGMT}/projects/{pid}/apps/{added['appId']}/_deactivate", world.owner, json={}))
    refused = await flow.redeem(cw, code)
    assert refused.status_code == 401  # a deactivated app no longer gets tokens
    assert refused.json()["error"] == "invalid_client"


@pytest.mark.rule("spec/management-api.md §7: OIDC app add/get/search/update/config/deactivate/remove; zero "
                  "values omitted; compliance problems answered; response types need their grant types")
async def test_oidc_app_lifecycle(world: World) -> None:
    pid = await add_project(world, "Portal", roles=())
    base = f"{MGMT}/projects/{pid}/apps"
    native = ok(await world.call("POST", base + "/oidc", world.owner, json={
        "name": "mobile", "redirectUris": ["com.example.app:/cb"], "appType": "OIDC_APP_TYPE_NATIVE",
        "authMethodType": "OIDC_AUTH_METHOD_TYPE_BASIC"}))
    assert native["noneCompliant"] is True
    assert native["complianceProblems"][0]["key"] == "Application.OIDC.V1.Native.AuthMethodType.NotNone"
    spa = ok(await world.call("POST", base + "/oidc", world.owner, json={
        "name": "spa", "redirectUris": ["https://app.example.com/cb"], "appType": "OIDC_APP_TYPE_USER_AGENT",
        "authMethodType": "OIDC_AUTH_METHOD_TYPE_NONE", "grantTypes": ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE",
                                                                      "OIDC_GRANT_TYPE_REFRESH_TOKEN"],
        "accessTokenType": "OIDC_TOKEN_TYPE_JWT", "clockSkew": "1s", "idTokenUserinfoAssertion": True,
        "additionalOrigins": ["https://other.example.com"], "backChannelLogoutUri": "https://app.example.com/bcl",
        "loginVersion": {"loginV2": {"baseUri": "https://login.example.com/ui/v2/login"}}}))
    assert "clientSecret" not in spa  # no secret for auth method NONE
    app = ok(await world.call("GET", f"{base}/{spa['appId']}", world.owner))["app"]
    assert app["state"] == "APP_STATE_ACTIVE"
    assert app["name"] == "spa"
    config = app["oidcConfig"]
    assert config["clientId"] == spa["clientId"]
    assert config["responseTypes"] == ["OIDC_RESPONSE_TYPE_CODE"]  # filled in when absent
    assert config["grantTypes"] == ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE", "OIDC_GRANT_TYPE_REFRESH_TOKEN"]
    assert config["appType"] == "OIDC_APP_TYPE_USER_AGENT"
    assert config["accessTokenType"] == "OIDC_TOKEN_TYPE_JWT"
    assert config["clockSkew"] == "1s"
    assert config["allowedOrigins"] == ["https://app.example.com", "https://other.example.com"]
    assert config["loginVersion"] == {"loginV2": {"baseUri": "https://login.example.com/ui/v2/login"}}
    assert config["backChannelLogoutUri"] == "https://app.example.com/bcl"
    assert "devMode" not in config  # false is omitted
    assert "version" not in config  # OIDC_VERSION_1_0 is the enum's zero

    listed = ok(await world.call("POST", base + "/_search", world.owner, json={
        "queries": [{"nameQuery": {"name": "sp", "method": "TEXT_QUERY_METHOD_STARTS_WITH"}}]}))
    assert [a["id"] for a in listed["result"]] == [spa["appId"]]
    expect_error(await world.call("POST", base + "/oidc", world.owner, json={"name": "spa"}), 409, 6,
                 "Application already exists")

    ok(await world.call("PUT", f"{base}/{spa['appId']}", world.owner, json={"name": "spa 2"}))
    expect_error(await world.call("PUT", f"{base}/{spa['appId']}", world.owner, json={"name": "spa 2"}),
                 400, 9, "No changes found")
    expect_error(await world.call("PUT", f"{base}/{spa['appId']}", world.owner, json={"name": "mobile"}),
                 409, 6, "Application already exists")
    new_config = {"redirectUris": ["https://app.example.com/cb2"], "appType": "OIDC_APP_TYPE_WEB",
                  "authMethodType": "OIDC_AUTH_METHOD_TYPE_POST", "devMode": True}
    ok(await world.call("PUT", f"{base}/{spa['appId']}/oidc_config", world.owner, json=new_config))
    config = ok(await world.call("GET", f"{base}/{spa['appId']}", world.owner))["app"]["oidcConfig"]
    assert config["redirectUris"] == ["https://app.example.com/cb2"]
    assert config["authMethodType"] == "OIDC_AUTH_METHOD_TYPE_POST"
    assert config["devMode"] is True
    assert config["clockSkew"] == "0s"
    expect_error(await world.call("PUT", f"{base}/{spa['appId']}/oidc_config", world.owner, json=new_config),
                 400, 9, "No changes found")
    expect_error(await world.call("PUT", f"{base}/{spa['appId']}/oidc_config", world.owner, json={
        "responseTypes": ["OIDC_RESPONSE_TYPE_ID_TOKEN"]}), 400, 3, "Application is invalid")
    expect_error(await world.call("PUT", f"{base}/{spa['appId']}/oidc_config", world.owner, json={
        "clockSkew": "6s"}), 400, 3, "Clock skew")
    expect_error(await world.call("PUT", f"{base}/{spa['appId']}/oidc_config", world.owner, json={
        "additionalOrigins": ["https://x.example.com/path"]}), 400, 3, "is not an origin")
    expect_error(await world.call("POST", base + "/oidc", world.owner, json={"name": ""}), 400, 3,
                 "invalid AddOIDCAppRequest.Name: value length must be between 1 and 200 runes")
    expect_error(await world.call("POST", base + "/oidc", world.owner, json={"name": "x", "appType": "NOPE"}),
                 400, 3, "invalid AddOIDCAppRequest.AppType")
    # a POST app may regenerate its secret; a NONE app may not
    ok(await world.call("POST", f"{base}/{spa['appId']}/oidc_config/_generate_client_secret", world.owner, json={}))

    ok(await world.call("POST", f"{base}/{spa['appId']}/_deactivate", world.owner, json={}))
    assert ok(await world.call("GET", f"{base}/{spa['appId']}", world.owner))["app"]["state"] == "APP_STATE_INACTIVE"
    expect_error(await world.call("POST", f"{base}/{spa['appId']}/_deactivate", world.owner, json={}), 400, 9)
    ok(await world.call("POST", f"{base}/{spa['appId']}/_reactivate", world.owner, json={}))
    expect_error(await world.call("POST", f"{base}/{spa['appId']}/_reactivate", world.owner, json={}), 400, 9)
    # ORG_OWNER has no project.app.delete (spec/roles-and-permissions.md §3); the instance owner has
    expect_error(await world.call("DELETE", f"{base}/{spa['appId']}", world.owner), 403, 7)
    ok(await world.call("DELETE", f"{base}/{spa['appId']}", world.iam_pat, org=world.acme.id))
    expect_error(await world.call("GET", f"{base}/{spa['appId']}", world.owner), 404, 5, "App not found")


@pytest.mark.rule("spec/management-api.md §7: API apps; app keys only for private_key_jwt, the key file "
                  "{type,keyId,key,appId,clientId} as keyDetails, usable for a client assertion")
async def test_api_apps_and_app_keys(world: World) -> None:
    pid = await add_project(world, "Portal", roles=())
    base = f"{MGMT}/projects/{pid}/apps"
    basic = ok(await world.call("POST", base + "/api", world.owner, json={"name": "api"}))
    assert basic["clientSecret"]
    jwt_api = ok(await world.call("POST", base + "/api", world.owner, json={
        "name": "api-jwt", "authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}))
    assert "clientSecret" not in jwt_api
    got = ok(await world.call("GET", f"{base}/{basic['appId']}", world.owner))["app"]
    assert got["apiConfig"] == {"clientId": basic["clientId"]}  # BASIC is the zero value
    expect_error(await world.call("POST", f"{base}/{jwt_api['appId']}/api_config/_generate_client_secret",
                                  world.owner, json={}), 400, 9, "does not use a secret")
    expect_error(await world.call("POST", f"{base}/{basic['appId']}/oidc_config/_generate_client_secret",
                                  world.owner, json={}), 400, 9, "not OIDC")
    ok(await world.call("POST", f"{base}/{basic['appId']}/api_config/_generate_client_secret", world.owner, json={}))
    ok(await world.call("PUT", f"{base}/{basic['appId']}/api_config", world.owner,
                        json={"authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}))
    expect_error(await world.call("PUT", f"{base}/{basic['appId']}/api_config", world.owner,
                                  json={"authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}), 400, 9)

    web = ok(await world.call("POST", base + "/oidc", world.owner, json={
        **SEED_WEB_APP, "authMethodType": "OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}))
    keys = f"{base}/{web['appId']}/keys"
    expect_error(await world.call("POST", f"{base}/{basic['appId']}/keys", world.owner, json={}), 400, 3,
                 "invalid AddAppKeyRequest.Type")
    secret_app = ok(await world.call("POST", base + "/oidc", world.owner, json={**SEED_WEB_APP, "name": "basic"}))
    expect_error(await world.call("POST", f"{base}/{secret_app['appId']}/keys", world.owner,
                                  json={"type": "KEY_TYPE_JSON"}), 400, 9, "private key JWT")
    expect_error(await world.call("POST", keys, world.owner, json={
        "type": "KEY_TYPE_JSON", "expirationDate": "2001-01-01T00:00:00Z"}), 400, 3, "expiration date")
    added = ok(await world.call("POST", keys, world.owner, json={"type": "KEY_TYPE_JSON"}))
    key_file = json.loads(base64.b64decode(added["keyDetails"]))
    assert key_file["type"] == "application"
    assert key_file["keyId"] == added["id"]
    assert key_file["appId"] == web["appId"]
    assert key_file["clientId"] == web["clientId"]
    assert key_file["key"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    async with world.services.store.read() as conn:
        public = await app_keys.public_key(conn, web["appId"], added["id"], world.services.store.clock())
    assert public is not None
    assert "PRIVATE" not in public
    cw = code_world(world, web["clientId"], "")
    redeemed = await _redeem(world.client, await flow.code_for(cw), assertion(key_file, world.services.settings.issuer))
    assert redeemed.status_code == 200, redeemed.text

    listed = ok(await world.call("POST", keys + "/_search", world.owner, json={}))
    assert [k["id"] for k in listed["result"]] == [added["id"]]
    assert listed["result"][0]["type"] == "KEY_TYPE_JSON"
    assert listed["result"][0]["expirationDate"] == "9999-12-31T23:59:59Z"
    one = ok(await world.call("GET", f"{keys}/{added['id']}", world.owner))["key"]
    assert one["id"] == added["id"]
    ok(await world.call("DELETE", f"{keys}/{added['id']}", world.owner))
    expect_error(await world.call("GET", f"{keys}/{added['id']}", world.owner), 404, 5, "Key not found")
    expect_error(await world.call("DELETE", f"{keys}/{added['id']}", world.owner), 404, 5)


@pytest.mark.rule("spec/management-api.md §2, §9: 401 without token, 403 without the permission, 404 for another "
                  "organization's ORG_OWNER; PROJECT_OWNER may manage apps of its project only")
async def test_who_may_call_app_endpoints(world: World) -> None:
    pid = await add_project(world, "Portal", roles=())
    other_pid = await add_project(world, "Elsewhere", roles=())
    app = ok(await world.call("POST", f"{MGMT}/projects/{pid}/apps/api", world.owner, json={"name": "api"}))
    base = f"{MGMT}/projects/{pid}/apps"
    calls = [
        ("POST", base + "/oidc", SEED_WEB_APP), ("POST", base + "/api", {"name": "a"}),
        ("POST", base + "/_search", {}), ("GET", f"{base}/{app['appId']}", None),
        ("PUT", f"{base}/{app['appId']}", {"name": "b"}), ("POST", f"{base}/{app['appId']}/_deactivate", {}),
        ("POST", f"{base}/{app['appId']}/api_config/_generate_client_secret", {}),
        ("POST", f"{base}/{app['appId']}/keys/_search", {}),
    ]
    for method, path, body in calls:
        expect_error(await world.call(method, path, json=body), 401, 16)
        expect_error(await world.call(method, path, world.weak, json=body), 403, 7)
        expect_error(await world.call(method, path, world.other_owner, json=body), 404, 5, "not found")
        expect_error(await world.call(method, path, world.other_owner, json=body, org=world.acme.id), 404, 5,
                     "membership not found")
    expect_error(await world.call("GET", f"{MGMT}/projects/{other_pid}/apps/{app['appId']}", world.owner), 404, 5,
                 "App not found")  # the app belongs to another project

    owner = await project_owner(world, pid)
    ok(await world.call("POST", base + "/api", owner, json={"name": "by the project owner"}))
    ok(await world.call("DELETE", f"{base}/{app['appId']}", owner))  # PROJECT_OWNER has project.app.delete
    expect_error(await world.call("POST", f"{MGMT}/projects/{other_pid}/apps/api", owner, json={"name": "x"}), 403, 7)


@pytest.mark.rule("ZITADEL's OIDC client query: an active app of an active project; a deactivated project's "
                  "apps get no tokens and no login, until it is reactivated")
async def test_a_deactivated_projects_app_gets_no_tokens(world: World) -> None:
    pid = await add_project(world, "paused", roles=())
    added = ok(await world.call("POST", f"{MGMT}/projects/{pid}/apps/oidc", world.owner, json=SEED_WEB_APP))
    cw = code_world(world, added["clientId"], added["clientSecret"])
    code = await flow.code_for(cw)
    ok(await world.call("POST", f"{MGMT}/projects/{pid}/_deactivate", world.owner, json={}))
    refused = await flow.redeem(cw, code)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    page = await world.client.get("/oauth/v2/authorize", params={
        "client_id": added["clientId"], "redirect_uri": "http://localhost", "response_type": "code",
        "scope": "openid"})
    assert page.status_code == 400  # shown as a page: never redirected for an unknown or inactive client
    assert "location" not in page.headers
    ok(await world.call("POST", f"{MGMT}/projects/{pid}/_reactivate", world.owner, json={}))
    assert await redeem_with_basic(world, added["clientId"], added["clientSecret"]) == 200
