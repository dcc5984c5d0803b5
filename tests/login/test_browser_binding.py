"""An auth request belongs to the browser that first opens its login page: a login link
forwarded to someone signed in here must not hand the sender a code for them."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bergfried.web.app import create_app
from tests.oidc.test_code_flow import World, authorize
from tests.oidc.test_code_flow import world as world
from tests.web.conftest import serving


@pytest.mark.rule("RFC 6819 §4.4.1.8 / RFC 9700 §4.7: no code for a request opened in another browser")
async def test_request_started_elsewhere_cannot_be_collected(world: World) -> None:
    attacker = world.client
    started = await authorize(world)
    request_id = parse_qs(urlsplit(started.headers["location"]).query)["authRequestID"][0]
    # The victim's browser opens the login page first: the request is now the victim's.
    async with serving(create_app(world.services.settings, prebuilt=world.services)) as victim:
        page = await victim.get(f"/ui/login/login?authRequestID={request_id}")
        assert page.status_code == 200
        assert victim.cookies
    # The attacker (another cookie jar) can neither continue the login nor collect an answer.
    refused = await attacker.get(f"/ui/login/login?authRequestID={request_id}")
    assert refused.status_code == 400
    collected = await attacker.get(f"/oauth/v2/authorize/callback?id={request_id}")
    assert collected.status_code == 400
    assert "another browser" in collected.text


async def test_same_browser_continues(world: World) -> None:
    started = await authorize(world)
    location: Any = started.headers["location"]
    first = await world.client.get(location)
    assert first.status_code == 200
    again = await world.client.get(location)
    assert again.status_code == 200
    assert isinstance(world.client, httpx.AsyncClient)
