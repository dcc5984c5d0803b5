"""Rendering the login pages and serving their stylesheet.

Every page carries a strict CSP (no scripts at all, styles only from our own stylesheet) and
`Cache-Control: no-store`. The CSP has no `form-action`: Chrome applies it to every redirect
after a form POST, which would block the final redirect to the client's redirect URI.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bergfried.login import agent
from bergfried.login.csrf import FIELD as CSRF_FIELD
from bergfried.login.csrf import CsrfGuard
from bergfried.login.i18n import Translator

CSP = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'"
PAGE_HEADERS = {"content-security-policy": CSP, "cache-control": "no-store", "pragma": "no-cache"}
RESOURCES = "/ui/login/resources/"

_env = Environment(loader=PackageLoader("bergfried.login", "templates"), autoescape=True,
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def _load_static() -> dict[str, tuple[bytes, str]]:
    types = {".css": "text/css; charset=utf-8"}
    files: dict[str, tuple[bytes, str]] = {}
    for entry in resources.files("bergfried.login").joinpath("static").iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1]
        if entry.is_file() and suffix in types:
            files[entry.name] = (entry.read_bytes(), types[suffix])
    return files


STATIC = _load_static()
_CSS_VERSION = hashlib.sha256(STATIC["login.css"][0]).hexdigest()[:12]


async def resource(request: Request) -> Response:
    found = STATIC.get(request.path_params["name"])
    if found is None:
        return Response("Not Found", status_code=404, media_type="text/plain")
    body, media_type = found
    return Response(body, media_type=media_type, headers={"cache-control": "public, max-age=86400"})


@dataclass(slots=True)
class View:
    """One browser's visit: its user-agent cookie (made now if it had none), its language, and
    the CSRF token of its forms."""

    agent_cookie: str
    new_cookie: bool
    https: bool
    csrf: CsrfGuard
    t: Translator

    def _finish(self, response: Response) -> Response:
        if self.new_cookie:
            agent.set_cookie(response, self.agent_cookie, https=self.https)
        return response

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        body = _env.get_template(template).render(
            t=self.t, lang=self.t.lang, csrf_field=CSRF_FIELD, csrf_token=self.csrf.token(self.agent_cookie),
            css=f"{RESOURCES}login.css?v={_CSS_VERSION}", **context,
        )
        return self._finish(HTMLResponse(body, status_code=status, headers=PAGE_HEADERS))

    def error(self, key: str, status: int = 400) -> Response:
        return self.render("error.html", status, message=self.t(key))

    def redirect(self, location: str, status: int = 302) -> Response:
        return self._finish(RedirectResponse(location, status_code=status, headers={"cache-control": "no-store"}))
