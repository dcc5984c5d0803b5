"""Seed 000 ("User Metadata") built by `bergfried apply` from examples/seed-guide.yaml on a
freshly started instance, then the guide's code flow through the ASGI app and the hosted login:
the user logs in with the file's password, the web app redeems the code with the file's Basic
secret, and userinfo carries `contract` = `1234` as `MTIzNA`. The guide's optional last step
("User Info inside ID Token") is one changed line in the file."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
import yaml

from bergfried.apply import schema
from bergfried.apply.execute import Outcome, apply_world
from bergfried.services import Services
from bergfried.web.app import create_app
from tests.apply.conftest import rendered
from tests.login.conftest import callback_id, sign_in

EXAMPLE = Path(__file__).parents[2] / "examples" / "seed-guide.yaml"
PASSWORD = "Seed-Guide-Pass1"
LOGIN_NAME = "road.runner@acme.localhost"  # user name @ the generated domain of ACME on `localhost`
REDIRECT_URI = "http://localhost"
SCOPE = "openid profile urn:zitadel:iam:user:metadata"
METADATA = "urn:zitadel:iam:user:metadata"


async def apply_example(services: Services, text: str, tmp_path: Path) -> Outcome:
    return await apply_world(services, schema.parse(yaml.safe_load(text)), base_dir=EXAMPLE.parent,
                             environ={"ROAD_RUNNER_PASSWORD": PASSWORD}, secrets_dir=tmp_path / "secrets")


@pytest.fixture
async def web(started: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(started.settings, prebuilt=started)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def tokens(web: httpx.AsyncClient, client_id: str, secret: str) -> dict[str, Any]:
    """The guide: auth request with the metadata scope, login, code, token request with Basic."""
    web.cookies.clear()  # a new browser each time: the login page, not single sign-on
    authorize = await web.get("/oauth/v2/authorize", params={
        "client_id": client_id, "redirect_uri": REDIRECT_URI, "response_type": "code", "scope": SCOPE})
    assert authorize.status_code == 302, authorize.text
    request_id = parse_qs(urlsplit(authorize.headers["location"]).query)["authRequestID"][0]
    signed_in = await sign_in(web, request_id, LOGIN_NAME, PASSWORD)
    callback = await web.get("/oauth/v2/authorize/callback", params={"id": callback_id(signed_in)})
    assert callback.status_code == 302
    code = parse_qs(urlsplit(callback.headers["location"]).query)["code"][0]
    basic = base64.b64encode(f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()).decode()
    token = await web.post("/oauth/v2/token", headers={"authorization": f"Basic {basic}"}, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI})
    assert token.status_code == 200, token.text
    return dict(token.json())


def id_token_claims(id_token: str) -> dict[str, Any]:
    payload = id_token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


@pytest.mark.rule("seed 000: the guide's world from one file; userinfo carries contract=1234 as MTIzNA")
async def test_the_example_file_builds_the_seed_guide_world(started: Services, web: httpx.AsyncClient,
                                                            tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    outcome = await apply_example(started, text, tmp_path)
    assert len(outcome.actions) == 8
    (secret_file,) = outcome.secret_files
    credentials = json.loads(secret_file.read_text(encoding="utf-8"))
    client_id, secret = credentials["clientId"], credentials["clientSecret"]
    assert client_id.endswith("@docs-claims")  # the guide's CLIENT_ID="16604...@docs-claims"

    issued = await tokens(web, client_id, secret)
    userinfo = await web.get("/oidc/v1/userinfo", headers={"authorization": f"Bearer {issued['access_token']}"})
    assert userinfo.status_code == 200
    assert userinfo.json()["name"] == "Road Runner"
    assert userinfo.json()[METADATA] == {"contract": "MTIzNA"}
    assert "name" not in id_token_claims(issued["id_token"])  # "User Info inside ID Token" is off

    turned_on = text.replace("idTokenUserinfoAssertion: false", "idTokenUserinfoAssertion: true")
    changed = await apply_example(started, turned_on, tmp_path)
    assert rendered(changed) == [
        "~ change application ACME/docs-claims/docs-claims-web: idTokenUserinfoAssertion: false → true"]
    assert changed.secrets == []  # the app keeps its secret
    claims = id_token_claims((await tokens(web, client_id, secret))["id_token"])
    assert claims["name"] == "Road Runner"
    assert claims[METADATA] == {"contract": "MTIzNA"}
