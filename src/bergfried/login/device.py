"""The hosted login's device authorization pages (RFC 8628 §3.3; ZITADEL login v1 `/device`,
spec/login.md §1, spec/other-grants.md §5 step 2).

- `GET /ui/login/device[?user_code=]`: the user-code form (prefilled from
  `verification_uri_complete`).
- `POST /ui/login/device` (`code`): a pending, unexpired device authorization with that user code
  (any case, dashes and spaces ignored, RFC 8628 §6.1) starts a login: an auth request marked as a
  device login (`DEVICE_RESPONSE_TYPE`, the user code in `state`) → the ordinary login steps
  (`/ui/login/login`); an unknown code shows the form again with an error.
- After the login the steps send the browser to `GET /ui/login/device/action?authRequestID=`:
  the application and scopes, with allow and deny.
- `POST /ui/login/device/allow|deny`: consumes the auth request and decides the device
  authorization once (a conditional UPDATE), then shows the done page. Allowing passes the
  same login gates as the authorize callback (project/role checks).

Every POST carries the CSRF token of this browser's user-agent cookie; the auth request must
belong to this browser (its user-agent id), like at the authorize callback.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bergfried.domain.auth_requests import DEVICE_RESPONSE_TYPE, AuthRequest
from bergfried.errors import OAuthError
from bergfried.login import agent
from bergfried.login.csrf import FIELD as CSRF_FIELD
from bergfried.login.csrf import CsrfGuard
from bergfried.login.i18n import Translator, negotiate
from bergfried.login.pages import View
from bergfried.logs import get
from bergfried.oidc import callback
from bergfried.oidc.device_authorization import normalize_user_code
from bergfried.services import Services
from bergfried.store import apps as app_store
from bergfried.store import auth_requests
from bergfried.store import device_authorizations as device_store
from bergfried.store.tx import Tx
from bergfried.web.forms import read_form
from bergfried.web.state import services_of

PAGE = "/ui/login/device"
ACTION = f"{PAGE}/action"
LOGIN = "/ui/login/login"
NOT_FOUND = "Errors.DeviceAuth.NotFound"
MAX_CODE = 16
AUTH_REQUEST_LIFETIME = timedelta(minutes=30)
log = get("bergfried.login.device")


@dataclass(slots=True)
class Browser:
    services: Services
    view: View
    cookie: str | None

    @property
    def agent_id(self) -> str | None:
        return agent.agent_id(self.services.hasher, self.cookie) if self.cookie else None


def _browser(request: Request) -> Browser:
    services = services_of(request)
    https = services.settings.is_https
    cookie = agent.read(request, https=https)
    view = View(cookie or agent.new_value(), cookie is None, https, CsrfGuard(services.master),
                Translator(negotiate((), request.headers.get("accept-language"))))
    return Browser(services, view, cookie)


async def _posted(request: Request, browser: Browser) -> dict[str, str] | Response:
    """The form, or the error page for a form that is unreadable or lacks this browser's CSRF token."""
    try:
        fields = await read_form(request)
    except OAuthError:
        return browser.view.error("Errors.Login.BadForm")
    if not browser.view.csrf.valid(browser.cookie, fields.get(CSRF_FIELD)):
        log.info("login_csrf_rejected", path=request.url.path)
        return browser.view.error("Errors.Login.Csrf")
    return fields


def _code_page(browser: Browser, user_code: str = "", error: str = "", status: int = 200) -> Response:
    return browser.view.render("device_code.html", status, user_code=user_code,
                               error=browser.view.t(error) if error else "")


async def user_code_page(request: Request) -> Response:
    browser = _browser(request)
    code = request.query_params.get("user_code", "")[:MAX_CODE]
    return _code_page(browser, normalize_user_code(code) if code else "")


