"""HTTP for the endpoints that act on issued tokens; the rules live in `bergfried.oidc`.

- `/oidc/v1/userinfo` (GET, POST), `/oauth/v2/introspect` (POST), `/oauth/v2/revoke` (POST):
  JSON, every answer `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1;
  spec/endpoints.md §1), errors as `{"error", "error_description"}` with their status and headers.
- `/oidc/v1/end_session` (GET, POST): a browser endpoint, so errors are HTML pages and success is a
  redirect to the registered post-logout URI or a "logged out" page.
Bodies go through `web/forms.py`: bounded, form-encoded, UTF-8, or a specified `invalid_request`.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from bergfried.errors import OAuthError
from bergfried.login import agent, csrf
from bergfried.logs import get
from bergfried.oidc import end_session as es
from bergfried.oidc import introspection, revocation, userinfo
from bergfried.services import Services
from bergfried.store import sessions as session_store
from bergfried.web import errors
from bergfried.web.forms import FORM, read_form, read_query
from bergfried.web.oidc import PAGE_HEADERS, error_page
from bergfried.web.state import services_of

log = get("bergfried.oidc")
CONFIRM_FIELD = "confirm"
Endpoint = Callable[[Request], Awaitable[Response]]



def _rejected(endpoint: str, exc: OAuthError) -> Response:
    if exc.status >= 500:
        log.error(f"{endpoint}_error", error=exc.code, detail=exc.detail)
    else:
        log.info(f"{endpoint}_rejected", error=exc.code, detail=exc.detail or exc.description)
    return errors.oauth_error(exc)


async def _userinfo_form(request: Request) -> dict[str, str] | None:
    """RFC 6750 §2.2: a form body on POST may carry the token. A POST with no body (the usual
    case: the token is in the header) has no form; any other body must be a valid form."""
    if request.method != "POST":
        return None
    content_type = request.headers.get("content-type")
    if content_type is None:
        return None
    if content_type.split(";")[0].strip().lower() != FORM and request.headers.get("content-length", "0") == "0":
        return None
    return await read_form(request)


def _oauth(name: str, handle: Callable[[Request, Services], Awaitable[Response]]) -> Endpoint:
    """One endpoint: every OAuthError on the way, form reading included, becomes its JSON."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handle(request, services_of(request))
        except OAuthError as exc:
            return _rejected(name, exc)

    return endpoint


async def _userinfo(request: Request, services: Services) -> Response:
    form = await _userinfo_form(request)
    claims = await userinfo.userinfo(services, request.headers.get("authorization"), form)
    return errors.json_response(claims, 200, errors.NO_STORE)


async def _introspect(request: Request, services: Services) -> Response:
    form = await read_form(request)
    answer = await introspection.introspect(services, request.headers.get("authorization"), form)
    return errors.json_response(answer, 200, errors.NO_STORE)


async def _revoke(request: Request, services: Services) -> Response:
    form = await read_form(request)
    await revocation.revoke(services, request.headers.get("authorization"), form)
    return Response(b"", 200, headers=errors.NO_STORE)  # RFC 7009 §2.2: the body is ignored


# --- end session ---------------------------------------------------------------------------------

def _page(title: str, content: str, status: int = 200) -> HTMLResponse:
    body = (
        f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head>"
        "<body style=\"font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;color:#111\">"
        f"<h1>{html.escape(title)}</h1>{content}</body></html>"
    )
    return HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)


def logged_out_page() -> HTMLResponse:
    return _page("You are logged out", "<p>You can close this window.</p>")


def confirm_page(params: dict[str, str], csrf_token: str) -> HTMLResponse:
    """RP-Initiated Logout §6: without a valid hint the End-User confirms, by a POST no other
    site can forge (the CSRF token is bound to this browser's cookie)."""
    kept = {k: params[k] for k in ("client_id", "post_logout_redirect_uri", "state") if params.get(k)}
    kept.update({csrf.FIELD: csrf_token, CONFIRM_FIELD: "yes"})
    fields = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in kept.items())
    form = (f'<p>Do you want to log out of every account on this browser?</p><form method="post" '
            f'action="/oidc/v1/end_session">{fields}<button type="submit">Log out</button></form>')
    return _page("Log out?", form)


def _finish(logout: es.Logout) -> Response:
    if logout.redirect_to is not None:
        return RedirectResponse(logout.redirect_to, status_code=302, headers=errors.NO_STORE)
    return logged_out_page()


async def end_session_endpoint(request: Request) -> Response:
    services = services_of(request)
    try:
        params = await read_form(request) if request.method == "POST" else read_query(request)
        logout = await es.validate(services, params)
    except OAuthError as exc:
        log.info("end_session_rejected", detail=exc.detail or exc.description)
        return error_page(exc.description)
    cookie = agent.read(request, https=services.settings.is_https)
    agent_id = agent.agent_id(services.hasher, cookie) if cookie else None
    if logout.hint is None and cookie is not None and agent_id is not None:
        guard = csrf.CsrfGuard(services.master)
        confirmed = (request.method == "POST" and params.get(CONFIRM_FIELD) == "yes"
                     and guard.valid(cookie, params.get(csrf.FIELD)))
        if not confirmed:
            async with services.store.read() as conn:
                live = await session_store.list_active(conn, agent_id, now=services.store.clock())
            if live:
                return confirm_page(params, guard.token(cookie))
    ended = await es.end(services, logout, user_agent_id=agent_id)
    log.info("end_session", sessions=len(ended))
    return _finish(logout)


def routes() -> list[Route]:
    return [
        Route("/oidc/v1/userinfo", _oauth("userinfo", _userinfo), methods=["GET", "POST"]),
        Route("/oauth/v2/introspect", _oauth("introspect", _introspect), methods=["POST"]),
        Route("/oauth/v2/revoke", _oauth("revoke", _revoke), methods=["POST"]),
        Route("/oidc/v1/end_session", end_session_endpoint, methods=["GET", "POST"]),
    ]
