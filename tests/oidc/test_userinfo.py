"""The UserInfo endpoint through the ASGI app, on both engines (OIDC Core §5.3, RFC 6750)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from bergfried.store import sessions as session_store
from bergfried.store import tokens as token_store
from bergfried.store import users
from bergfried.tokens.lookup import find_access_token
from tests.oidc.conftest import (
    METADATA_SCOPE,
    Resources,
    access_token,
    bearer,
    issue_tokens,
    new_session,
    resigned,
    unsigned,
)

USERINFO = "/oidc/v1/userinfo"


def assert_invalid_token(response: httpx.Response) -> None:
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="bergfried"')
    assert 'error="invalid_token"' in challenge
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.rule("seed 000: userinfo with the metadata scope shows contract = MTIzNA")
@pytest.mark.parametrize("kind", ["opaque", "jwt"])
async def test_metadata_claim_with_the_metadata_scope(res: Resources, kind: str) -> None:
    app = res.web if kind == "opaque" else res.jwt_app
    token = await access_token(res, app, f"openid {METADATA_SCOPE}")
    assert token.count(".") == (0 if kind == "opaque" else 2)
    response = await res.client.get(USERINFO, headers=bearer(token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sub"] == res.user.id
    assert body[METADATA_SCOPE] == {"contract": "MTIzNA"}


@pytest.mark.rule("spec/claims.md §2: no metadata claim without its scope")
async def test_no_metadata_without_its_scope(res: Resources) -> None:
    token = await access_token(res, res.web, "openid profile")
    body = (await res.client.get(USERINFO, headers=bearer(token))).json()
    assert METADATA_SCOPE not in body


@pytest.mark.rule("OIDC Core §5.4: openid alone gives sub only")
async def test_openid_alone_gives_only_sub(res: Resources) -> None:
    token = await access_token(res, res.web, "openid")
    response = await res.client.get(USERINFO, headers=bearer(token))
    assert response.json() == {"sub": res.user.id}


@pytest.mark.rule("OIDC Core §5.4: profile claims with the profile scope, and no email")
async def test_profile_scope_gives_profile_claims_only(res: Resources) -> None:
    token = await access_token(res, res.web, "openid profile")
    body = (await res.client.get(USERINFO, headers=bearer(token))).json()
    assert body["name"] == "Road Runner"
    assert body["given_name"] == "Road"
    assert body["family_name"] == "Runner"
    assert body["preferred_username"].startswith("road.runner")
    assert "email" not in body
    assert "email_verified" not in body


@pytest.mark.rule("OIDC Core §5.4: email claims with the email scope, and no profile")
async def test_email_scope_gives_email_claims_only(res: Resources) -> None:
    token = await access_token(res, res.web, "openid email")
    body = (await res.client.get(USERINFO, headers=bearer(token))).json()
    assert body["email"] == "road.runner@example.com"
    assert body["email_verified"] is True
    assert "name" not in body
    assert "preferred_username" not in body


@pytest.mark.rule("RFC 6749 §5.1: userinfo answers are never cached")
async def test_success_is_not_cacheable(res: Resources) -> None:
    response = await res.client.get(USERINFO, headers=bearer(await access_token(res, res.web)))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    assert response.headers["content-type"].startswith("application/json")


@pytest.mark.rule("RFC 6750 §2.2: the token may come in a form body on POST")
async def test_form_body_token_on_post(res: Resources) -> None:
    token = await access_token(res, res.web, "openid email")
    response = await res.client.post(USERINFO, data={"access_token": token})
    assert response.status_code == 200, response.text
    assert response.json()["email"] == "road.runner@example.com"


@pytest.mark.rule("OIDC Core §5.3.1: userinfo accepts POST with the Bearer header and no body")
async def test_post_with_header_and_no_body(res: Resources) -> None:
    response = await res.client.post(USERINFO, headers=bearer(await access_token(res, res.jwt_app)))
    assert response.status_code == 200, response.text
    assert response.json()["sub"] == res.user.id


@pytest.mark.rule("RFC 7235 §2.1: the auth scheme is case-insensitive")
async def test_bearer_scheme_is_case_insensitive(res: Resources) -> None:
    token = await access_token(res, res.web)
    response = await res.client.get(USERINFO, headers={"authorization": f"bEaReR {token}"})
    assert response.status_code == 200


@pytest.mark.rule("RFC 6750 §3.1: no token is 401 with a bare Bearer challenge")
async def test_missing_token_is_401_with_a_bare_challenge(res: Resources) -> None:
    response = await res.client.get(USERINFO)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_request", "error_description": "access token missing"}
    assert response.headers["www-authenticate"] == 'Bearer realm="bergfried"'
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"


@pytest.mark.rule("RFC 6750 §2.3, §5.3: a token in the query is not accepted")
async def test_token_in_the_query_counts_as_none(res: Resources) -> None:
    token = await access_token(res, res.web)
    response = await res.client.get(USERINFO, params={"access_token": token})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_request"


@pytest.mark.rule("RFC 6750 §3.1: a non-Bearer Authorization header is no token")
async def test_basic_header_is_no_token(res: Resources) -> None:
    response = await res.client.get(USERINFO, headers={"authorization": "Basic YTpi"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_request"


@pytest.mark.rule("RFC 6750 §2: one method per request; header and body together are invalid_request")
async def test_header_and_body_together_are_rejected(res: Resources) -> None:
    token = await access_token(res, res.web)
    response = await res.client.post(USERINFO, data={"access_token": token}, headers=bearer(token))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert 'error="invalid_request"' in response.headers["www-authenticate"]


@pytest.mark.rule("RFC 6750 §3.1: an unknown token is invalid_token")
@pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "x" * 20000, "é-token"])
async def test_garbage_is_invalid_token(res: Resources, token: str) -> None:
    headers = {b"authorization": f"Bearer {token}".encode()}  # raw UTF-8 bytes on the wire
    assert_invalid_token(await res.client.get(USERINFO, headers=headers))


@pytest.mark.rule("RFC 8725 §2.1: a JWT under alg=none is refused")
async def test_alg_none_jwt_is_invalid_token(res: Resources) -> None:
    token = await access_token(res, res.jwt_app)
    assert_invalid_token(await res.client.get(USERINFO, headers=bearer(unsigned(token))))


@pytest.mark.rule("RFC 7515 §5.2: a JWT signed by another key is refused, even with our kid")
async def test_wrong_signature_jwt_is_invalid_token(res: Resources) -> None:
    token = await access_token(res, res.jwt_app)
    assert_invalid_token(await res.client.get(USERINFO, headers=bearer(resigned(token))))


@pytest.mark.rule("RFC 6750 §3.1: an expired token is invalid_token")
@pytest.mark.parametrize("kind", ["opaque", "jwt"])
async def test_expired_token_is_invalid_token(res: Resources, kind: str) -> None:
    token = await access_token(res, res.web if kind == "opaque" else res.jwt_app)
    assert (await res.client.get(USERINFO, headers=bearer(token))).status_code == 200
    res.clock.advance(res.services.settings.access_token_lifetime + timedelta(seconds=1))
    assert_invalid_token(await res.client.get(USERINFO, headers=bearer(token)))


@pytest.mark.rule("spec/endpoints.md §8: a revoked token stops working at once, JWTs too")
@pytest.mark.parametrize("kind", ["opaque", "jwt"])
async def test_revoked_token_is_invalid_token(res: Resources, kind: str) -> None:
    token = await access_token(res, res.web if kind == "opaque" else res.jwt_app)
    async with res.services.store.read() as conn:
        record = await find_access_token(res.services, conn, token)
    assert record is not None
    async with res.services.store.write() as tx:
        assert await token_store.revoke_access_token(tx, record.id)
    assert_invalid_token(await res.client.get(USERINFO, headers=bearer(token)))


@pytest.mark.rule("spec/endpoints.md §8: ending the login session ends its tokens")
async def test_token_of_a_terminated_session_is_invalid(res: Resources) -> None:
    session_id = await new_session(res)
    token = await access_token(res, res.web, session_id=session_id)
    assert (await res.client.get(USERINFO, headers=bearer(token))).status_code == 200
    async with res.services.store.write() as tx:
        assert await session_store.terminate(tx, session_id)
    assert_invalid_token(await res.client.get(USERINFO, headers=bearer(token)))


@pytest.mark.rule("spec/endpoints.md §6: a user who is no longer active gets 401")
async def test_deactivated_user_is_401(res: Resources) -> None:
    token = await access_token(res, res.web)
    async with res.services.store.write() as tx:
        await users.change_state(tx, res.user, "deactivate")
    assert_invalid_token(await res.client.get(USERINFO, headers=bearer(token)))


@pytest.mark.rule("OIDC Core §2: an ID token is not an access token")
async def test_id_token_is_not_accepted_as_access_token(res: Resources) -> None:
    issued = await issue_tokens(res, res.jwt_app, "openid")
    assert issued.id_token is not None
    assert_invalid_token(await res.client.get(USERINFO, headers=bearer(issued.id_token)))


@pytest.mark.rule("web/forms.py: a POST body that is not a form is invalid_request, not a 500")
async def test_wrong_content_type_is_invalid_request(res: Resources) -> None:
    response = await res.client.post(USERINFO, content=b'{"access_token":"x"}',
                                     headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.rule("web/forms.py: a body over 64 KiB is refused before it is read")
async def test_oversize_body_is_refused(res: Resources) -> None:
    response = await res.client.post(USERINFO, data={"access_token": "x" * (65 * 1024)})
    assert response.status_code == 413
    assert response.json()["error"] == "invalid_request"


@pytest.mark.rule("web/forms.py: a body that is not UTF-8 is invalid_request")
async def test_invalid_utf8_is_invalid_request(res: Resources) -> None:
    response = await res.client.post(USERINFO, content=b"access_token=%ff%fe\xff",
                                     headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
