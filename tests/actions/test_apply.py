"""`bergfried apply` with Actions v1 (docs/apply.md): an organization's actions by name and its
flows' triggers, created, changed to match, idempotent, validated like the API, pruned on request;
on SQLite and PostgreSQL. The applied action then runs in a real token (the claims world)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from bergfried.domain.actions import ActionState
from bergfried.errors import ConfigError
from bergfried.services import Services
from bergfried.store import actions as store
from tests.apply.conftest import apply_text, rendered
from tests.apply.conftest import started as started  # the apply tests' fixture, used by name

WORLD = """
orgs:
  - name: ACME
    actions:
      - name: addClaim
        script: "function addClaim(ctx, api) { api.v1.claims.setClaim('year', 2023); }"
        timeout: 5s
      - name: fromFile
        scriptFile: scripts/from_file.js
        allowedToFail: true
    flows:
      - flowType: FLOW_TYPE_CUSTOMISE_TOKEN
        triggers:
          - {triggerType: TRIGGER_TYPE_PRE_USERINFO_CREATION, actions: [addClaim, fromFile]}
          - {triggerType: "5", actions: [fromFile]}
"""
FROM_FILE = "function fromFile(ctx, api) { api.v1.claims.setClaim('file', true); }\n"


async def state(services: Services, org_name: str = "ACME") -> tuple[dict[str, tuple[timedelta, bool, str]],
                                                                      dict[str, list[str]]]:
    from bergfried.apply.current import find_org
    from bergfried.management import actions as ops

    async with services.store.read() as conn:
        org = await find_org(conn, org_name)
        assert org is not None
        rows = (await conn.execute(store.search(org.id))).all()
        actions = {r.name: (timedelta(milliseconds=r.timeout_ms), bool(r.allowed_to_fail), r.state) for r in rows}
        _, triggers = await ops.flow(conn, org.id, "2")
    return actions, {trigger: [a.name for a in bound] for trigger, bound in triggers.items()}


def _files(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir(exist_ok=True)
    (tmp_path / "scripts" / "from_file.js").write_text(FROM_FILE)


@pytest.mark.rule("docs/apply.md: actions by name and flow triggers are created, then left alone")
async def test_apply_actions_and_flows(started: Services, tmp_path: Path) -> None:
    _files(tmp_path)
    first = await apply_text(started, WORLD, tmp_path)
    assert rendered(first) == [
        "+ create organization ACME", "+ create action ACME/addClaim", "+ create action ACME/fromFile",
        "+ create flow trigger ACME/Complement Token/Pre Userinfo creation: actions: [] → ['addClaim', 'fromFile']",
        "+ create flow trigger ACME/Complement Token/Pre access token creation: actions: [] → ['fromFile']"]
    actions, triggers = await state(started)
    assert actions == {"addClaim": (timedelta(seconds=5), False, ActionState.ACTIVE),
                       "fromFile": (timedelta(0), True, ActionState.ACTIVE)}
    assert triggers == {"4": ["addClaim", "fromFile"], "5": ["fromFile"]}
    assert (await apply_text(started, WORLD, tmp_path)).actions == []
    (tmp_path / "scripts" / "from_file.js").write_text(FROM_FILE.replace("true", "false"))
    changed = WORLD.replace("timeout: 5s", "timeout: 7s").replace("[addClaim, fromFile]", "[fromFile, addClaim]")
    second = await apply_text(started, changed, tmp_path)
    assert rendered(second) == [
        "~ change action ACME/addClaim: timeout: 5s → 7s",
        "~ change action ACME/fromFile: script: 'unchanged' → 'changed'",
        "~ change flow trigger ACME/Complement Token/Pre Userinfo creation: "
        "actions: ['addClaim', 'fromFile'] → ['fromFile', 'addClaim']"]
    assert (await state(started))[1]["4"] == ["fromFile", "addClaim"]


@pytest.mark.rule("docs/apply.md: a declared action is active; --prune deletes actions and empties triggers left out")
async def test_reactivate_and_prune(started: Services, tmp_path: Path) -> None:
    _files(tmp_path)
    await apply_text(started, WORLD, tmp_path)
    from bergfried.apply.current import find_org

    async with started.store.write() as tx:
        org = await find_org(tx.conn, "ACME")
        assert org is not None
        row = (await tx.conn.execute(store.search(org.id).where(store.A.c.name == "addClaim"))).one()
        await store.set_state(tx, store.from_row(row), ActionState.INACTIVE)
    smaller = """
orgs:
  - name: ACME
    actions:
      - {name: addClaim, script: "function addClaim(ctx, api) { api.v1.claims.setClaim('year', 2023); }",
         timeout: 5s}
    flows:
      - flowType: "2"
        triggers:
          - {triggerType: "4", actions: [addClaim]}
"""
    kept = await apply_text(started, smaller, tmp_path)
    assert rendered(kept) == [
        "~ change action ACME/addClaim: state: 'ACTION_STATE_INACTIVE' → 'ACTION_STATE_ACTIVE'",
        "~ change flow trigger ACME/Complement Token/Pre Userinfo creation: "
        "actions: ['addClaim', 'fromFile'] → ['addClaim']"]
    pruned = await apply_text(started, smaller, tmp_path, prune=True)
    assert rendered(pruned) == [
        "- delete flow trigger ACME/Complement Token/Pre access token creation: actions: ['fromFile'] → []",
        "- delete action ACME/fromFile"]
    actions, triggers = await state(started)
    assert set(actions) == {"addClaim"}
    assert actions["addClaim"][2] == ActionState.ACTIVE
    assert triggers == {"4": ["addClaim"]}


@pytest.mark.rule("docs/apply.md: the API's rules hold in the file; errors name the place; nothing is written")
@pytest.mark.parametrize(("text", "message"), [
    ("actions: [{name: a, script: 'function a(){}', timeout: 21s}]", "orgs[0].actions[0]: invalid"),
    ("actions: [{name: a}]", "give exactly one of script or scriptFile"),
    ("actions: [{name: a, scriptFile: missing.js}]", "orgs[0].actions[0].scriptFile: cannot read"),
    ("actions: [{name: a, script: x}, {name: a, script: y}]", "duplicate action name 'a'"),
    ("flows: [{flowType: '2', triggers: [{triggerType: '4', actions: [nope]}]}]",
     "orgs[0].flows[0].triggers[0].actions: no action named 'nope'"),
    ("flows: [{flowType: '2', triggers: [{triggerType: '1'}]}]", "Trigger type is not valid for this flow"),
    ("flows: [{flowType: FLOW_TYPE_NONE, triggers: []}]", "orgs[0].flows[0].flowType: Flow type is missing"),
    ("flows: [{flowType: '2', triggers: [{triggerType: '4'}, {triggerType: '4'}]}]", "duplicate trigger"),
])
async def test_invalid_files(started: Services, tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        await apply_text(started, "orgs:\n  - name: ACME\n    " + text + "\n", tmp_path)
    from bergfried.apply.current import find_org

    async with started.store.read() as conn:
        assert await find_org(conn, "ACME") is None  # one transaction: nothing was written
