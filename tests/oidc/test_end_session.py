"""RP-initiated logout through the ASGI app, on both engines (OpenID Connect RP-Initiated Logout 1.0;
spec/endpoints.md §9)."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bergfried.login import agent, csrf
from bergfried.store import sessions as session_store
from tests.oidc.conftest import LOGOUT_URI, Resources, bearer, issue_tokens, new_session, resigned

END_SESSION = "/oidc/v1/end_session"
USERINFO = "/oidc/v1/userinfo"
COOKIE_VALUE = "A" * 43


async def logged_in(res: Resources, user_agent_id: str | None = None) -> tuple[str, str, str]:
    """A session with tokens: (session id, ID token, access token)."""
    session_id = await new_session(res, user_agent_id)
    issued = await issue_tokens(res, res.web, "openid profile", session_id=session_id)
    assert issued.id_token is not None
    assert issued.access_token is not None
    return session_id, issued.id_token, issued.access_token


async def terminated(res: Resources, session_id: str) -> bool:
    async with res.services.store.read() as conn:
        session = await session_store.get(conn, session_id)
    assert session is not None
    return session.terminated_at is not None


def assert_error_page(response: httpx.Response, text: str) -> None:
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    assert text in response.text


@pytest.mark.rule("RP-Initiated Logout §2, §3: redirect to the registered URI with state; the session ends")
async def test_logout_with_hint_redirects_with_state(res: Resources) -> None:
    session_id, id_token, token = await logged_in(res)
    assert (await res.client.get(USERINFO, headers=bearer(token))).status_code == 200
    response = await res.client.get(END_SESSION, params={
        "id_token_hint": id_token, "post_logout_redirect_uri": LOGOUT_URI, "state": "s 1&x"})
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == LOGOUT_URI
    assert parse_qs(location.query) == {"state": ["s 1&x"]}
    assert response.headers["cache-control"] == "no-store"
    assert await terminated(res, session_id)
    assert (await res.client.get(USERINFO, headers=bearer(token))).status_code == 401


@pytest.mark.rule("spec/endpoints.md §8: logout revokes the session's refresh tokens too")
async def test_logout_revokes_refresh_tokens(res: Resources) -> None:
    session_id = await new_session(res)
    issued = await issue_tokens(res, res.web, "openid offline_access", session_id=session_id)
    assert issued.id_token is not None
    assert issued.refresh_token is not None
    response = await res.client.get(END_SESSION, params={"id_token_hint": issued.id_token})
    assert response.status_code == 200
    refreshed = await res.client.post("/oauth/v2/token", data={
        "grant_type": "refresh_token", "refresh_token": issued.refresh_token,
        "client_id": res.web.client_id, "client_secret": res.web_secret})
    assert refreshed.status_code == 400


@pytest.mark.rule("RP-Initiated Logout §3: state joins a registered URI's own query")
async def test_state_is_appended_to_an_existing_query(res: Resources) -> None:
    session_id = await new_session(res)
    issued = await issue_tokens(res, res.jwt_app, "openid", session_id=session_id)
    assert issued.id_token is not None
    response = await res.client.get(END_SESSION, params={
        "id_token_hint": issued.id_token, "post_logout_redirect_uri": "https://jwt.example.com/bye?from=op",
        "state": "xyz"})
    assert response.status_code == 302
    assert response.headers["location"] == "https://jwt.example.com/bye?from=op&state=xyz"


@pytest.mark.rule("RP-Initiated Logout §3: no state, no state parameter")
async def test_no_state_no_parameter(res: Resources) -> None:
    _, id_token, _ = await logged_in(res)
    response = await res.client.get(END_SESSION, params={"id_token_hint": id_token,
                                                         "post_logout_redirect_uri": LOGOUT_URI})
    assert response.headers["location"] == LOGOUT_URI


@pytest.mark.rule("RP-Initiated Logout §3: post_logout_redirect_uri must match exactly; else a page, never a redirect")
@pytest.mark.parametrize("uri", [LOGOUT_URI + "/", LOGOUT_URI.upper(), LOGOUT_URI + "?x=1", "https://evil.example/",
                                 LOGOUT_URI.replace("https", "http"), LOGOUT_URI + "#f"])
async def test_unregistered_post_logout_uri_is_an_error_page(res: Resources, uri: str) -> None:
    session_id, id_token, token = await logged_in(res)
    response = await res.client.get(END_SESSION, params={
        "id_token_hint": id_token, "post_logout_redirect_uri": uri, "state": "s"})
    assert_error_page(response, "post_logout_redirect_uri is not registered")
    assert not await terminated(res, session_id)
    assert (await res.client.get(USERINFO, headers=bearer(token))).status_code == 200


@pytest.mark.rule("RP-Initiated Logout §3: the URI must be registered for this client, not another")
async def test_uri_of_another_client_is_refused(res: Resources) -> None:
    response = await res.client.get(END_SESSION, params={
        "client_id": res.jwt_app.client_id, "post_logout_redirect_uri": LOGOUT_URI})
    assert_error_page(response, "not registered")


@pytest.mark.rule("RP-Initiated Logout §2: client_id and post_logout_redirect_uri without a hint")
async def test_client_id_without_hint_redirects(res: Resources) -> None:
    response = await res.client.get(END_SESSION, params={
        "client_id": res.web.client_id, "post_logout_redirect_uri": LOGOUT_URI, "state": "a"})
    assert response.status_code == 302
    assert response.headers["location"] == LOGOUT_URI + "?state=a"


@pytest.mark.rule("RP-Initiated Logout §3: a redirect needs a client to check it against")
async def test_redirect_without_any_client_is_refused(res: Resources) -> None:
    response = await res.client.get(END_SESSION, params={"post_logout_redirect_uri": LOGOUT_URI})
    assert_error_page(response, "needs a client_id")


@pytest.mark.rule("RP-Initiated Logout §2: client_id must equal the hint's azp")
async def test_client_id_must_match_the_hint(res: Resources) -> None:
    session_id, id_token, _ = await logged_in(res)
    response = await res.client.get(END_SESSION, params={
        "id_token_hint": id_token, "client_id": res.jwt_app.client_id})
    assert_error_page(response, "does not match")
    assert not await terminated(res, session_id)


@pytest.mark.rule("RP-Initiated Logout §2: the OP must have issued the hint")
@pytest.mark.parametrize("forge", ["garbage", "resigned"])
async def test_invalid_hint_is_an_error_page(res: Resources, forge: str) -> None:
    session_id, id_token, _ = await logged_in(res)
    hint = "garbage" if forge == "garbage" else resigned(id_token)
    response = await res.client.get(END_SESSION, params={"id_token_hint": hint})
    assert_error_page(response, "id_token_hint is not valid")
    assert not await terminated(res, session_id)


@pytest.mark.rule("RP-Initiated Logout §2: a hint from another issuer is refused")
async def test_hint_of_another_issuer_is_refused(res: Resources) -> None:
    session_id = await new_session(res)
    hint = await res.services.keyring.sign({"iss": "https://other.example", "sub": res.user.id, "sid": session_id,
                                            "azp": res.web.client_id, "exp": int(time.time()) + 60})
    response = await res.client.get(END_SESSION, params={"id_token_hint": hint})
    assert_error_page(response, "not issued here")
    assert not await terminated(res, session_id)


@pytest.mark.rule("RP-Initiated Logout §2: an expired id_token_hint is accepted")
async def test_expired_hint_is_accepted(res: Resources) -> None:
    session_id = await new_session(res)
    now = int(time.time())
    hint = await res.services.keyring.sign({
        "iss": res.services.settings.issuer, "sub": res.user.id, "aud": [res.web.client_id],
        "azp": res.web.client_id, "sid": session_id, "iat": now - 7200, "exp": now - 3600})
    response = await res.client.get(END_SESSION, params={
        "id_token_hint": hint, "post_logout_redirect_uri": LOGOUT_URI})
    assert response.status_code == 302
    assert await terminated(res, session_id)


@pytest.mark.rule("RP-Initiated Logout §2: the request may be a form POST")
async def test_post_form(res: Resources) -> None:
    session_id, id_token, _ = await logged_in(res)
    response = await res.client.post(END_SESSION, data={
        "id_token_hint": id_token, "post_logout_redirect_uri": LOGOUT_URI, "state": "p"})
    assert response.status_code == 302
    assert response.headers["location"] == LOGOUT_URI + "?state=p"
    assert await terminated(res, session_id)


@pytest.mark.rule("RP-Initiated Logout §2: without a redirect the OP shows that the user is logged out")
async def test_logged_out_page(res: Resources) -> None:
    session_id, id_token, _ = await logged_in(res)
    response = await res.client.get(END_SESSION, params={"id_token_hint": id_token, "state": "ignored"})
    assert response.status_code == 200
    assert "You are logged out" in response.text
    assert response.headers["cache-control"] == "no-store"
    assert await terminated(res, session_id)


@pytest.mark.rule("spec/endpoints.md §8: only the hinted session ends")
async def test_other_sessions_stay(res: Resources) -> None:
    ended, id_token, _ = await logged_in(res)
    kept, _, other_token = await logged_in(res)
    assert (await res.client.get(END_SESSION, params={"id_token_hint": id_token})).status_code == 200
    assert await terminated(res, ended)
    assert not await terminated(res, kept)
    assert (await res.client.get(USERINFO, headers=bearer(other_token))).status_code == 200


def _cookie() -> dict[str, str]:
    return {"cookie": f"{agent.cookie_name(False)}={COOKIE_VALUE}"}


@pytest.mark.rule("RP-Initiated Logout §6: without a hint the End-User confirms before the browser's sessions end")
async def test_no_hint_asks_then_ends_the_browsers_sessions(res: Resources) -> None:
    agent_id = agent.agent_id(res.services.hasher, COOKIE_VALUE)
    session_id, _, token = await logged_in(res, agent_id)
    other_browser, _, _ = await logged_in(res, agent.agent_id(res.services.hasher, "B" * 43))
    asked = await res.client.get(END_SESSION, params={"client_id": res.web.client_id,
                                                      "post_logout_redirect_uri": LOGOUT_URI, "state": "q"},
                                 headers=_cookie())
    assert asked.status_code == 200
    assert 'method="post"' in asked.text
    assert not await terminated(res, session_id)
    csrf_token = csrf.CsrfGuard(res.services.master).token(COOKIE_VALUE)
    assert csrf_token in asked.text
    confirmed = await res.client.post(END_SESSION, headers=_cookie(), data={
        "client_id": res.web.client_id, "post_logout_redirect_uri": LOGOUT_URI, "state": "q",
        csrf.FIELD: csrf_token, "confirm": "yes"})
    assert confirmed.status_code == 302
    assert confirmed.headers["location"] == LOGOUT_URI + "?state=q"
    assert await terminated(res, session_id)
    assert not await terminated(res, other_browser)
    assert (await res.client.get(USERINFO, headers=bearer(token))).status_code == 401


@pytest.mark.rule("RP-Initiated Logout §6: a forged confirmation ends nothing")
async def test_forged_confirmation_ends_nothing(res: Resources) -> None:
    session_id, _, _ = await logged_in(res, agent.agent_id(res.services.hasher, COOKIE_VALUE))
    response = await res.client.post(END_SESSION, headers=_cookie(), data={csrf.FIELD: "forged", "confirm": "yes"})
    assert response.status_code == 200
    assert "Log out?" in response.text
    assert not await terminated(res, session_id)


@pytest.mark.rule("RP-Initiated Logout §2: nothing to end, nothing to ask")
async def test_no_hint_no_sessions_is_logged_out(res: Resources) -> None:
    response = await res.client.get(END_SESSION, headers=_cookie())
    assert response.status_code == 200
    assert "You are logged out" in response.text


@pytest.mark.rule("web/forms.py: a broken body is an error page, not a 500")
async def test_broken_body_is_an_error_page(res: Resources) -> None:
    response = await res.client.post(END_SESSION, content=b"\xff\xfe=1",
                                     headers={"content-type": "application/x-www-form-urlencoded"})
    assert_error_page(response, "UTF-8")
