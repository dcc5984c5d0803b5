"""HTTP for the authorization and token endpoints; the rules live in `bergfried.oidc`.

- `/oauth/v2/authorize` (GET, POST form): validate, store the auth request, send the browser to
  the hosted login; early errors are an HTML page, later ones a redirect.
- `/oauth/v2/authorize/callback?id=` : answer the request once the login is done, by query,
  fragment or form_post (OAuth 2.0 Form Post Response Mode).
- `/oauth/v2/token` (POST form): JSON with `Cache-Control: no-store` (RFC 6749 §5.1).
"""

from __future__ import annotations

import html
import secrets
from dataclasses import replace
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from bergfried.errors import InvalidToken, OAuthError
from bergfried.login import agent
from bergfried.logs import get
from bergfried.oidc import authorize as authz
from bergfried.oidc import callback as cb
from bergfried.oidc import login_v2
from bergfried.oidc.token import token as token_endpoint
from bergfried.services import Services
from bergfried.store import apps as app_store
from bergfried.store import auth_requests
from bergfried.store import projects as project_store
from bergfried.web import errors
from bergfried.web.forms import read_form, read_query
from bergfried.web.state import services_of

log = get("bergfried.oidc")
LOGIN_PATH = "/ui/login/login"
PAGE_HEADERS = {**errors.NO_STORE,
                "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'"}



def error_page(message: str, status: int = 400) -> HTMLResponse:
    body = (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Request rejected</title>"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head>"
        "<body style=\"font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;color:#111\">"
        f"<h1>This request cannot be processed</h1><p>{html.escape(message)}</p></body></html>"
    )
    return HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)


def redirect_to_client(redirect_uri: str, params: dict[str, str], mode: str) -> Response:
    if mode == "form_post":
        return _form_post(redirect_uri, params)
    encoded = urlencode(params)
    if mode == "fragment":
        location = f"{redirect_uri}#{encoded}"
    else:
        location = f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{encoded}"
    return RedirectResponse(location, status_code=302, headers={"cache-control": "no-store"})


def _form_post(redirect_uri: str, params: dict[str, str]) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    fields = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                     for k, v in params.items())
    body = (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Submit</title></head><body>"
        f"<form method=\"post\" action=\"{html.escape(redirect_uri)}\">{fields}"
        "<noscript><button type=\"submit\">Continue</button></noscript></form>"
        f"<script nonce=\"{nonce}\">document.forms[0].submit()</script></body></html>"
    )
    headers = {**errors.NO_STORE,
               "content-security-policy": f"default-src 'none'; script-src 'nonce-{nonce}'; form-action *"}
    return HTMLResponse(body, headers=headers)


async def _hint_user(services: Services, hint: str | None) -> str | None:
    """OIDC Core §3.1.2.1: an id_token_hint we issued (an expired one is fine) names the user;
    an invalid one is ignored, as ZITADEL does (spec/endpoints.md §3)."""
    if not hint:
        return None
    try:
        claims = await services.keyring.verify(hint)
    except InvalidToken:
        log.info("id_token_hint_ignored")
        return None
    subject = claims.get("sub")
    return subject if claims.get("iss") == services.settings.issuer and isinstance(subject, str) else None


async def authorize(request: Request) -> Response:
    services = services_of(request)
    try:
        params = await read_form(request) if request.method == "POST" else read_query(request)
    except OAuthError as exc:
        return error_page(exc.description)
    if not params.get("client_id"):
        return error_page("The request has no client_id.")
    async with services.store.read() as conn:
        found = await app_store.find_by_client_id(conn, params["client_id"])
        try:
            app, redirect_uri = authz.trusted_client(found[0] if found else None, params)
        except OAuthError as exc:
            log.info("authorize_rejected", reason=exc.detail or exc.description)
            return error_page(exc.description)
        role_keys = [role.key for role in await project_store.list_roles(conn, app.project_id)]
        project = await project_store.find(conn, app.project_id)
    try:
        login_client = login_v2.login_client(request.headers.get(login_v2.LOGIN_CLIENT_HEADER))
    except OAuthError as exc:
        return error_page(exc.description)
    v2 = login_v2.uses_login_v2(app, login_client)
    mode = authz.response_mode_for(params)
    try:
        hint_user_id = await _hint_user(services, params.get("id_token_hint"))
        async with services.store.write() as tx:
            validated = authz.validate(app, redirect_uri, params, request_id=login_v2.request_id(tx.new_id(), v2=v2),
                                       now=tx.now, role_keys=role_keys, hint_user_id=hint_user_id,
                                       project_role_assertion=project is not None and project.project_role_assertion)
            await auth_requests.create(tx, replace(validated.request, login_client=login_client))
    except OAuthError as exc:
        state = params.get("state")
        return redirect_to_client(redirect_uri, authz.redirect_error(exc, state, services.settings.issuer), mode)
    target = (login_v2.login_url(app, validated.request.id) if v2
              else f"{LOGIN_PATH}?{urlencode({'authRequestID': validated.request.id})}")
    return RedirectResponse(target, status_code=302, headers={"cache-control": "no-store"})


async def authorize_callback(request: Request) -> Response:
    services = services_of(request)
    request_id = request.query_params.get("id", "")
    if not request_id:
        return error_page("The callback needs the id of the login request.")
    try:
        cookie = agent.read(request, https=services.settings.is_https)
        answer = await cb.answer(services, request_id, agent.agent_id(services.hasher, cookie) if cookie else None)
    except OAuthError as exc:
        return error_page(exc.description)
    if answer is None:  # the login is not done: back to it
        return RedirectResponse(f"{LOGIN_PATH}?{urlencode({'authRequestID': request_id})}", status_code=302)
    return redirect_to_client(answer.redirect_uri, answer.params, answer.response_mode)


async def token(request: Request) -> Response:
    services = services_of(request)
    try:
        form = await read_form(request)
        issued = await token_endpoint(services, request.headers.get("authorization"), form)
    except OAuthError as exc:
        if exc.status >= 500:
            log.error("token_error", error=exc.code, detail=exc.detail)
        else:
            log.info("token_rejected", error=exc.code, detail=exc.detail or exc.description)
        return errors.oauth_error(exc)
    return errors.json_response(issued.response(), 200, errors.NO_STORE)


def routes() -> list[Route]:
    return [
        Route("/oauth/v2/authorize", authorize, methods=["GET", "POST"]),
        Route("/oauth/v2/authorize/callback", authorize_callback, methods=["GET"]),
        Route("/oauth/v2/token", token, methods=["POST"]),
    ]
