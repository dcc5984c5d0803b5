"""Test data builders: each makes one thing through the real store, in its own transaction."""

from __future__ import annotations

import sqlalchemy as sa

from bergfried.crypto.passwords import hash_password
from bergfried.domain.apps import Application, OIDCConfig
from bergfried.domain.orgs import Org, generated_org_domain
from bergfried.domain.projects import Project, ProjectRole
from bergfried.domain.users import HumanUser, MachineUser, Profile
from bergfried.store import apps, events, orgs, projects, users
from bergfried.store.tx import Store

_counter = iter(range(1, 1_000_000))


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_counter)}"


async def make_org(store: Store, name: str | None = None) -> Org:
    name = name or unique("org")
    async with store.write() as tx:
        org, _ = await orgs.create(tx, name, generated_org_domain(name, "localhost"))
    return org


async def make_user(store: Store, org: Org, username: str | None = None, *, password: str | None = "Password1!",
                    first_name: str = "Road", last_name: str = "Runner") -> HumanUser:
    username = username or unique("user")
    async with store.write() as tx:
        user, _ = await users.create_human(
            tx, org.id, username, Profile(first_name=first_name, last_name=last_name),
            f"{username}@example.com", email_verified=True,
            password_hash=hash_password(password) if password else None,
        )
    return user


async def make_machine(store: Store, org: Org, username: str | None = None) -> MachineUser:
    async with store.write() as tx:
        user, _ = await users.create_machine(tx, org.id, username or unique("machine"), "A machine")
    return user


async def make_project(store: Store, org: Org, name: str | None = None,
                       roles: tuple[str, ...] = ("admin", "user")) -> Project:
    async with store.write() as tx:
        project, _ = await projects.create(tx, org.id, name or unique("project"))
        if roles:
            await projects.add_roles(tx, project, [ProjectRole(project.id, key, key.title()) for key in roles])
    return project


async def make_web_app(store: Store, project: Project, name: str | None = None,
                       config: OIDCConfig | None = None, secret_hash: str | None = "hash") -> Application:
    async with store.write() as tx:
        app, _ = await apps.add_oidc(tx, project, name or unique("app"),
                                     config or OIDCConfig(redirect_uris=("https://app.example.com/cb",)),
                                     secret_hash=secret_hash)
    return app


async def latest_sequence(store: Store) -> int:
    """The sequence of the newest event (0 on an empty log)."""
    async with store.read() as conn:
        return await events.latest_sequence(conn)


async def events_after(store: Store, sequence: int, *, aggregate_type: str | None = None,
                       aggregate_id: str | None = None) -> list[events.Event]:
    """Every event appended after `sequence`, oldest first."""
    async with store.read() as conn:
        return await events.list_events(conn, after_sequence=sequence, aggregate_type=aggregate_type,
                                        aggregate_id=aggregate_id)


async def count_rows(store: Store, table: sa.Table) -> int:
    async with store.read() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())
