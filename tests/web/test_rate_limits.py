"""Rate limits on the client-authenticating OAuth endpoints, per client IP: the limiter's
arithmetic on a moved clock, the 429 answer through the ASGI app, and the settings wired through
`bergfried start` on a live server (where uvicorn takes the client from a trusted proxy's
`X-Forwarded-For`)."""

# ruff: noqa: F811  (the `res` fixture of tests/oidc/conftest.py is used by name)
from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bergfried import services as services_module
from bergfried.domain.apps import AppType, AuthMethodType, GrantType, OIDCConfig
from bergfried.ratelimit import Limiter
from bergfried.settings import load_settings
from bergfried.store import tables as t
from bergfried.web.app import create_app
from tests.conftest import make_settings
from tests.factories import count_rows, make_org, make_project, make_web_app
from tests.oidc.conftest import Resources, basic, clock, movable_services, res  # noqa: F401  (fixtures)
from tests.processes import bergfried_server, clean_env, free_port
from tests.web.conftest import serving

ENDPOINTS = ["/oauth/v2/token", "/oauth/v2/introspect", "/oauth/v2/revoke", "/oauth/v2/device_authorization"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.rule("OWASP ASVS V2.2.1: a token bucket per key refills at the configured rate")
def test_a_bucket_allows_a_minutes_worth_of_failures_then_refuses_until_it_refills() -> None:
    clock = Clock()
    limiter = Limiter(6, clock)  # 6 a minute: one token every 10 s
    for _ in range(6):
        assert limiter.check("a") is None
        limiter.spend("a")
    assert limiter.check("a") == 10
    assert limiter.check("b") is None  # other keys are not affected
    clock.now += 4
    assert limiter.check("a") == 6  # checking spends nothing
    clock.now += 6
    assert limiter.check("a") is None
    limiter.spend("a")
    assert limiter.check("a") == 10
    for _ in range(20):  # a concurrent burst overspends: the bucket goes below zero, at most a minute's worth
        limiter.spend("a")
    assert limiter.check("a") == 70
    off = Limiter(0, clock)
    off.spend("a")
    assert off.check("a") is None  # 0 = off


def test_many_distinct_keys_keep_memory_bounded() -> None:
    clock = Clock()
    limiter = Limiter(60, clock, max_keys=100)
    for n in range(1000):
        limiter.spend(str(n))
    assert len(limiter._buckets) <= 100
    clock.now += 120  # every bucket refilled: all are dropped at the next prune
    for n in range(101):
        limiter.spend(f"x{n}")
    assert len(limiter._buckets) <= 101


def test_defaults_are_on_and_generous() -> None:
    settings = load_settings({}, environ={})
    assert settings.rate_limit_token_per_ip >= 600
    assert settings.rate_limit_password_per_ip >= 100
    assert settings.rate_limit_password_per_name >= 10


@pytest.mark.rule("RFC 9700 §4.x / OWASP ASVS V2.2.1: token endpoints limited per client IP, 429 + Retry-After")
@pytest.mark.parametrize("path", ENDPOINTS)
async def test_over_the_limit_the_oauth_endpoints_answer_429_json_with_retry_after(
    engine: AsyncEngine, tmp_path: Path, path: str,
) -> None:
    settings = make_settings(tmp_path, rate_limit_token_per_ip=3)
    services = services_module.build(settings, engine=engine)
    async with serving(create_app(settings, prebuilt=services)) as client:
        first = [await client.post(path, data={"client_id": "nobody"}) for _ in range(3)]  # failures spend
        assert all(r.status_code in (400, 401) for r in first), [r.text for r in first]
        before = await count_rows(services.store, t.events)
        limited = await client.post(path, data={"client_id": "nobody", "grant_type": "client_credentials"})
        assert limited.status_code == 429
        assert limited.json()["error"] == "invalid_request"
        assert "retry after" in limited.json()["error_description"]
        assert 1 <= int(limited.headers["retry-after"]) <= 20
        assert limited.headers["cache-control"] == "no-store"
        assert limited.headers["x-content-type-options"] == "nosniff"  # still inside the request middleware
        assert await count_rows(services.store, t.events) == before
        other = await client.get("/.well-known/openid-configuration")  # other routes are not limited
        assert other.status_code == 200


@pytest.mark.rule("docs/security.md: per process, per client IP; uvicorn trusts X-Forwarded-For from 127.0.0.1")
def test_live_server_reads_the_limit_from_the_environment_and_keys_by_client_ip(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(BERGFRIED_PORT=str(port), BERGFRIED_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'r.db'}",
                    BERGFRIED_RATE_LIMIT_TOKEN_PER_IP="2", BERGFRIED_OUTBOX_WORKER="false")
    with bergfried_server(["start"], tmp_path, env, port, "limited") as server:
        server.wait_ready()
        url = f"{server.base_url}/oauth/v2/token"
        with httpx.Client(timeout=10) as client:
            statuses = [client.post(url, data={"grant_type": "client_credentials"}).status_code for _ in range(3)]
            assert statuses[:2] == [401, 401] or statuses[:2] == [400, 400], statuses
            assert statuses[2] == 429
            proxied = client.post(url, data={"grant_type": "client_credentials"},
                                  headers={"x-forwarded-for": "203.0.113.9"})
            assert proxied.status_code != 429  # another client behind the trusted proxy has its own bucket


@pytest.mark.rule("docs/security.md: successes and the device poll's pending answers spend nothing")
async def test_successful_introspection_and_pending_device_polls_are_never_limited(res: Resources) -> None:
    res.services.limits.token_per_ip.per_minute = 3  # this process's limiter, as the setting makes it
    auth = basic(res.api.client_id, res.api_secret)
    for _ in range(8):  # a busy resource server behind one IP
        answer = await res.client.post("/oauth/v2/introspect", data={"token": "unknown"}, headers=auth)
        assert answer.status_code == 200
        assert answer.json() == {"active": False}
    device = await _device_app(res)
    started = (await res.client.post("/oauth/v2/device_authorization",
                                     data={"client_id": device, "scope": "openid"})).json()
    poll = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": started["device_code"],
            "client_id": device}
    errors = [(await res.client.post("/oauth/v2/token", data=poll)).json()["error"] for _ in range(5)]
    assert set(errors) <= {"authorization_pending", "slow_down"}, errors
    for _ in range(3):
        assert (await res.client.post("/oauth/v2/introspect", data={"token": "x"})).status_code in (400, 401)
    limited = await res.client.post("/oauth/v2/introspect", data={"token": "unknown"}, headers=auth)
    assert limited.status_code == 429  # three failures emptied the bucket; now even a good client waits


async def _device_app(res: Resources) -> str:
    project = await make_project(res.services.store, await make_org(res.services.store), "tv")
    app = await make_web_app(res.services.store, project, "tv", OIDCConfig(
        redirect_uris=(), app_type=AppType.NATIVE, auth_method_type=AuthMethodType.NONE,
        grant_types=(GrantType.DEVICE_CODE,)), secret_hash=None)
    return app.client_id
