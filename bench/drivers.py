"""Python load drivers for what wrk cannot do: the full login (authorize → login name → password →
callback → code → token, each step with its cookies and CSRF token) and the mixed soak."""

from __future__ import annotations

import asyncio
import base64
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urljoin, urlsplit

import httpx

from bench.world import PASSWORD, REDIRECT_URI, USER_SCOPES, World

CSRF = re.compile(r'name="csrfToken" value="([^"]+)"')


def basic(client_id: str, secret: str) -> str:
    raw = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return "Basic " + base64.b64encode(raw).decode()


class Failed(Exception):
    def __init__(self, step: str, status: int, text: str) -> None:
        super().__init__(f"{step}: {status} {text[:200]}")
        self.status = status


def _check(step: str, answer: httpx.Response, *expected: int) -> httpx.Response:
    if answer.status_code not in expected:
        raise Failed(step, answer.status_code, answer.text)
    return answer


def _location(answer: httpx.Response) -> str:
    return str(answer.headers["location"])


async def login(client: httpx.AsyncClient, base: str, world: World, user_index: int) -> dict[str, Any]:
    """One full login as a browser and the web app would do it; returns the token response."""
    client.cookies.clear()
    login_name = world.login_name(user_index)
    query = urlencode({"client_id": world.web_client_id, "redirect_uri": REDIRECT_URI, "response_type": "code",
                       "scope": " ".join(USER_SCOPES), "state": "s"})
    answer = _check("authorize", await client.get(f"{base}/oauth/v2/authorize?{query}"), 302, 303)
    page_url = urljoin(base, _location(answer))
    request_id = parse_qs(urlsplit(page_url).query)["authRequestID"][0]
    page = _check("login page", await client.get(page_url), 200)
    named = _check("login name", await client.post(f"{base}/ui/login/loginname", data={
        "authRequestID": request_id, "csrfToken": _csrf(page), "loginName": login_name}), 200)
    answer = _check("password", await client.post(f"{base}/ui/login/password", data={
        "authRequestID": request_id, "csrfToken": _csrf(named), "loginName": login_name, "password": PASSWORD}),
        302, 303)
    while True:  # the callback, and any step in between, until the redirect to the app
        target = urljoin(base, _location(answer))
        if target.startswith(REDIRECT_URI):
            break
        answer = _check("callback", await client.get(target), 302, 303)
    code = parse_qs(urlsplit(target).query)["code"][0]
    token = _check("token", await client.post(f"{base}/oauth/v2/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
        headers={"Authorization": basic(world.web_client_id, world.web_secret)}), 200)
    result: dict[str, Any] = token.json()
    return result


def _csrf(page: httpx.Response) -> str:
    match = CSRF.search(page.text)
    if match is None:
        raise Failed("csrf", page.status_code, page.text)
    return match.group(1)


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    status5xx: int = 0
    first_error: str = ""

    def ok(self, op: str, seconds: float) -> None:
        self.latencies.setdefault(op, []).append(seconds)

    def fail(self, op: str, exc: Exception) -> None:
        self.errors[op] = self.errors.get(op, 0) + 1
        if isinstance(exc, Failed) and exc.status >= 500:
            self.status5xx += 1
        self.first_error = self.first_error or f"{op}: {exc}"

    def summary(self, seconds: float) -> dict[str, Any]:
        out: dict[str, Any] = {"errors": self.errors, "errors5xx": self.status5xx, "first_error": self.first_error,
                               "ops": {}}
        for op, values in self.latencies.items():
            values.sort()
            out["ops"][op] = {"count": len(values), "per_s": len(values) / seconds,
                              "p50_us": values[len(values) // 2] * 1e6,
                              "p99_us": values[min(len(values) - 1, int(len(values) * 0.99))] * 1e6}
        return out


async def login_load(base: str, world: World, seconds: float, concurrency: int) -> dict[str, Any]:
    """Logins for `seconds` with `concurrency` browsers; random users of the world."""
    tally = Tally()
    end = time.monotonic() + seconds

    async def browser(seed: int) -> None:
        rng = random.Random(seed)
        async with httpx.AsyncClient(timeout=30) as client:
            while time.monotonic() < end:
                started = time.monotonic()
                try:
                    await login(client, base, world, rng.randrange(1, world.users - 2))
                    tally.ok("login", time.monotonic() - started)
                except (Failed, httpx.HTTPError, KeyError) as exc:
                    tally.fail("login", exc)

    started = time.monotonic()
    await asyncio.gather(*(browser(i) for i in range(concurrency)))
    return tally.summary(time.monotonic() - started)


async def soak(bases: list[str], world: World, seconds: float, concurrency: int,
               sample: Any, sample_every: float = 10.0) -> dict[str, Any]:
    """Mixed traffic round-robin over `bases`: per virtual user a login, then token calls with its
    tokens (userinfo, introspection, refresh), and machine client_credentials in between."""
    tally = Tally()
    end = time.monotonic() + seconds
    turn = [0]

    def next_base() -> str:
        turn[0] += 1
        return bases[turn[0] % len(bases)]

    async def timed(op: str, call: Any) -> Any:
        started = time.monotonic()
        try:
            result = await call
        except (Failed, httpx.HTTPError, KeyError) as exc:
            tally.fail(op, exc)
            return None
        tally.ok(op, time.monotonic() - started)
        return result

    async def user(seed: int) -> None:
        rng = random.Random(seed)
        api = {"Authorization": basic(world.api_client_id, world.api_secret)}
        web = {"Authorization": basic(world.web_client_id, world.web_secret)}
        machine = {"Authorization": basic(world.jwt_machine, world.jwt_machine_secret)}
        async with httpx.AsyncClient(timeout=30) as client:
            while time.monotonic() < end:
                tokens = await timed("login", login(client, next_base(), world, rng.randrange(1, world.users - 2)))
                if not tokens:
                    continue
                for _ in range(5):
                    if time.monotonic() >= end:
                        break
                    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}

                    async def get(url: str, headers: dict[str, str], op: str) -> httpx.Response:
                        return _check(op, await client.get(url, headers=headers), 200)

                    async def post(url: str, data: dict[str, str], headers: dict[str, str], op: str) -> Any:
                        return _check(op, await client.post(url, data=data, headers=headers), 200).json()

                    await timed("userinfo", get(f"{next_base()}/oidc/v1/userinfo", bearer, "userinfo"))
                    await timed("introspection", post(f"{next_base()}/oauth/v2/introspect",
                                                      {"token": tokens["access_token"]}, api, "introspection"))
                    await timed("client_credentials", post(f"{next_base()}/oauth/v2/token", {
                        "grant_type": "client_credentials", "scope": "openid"}, machine, "client_credentials"))
                    fresh = await timed("refresh", post(f"{next_base()}/oauth/v2/token", {
                        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, web, "refresh"))
                    if fresh:
                        tokens = fresh

    async def sampler() -> None:
        while time.monotonic() < end:
            sample()
            await asyncio.sleep(sample_every)

    started = time.monotonic()
    await asyncio.gather(sampler(), *(user(i) for i in range(concurrency)))
    sample()
    return tally.summary(time.monotonic() - started)
