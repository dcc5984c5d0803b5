"""Every error leaves as ZITADEL's error JSON (spec/management-api.md §9): the numeric gRPC code,
`message` "<text> (<id>)", an ErrorDetail entry, the gateway's HTTP status; nothing internal."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from bergfried import services as services_module
from bergfried.errors import (
    AlreadyExists,
    DomainError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    StoreUnavailable,
    Unauthenticated,
)
from bergfried.store.engine import create_engine
from bergfried.web.app import create_app
from tests.conftest import make_settings
from tests.web.conftest import add_route, serving

SECTION_9 = "spec/management-api.md §9"
ERROR_DETAIL = "type.googleapis.com/zitadel.v1.ErrorDetail"
SECRET = "hunter2-in-the-exception"


@pytest.mark.rule(SECTION_9)
async def test_unknown_route_is_404_with_grpc_not_found_body(client: httpx.AsyncClient) -> None:
    response = await client.get("/management/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"code": 5, "message": "Not Found", "details": []}


@pytest.mark.rule(SECTION_9)
async def test_wrong_method_is_405_with_code_12_and_allow_header(client: httpx.AsyncClient) -> None:
    response = await client.post("/debug/healthz")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"code": 12, "message": "Method Not Allowed", "details": []}
    allowed = {method.strip() for method in response.headers["allow"].split(",")}
    assert allowed == {"GET", "HEAD"}


@pytest.mark.rule(SECTION_9)
async def test_wrong_method_on_metrics_names_only_get(client: httpx.AsyncClient) -> None:
    response = await client.delete("/metrics")
    assert response.status_code == 405
    assert response.json()["code"] == 12
    assert "GET" in response.headers["allow"]


@pytest.mark.rule(SECTION_9)
async def test_unexpected_exception_is_json_500_with_code_13_and_the_request_id(app: Starlette) -> None:
    async def boom(request: Request) -> Response:
        raise RuntimeError(f"password={SECRET}")

    add_route(app, "/boom", boom)
    async with serving(app) as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == 13  # INTERNAL
    assert body["details"] == []
    request_id = response.headers["x-request-id"]
    assert request_id in body["message"]
    for leak in ("Traceback", "RuntimeError", SECRET, "File \"", __file__):
        assert leak not in response.text


async def test_unexpected_exception_echoes_the_callers_request_id(app: Starlette) -> None:
    async def boom(request: Request) -> Response:
        raise KeyError("internal")

    add_route(app, "/boom", boom)
    async with serving(app) as client:
        response = await client.get("/boom", headers={"X-Request-Id": "trace-4711"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "trace-4711"
    assert "trace-4711" in response.json()["message"]


DOMAIN_ERRORS = [
    # (error class, gRPC code, HTTP status) from the table in §9
    pytest.param(InvalidArgument, 3, 400, id="InvalidArgument-400"),
    pytest.param(NotFound, 5, 404, id="NotFound-404"),
    pytest.param(AlreadyExists, 6, 409, id="AlreadyExists-409"),
    pytest.param(PermissionDenied, 7, 403, id="PermissionDenied-403"),
    pytest.param(PreconditionFailed, 9, 400, id="PreconditionFailed-400"),
    pytest.param(Unauthenticated, 16, 401, id="Unauthenticated-401"),
]


@pytest.mark.rule(SECTION_9)
@pytest.mark.parametrize(("error", "grpc_code", "http_status"), DOMAIN_ERRORS)
async def test_domain_error_becomes_zitadel_error_json_with_grpc_code_and_http_status(
    app: Starlette, error: type[DomainError], grpc_code: int, http_status: int
) -> None:
    async def fail(request: Request) -> Response:
        raise error("Errors.User.NotFound", "User could not be found", error_id="QUERY-Dfbg2",
                    detail=f"row lookup for {SECRET}")

    add_route(app, "/users/{user_id}", fail)
    async with serving(app) as client:
        response = await client.get("/users/170848145649959169")
    assert response.status_code == http_status
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "code": grpc_code,
        "message": "User could not be found (QUERY-Dfbg2)",
        "details": [{"@type": ERROR_DETAIL, "id": "QUERY-Dfbg2", "message": "User could not be found"}],
    }
    assert SECRET not in response.text  # `detail` is for logs only
    assert "x-request-id" in response.headers


@pytest.mark.rule(SECTION_9)
async def test_domain_error_raised_for_a_write_method_is_rendered_the_same(app: Starlette) -> None:
    async def conflict(request: Request) -> Response:
        raise AlreadyExists("Errors.User.AlreadyExists", "User already exists", error_id="COMMAND-k2unb")

    add_route(app, "/users/human", conflict, methods=["POST"])
    async with serving(app) as client:
        response = await client.post("/users/human", json={"userName": "road.runner"})
    assert response.status_code == 409
    assert response.json()["message"] == "User already exists (COMMAND-k2unb)"


@pytest.mark.rule(SECTION_9)
async def test_store_unavailable_in_a_route_is_503_with_retry_after(app: Starlette) -> None:
    async def down(request: Request) -> Response:
        raise StoreUnavailable("connection refused to db.internal:5432")

    add_route(app, "/down", down)
    async with serving(app) as client:
        response = await client.get("/down")
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    body = response.json()
    assert body["code"] == 14  # UNAVAILABLE
    assert body["details"] == []
    assert response.headers["x-request-id"] in body["message"]
    assert "db.internal" not in response.text


async def test_lost_postgresql_in_a_route_is_503_not_500(tmp_path: Path) -> None:
    """A real read through the store against a PostgreSQL nobody listens for."""
    engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/x", pool_size=1)
    dead = services_module.build(make_settings(tmp_path), engine=engine)
    app = create_app(dead.settings, prebuilt=dead)

    async def read(request: Request) -> Response:
        async with request.app.state.services.store.read() as conn:
            await conn.exec_driver_sql("SELECT 1")
        return Response("unreachable")

    add_route(app, "/read", read)
    try:
        async with serving(app) as client:
            response = await client.get("/read")
    finally:
        await engine.dispose()
    assert response.status_code == 503
    assert "retry-after" in response.headers
    assert response.json()["code"] == 14


@pytest.mark.rule(SECTION_9)
@pytest.mark.parametrize(
    ("http_status", "grpc_code"),
    [(400, 3), (401, 16), (403, 7), (409, 6), (429, 8), (501, 12), (503, 14), (504, 4)],
)
async def test_other_http_errors_carry_the_grpc_code_of_their_status(
    app: Starlette, http_status: int, grpc_code: int
) -> None:
    """Starlette's own HTTP errors (e.g. a malformed form) leave in the same shape, with the gRPC
    code that maps to their HTTP status in the §9 table."""

    async def refuse(request: Request) -> Response:
        raise HTTPException(http_status)

    add_route(app, "/refuse", refuse)
    async with serving(app) as client:
        response = await client.get("/refuse")
    assert response.status_code == http_status
    body = response.json()
    assert body["code"] == grpc_code
    assert body["details"] == []
    assert isinstance(body["message"], str)
    assert body["message"]


async def test_headers_of_an_http_error_are_kept(app: Starlette) -> None:
    async def challenge(request: Request) -> Response:
        raise HTTPException(401, "auth header missing", headers={"WWW-Authenticate": 'Bearer realm="bergfried"'})

    add_route(app, "/challenge", challenge)
    async with serving(app) as client:
        response = await client.get("/challenge")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="bergfried"'
    assert response.json() == {"code": 16, "message": "auth header missing", "details": []}
