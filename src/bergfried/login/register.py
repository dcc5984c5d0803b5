"""Self-registration in the hosted login (spec/login.md §6): shown for `prompt=create` and from
the login-name page's "register" button when the login policy has `allowRegister`.

The form posts ZITADEL's fields (`register_handler.go`): `email`, `username` (optional: the e-mail
is the user name then), `firstname`, `lastname`, `language`, `register-password`,
`register-password-confirmation`. The new human user is created in the organization the auth
request asks for (scope `urn:zitadel:iam:org:id:{id}`) or the instance's default organization,
with the password checked against the complexity policy and hashed with argon2id, and the browser
gets a session with the password just set, so the login goes on to the application.

Pure form checking here; the handler in routes.py does the I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bergfried.claims import scopes as sc
from bergfried.crypto.passwords import hash_password_async
from bergfried.domain.auth_requests import AuthRequest
from bergfried.domain.instance import Instance
from bergfried.domain.orgs import Org, OrgState
from bergfried.domain.policies import PasswordComplexityPolicy, check_password
from bergfried.domain.users import HumanUser, Profile
from bergfried.errors import NotFound, PreconditionFailed
from bergfried.login.forms import BadForm
from bergfried.management import policies
from bergfried.services import Services
from bergfried.store import instances, orgs, users
from bergfried.store.tx import Tx

MAX_FIELD = 200
MAX_PASSWORD = 1024

REGISTRATION_NOT_ALLOWED = "Errors.Org.LoginPolicy.RegistrationNotAllowed"
PASSWORD_CONFIRMATION = "Errors.User.Password.ConfirmationWrong"
REQUIRED = "Errors.Register.Required"
LANGUAGES = (("en", "English"), ("de", "Deutsch"))


@dataclass(frozen=True, slots=True)
class RegisterForm:
    email: str
    username: str
    first_name: str
    last_name: str
    language: str
    password: str


class RegisterFieldError(Exception):
    """A value the user can fix; the page is shown again with what was typed (never the password)."""

    def __init__(self, key: str, field: str, values: Mapping[str, str]) -> None:
        super().__init__(key)
        self.key = key
        self.field = field
        self.values = dict(values)


def _text(fields: Mapping[str, str], name: str, limit: int) -> str:
    value = fields.get(name, "")
    if len(value) > limit:
        raise BadForm
    return value


def echo(fields: Mapping[str, str]) -> dict[str, str]:
    """What the page may show again after an error."""
    return {name: fields.get(name, "")[:MAX_FIELD] for name in ("email", "username", "firstname", "lastname",
                                                                 "language")}


def register_form(fields: Mapping[str, str]) -> RegisterForm:
    values = {name: _text(fields, name, MAX_FIELD).strip()
              for name in ("email", "username", "firstname", "lastname", "language")}
    password = _text(fields, "register-password", MAX_PASSWORD)
    confirmation = _text(fields, "register-password-confirmation", MAX_PASSWORD)
    for name in ("email", "firstname", "lastname"):
        if not values[name]:
            raise RegisterFieldError(REQUIRED, name, values)
    if not password:
        raise RegisterFieldError(REQUIRED, "register-password", values)
    if password != confirmation:
        raise RegisterFieldError(PASSWORD_CONFIRMATION, "register-password-confirmation", values)
    return RegisterForm(email=values["email"], username=values["username"] or values["email"],
                        first_name=values["firstname"], last_name=values["lastname"],
                        language=values["language"], password=password)


def field_of(key: str) -> str:
    """Which input an error from the domain belongs to."""
    if "Password" in key:
        return "register-password"
    if "Email" in key:
        return "email"
    if "Username" in key or "UserName" in key or "AlreadyExists" in key:
        return "username"
    return ""


async def _org_of(tx: Tx, request: AuthRequest, instance: Instance) -> Org:
    """The organization the request is restricted to by its org scope, else the default one."""
    for scope in request.scopes:
        try:
            if scope.startswith(sc.ORG_ID_PREFIX):
                org = await orgs.get(tx.conn, scope[len(sc.ORG_ID_PREFIX):])
            elif scope.startswith(sc.ORG_DOMAIN_PREFIX):
                org = await orgs.get_by_domain(tx.conn, scope[len(sc.ORG_DOMAIN_PREFIX):])
            else:
                continue
        except NotFound:
            continue
        if org.state == OrgState.ACTIVE:
            return org
    return await orgs.get(tx.conn, instance.default_org_id)


async def create_user(tx: Tx, services: Services, request: AuthRequest, form: RegisterForm) -> HumanUser:
    """The new human user, active, with its password set (its e-mail is not verified yet)."""
    complexity, _ = await policies.current(tx.conn, services, PasswordComplexityPolicy)  # admin API may change it
    check_password(complexity, form.password)
    instance = await instances.get(tx.conn)
    if instance is None:
        raise PreconditionFailed("Errors.Instance.NotFound", "Instance not found")
    org = await _org_of(tx, request, instance)
    language = form.language if form.language in dict(LANGUAGES) else ""
    user, _ = await users.create_human(
        tx, org.id, form.username,
        Profile(first_name=form.first_name, last_name=form.last_name, preferred_language=language),
        form.email, password_hash=await hash_password_async(form.password),
    )
    return user
