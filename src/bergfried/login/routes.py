"""The hosted login (v1) on ZITADEL's paths under `/ui/login` (spec/login.md §1).

- `GET /login?authRequestID=` (and `GET /password`): the entry; `steps.next_step` decides between
  the login-name page, the password page, the account selection, SSO (link the session and
  go to the callback) and, under `prompt=none`, failing the request.
- `GET|POST /loginname`, `GET|POST /accounts`, `POST /password`: the forms.
- `GET|POST /register`: self-registration (spec/login.md §6), for `prompt=create` and from the
  login-name page's register button.
- `/resources/{name}`: the stylesheet.

Every handler runs inside one write transaction and first loads the auth request: unknown,
expired or answered → a 400 page, never a redirect (spec/login.md §7); already finished →
back to the callback. A POST must carry the CSRF token of this browser's cookie, checked
before the transaction opens, so a forged POST changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bergfried.domain.auth_requests import AuthRequest
from bergfried.domain.policies import LoginPolicy
from bergfried.errors import DomainError
from bergfried.login import agent, device, flow, forms, register, steps
from bergfried.login.csrf import CsrfGuard
from bergfried.login.i18n import Translator, negotiate
from bergfried.login.pages import View, resource
from bergfried.logs import get
from bergfried.management import policies
from bergfried.services import Services
from bergfried.store import auth_requests
from bergfried.store.tx import Tx
from bergfried.web.state import services_of

CALLBACK = "/oauth/v2/authorize/callback"
RATE_LIMITED = "Errors.Login.TooManyAttempts"
PREFIX = "/ui/login"
log = get("bergfried.login")


@dataclass(slots=True)
class Visit:
    """One request to a login page, with its auth request loaded."""

    services: Services
    view: View
    tx: Tx
    auth_request: AuthRequest
    agent_id: str | None  # None: the browser came without a user-agent cookie
    fields: dict[str, str]
    redirect_status: int
    login: LoginPolicy  # the instance's login policy in force (the admin API may change it)
    client_ip: str | None = None  # the ASGI peer (see web/ratelimit.py behind a proxy)

    async def candidates(self) -> tuple[steps.Candidate, ...]:
        return await flow.candidates(self.tx.conn, self.services, self.agent_id, self.tx.now)

    def page(self, template: str, **context: object) -> Response:
        return self.view.render(template, 200, auth_request_id=self.auth_request.id, **context)

    def login_name_page(self, login_name: str = "", error: str = "") -> Response:
        return self.page("loginname.html", login_name=login_name, error=self.view.t(error) if error else "",
                         allow_register=self.login.allow_register)

    def register_page(self, values: dict[str, str] | None = None, error: str = "", error_field: str = "",
                      status: int = 200) -> Response:
        if not self.login.allow_register:
            return self.view.error(register.REGISTRATION_NOT_ALLOWED)
        return self.view.render("register.html", status, auth_request_id=self.auth_request.id,
                                values=values or register.echo({}), error=error, error_field=error_field,
                                languages=register.LANGUAGES)

    def password_page(self, login_name: str, error: str = "") -> Response:
        return self.page("password.html", login_name=login_name, error=self.view.t(error) if error else "")

    def to_callback(self) -> Response:
        if self.auth_request.is_device:  # RFC 8628: the login ends on the allow/deny page
            return self.view.redirect(f"{device.ACTION}?{urlencode({'authRequestID': self.auth_request.id})}",
                                      self.redirect_status)
        return self.view.redirect(f"{CALLBACK}?{urlencode({'id': self.auth_request.id})}", self.redirect_status)

    async def act(self, step: steps.Step) -> Response:
        request = self.auth_request
        if step.kind == steps.Kind.LINK:
            assert step.session is not None
            linked = await auth_requests.link_session(
                self.tx, request.id, session_id=step.session.session_id, user_id=step.session.user_id,
                auth_time=step.session.password_checked_at or self.tx.now, amr=["pwd"],
            )
            return self.to_callback() if linked else self.view.error("Errors.AuthRequest.NotFound")
        if step.kind == steps.Kind.FAIL:
            await auth_requests.fail(self.tx, request.id, error=step.error, description=step.description)
            return self.to_callback()
        if step.kind == steps.Kind.PASSWORD:
            return self.password_page(step.login_name)
        if step.kind == steps.Kind.ACCOUNTS:
            return self.page("accounts.html", accounts=step.accounts)
        if step.kind == steps.Kind.REGISTER:
            return self.register_page()
        return self.login_name_page(step.login_name or request.login_hint or "")

    def for_user(self, user_id: str, login_name: str, candidates: tuple[steps.Candidate, ...]) -> steps.Step:
        return steps.for_user(self.auth_request, user_id, login_name, candidates, now=self.tx.now,
                              lifetime=self.login.password_check_lifetime)


Handler = Callable[[Visit], Awaitable[Response]]



def _open(request: AuthRequest | None, tx: Tx) -> AuthRequest | None:
    if request is None or request.consumed_at is not None or request.expires_at <= tx.now:
        return None
    return None if request.is_v2 else request  # `V2_` requests belong to the custom login UI


def page(handler: Handler, *, post: bool) -> Callable[[Request], Awaitable[Response]]:
    """The steps every login handler shares, in order: cookie, form and CSRF (POST), one write
    transaction, the auth request, the language, finished requests back to the callback."""

    async def endpoint(request: Request) -> Response:
        services = services_of(request)
        https = services.settings.is_https
        cookie = agent.read(request, https=https)
        accept = request.headers.get("accept-language")
        view = View(cookie or agent.new_value(), cookie is None, https, CsrfGuard(services.master),
                    Translator(negotiate((), accept)))
        fields: dict[str, str] = {}
        if post:
            try:
                posted = await forms.read(request)
            except forms.BadForm:
                return view.error("Errors.Login.BadForm")
            if not view.csrf.valid(cookie, posted.csrf_token):
                log.info("login_csrf_rejected", path=request.url.path)
                return view.error("Errors.Login.Csrf")
            request_id, fields = posted.auth_request_id, dict(posted.fields)
        else:
            request_id = request.query_params.get("authRequestID", "")
        async with services.store.write() as tx:
            auth_request = _open(await auth_requests.get(tx.conn, request_id), tx) if request_id else None
            if auth_request is None:
                return view.error("Errors.AuthRequest.NotFound")
            view.t = Translator(negotiate(auth_request.ui_locales, accept))
            if not await auth_requests.bind_user_agent(tx, request_id,
                                                       agent.agent_id(services.hasher, view.agent_cookie)):
                log.info("login_foreign_browser", auth_request=request_id)
                return view.error("Errors.AuthRequest.NotFound")
            agent_id = agent.agent_id(services.hasher, cookie) if cookie else None
            login, _ = await policies.current(tx.conn, services, LoginPolicy)
            visit = Visit(services, view, tx, auth_request, agent_id, fields, 303 if post else 302, login,
                          request.client.host if request.client else None)
            if auth_request.done:
                return visit.to_callback()
            try:
                return await handler(visit)
            except forms.BadForm:
                return view.error("Errors.Login.BadForm")

    return endpoint


async def entry(visit: Visit) -> Response:
    request = visit.auth_request
    found = await flow.hint(visit.tx.conn, visit.services, request)
    if found is not None and found.problem is not None:
        if "none" in request.prompt:
            return await visit.act(steps.Step(steps.Kind.FAIL, error="interaction_required",
                                              description=steps.NO_SESSION))
        return visit.login_name_page(found.login_name, found.problem)
    step = steps.next_step(request, await visit.candidates(), found.preselected if found else None,
                           now=visit.tx.now, lifetime=visit.login.password_check_lifetime)
    return await visit.act(step)


async def login_name_page(visit: Visit) -> Response:
    return visit.login_name_page(visit.auth_request.login_hint or "")


async def login_name(visit: Visit) -> Response:
    if "register" in visit.fields:  # the page's register button (spec/login.md §1 `/loginname` fields)
        return visit.register_page()
    try:
        form = forms.login_name_form(visit.fields)
    except forms.FieldError as exc:
        return visit.login_name_page("", exc.key)
    user = await flow.find_user_for(visit.tx.conn, visit.services, visit.auth_request, form.login_name)
    problem = flow.login_problem(user)
    if problem == flow.NOT_FOUND and visit.login.ignore_unknown_usernames:
        return visit.password_page(form.login_name)  # spec/login.md §3 ignoreUnknownUsernames
    if problem is not None or user is None:
        return visit.login_name_page(form.login_name, problem or flow.NOT_FOUND)
    return await visit.act(visit.for_user(user.id, form.login_name, await visit.candidates()))


async def password(visit: Visit) -> Response:
    try:
        form = forms.password_form(visit.fields)
    except forms.FieldError as exc:
        return visit.password_page(exc.login_name, exc.key)
    limits = visit.services.limits
    wait = limits.password_check(visit.client_ip, form.login_name)
    if wait is not None:  # before any lookup, so known and unknown names are limited alike
        log.warning("login_rate_limited", client_ip=visit.client_ip, retry_after=wait)
        response = visit.view.error(RATE_LIMITED, 429)
        response.headers["retry-after"] = str(wait)
        return response
    outcome = await flow.check_password(visit.tx, visit.services, form.login_name, form.password,
                                       visit.auth_request)
    if outcome.user is None:
        limits.password_failed(visit.client_ip, form.login_name)
        error = outcome.error or flow.invalid_password_key(visit.login)
        log.info("login_password_rejected", reason=error, auth_request_id=visit.auth_request.id)
        return visit.password_page(form.login_name, error)
    if visit.agent_id is None:  # unreachable: the CSRF check needs the cookie
        return visit.view.error("Errors.Login.Csrf")
    session = await flow.open_session(visit.tx, visit.agent_id, outcome.user)
    log.info("login_password_accepted", user_id=outcome.user.id, session_id=session.id,
             auth_request_id=visit.auth_request.id)
    return await visit.act(steps.Step(steps.Kind.LINK, session=steps.Candidate(
        session_id=session.id, user_id=outcome.user.id, login_name=form.login_name,
        display_name=outcome.user.display_name, password_checked_at=session.password_checked_at,
    )))


async def accounts_page(visit: Visit) -> Response:
    candidates = await visit.candidates()
    if not candidates:
        return visit.login_name_page(visit.auth_request.login_hint or "")
    return visit.page("accounts.html", accounts=candidates)


async def select_account(visit: Visit) -> Response:
    chosen_id = forms.account_form(visit.fields).user_id
    candidates = await visit.candidates()
    chosen = next((c for c in candidates if c.user_id == chosen_id), None) if chosen_id else None
    if chosen is None:
        return visit.login_name_page()
    return await visit.act(visit.for_user(chosen.user_id, chosen.login_name, candidates))


async def register_page(visit: Visit) -> Response:
    return visit.register_page()


async def register_user(visit: Visit) -> Response:
    if not visit.login.allow_register:
        return visit.view.error(register.REGISTRATION_NOT_ALLOWED)
    try:
        form = register.register_form(visit.fields)
    except register.RegisterFieldError as exc:
        return visit.register_page(register.echo(visit.fields), visit.view.t(exc.key), exc.field, 400)
    if visit.agent_id is None:  # unreachable: the CSRF check needs the cookie
        return visit.view.error("Errors.Login.Csrf")
    try:
        user = await register.create_user(visit.tx, visit.services, visit.auth_request, form)
    except DomainError as exc:
        t = visit.view.t
        return visit.register_page(register.echo(visit.fields), t(exc.key) if t.knows(exc.key) else exc.description,
                                   register.field_of(exc.key), 400)
    session = await flow.open_session(visit.tx, visit.agent_id, user)
    log.info("login_registered", user_id=user.id, org_id=user.org_id, auth_request_id=visit.auth_request.id)
    return await visit.act(steps.Step(steps.Kind.LINK, session=steps.Candidate(
        session_id=session.id, user_id=user.id, login_name=user.username,
        display_name=user.profile.display_name, password_checked_at=session.password_checked_at,
    )))


def routes() -> list[Route]:
    return [
        Route(f"{PREFIX}/login", page(entry, post=False), methods=["GET"]),
        Route(f"{PREFIX}/loginname", page(login_name_page, post=False), methods=["GET"]),
        Route(f"{PREFIX}/loginname", page(login_name, post=True), methods=["POST"]),
        Route(f"{PREFIX}/password", page(entry, post=False), methods=["GET"]),
        Route(f"{PREFIX}/password", page(password, post=True), methods=["POST"]),
        Route(f"{PREFIX}/accounts", page(accounts_page, post=False), methods=["GET"]),
        Route(f"{PREFIX}/accounts", page(select_account, post=True), methods=["POST"]),
        Route(f"{PREFIX}/register", page(register_page, post=False), methods=["GET"]),
        Route(f"{PREFIX}/register", page(register_user, post=True), methods=["POST"]),
        Route(f"{PREFIX}/resources/{{name}}", resource, methods=["GET"]),
        *device.routes(),
    ]
