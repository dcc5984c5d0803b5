"""The user-agent cookie: a random id that names this browser, as ZITADEL's fingerprint cookie.

Sessions are kept in the database under a keyed hash of the cookie (`user_agent_id`), so one
browser can hold several users' sessions (the account selection), and a database copy does not
give anyone a cookie to present. HttpOnly (scripts never need it), SameSite=Lax (sent on the
top-level navigation back from an application, not on cross-site POSTs), Secure and the
`__Host-` prefix when the issuer is HTTPS.
"""

from __future__ import annotations

import re
import secrets

from starlette.requests import Request
from starlette.responses import Response

from bergfried.crypto.hashing import SecretHasher

NAME = "bergfried.useragent"
MAX_AGE = 400 * 24 * 3600  # the longest lifetime browsers accept (RFC 6265bis §5.5)
_VALUE = re.compile(r"[A-Za-z0-9_-]{43}")


def cookie_name(https: bool) -> str:
    return ("__Host-" if https else "") + NAME


def read(request: Request, *, https: bool) -> str | None:
    value = request.cookies.get(cookie_name(https), "")
    return value if _VALUE.fullmatch(value) else None


def new_value() -> str:
    return secrets.token_urlsafe(32)


def agent_id(hasher: SecretHasher, cookie_value: str) -> str:
    """What the `sessions.user_agent_id` column holds for this browser (64 hex characters)."""
    return hasher.hash("user-agent:" + cookie_value)


def set_cookie(response: Response, value: str, *, https: bool) -> None:
    response.set_cookie(cookie_name(https), value, max_age=MAX_AGE, path="/", secure=https, httponly=True,
                        samesite="lax")
