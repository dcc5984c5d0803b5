"""Answering an authorization request once the login is done (RFC 6749 §4.1.2, §4.2.2;
OIDC Core §3.1.2.5, §3.2.2.5; RFC 9207).

A logged-in user the request's organization scope or the project's login gates refuse
(oidc/login_gates.py) gets ZITADEL's error page instead of an answer.

The request is consumed by one conditional UPDATE, so a reloaded callback page cannot mint a
second code. The code is 256 random bits, stored as a keyed hash with its binding (client,
redirect URI, PKCE challenge, nonce, scopes, session) and lives `auth_code_lifetime` (60 s).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from bergfried.crypto.hashing import generate_secret
from bergfried.domain.auth_requests import AuthRequest
from bergfried.errors import AccessDenied, OAuthError
from bergfried.oidc import login_gates
from bergfried.oidc.authorize import AuthorizePageError, redirect_error, response_mode_for
from bergfried.oidc.grants._common import active_subject
from bergfried.services import Services
from bergfried.store import apps as app_store
from bergfried.store import auth_requests
from bergfried.store import tokens as token_store
from bergfried.store.tx import Tx
from bergfried.tokens.issue import TokenRequest, audience, issue


@dataclass(frozen=True, slots=True)
class Answer:
    redirect_uri: str
    params: dict[str, str]
    response_mode: str


def _mode(request: AuthRequest) -> str:
    params = {"response_type": request.response_type}
    if request.response_mode:
        params["response_mode"] = request.response_mode
    return response_mode_for(params)


async def answer(services: Services, request_id: str, user_agent_id: str | None) -> Answer | None:
    """The redirect that answers the request, or None while the login is not done yet. Only the
    browser the login ran in may collect the answer (`user_agent_id`, see
    store/auth_requests.bind_user_agent). `V2_` requests are answered by the v2 OIDC service's
    CreateCallback only (management/auth_requests.py)."""
    async with services.store.write() as tx:
        request = await auth_requests.get(tx.conn, request_id)
        if request is None or request.consumed_at is not None or request.expires_at <= tx.now:
            raise AuthorizePageError("This login request is unknown, expired or already answered. "
                                     "Start again from the application.")
        if request.is_v2:
            raise AuthorizePageError("This login request is handled by the application's login UI.")
        if request.is_device:
            raise AuthorizePageError("This login request is answered on the device authorization page.")
        if request.user_agent_id is not None and request.user_agent_id != user_agent_id:
            raise AuthorizePageError("This login request belongs to another browser.")
        if not request.done:
            return None
        refusal = await gate(tx, request)
        if refusal is not None:  # an error page; the request stays open (spec/login.md §2 steps 12–13)
            raise AuthorizePageError(f"{refusal.message} ({refusal.key})", detail=refusal.reason)
        if not await auth_requests.consume(tx, request_id):
            raise AuthorizePageError("This login request was already answered.")
        return await respond(services, tx, request)


async def gate(tx: Tx, request: AuthRequest) -> login_gates.Refusal | None:
    """The login gate a successfully logged-in user fails, if any."""
    if not request.user_id or request.error:
        return None
    return await login_gates.check(tx.conn, user_id=request.user_id, client_id=request.client_id,
                                   scopes=request.scopes)


async def respond(services: Services, tx: Tx, request: AuthRequest) -> Answer:
    """The answer of a request the caller has just consumed: its recorded error, or a code or
    implicit tokens, with `state` and `iss` (RFC 9207)."""
    issuer = services.settings.issuer
    mode = _mode(request)
    if request.error:  # what the login recorded (RFC 6749 §4.1.2.1), with state and iss as any error
        failed = {"error": request.error, "error_description": request.error_description or request.error}
        if request.state:
            failed["state"] = request.state
        return Answer(request.redirect_uri, {**failed, "iss": issuer}, mode)
    try:
        params = await _success(services, tx, request)
    except OAuthError as exc:
        return Answer(request.redirect_uri, redirect_error(exc, request.state, issuer), mode)
    if request.state:
        params["state"] = request.state
    params["iss"] = issuer
    return Answer(request.redirect_uri, params, mode)


def url_of(answer: Answer, response_type: str) -> str:
    """The answer as one URL (the v2 `callbackUrl`). `form_post` cannot be a URL; it falls back
    to the response type's default mode (query for codes, fragment for tokens)."""
    mode = answer.response_mode
    if mode == "form_post":
        mode = "query" if response_type == "code" else "fragment"
    encoded = urlencode(answer.params)
    if mode == "fragment":
        return f"{answer.redirect_uri}#{encoded}"
    return f"{answer.redirect_uri}{'&' if '?' in answer.redirect_uri else '?'}{encoded}"


async def _success(services: Services, tx: Tx, request: AuthRequest) -> dict[str, str]:
    found = await app_store.find_by_client_id(tx.conn, request.client_id)
    if found is None:
        raise AccessDenied("The client is no longer active")
    app = found[0]
    assert request.user_id is not None
    subject = await active_subject(services, tx, request.user_id)
    grant = token_store.Grant(
        client_id=app.client_id, user_id=request.user_id, scopes=request.scopes,
        audience=await audience(tx, app, request.scopes), session_id=request.session_id,
        auth_time=request.auth_time, amr=request.amr,
    )
    if request.response_type == "code":
        code = generate_secret()
        await token_store.add_code(tx, services.hasher.hash(code), token_store.CodeRecord(
            grant=grant, redirect_uri=request.redirect_uri, created_at=tx.now,
            expires_at=tx.now + services.settings.auth_code_lifetime, nonce=request.nonce,
            code_challenge=request.code_challenge, code_challenge_method=request.code_challenge_method,
            auth_request_id=request.id,
        ))
        return {"code": code}
    issued = await issue(services, tx, TokenRequest(
        app=app, subject=subject, grant=grant, family_id=tx.new_id(), nonce=request.nonce,
        response_type=request.response_type, with_access_token=request.response_type == "id_token token",
    ))
    params = {key: str(value) for key, value in issued.response().items() if key != "refresh_token"}
    return params
