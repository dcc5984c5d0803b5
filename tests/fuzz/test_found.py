"""Bugs the fuzz tests found, each pinned by its smallest example."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.applications import Starlette

from bergfried.store import auth_requests
from bergfried.web.app import create_app
from tests.fuzz.hostile import assert_safe, raw_request
from tests.login.conftest import World
from tests.oidc.conftest import Resources


@pytest.fixture
async def app(res: Resources) -> AsyncIterator[Starlette]:
    built = create_app(res.services.settings, prebuilt=res.services)
    async with built.router.lifespan_context(built):
        yield built


def _authorize(res: Resources, max_age: str) -> dict[str, str]:
    return {"client_id": res.web.client_id, "redirect_uri": "https://app.example.com/cb", "response_type": "code",
            "scope": "openid", "state": "s", "max_age": max_age}


@pytest.mark.rule("OIDC Core §3.1.2.1 max_age: a value past 32 bits was a 500 (integer overflow); now capped")
async def test_a_huge_max_age_is_capped_not_a_server_error(res: Resources) -> None:
    response = await res.client.get("/oauth/v2/authorize", params=_authorize(res, "9" * 40))
    assert_safe(response)
    assert response.status_code == 302
    request_id = parse_qs(urlsplit(response.headers["location"]).query)["authRequestID"][0]
    async with res.services.store.read() as conn:
        stored = await auth_requests.get(conn, request_id)
    assert stored is not None
    assert stored.max_age == 2**31 - 1


@pytest.mark.rule("OIDC Core §3.1.2.1 max_age: digits that are not ASCII ('²', '١') are invalid_request")
async def test_a_max_age_of_other_digits_is_invalid_request(res: Resources) -> None:
    for value in ("²", "١٢", "-1", "1.5"):
        response = await res.client.get("/oauth/v2/authorize", params=_authorize(res, value))
        assert_safe(response)
        assert response.status_code == 302
        assert parse_qs(urlsplit(response.headers["location"]).query)["error"] == ["invalid_request"], value


@pytest.mark.rule("RFC 9110 §8.6: a Content-Length of other digits ('²') was a 500; now refused like a bad length")
async def test_a_content_length_of_other_digits_is_invalid_request(app: Starlette) -> None:
    response = await raw_request(app, "POST", "/oauth/v2/token", headers=[
        (b"content-type", b"application/x-www-form-urlencoded"), (b"content-length", "²".encode("latin-1"))],
        body=b"grant_type=client_credentials")
    assert_safe(response)
    assert response.status_code == 413  # what any unusable Content-Length gets (web/forms.py)
    assert response.json()["error"] == "invalid_request"


@pytest.mark.rule("PostgreSQL refuses NUL in text: an auth request id with NUL was a 500 at the login pages")
async def test_a_nul_in_an_auth_request_id_is_the_not_found_page(world: World) -> None:
    for path in ("/ui/login/login", "/ui/login/loginname", "/ui/login/device/action"):
        response = await world.client.get(path, params={"authRequestID": "\u202e\x00\ufeff"})
        assert_safe(response)
        assert response.status_code == 400, path
    callback = await world.client.get("/oauth/v2/authorize/callback", params={"id": "\x00"})
    assert_safe(callback)
    assert callback.status_code == 400


@pytest.mark.rule("auth_requests columns: an invalid response_mode is ignored and not stored (was a 500 on PostgreSQL)")
async def test_an_invalid_response_mode_is_ignored_and_not_stored(res: Resources) -> None:
    params = {**_authorize(res, ""), "response_mode": "../../../etc/passwd"}
    response = await res.client.get("/oauth/v2/authorize", params=params)
    assert_safe(response)
    assert response.status_code == 302
    request_id = parse_qs(urlsplit(response.headers["location"]).query)["authRequestID"][0]
    async with res.services.store.read() as conn:
        stored = await auth_requests.get(conn, request_id)
    assert stored is not None
    assert stored.response_mode is None


@pytest.mark.rule("auth_requests columns: state, nonce, login_hint past their lengths: invalid_request, not 500")
@pytest.mark.parametrize(("name", "length"), [("state", 2049), ("nonce", 2049), ("login_hint", 513)])
async def test_values_longer_than_their_columns_are_invalid_request(res: Resources, name: str, length: int) -> None:
    params = {**_authorize(res, ""), name: "x" * length}
    response = await res.client.get("/oauth/v2/authorize", params=params)
    assert_safe(response)
    assert response.status_code == 302
    answer = parse_qs(urlsplit(response.headers["location"]).query)
    assert answer["error"] == ["invalid_request"]
    assert name in answer["error_description"][0]
    fits = await res.client.get("/oauth/v2/authorize", params={**params, name: "x" * (length - 1)})
    assert fits.headers["location"].startswith("/ui/login/login")