async def submit_user_code(request: Request) -> Response:
    browser = _browser(request)
    fields = await _posted(request, browser)
    if isinstance(fields, Response):
        return fields
    raw = fields.get("code", "")
    if len(raw) > MAX_CODE:
        return browser.view.error("Errors.Login.BadForm")
    user_code = normalize_user_code(raw)
    async with browser.services.store.write() as tx:
        found = await device_store.by_user_code(tx.conn, user_code) if user_code else None
        if found is None or found.state != device_store.PENDING or found.expires_at <= tx.now:
            log.info("device_user_code_rejected")
            return _code_page(browser, raw, NOT_FOUND, 400)
        request_id = tx.new_id()
        await auth_requests.create(tx, AuthRequest(
            id=request_id, client_id=found.client_id, redirect_uri="", scopes=found.scopes,
            response_type=DEVICE_RESPONSE_TYPE, created_at=tx.now,
            expires_at=min(found.expires_at, tx.now + AUTH_REQUEST_LIFETIME), state=found.user_code,
            user_agent_id=browser.agent_id,  # this browser only, like bind_user_agent
        ))
    return browser.view.redirect(f"{LOGIN}?{urlencode({'authRequestID': request_id})}", 303)


async def _device_request(tx: Tx, browser: Browser, request_id: str) -> AuthRequest | None:
    """An open device login of this browser."""
    found = await auth_requests.get(tx.conn, request_id) if request_id else None
    if (found is None or not found.is_device or found.consumed_at is not None or found.expires_at <= tx.now
            or found.user_agent_id is None or found.user_agent_id != browser.agent_id):
        return None
    return found


async def action_page(request: Request) -> Response:
    browser = _browser(request)
    request_id = request.query_params.get("authRequestID", "")
    async with browser.services.store.write() as tx:
        found = await _device_request(tx, browser, request_id)
        if found is None:
            return browser.view.error("Errors.AuthRequest.NotFound")
        if found.session_id is None:  # the login is not done: back to it
            return browser.view.redirect(f"{LOGIN}?{urlencode({'authRequestID': found.id})}")
        app = await app_store.find_by_client_id(tx.conn, found.client_id)
    return browser.view.render("device_action.html", auth_request_id=found.id,
                               app_name=app[0].name if app else found.client_id, scopes=found.scopes)


async def _decide(request: Request, *, approve: bool) -> Response:
    browser = _browser(request)
    fields = await _posted(request, browser)
    if isinstance(fields, Response):
        return fields
    async with browser.services.store.write() as tx:
        found = await _device_request(tx, browser, fields.get("authRequestID", ""))
        if found is None or found.session_id is None or found.user_id is None or found.state is None:
            return browser.view.error("Errors.AuthRequest.NotFound")
        refusal = await callback.gate(tx, found) if approve else None
        if refusal is not None:  # the same login gates as the authorize callback (spec/login.md §2)
            return browser.view.render("error.html", 400, message=f"{refusal.message} ({refusal.key})")
        if not await auth_requests.consume(tx, found.id):
            return browser.view.error("Errors.AuthRequest.NotFound")
        decided = await device_store.decide(tx, found.state, approve=approve, user_id=found.user_id,
                                            session_id=found.session_id, auth_time=found.auth_time, amr=found.amr)
        if not decided:
            return browser.view.error(NOT_FOUND)
    log.info("device_authorization_decided", approved=approve, user_id=found.user_id, client_id=found.client_id)
    return browser.view.render("device_done.html", approved=approve)


async def allow(request: Request) -> Response:
    return await _decide(request, approve=True)


async def deny(request: Request) -> Response:
    return await _decide(request, approve=False)


def routes() -> list[Route]:
    return [
        Route(PAGE, user_code_page, methods=["GET"]),
        Route(PAGE, submit_user_code, methods=["POST"]),
        Route(ACTION, action_page, methods=["GET"]),
        Route(f"{PAGE}/allow", allow, methods=["POST"]),
        Route(f"{PAGE}/deny", deny, methods=["POST"]),
    ]
