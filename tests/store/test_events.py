"""The append-only event log on both engines: one event per change, in the change's transaction."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bergfried.crypto import masterkey
from bergfried.crypto.aead import Sealer
from bergfried.domain.apps import ApiAuthMethodType, OIDCConfig
from bergfried.domain.common import ObjectDetails
from bergfried.domain.members import MemberLevel
from bergfried.domain.metadata import Metadata
from bergfried.domain.orgs import OrgState
from bergfried.domain.projects import ProjectRole
from bergfried.domain.users import Profile
from bergfried.errors import AlreadyExists
from bergfried.keys.generate import Algorithm
from bergfried.store import (
    apps,
    credentials,
    grants,
    instances,
    members,
    metadata,
    orgs,
    projects,
    signing_keys,
    users,
)
from bergfried.store import tables as t
from bergfried.store.tx import Store, Tx
from tests.conftest import MASTERKEY
from tests.factories import count_rows, events_after, latest_sequence, make_org

Action = Callable[[Tx], Awaitable[Any]]


async def _mutate(store: Store, expected_type: str, action: Action) -> Any:
    """Run one mutation in its own transaction; it must append events, and the `details` it
    returns must carry the sequence of one of them, `expected_type` among them."""
    before = await latest_sequence(store)
    async with store.write(editor="editor-1") as tx:
        result = await action(tx)
    written = await events_after(store, before)
    assert written, f"{expected_type}: no event written"
    assert all(e.editor_user_id == "editor-1" for e in written)
    details = result[1] if isinstance(result, tuple) else result
    if isinstance(details, ObjectDetails):
        same = [e for e in written if e.sequence == details.sequence]
        assert same, f"{expected_type}: details.sequence {details.sequence} is none of the new events"
        # A change that writes several events answers with its last one, as ZITADEL's details do
        # (e.g. user.human.added then user.human.password.changed); the change's own event is among them.
        assert expected_type in [e.event_type for e in written if e.aggregate_id == same[0].aggregate_id]
        if same[0].resource_owner is not None:
            assert same[0].resource_owner == details.resource_owner, expected_type
    else:
        assert expected_type in [e.event_type for e in written]
    return result


async def test_every_mutation_appends_an_event_with_the_returned_sequence(store: Store) -> None:
    sealer = Sealer(masterkey.from_text(MASTERKEY), "signing-keys")
    org, _ = await _mutate(store, "org.added", lambda tx: orgs.create(tx, "Event Org", "event-org.localhost"))
    other, _ = await _mutate(store, "org.added", lambda tx: orgs.create(tx, "Granted Org", "granted.localhost"))
    await _mutate(store, "instance.added", lambda tx: instances.create(
        tx, instance_id="1", name="Bergfried", domain="localhost", default_org_id=org.id))
    await _mutate(store, "org.changed", lambda tx: orgs.rename(tx, org.id, "Event Org 2"))
    await _mutate(store, "org.domain.added", lambda tx: orgs.add_domain(tx, org.id, "events.example", verified=True))
    await _mutate(store, "org.domain.primary.set", lambda tx: orgs.set_primary_domain(tx, org.id, "events.example"))
    await _mutate(store, "org.deactivated", lambda tx: orgs.set_state(tx, org.id, OrgState.INACTIVE))
    await _mutate(store, "org.reactivated", lambda tx: orgs.set_state(tx, org.id, OrgState.ACTIVE))

    human, _ = await _mutate(store, "user.human.added", lambda tx: users.create_human(
        tx, org.id, "eve", Profile("Eve", "Nt"), "eve@example.com", password_hash="fake"))
    machine, _ = await _mutate(store, "user.machine.added", lambda tx: users.create_machine(
        tx, org.id, "bot", "Bot"))
    details = await _mutate(store, "user.human.password.changed", lambda tx: users.set_password(tx, human, "fake2"))
    async with store.read() as conn:
        assert (await users.details(conn, human.id))[2] == details.sequence  # the row's sequence too
    await _mutate(store, "user.human.password.check.failed", lambda tx: users.record_password_check(
        tx, human, succeeded=False, max_attempts=0))
    await _mutate(store, "user.human.password.check.succeeded", lambda tx: users.record_password_check(
        tx, human, succeeded=True, max_attempts=0))
    await _mutate(store, "user.machine.secret.set", lambda tx: users.set_machine_secret(tx, machine, "h"))
    await _mutate(store, "user.locked", lambda tx: users.change_state(tx, machine, "lock"))
    await _mutate(store, "user.metadata.set", lambda tx: metadata.set_many(
        tx, human, [Metadata("a", b"1"), Metadata("b", b"2")]))
    await _mutate(store, "user.metadata.removed", lambda tx: metadata.remove_many(tx, human, ["a", "b"]))
    bot, _ = await _mutate(store, "user.machine.added", lambda tx: users.create_machine(tx, org.id, "bot2", "Bot"))
    pat_id, _ = await _mutate(store, "user.personal.access.token.added",
                              lambda tx: credentials.add_pat(tx, bot, "pat-hash"))
    await _mutate(store, "user.personal.access.token.removed", lambda tx: credentials.remove_pat(tx, bot, pat_id))
    await _mutate(store, "user.machine.key.added", lambda tx: credentials.add_machine_key(tx, bot, "PEM"))

    project, _ = await _mutate(store, "project.added", lambda tx: projects.create(tx, org.id, "events"))
    await _mutate(store, "project.role.added", lambda tx: projects.add_roles(
        tx, project, [ProjectRole(project.id, "a", "A"), ProjectRole(project.id, "b", "B")]))
    await _mutate(store, "project.changed", lambda tx: projects.update(tx, project, project_role_check=True))
    project_grant, _ = await _mutate(store, "project.grant.added", lambda tx: grants.add_project_grant(
        tx, project, other.id, ["a"]))
    grant, _ = await _mutate(store, "user.grant.added", lambda tx: grants.add_user_grant(tx, human, project, ["a"]))
    await _mutate(store, "user.grant.changed", lambda tx: grants.change_user_grant(tx, grant, ["a", "b"]))
    await _mutate(store, "project.role.removed", lambda tx: projects.remove_role(tx, project, "b"))
    await _mutate(store, "user.grant.removed", lambda tx: grants.remove_user_grant(tx, grant))
    await _mutate(store, "org.member.added", lambda tx: members.add(
        tx, MemberLevel.ORG, org.id, human.id, ["ORG_OWNER"], org_id=org.id))
    await _mutate(store, "org.member.removed", lambda tx: members.remove(
        tx, MemberLevel.ORG, org.id, human.id, org_id=org.id))

    app, _ = await _mutate(store, "project.application.added", lambda tx: apps.add_oidc(
        tx, project, "web", OIDCConfig(redirect_uris=("https://x.example/cb",)), secret_hash="s"))
    await _mutate(store, "project.application.config.oidc.changed", lambda tx: apps.update_oidc_config(
        tx, app, OIDCConfig(redirect_uris=("https://y.example/cb",))))
    await _mutate(store, "project.application.config.secret.changed", lambda tx: apps.set_secret(tx, app, "s2"))
    await _mutate(store, "project.application.removed", lambda tx: apps.remove(tx, app))
    await _mutate(store, "project.application.added", lambda tx: apps.add_api(
        tx, project, "api", ApiAuthMethodType.PRIVATE_KEY_JWT, secret_hash=None))

    key = await _mutate(store, "instance.signing_key.added", lambda tx: signing_keys.create(
        tx, sealer, Algorithm.ES256, signs_from=tx.now))
    await _mutate(store, "instance.signing_key.retired", lambda tx: signing_keys.retire(
        tx, key.kid, published_until=tx.now + timedelta(hours=1)))
    await _mutate(store, "user.removed", lambda tx: users.remove(tx, human))
    await _mutate(store, "project.removed", lambda tx: projects.remove(tx, project))
    assert project_grant.project_id == project.id


async def test_the_event_is_written_in_the_transaction_of_the_change(store: Store) -> None:
    before = await latest_sequence(store)
    async with store.write(editor="admin-7") as tx:
        org, details = await orgs.create(tx, "Same Tx", "same-tx.localhost")
        inside = (await tx.conn.execute(sa.select(t.events.c.sequence, t.events.c.event_type)
                                        .where(t.events.c.aggregate_id == org.id))).all()
        outside = await events_after(store, before)  # another connection sees nothing yet
        assert await count_rows(store, t.orgs) == 0
    assert ("org.added" in [row.event_type for row in inside])
    assert outside == []
    after = await events_after(store, before, aggregate_id=org.id)
    assert [e.sequence for e in after] == [row.sequence for row in inside]
    added = after[0]
    assert (added.sequence, added.event_type, added.aggregate_type) == (details.sequence, "org.added", "org")
    assert (added.editor_user_id, added.resource_owner, added.payload) == ("admin-7", org.id, {"name": "Same Tx"})
    assert added.created_at == details.creation_date


async def test_a_transaction_that_raises_after_a_change_leaves_neither_row_nor_event(store: Store) -> None:
    org = await make_org(store)
    before = await latest_sequence(store)
    orgs_before = await count_rows(store, t.orgs)

    async def change_then_fail() -> None:
        async with store.write() as tx:
            await orgs.create(tx, "Doomed", "doomed.localhost")
            await orgs.rename(tx, org.id, "Renamed In Vain")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await change_then_fail()
    assert await events_after(store, before) == []
    assert await count_rows(store, t.orgs) == orgs_before
    async with store.read() as conn:
        assert (await orgs.get(conn, org.id)).name == org.name
        assert await conn.scalar(sa.select(sa.func.count()).select_from(t.org_domains)
                                 .where(t.org_domains.c.domain == "doomed.localhost")) == 0
    with pytest.raises(AlreadyExists):  # a refused change leaves no event either
        await make_org(store, org.name.upper())
    assert await events_after(store, before) == []


async def test_sequences_strictly_increase_and_never_repeat(store: Store) -> None:
    for name in ("Seq A", "Seq B", "Seq C"):
        await make_org(store, name)

    async def rolled_back() -> None:
        async with store.write() as tx:
            await orgs.create(tx, "Rolled Back", "rolled-back.localhost")
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError, match="rolled back"):
        await rolled_back()
    last_before = await latest_sequence(store)
    await make_org(store, "Seq D")
    written = await events_after(store, 0)
    sequences = [e.sequence for e in written]
    assert sequences == sorted(sequences)
    assert len(set(sequences)) == len(sequences)
    assert all(b > a for a, b in itertools.pairwise(sequences))
    assert min(e.sequence for e in written if e.event_type == "org.added" and e.payload["name"] == "Seq D") \
        > last_before
    assert [e.created_at for e in written] == sorted(e.created_at for e in written)
