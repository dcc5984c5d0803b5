"""`bergfried apply` with Actions v2 targets and executions (docs/apply.md), on SQLite and
PostgreSQL: created, changed to match, idempotent, validated like the API, pruned on request."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bergfried.errors import ConfigError
from bergfried.services import Services
from bergfried.store import targets as store
from tests.apply.conftest import apply_text, rendered

WORLD = """
targets:
  - name: crm
    endpoint: https://crm.example.com/hook
    timeout: 10s
    restCall: {interruptOnError: true}
  - name: audit
    endpoint: https://audit.example.com/in
    timeout: 2.5s
    restAsync: {}
executions:
  - condition: {function: {name: preuserinfo}}
    targets: [crm, audit]
  - condition: {event: {group: user.human}}
    targets: [audit]
"""


async def state(services: Services) -> tuple[dict[str, tuple[str, str, timedelta, bool]], dict[str, list[str]]]:
    async with services.store.read() as conn:
        targets = {x.name: x for x in map(store.target_of, (await conn.execute(store.select_targets())).all())}
        executions = {e.condition: e.targets for e in map(store.execution_of,
                                                          (await conn.execute(store.select_executions())).all())}
    names = {x.id: x.name for x in targets.values()}
    return ({n: (str(x.type), x.endpoint, x.timeout, x.interrupt_on_error) for n, x in targets.items()},
            {c: [names[i] for i in ids] for c, ids in executions.items()})


@pytest.mark.rule("docs/apply.md: targets by name and executions by condition are created, then left alone")
async def test_apply_targets_and_executions(started: Services, tmp_path: Path) -> None:
    first = await apply_text(started, WORLD, tmp_path)
    assert rendered(first) == ["+ create target crm", "+ create target audit",
                               "+ create execution function/preuserinfo", "+ create execution event/user.human.*"]
    targets, executions = await state(started)
    assert targets == {"crm": ("call", "https://crm.example.com/hook", timedelta(seconds=10), True),
                       "audit": ("async", "https://audit.example.com/in", timedelta(seconds=2.5), False)}
    assert executions == {"function/preuserinfo": ["crm", "audit"], "event/user.human.*": ["audit"]}
    assert (await apply_text(started, WORLD, tmp_path)).actions == []
    changed = WORLD.replace("timeout: 10s", "timeout: 20s").replace("targets: [crm, audit]", "targets: [audit]")
    second = await apply_text(started, changed, tmp_path)
    assert rendered(second) == ["~ change target crm: timeout: 10s → 20s",
                                "~ change execution function/preuserinfo: targets: ['crm', 'audit'] → ['audit']"]
    assert (await state(started))[1]["function/preuserinfo"] == ["audit"]


@pytest.mark.rule("docs/apply.md: --prune deletes targets and executions the given lists leave out")
async def test_prune(started: Services, tmp_path: Path) -> None:
    await apply_text(started, WORLD, tmp_path)
    smaller = """
targets:
  - {name: audit, endpoint: "https://audit.example.com/in", timeout: 2.5s, restAsync: {}}
executions:
  - condition: {event: {group: user.human}}
    targets: [audit]
"""
    assert (await apply_text(started, smaller, tmp_path)).actions == []  # without --prune nothing goes
    pruned = await apply_text(started, smaller, tmp_path, prune=True)
    assert rendered(pruned) == ["- delete execution function/preuserinfo", "- delete target crm"]
    targets, executions = await state(started)
    assert set(targets) == {"audit"}
    assert executions == {"event/user.human.*": ["audit"]}


INVALID = [
    (WORLD.replace("https://crm.example.com/hook", "crm.example.com"), "targets[0]: cannot create target crm"),
    (WORLD.replace("timeout: 10s", "timeout: 300s"), "targets[0]: cannot create target crm"),
    (WORLD.replace("targets: [crm, audit]", "targets: [crm, nope]"), "executions[0].targets: no target named 'nope'"),
    (WORLD.replace("name: preuserinfo", "name: postlogin"), "executions[0].condition"),
    (WORLD.replace("restAsync: {}", "restAsync: {}\n    restCall: {}"), "targets[1]: exactly one of"),
    (WORLD.replace("name: audit", "name: crm"), "duplicate target name"),
]


@pytest.mark.rule("docs/apply.md: the API's rules hold in the file; errors name the place; nothing is written")
async def test_invalid(started: Services, tmp_path: Path) -> None:
    for text, message in INVALID:
        with pytest.raises(ConfigError) as error:
            await apply_text(started, text, tmp_path)
        assert message in str(error.value)
    assert await state(started) == ({}, {})
