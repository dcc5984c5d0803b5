"""Random and hostile parameters at authorize and token: never a 5xx, never a stack trace, and a
rejected request changes nothing in the database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bergfried.domain.apps import OIDCConfig
from bergfried.services import Services
from bergfried.store import tables as t
from bergfried.web.app import create_app
from tests.factories import make_org, make_project, make_web_app
from tests.fuzz.profile import examples
from tests.web.conftest import serving

NAMES = ["client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge",
         "code_challenge_method", "prompt", "max_age", "response_mode", "login_hint", "id_token_hint",
         "grant_type", "code", "code_verifier", "refresh_token", "client_secret", "client_assertion",
         "client_assertion_type"]
HOSTILE = st.sampled_from(["", "x" * 5000, "\x00", "%00", "../../etc/passwd", "<script>alert(1)</script>",
                           "openid", "code", "id_token token", "none login", "S256", "-1", "9" * 40,
                           "a\r\nSet-Cookie: x=1", "\ud800".encode("utf-8", "surrogatepass").decode("latin-1")])
VALUES = st.one_of(st.text(max_size=80), HOSTILE)
PARAMS = st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=8)
COUNTED = (t.auth_requests, t.authorization_codes, t.access_tokens, t.refresh_tokens, t.used_assertions)


async def _counts(services: Services) -> dict[str, int]:
    async with services.store.read() as conn:
        return {table.name: int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())
                for table in COUNTED}


@pytest.fixture
async def fuzz_client(services: Services) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    await services.keyring.ensure_key("RS256")
    project = await make_project(services.store, await make_org(services.store))
    app = await make_web_app(services.store, project, config=OIDCConfig(redirect_uris=("https://app.example/cb",)))
    async with serving(create_app(services.settings, prebuilt=services)) as client:
        yield client, app.client_id


@pytest.mark.rule("DEVELOPERS.md: bad input gets a specified error, never a 500")
@settings(max_examples=examples(60), deadline=None, suppress_health_check=list(HealthCheck))
@given(params=PARAMS, use_known_client=st.booleans(), post=st.booleans())
async def test_random_authorize_requests_never_fail_the_server(
    fuzz_client: tuple[httpx.AsyncClient, str], services: Services, params: dict[str, str],
    use_known_client: bool, post: bool,
) -> None:
    client, client_id = fuzz_client
    if use_known_client:
        params = {**params, "client_id": client_id}
    before = await _counts(services)
    if post:
        response = await client.post("/oauth/v2/authorize", data=params)
    else:
        response = await client.get("/oauth/v2/authorize", params=params)
    assert response.status_code < 500
    assert "Traceback" not in response.text
    after = await _counts(services)
    location = response.headers.get("location", "")
    if not location.startswith("/ui/login/login"):
        assert after == before  # rejected: nothing written
    assert after["authorization_codes"] == before["authorization_codes"]


@pytest.mark.rule("RFC 6749 §5.2: token errors are JSON with an error code; nothing is issued")
@settings(max_examples=examples(60), deadline=None, suppress_health_check=list(HealthCheck))
@given(params=PARAMS, basic=st.one_of(st.none(), st.text(max_size=40)))
async def test_random_token_requests_are_rejected_cleanly(
    fuzz_client: tuple[httpx.AsyncClient, str], services: Services, params: dict[str, str], basic: str | None,
) -> None:
    client, _ = fuzz_client
    headers = {"authorization": "Basic " + basic} if basic is not None else {}
    before = await _counts(services)
    try:
        response = await client.post("/oauth/v2/token", data=params, headers=headers)
    except (UnicodeEncodeError, httpx.LocalProtocolError):
        return  # the client library refuses to send such a header; nothing reached the server
    assert response.status_code in (400, 401, 413, 429)  # 429: the long profile reaches the rate limit
    assert response.json()["error"] in ("invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
                                        "unsupported_grant_type", "invalid_scope")
    assert await _counts(services) == before
