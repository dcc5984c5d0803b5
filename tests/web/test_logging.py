"""The log of an unexpected error: the request id and the traceback, but never a secret from the
request or from local variables (src/bergfried/logs.py: "Never log a secret, password, code or
token"). Console is the default log format, so it is the one that matters on a laptop."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from bergfried import logs
from bergfried.web import middleware
from tests.web.conftest import add_route, serving

BEARER = "header-secret-bearer-token"
LOCAL_PASSWORD = "local-secret-password"


@pytest.fixture
def restore_structlog() -> Iterator[None]:
    """Put structlog back afterwards, so no later test writes into this test's captured stream."""
    yield None
    structlog.reset_defaults()


async def _failing_request(app: Starlette) -> str:
    async def boom(request: Request) -> Response:
        password = LOCAL_PASSWORD
        raise RuntimeError(f"failed after checking a password of {len(password)} characters")

    add_route(app, "/boom", boom)
    async with serving(app) as client:
        response = await client.get("/boom", headers={"Authorization": f"Bearer {BEARER}", "X-Request-Id": "rq-1"})
    assert response.status_code == 500
    return response.headers["x-request-id"]


@pytest.mark.parametrize("log_format", ["console", "json"])
async def test_unexpected_error_log_has_request_id_and_traceback_but_no_secrets(
    app: Starlette, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    restore_structlog: None, log_format: str,
) -> None:
    logs.configure(log_format, "info")  # as the CLI does
    monkeypatch.setattr(middleware, "log", logs.get("bergfried.access"))  # a fresh, uncached logger
    request_id = await _failing_request(app)
    written = capsys.readouterr().err
    assert "unhandled_error" in written
    assert request_id in written
    assert "RuntimeError" in written  # the traceback is there, for the operator
    assert BEARER not in written
    assert LOCAL_PASSWORD not in written
    if log_format == "json":
        lines = [json.loads(line) for line in written.splitlines() if line.startswith("{")]
        assert any(line.get("event") == "unhandled_error" and line.get("request_id") == "rq-1" for line in lines)
