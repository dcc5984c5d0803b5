"""`bergfried start --demo` as a real process on a real port: the report the seed guide needs,
the PAT file, a graceful stop, and a restart on the same database that shows no secret again."""

from __future__ import annotations

import re
import signal
import stat
from pathlib import Path

import httpx
import pytest

from tests.processes import Server, bergfried_server, clean_env, free_port

pytestmark = pytest.mark.e2e

DEMO_PASSWORD = "Password1!"


def field(report: str, label: str) -> str:
    match = re.search(rf"^\s+{re.escape(label)}\s+(\S.*)$", report, re.MULTILINE)
    assert match, f"no '{label}' line in:\n{report}"
    return match.group(1).strip()


def assert_graceful_stop(server: Server) -> None:
    """SIGTERM ends the process within the deadline after the app's shutdown ran. A single uvicorn
    server re-raises the signal once it has shut down, so -SIGTERM is a clean end as well as 0."""
    code = server.stop()
    assert code in (0, -signal.SIGTERM), server.stderr()
    assert "Application shutdown complete" in server.stderr()


def generated_admin_password(report: str) -> str | None:
    match = re.search(r"admin password \(generated, shown only now\): (\S+)", report)
    return match.group(1) if match else None


@pytest.mark.rule("seeds: the guide's demo world, shown once")
def test_demo_start_reports_the_world_and_a_restart_keeps_it_without_secrets(
    tmp_path: Path, database_url: str
) -> None:
    port = free_port()
    pat_path = tmp_path / "secrets" / "admin.pat"
    env = clean_env(BERGFRIED_PORT=str(port), BERGFRIED_DATABASE_URL=database_url,
                    BERGFRIED_FIRSTINSTANCE_PATPATH=str(pat_path))

    with bergfried_server(["start", "--demo"], tmp_path, env, port, "first") as server:
        ready = server.wait_ready()
        assert ready.text == "ok"
        report = server.stdout()
        issuer = f"http://localhost:{port}"
        assert f"Bergfried serves issuer {issuer}" in report
        assert field(report, "issuer") == issuer
        client_id = field(report, "client id")
        assert re.fullmatch(r"\d+@docs-claims", client_id), client_id
        client_secret = field(report, "client secret")
        assert re.fullmatch(r"[A-Za-z0-9_-]{32,}", client_secret), client_secret
        assert field(report, "login name") == "road.runner@zitadel.localhost"
        assert field(report, "password") == DEMO_PASSWORD
        admin_password = generated_admin_password(report)
        assert admin_password is not None
        assert len(admin_password) >= 8

        assert pat_path.is_file()
        assert stat.S_IMODE(pat_path.stat().st_mode) == 0o600
        token = pat_path.read_text(encoding="utf-8").strip()
        assert token

        assert httpx.get(f"{server.base_url}/debug/healthz", timeout=5).text == "ok"
        assert_graceful_stop(server)
        logs = server.stderr()
        for secret in (client_secret, admin_password, token):
            assert secret not in logs  # never log a secret
        assert "Traceback" not in logs

    with bergfried_server(["start", "--demo"], tmp_path, env, port, "second") as server:
        server.wait_ready()
        again = server.stdout()
        assert field(again, "client id") == client_id
        assert "shown only when the app was created" in field(again, "client secret")
        assert client_secret not in again
        assert generated_admin_password(again) is None
        assert "admin password" not in again
        assert admin_password not in again
        assert "First instance created" not in again
        assert pat_path.read_text(encoding="utf-8").strip() == token  # an existing PAT file is kept
        assert_graceful_stop(server)


def test_start_with_two_workers_serves_ready(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(BERGFRIED_PORT=str(port), BERGFRIED_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'b.db'}")
    with bergfried_server(["start", "--demo", "--workers", "2"], tmp_path, env, port, "workers") as server:
        server.wait_ready()
        with httpx.Client(base_url=server.base_url, timeout=5) as client:
            for _ in range(10):
                response = client.get("/debug/ready")
                assert response.status_code == 200
                assert response.headers["x-request-id"]
            assert client.get("/no/such/route").json() == {"code": 5, "message": "Not Found", "details": []}
        assert "@docs-claims" in field(server.stdout(), "client id")
        assert_graceful_stop(server)
        started = set(re.findall(r"Started server process \[(\d+)\]", server.stderr()))
        assert len(started) == 2, server.stderr()
