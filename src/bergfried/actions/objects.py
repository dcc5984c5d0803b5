"""What an action sees of the token's user: the objects behind `ctx.v1` in ZITADEL's shapes and
names (spec/actions.md §2.2; ZITADEL `internal/actions/object/*.go`), loaded only when an action
or a v2 execution will run, as JSON-ready data for the sandbox.

- `getUser()`: enums as numbers (state 1 active … 6 initial, gender 1 female, 2 male, 3 diverse).
- metadata values are decoded: JSON when the stored bytes are JSON, otherwise the text.
- `user.grants`: every active grant of the user (ZITADEL hands actions all grants, not only the
  role audience of the token), each with `getOrgMetadata()` of the grant's organization.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.claims.context import Context, RoleGrant
from bergfried.domain.grants import UserGrantState
from bergfried.domain.users import Gender, HumanUser, UserState
from bergfried.store import tables as t

ZERO_TIME = "0001-01-01T00:00:00Z"  # Go's zero time: the lists' own `timestamp` is never filled


def _time(value: datetime | None) -> str:
    if value is None:
        return ZERO_TIME
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def decode_value(raw: bytes) -> Any:
    """ZITADEL `metadataByteArrayToValue`: JSON if it parses, else the bytes as text."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace")


def _metadata_list(rows: list[Any]) -> dict[str, Any]:
    return {"count": len(rows), "sequence": 0, "timestamp": ZERO_TIME, "metadata": [
        {"creationDate": _time(r.created_at), "changeDate": _time(r.changed_at), "resourceOwner": r.org_id,
         "sequence": int(r.sequence), "key": r.key, "value": decode_value(bytes(r.value))} for r in rows]}


EMPTY_METADATA = _metadata_list([])


@dataclass(frozen=True, slots=True)
class Loaded:
    """The data of one run: JSON for the sandbox, and the grants again for the v2 payload."""

    data: dict[str, Any]
    metadata: dict[str, bytes]
    grants: tuple[RoleGrant, ...]


def _user(ctx: Context, created_at: datetime | None, sequence: int) -> dict[str, Any]:
    s = ctx.subject
    user = s.user
    out: dict[str, Any] = {
        "id": user.id, "creationDate": _time(created_at), "changeDate": _time(s.updated_at),
        "resourceOwner": user.org_id, "sequence": sequence, "state": list(UserState).index(user.state),
        "username": user.username, "loginNames": [s.preferred_username], "preferredLoginName": s.preferred_username,
    }
    if isinstance(user, HumanUser):
        p = user.profile
        out["human"] = {
            "firstName": p.first_name, "lastName": p.last_name, "nickName": p.nick_name,
            "displayName": user.display_name, "avatarKey": "", "preferredLanguage": p.preferred_language,
            "gender": list(Gender).index(p.gender), "email": user.email, "isEmailVerified": user.is_email_verified,
            "phone": user.phone, "isPhoneVerified": user.is_phone_verified,
        }
    else:
        out["machine"] = {"name": user.name, "description": user.description}
    return out


async def _grants(conn: AsyncConnection, user_id: str) -> list[Any]:
    ug, p, o = t.user_grants, t.projects, t.orgs
    rows = await conn.execute(
        sa.select(ug, p.c.name.label("project_name"), o.c.name.label("org_name"),
                  o.c.primary_domain.label("org_primary_domain"))
        .join(p, p.c.id == ug.c.project_id).join(o, o.c.id == ug.c.org_id)
        .where(ug.c.user_id == user_id, ug.c.state == UserGrantState.ACTIVE).order_by(ug.c.id))
    return list(rows)


def _grant(row: Any, user_org: str) -> dict[str, Any]:
    return {
        "id": row.id, "projectGrantId": row.project_grant_id or "", "state": 1, "userGrantResourceOwner": row.org_id,
        "userGrantResourceOwnerName": row.org_name, "creationDate": _time(row.created_at),
        "changeDate": _time(row.changed_at), "sequence": int(row.sequence), "userId": row.user_id,
        "userResourceOwner": user_org, "roles": list(row.role_keys), "projectId": row.project_id,
        "projectName": row.project_name,
    }


async def load(conn: AsyncConnection, ctx: Context, claims: dict[str, Any]) -> Loaded:
    """Four indexed queries: the user's row details, its metadata, its grants, and the metadata of
    its organization and of the grants' organizations."""
    user = ctx.subject.user
    u, um, om = t.users, t.user_metadata, t.org_metadata
    row = (await conn.execute(sa.select(u.c.created_at, u.c.sequence).where(u.c.id == user.id))).first()
    metadata_rows = list(await conn.execute(
        sa.select(um.c.key, um.c.value, um.c.org_id, um.c.sequence, um.c.created_at, um.c.changed_at)
        .where(um.c.user_id == user.id).order_by(um.c.key)))
    grant_rows = await _grants(conn, user.id)
    org_ids = {user.org_id, *(g.org_id for g in grant_rows)}
    org_rows: dict[str, list[Any]] = {}
    for r in await conn.execute(sa.select(om).where(om.c.org_id.in_(org_ids)).order_by(om.c.org_id, om.c.key)):
        org_rows.setdefault(r.org_id, []).append(r)
    grants = [_grant(g, user.org_id) for g in grant_rows]
    data = {
        "claims": claims,
        "user": _user(ctx, row.created_at if row else None, int(row.sequence) if row else 0),
        "userMetadata": _metadata_list(metadata_rows),
        "grants": {"count": len(grants), "sequence": 0, "timestamp": ZERO_TIME, "grants": grants},
        "orgMetadata": _metadata_list(org_rows.get(user.org_id, [])),
        "grantOrgMetadata": {org: _metadata_list(rows) for org, rows in org_rows.items()},
        "emptyMetadata": EMPTY_METADATA,
        "clientId": ctx.client.client_id,
    }
    return Loaded(
        data=data, metadata={r.key: bytes(r.value) for r in metadata_rows},
        grants=tuple(RoleGrant(project_id=g.project_id, org_id=g.org_id, org_primary_domain=g.org_primary_domain,
                               role_keys=tuple(g.role_keys)) for g in grant_rows))
