"""The login forms, read and checked before anything touches the database.

Field names are ZITADEL's (`authRequestID`, `loginName`, `password`, `userID`). A body that is not
a proper form (wrong type, too large, a repeated field) is `BadForm`, shown as a 400 page; a
missing value the user can fix is a `FieldError`, shown next to its field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from starlette.requests import Request

from bergfried.errors import OAuthError
from bergfried.login.csrf import FIELD as CSRF_FIELD
from bergfried.web.forms import read_form

MAX_LOGIN_NAME = 512
MAX_PASSWORD = 1024  # argon2 takes any length; this only bounds the work an anonymous POST causes
MAX_ID = 64


class BadForm(Exception):
    """Not a form the login pages could have sent."""


class FieldError(Exception):
    """A value the user can fix; `login_name` is what the page shows again."""

    def __init__(self, key: str, login_name: str = "") -> None:
        super().__init__(key)
        self.key = key
        self.login_name = login_name


@dataclass(frozen=True, slots=True)
class Posted:
    auth_request_id: str
    csrf_token: str
    fields: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class LoginNameForm:
    login_name: str


@dataclass(frozen=True, slots=True)
class PasswordForm:
    login_name: str
    password: str


@dataclass(frozen=True, slots=True)
class AccountForm:
    user_id: str  # empty: "use another account"


async def read(request: Request) -> Posted:
    try:
        fields = await read_form(request)
    except OAuthError:
        raise BadForm from None
    auth_request_id = fields.get("authRequestID", "")
    if not auth_request_id or len(auth_request_id) > MAX_ID:
        raise BadForm
    return Posted(auth_request_id, fields.get(CSRF_FIELD, ""), fields)


def _text(fields: Mapping[str, str], name: str, limit: int) -> str:
    value = fields.get(name, "")
    if len(value) > limit:
        raise BadForm
    return value


def login_name_form(fields: Mapping[str, str]) -> LoginNameForm:
    login_name = _text(fields, "loginName", MAX_LOGIN_NAME).strip()
    if not login_name:
        raise FieldError("Errors.User.LoginName.Empty")
    return LoginNameForm(login_name)


def password_form(fields: Mapping[str, str]) -> PasswordForm:
    login_name = _text(fields, "loginName", MAX_LOGIN_NAME).strip()
    password = _text(fields, "password", MAX_PASSWORD)
    if not login_name:
        raise BadForm
    if not password:
        raise FieldError("Errors.User.Password.Empty", login_name)
    return PasswordForm(login_name, password)


def account_form(fields: Mapping[str, str]) -> AccountForm:
    return AccountForm(_text(fields, "userID", MAX_ID))
