"""The database invariants a crash must not break, as queries (issue 11 §3): no user without its
organization, no application without its project, no half-written token family, and every user and
application has the event that created it."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from bergfried.store import tables as t
from bergfried.store.tx import Store

USER_ADDED = ("user.human.added", "user.machine.added")
APP_ADDED = "project.application.added"


async def _ids(conn: Any, query: Any) -> list[str]:
    return [str(row[0]) for row in (await conn.execute(query)).all()]


async def broken(store: Store) -> dict[str, list[str]]:
    """Every violation by invariant; all lists empty when the database is whole."""
    u, o, a, p, e = t.users, t.orgs, t.applications, t.projects, t.events
    rt, at, codes = t.refresh_tokens, t.access_tokens, t.authorization_codes
    successor = rt.alias("successor")
    found: dict[str, list[str]] = {}
    async with store.read() as conn:
        found["user without its organization"] = await _ids(conn, sa.select(u.c.id).where(
            ~sa.exists().where(o.c.id == u.c.org_id)))
        found["application without its project"] = await _ids(conn, sa.select(a.c.id).where(
            ~sa.exists().where(p.c.id == a.c.project_id)))
        found["project without its organization"] = await _ids(conn, sa.select(p.c.id).where(
            ~sa.exists().where(o.c.id == p.c.org_id)))
        found["user without its creation event"] = await _ids(conn, sa.select(u.c.id).where(
            ~sa.exists().where(e.c.aggregate_id == u.c.id, e.c.event_type.in_(USER_ADDED))))
        # One issuance writes an access token and its refresh token in one transaction (one `now`).
        found["refresh token without the access token issued with it"] = await _ids(conn, sa.select(rt.c.id).where(
            ~sa.exists().where(at.c.family_id == rt.c.family_id, at.c.created_at == rt.c.created_at)))
        # A rotation consumes one refresh token and issues its successor in one transaction.
        found["refresh token consumed without a successor"] = await _ids(conn, sa.select(rt.c.id).where(
            rt.c.consumed_at.is_not(None), ~sa.exists().where(
                successor.c.family_id == rt.c.family_id, successor.c.created_at == rt.c.consumed_at)))
        found["code redeemed without tokens"] = await _ids(conn, sa.select(codes.c.code_hash).where(
            codes.c.consumed_at.is_not(None), ~sa.exists().where(at.c.family_id == codes.c.family_id)))
        app_events = (await conn.execute(sa.select(e.c.payload).where(e.c.event_type == APP_ADDED))).scalars().all()
        added = {str(payload["appId"]) for payload in app_events}
        apps = await _ids(conn, sa.select(a.c.id))
        found["application without its creation event"] = [app for app in apps if app not in added]
    return found


async def assert_whole(store: Store) -> None:
    violations = {rule: ids for rule, ids in (await broken(store)).items() if ids}
    assert violations == {}, violations
