"""CSRF tokens for the login forms, bound to the browser's user-agent cookie.

The token is HMAC(key, cookie value), the key derived from the master key for this purpose only.
Another site can make a browser POST to the login, but it cannot read the cookie, so it cannot
compute the token; and a token lifted from one browser is worthless with another browser's
cookie. Nothing is stored, so the check needs no database and runs before any state changes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from bergfried.crypto.masterkey import MasterKey

FIELD = "csrfToken"
PURPOSE = "bergfried/login-csrf/v1"


class CsrfGuard:
    def __init__(self, master: MasterKey) -> None:
        self._key = master.derive(PURPOSE)

    def token(self, agent_cookie: str) -> str:
        digest = hmac.new(self._key, agent_cookie.encode("utf-8"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def valid(self, agent_cookie: str | None, token: str | None) -> bool:
        if not agent_cookie or not token:
            return False
        return hmac.compare_digest(self.token(agent_cookie).encode("ascii"), token.encode("utf-8"))
