"""What the one middleware adds to every response: a request id (echoing a well-formed incoming
`X-Request-Id`, replacing anything else) and the security headers; HSTS only behind https
(docs/architecture.md "Web")."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message

from bergfried import services as services_module
from bergfried.errors import NotFound
from bergfried.web.app import create_app
from tests.conftest import make_settings
from tests.web.conftest import add_route, serving

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
GENERATED_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


async def _boom(request: Request) -> Response:
    raise RuntimeError("unexpected")


async def _missing(request: Request) -> Response:
    raise NotFound("Errors.User.NotFound", "User could not be found", error_id="QUERY-Dfbg2")


EVERY_KIND_OF_RESPONSE = [
    pytest.param("GET", "/debug/healthz", 200, id="ok"),
    pytest.param("HEAD", "/debug/ready", 200, id="head"),
    pytest.param("GET", "/metrics", 200, id="metrics"),
    pytest.param("GET", "/no/such/route", 404, id="unknown-route"),
    pytest.param("PATCH", "/debug/healthz", 405, id="wrong-method"),
    pytest.param("GET", "/missing", 404, id="domain-error"),
    pytest.param("GET", "/boom", 500, id="unexpected-exception"),
]


@pytest.mark.parametrize(("method", "path", "status"), EVERY_KIND_OF_RESPONSE)
async def test_every_response_carries_request_id_and_security_headers(
    app: Starlette, method: str, path: str, status: int
) -> None:
    add_route(app, "/boom", _boom)
    add_route(app, "/missing", _missing)
    async with serving(app) as client:
        response = await client.request(method, path)
    assert response.status_code == status
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert GENERATED_ID.match(response.headers["x-request-id"])
    assert "strict-transport-security" not in response.headers  # the issuer is http://
    assert len(response.headers.get_list("x-request-id")) == 1


async def test_security_headers_are_not_duplicated(client: httpx.AsyncClient) -> None:
    response = await client.get("/debug/healthz")
    for name in [*SECURITY_HEADERS, "content-security-policy", "x-request-id"]:
        assert len(response.headers.get_list(name)) == 1, name


@pytest.mark.parametrize("incoming", ["4bf92f3577b34da6", "req.2024-01-01_abc", "A" * 64])
async def test_valid_incoming_request_id_is_echoed(client: httpx.AsyncClient, incoming: str) -> None:
    response = await client.get("/debug/healthz", headers={"X-Request-Id": incoming})
    assert response.headers["x-request-id"] == incoming


@pytest.mark.parametrize(
    "incoming",
    [
        pytest.param("", id="empty"),
        pytest.param("A" * 65, id="too-long"),
        pytest.param("two words", id="space"),
        pytest.param("<script>alert(1)</script>", id="markup"),
        pytest.param("id;drop", id="semicolon"),
    ],
)
async def test_invalid_incoming_request_id_is_replaced(client: httpx.AsyncClient, incoming: str) -> None:
    response = await client.get("/debug/healthz", headers={"X-Request-Id": incoming})
    replaced = response.headers["x-request-id"]
    assert replaced != incoming
    assert GENERATED_ID.match(replaced)


async def _raw_request(app: Starlette, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Send one request straight through ASGI, below any HTTP client's header validation."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/debug/healthz", "raw_path": b"/debug/healthz", "root_path": "",
        "query_string": b"", "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    async with app.router.lifespan_context(app):
        await app(scope, receive, send)
    start = next(message for message in sent if message["type"] == "http.response.start")
    assert start["status"] == 200
    return list(start["headers"])


@pytest.mark.parametrize(
    "incoming",
    [
        pytest.param(b"abc\n", id="trailing-newline"),
        pytest.param(b"abc\r\nset-cookie: a=b", id="header-injection"),
        pytest.param("caf\u00e9".encode("latin-1"), id="non-ascii"),
    ],
)
async def test_request_id_with_control_or_non_ascii_bytes_is_never_echoed(app: Starlette, incoming: bytes) -> None:
    headers = await _raw_request(app, [(b"x-request-id", incoming)])
    ids = [value for name, value in headers if name.lower() == b"x-request-id"]
    assert len(ids) == 1
    assert ids[0] != incoming
    assert GENERATED_ID.match(ids[0].decode("ascii"))
    assert all(b"\n" not in value and b"\r" not in value for _, value in headers)


async def test_request_ids_differ_between_requests(client: httpx.AsyncClient) -> None:
    ids = {(await client.get("/debug/healthz")).headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


async def test_hsts_is_sent_when_the_external_url_is_https(engine: AsyncEngine, tmp_path: Path) -> None:
    services = services_module.build(make_settings(tmp_path, external_url="https://id.example.com"), engine=engine)
    app = create_app(services.settings, prebuilt=services)
    async with serving(app) as client:
        for path in ("/debug/healthz", "/no/such/route"):
            response = await client.get(path)
            hsts = response.headers["strict-transport-security"]
            max_age = int(re.search(r"max-age=(\d+)", hsts).group(1))  # type: ignore[union-attr]
            assert max_age >= 31536000  # one year


async def test_hsts_is_not_sent_when_the_external_url_is_http(client: httpx.AsyncClient) -> None:
    response = await client.get("/debug/healthz")
    assert "strict-transport-security" not in response.headers
