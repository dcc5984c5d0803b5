"""HTTP for the management API: one Starlette route per declared endpoint (`bergfried.api`), the
OpenAPI document and an offline docs page, both at ZITADEL's `/openapi/v2/swagger/`."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from functools import lru_cache

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from bergfried import __version__
from bergfried.api import dispatch, openapi, registry
from bergfried.errors import DomainError
from bergfried.web.errors import connect_error, json_response
from bergfried.web.state import services_of

OPENAPI_PATH = "/openapi/v2/swagger/openapi.json"
DOCS_PATH = "/openapi/v2/swagger/"
Endpoint = Callable[[Request], Awaitable[Response]]


def _route(endpoint: registry.Endpoint) -> Endpoint:
    async def handle(request: Request) -> Response:
        result = await dispatch.run(
            services_of(request), endpoint,
            authorization=request.headers.get("authorization"),
            org_header=request.headers.get("x-zitadel-orgid"),
            body=await request.body() if endpoint.has_body else b"",
            query=dict(request.query_params),
            path={k: str(v) for k, v in request.path_params.items()},
        )
        return json_response(result, endpoint.status)

    handle.__name__ = endpoint.rpc
    return handle


def _connect_route(endpoint: registry.Endpoint) -> Endpoint:
    """The same call as Connect unary JSON: POST, the request message as the body, always 200."""
    async def handle(request: Request) -> Response:
        try:
            result = await dispatch.run(
                services_of(request), endpoint, authorization=request.headers.get("authorization"),
                org_header=request.headers.get("x-zitadel-orgid"), body=await request.body(), query={}, path={},
                connect=True,
            )
        except DomainError as exc:
            return connect_error(exc)
        return json_response(result)

    handle.__name__ = f"connect_{endpoint.rpc}"
    return handle


@lru_cache(maxsize=4)
def _document(server_url: str) -> bytes:
    return orjson.dumps(openapi.document(registry.load(), server_url=server_url, version=__version__))


async def openapi_json(request: Request) -> Response:
    issuer: str = request.app.state.settings.issuer
    return Response(_document(issuer), media_type="application/json")


def _docs_html() -> str:
    rows: list[str] = []
    tag = None
    for endpoint in sorted(registry.load(), key=lambda e: (e.tag, e.path, e.method)):
        if endpoint.tag != tag:
            tag = endpoint.tag
            rows.append(f'<tr><th colspan="4"><h2>{html.escape(tag)}</h2></th></tr>')
        rows.append(
            f"<tr><td><code>{endpoint.method}</code></td><td><code>{html.escape(endpoint.openapi_path)}</code></td>"
            f"<td>{html.escape(endpoint.rpc)}<br><small>{html.escape(endpoint.summary)}</small></td>"
            f"<td><code>{html.escape(endpoint.permission)}</code></td></tr>"
        )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Bergfried API</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2rem}td,th{padding:.3rem .6rem;text-align:left;"
        "vertical-align:top}tr:nth-child(even){background:#f4f4f4}h2{margin:1rem 0 .2rem}</style></head><body>"
        "<h1>Bergfried management API</h1><p>ZITADEL-compatible REST API. Authenticate with "
        "<code>Authorization: Bearer &lt;token&gt;</code>; pick the organization with <code>x-zitadel-orgid</code>. "
        f'Machine-readable: <a href="{OPENAPI_PATH}">OpenAPI document</a>.</p>'
        "<table><tr><th>Method</th><th>Path</th><th>Call</th><th>Permission</th></tr>"
        + "".join(rows) + "</table></body></html>"
    )


async def docs(request: Request) -> Response:
    return HTMLResponse(_docs_html())


def routes() -> list[Route]:
    out = [
        Route(OPENAPI_PATH, openapi_json, methods=["GET"]),
        Route(DOCS_PATH, docs, methods=["GET"]),
    ]
    out += [Route(e.path, _route(e), methods=[e.method], name=e.rpc) for e in registry.load()]
    out += [Route(e.connect_path, _connect_route(e), methods=["POST"], name=f"connect.{e.rpc}")
            for e in registry.load() if e.connect_path]
    return out
