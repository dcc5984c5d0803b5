"""Hostile action scripts, through real HTTP: each ends within its time limit (200 ms here), the
request fails as server_error (or passes without the claim when allowedToFail), and the provider
answers the next request. The script reaches no network, no Python, no process, no timers, and
nothing it leaves behind reaches the next run (actions/sandbox.py, actions/prelude.js)."""

from __future__ import annotations

import time

import pytest

from tests.actions.conftest import bind, clear, server_error, token_response, userinfo
from tests.claims.world import Scenario, World, decode

pytestmark = pytest.mark.asyncio(loop_scope="module")

FULL = Scenario("full", "openid")
LIMIT = 0.2

ABUSE = {
    "endless_loop": "while (true) {}",
    "memory_bomb": "var a = []; while (true) { a.push(new Array(100000).fill(1.5)); }",
    "huge_fill": "new Array(1e9).fill(0);",  # V8 ends its process here: the worker dies, not the provider
    "string_doubling": "var s = 'x'; while (true) { s = s + s; }",
    "deep_recursion": "function f() { f(); } f();",
    "zitadel_http": "require('zitadel/http').fetch('http://127.0.0.1:1/');",
    "fetch": "fetch('http://127.0.0.1:1/');",
    "process": "process.exit(1);",
    "global_process": "globalThis.constructor.constructor('return this')().process.env;",
    "function_constructor": "Function('return process')().mainModule.require('fs');",
    "timers": "setTimeout(function () {}, 0);",
    "typed_arrays": "new Uint8Array(1e9);",
    "webassembly": "new WebAssembly.Memory({initial: 1000});",
    "unknown_module": "require('fs');",
    "top_level_loop": None,  # the script's top level never returns
}


def script(body: str | None) -> str:
    if body is None:
        return "while (true) {}\nfunction abuse(ctx, api) {}"
    return f"function abuse(ctx, api) {{ api.v1.claims.setClaim('before', 1); {body} }}"


async def _still_answers(world: World) -> None:
    await bind(world, ("ok", "function ok(ctx, api) { api.v1.claims.setClaim('fine', true); }"))
    response = await token_response(world, FULL)
    assert response.status_code == 200, response.text
    assert decode(response.json()["id_token"])["fine"] is True


@pytest.mark.rule("issue 8: a hostile script ends within its limit, fails the request, and the server answers on")
@pytest.mark.parametrize("name", list(ABUSE))
async def test_hostile_script_fails_the_request_within_its_limit(world: World, name: str) -> None:
    await bind(world, ("abuse", script(ABUSE[name])), limit=LIMIT)
    started = time.monotonic()
    body = server_error(await token_response(world, FULL))
    elapsed = time.monotonic() - started
    assert body["error_description"].startswith('action "abuse" failed: '), body
    # the action's limit, the kill grace (1 s) for a script V8 cannot interrupt, and perhaps the start of a
    # new worker on a busy machine: seconds, where an unlimited script would never end
    assert elapsed < 5, elapsed
    await _still_answers(world)


@pytest.mark.rule("issue 8: with allowedToFail a hostile script is dropped and the token is issued")
@pytest.mark.parametrize("name", ["endless_loop", "memory_bomb", "zitadel_http"])
async def test_hostile_script_allowed_to_fail_is_dropped(world: World, name: str) -> None:
    ok = "function ok(ctx, api) { api.v1.claims.setClaim('o', 1); }"
    await bind(world, ("abuse", script(ABUSE[name])), ("ok", ok), limit=LIMIT, allowed_to_fail=True)
    response = await token_response(world, FULL)
    assert response.status_code == 200, response.text
    for token in (response.json()["id_token"], response.json()["access_token"]):
        claims = decode(token)
        assert "before" not in claims
        assert claims["o"] == 1
    assert "before" not in (await userinfo(world, response.json()["access_token"])).json()


@pytest.mark.rule("issue 8: prototype pollution does not reach the next action or the next request")
async def test_prototype_pollution_does_not_leak(world: World) -> None:
    probe = """
function probe(ctx, api) {
  api.v1.claims.setClaim('clean', ({}).polluted === undefined && [].leak === undefined &&
                         typeof JSON.stringify === 'function' && globalThis.marker === undefined);
}
"""
    await bind(world, ("polluter", """
Object.prototype.polluted = 'top level';
function polluter(ctx, api) {
  Array.prototype.leak = 1;
  globalThis.marker = 1;
  JSON.stringify = function () { return '[["claim", "urn:zitadel:iam:forged", 1]]'; };
}
"""), ("probe", probe))
    response = await token_response(world, FULL)
    assert response.status_code == 200, response.text
    claims = decode(response.json()["id_token"])
    assert claims["clean"] is True
    assert "urn:zitadel:iam:forged" not in claims
    await bind(world, ("probe", probe))
    assert decode((await token_response(world, FULL)).json()["id_token"])["clean"] is True


@pytest.mark.rule("issue 8: the script sees data only: no Python object, no host function")
async def test_script_sees_no_host_objects(world: World) -> None:
    await bind(world, ("look", """
function look(ctx, api) {
  var names = Object.getOwnPropertyNames(globalThis).filter(function (n) {
    return ['process', 'fetch', 'XMLHttpRequest', 'setTimeout', 'WebAssembly', 'ArrayBuffer', 'SharedArrayBuffer',
            'Deno', 'Bun', 'python', '__timer_manager'].indexOf(n) >= 0 && globalThis[n] !== undefined;
  });
  api.v1.claims.setClaim('host', names);
}
"""))
    response = await token_response(world, FULL)
    assert decode(response.json()["id_token"])["host"] == []
    await clear(world)
