"""The subject of a token as the claims see it: the user, its organization, its metadata, its
grants and whether its organization's actions or the instance's executions run for it.

One indexed statement loads all of it (issue 10: at most two queries on a hot path, the token's
row being the other). The user row is found by its primary key and joined to its organization;
metadata and grants come back as JSON aggregates of their indexed rows (`user_metadata`'s
primary key, `user_grants`' `(user_id, …)` index); the action flags are EXISTS probes of primary
keys; and the client's settings, when a client id is given, are a LEFT JOIN on the applications'
unique client id. A user with 50 metadata entries still costs one row to read.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.claims.inputs import ClientSettings, RoleGrant
from bergfried.domain import actions as actions_domain
from bergfried.domain.apps import TokenType
from bergfried.domain.grants import UserGrantState
from bergfried.domain.ids import OrgId
from bergfried.domain.orgs import Org, OrgState
from bergfried.domain.users import User, UserState, UserType, preferred_login_name
from bergfried.store import fast
from bergfried.store import tables as t
from bergfried.store import users as user_store
from bergfried.store.tokens import AccessTokenRecord, Grant

_TRIGGERS = (actions_domain.PRE_USERINFO.id, actions_domain.PRE_ACCESS_TOKEN.id)


@dataclass(frozen=True, slots=True)
class Subject:
    user: User
    org: Org
    preferred_username: str
    metadata: dict[str, bytes]
    updated_at: datetime
    # Every active grant of the user (any project), loaded with it; None when not loaded.
    grants: tuple[RoleGrant, ...] | None = None
    # The complement-token triggers with v1 actions in the user's organization, and those whose
    # function has a v2 execution; None when not loaded (actions/complement.py asks then).
    actions_v1: frozenset[str] | None = None
    actions_v2: frozenset[str] | None = None

    @property
    def active(self) -> bool:
        return self.user.state == UserState.ACTIVE


def _json(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, bytes | str):
        loaded = json.loads(value)
        return loaded if isinstance(loaded, list) else []
    return list(value)


def _metadata_column(dialect: str) -> Any:
    m = t.user_metadata.alias("subject_metadata")
    if dialect == "postgresql":  # bytea as base64 (encode() wraps lines; b64decode skips the breaks)
        agg = sa.func.json_agg(sa.func.json_build_array(m.c.key, sa.func.encode(m.c.value, "base64")))
    else:
        agg = sa.func.json_group_array(sa.func.json_array(m.c.key, sa.func.hex(m.c.value)))
    return sa.select(agg).where(m.c.user_id == t.users.c.id).scalar_subquery().label("metadata_json")


def _grants_column(dialect: str) -> Any:
    """The user's active grants, found by `user_id` alone. The organization's primary domain is a
    scalar subquery by primary key, not a join: with a join PostgreSQL may combine the grants'
    `user_id` index with their `org_id` index, and in a large organization that reads every
    grant of it (40 ms at 1M users, bench/README.md)."""
    g, o = t.user_grants.alias("subject_grant"), t.orgs.alias("subject_grant_org")
    domain = sa.select(o.c.primary_domain).where(o.c.id == g.c.org_id).scalar_subquery()
    if dialect == "postgresql":
        agg = sa.func.json_agg(aggregate_order_by(
            sa.func.json_build_array(g.c.project_id, g.c.org_id, g.c.role_keys, domain), g.c.id))
    else:  # rows come in the order of the (user_id, …) index scan; sorted below by the grant's id
        agg = sa.func.json_group_array(sa.func.json_array(g.c.project_id, g.c.org_id, sa.func.json(g.c.role_keys),
                                                          domain, g.c.id))
    return (sa.select(agg).select_from(g)
            .where(g.c.user_id == t.users.c.id, g.c.state == UserGrantState.ACTIVE)
            .scalar_subquery().label("grants_json"))


def _action_columns() -> list[Any]:
    ft = t.flow_triggers.alias("subject_flow_trigger")
    ex = t.executions.alias("subject_execution")
    columns = []
    for trigger in _TRIGGERS:
        columns.append(sa.exists().where(
            ft.c.org_id == t.users.c.org_id, ft.c.flow_type == actions_domain.COMPLEMENT_TOKEN.id,
            ft.c.trigger_type == trigger).label(f"v1_{trigger}"))
        function = actions_domain.COMPLEMENT_FUNCTIONS[trigger]
        columns.append(sa.exists().where(ex.c.condition == f"function/{function}").label(f"v2_{trigger}"))
    return columns


_AT = t.access_tokens
# The access token's columns beside the user's, renamed where the names meet (`id`, `created_at`).
_TOKEN_COLUMNS = [_AT.c.id.label("token_id"), _AT.c.format.label("token_format"),
                  _AT.c.client_id.label("token_client_id"), _AT.c.user_id.label("token_user_id"),
                  _AT.c.scopes.label("token_scopes"), _AT.c.audience.label("token_audience"),
                  _AT.c.session_id.label("token_session_id"), _AT.c.auth_time.label("token_auth_time"),
                  _AT.c.amr.label("token_amr"), _AT.c.actor.label("token_actor"),
                  _AT.c.created_at.label("token_created_at"), _AT.c.expires_at.label("token_expires_at"),
                  _AT.c.family_id.label("token_family_id")]


def _subject_columns(dialect: str, with_metadata: bool) -> list[Any]:
    o = t.orgs
    columns: list[Any] = [t.users, o.c.name.label("org_name"), o.c.state.label("org_state"),
                          o.c.primary_domain.label("org_primary_domain"), _grants_column(dialect), *_action_columns()]
    if with_metadata:
        columns.append(_metadata_column(dialect))
    return columns


def _with_client(columns: list[Any], joined: Any, client_id: Any) -> tuple[list[Any], Any]:
    a, p = t.applications, t.projects
    columns = [*columns, a.c.client_id.label("app_client_id"), a.c.project_id.label("app_project_id"),
               a.c.access_token_type.label("app_access_token_type"), a.c.id_token_userinfo_assertion,
               a.c.id_token_role_assertion, a.c.access_token_role_assertion, p.c.project_role_assertion]
    return columns, joined.outerjoin(a, a.c.client_id == client_id).outerjoin(p, p.c.id == a.c.project_id)


@cache
def _statement(dialect: str, with_metadata: bool, with_client: bool, by_token: str | None = None,
               token_client: bool = False) -> sa.Select[Any]:
    """Built once per shape: SQLAlchemy then finds the compiled form by the same object.

    `by_token` ("hash" or "id"): start from a live access token (tokens/lookup.py's rules: not
    revoked, not expired, its session not ended) and load its user, in the same statement.
    `token_client`: the client whose settings come along is the token's own."""
    u, o = t.users, t.orgs
    columns = _subject_columns(dialect, with_metadata)
    conditions: list[Any] = [u.c.state != UserState.DELETED]
    if by_token is None:
        joined = u.join(o, o.c.id == u.c.org_id)
        conditions.append(u.c.id == sa.bindparam("user_id"))
    else:
        columns += _TOKEN_COLUMNS
        joined = (_AT.outerjoin(t.sessions, t.sessions.c.id == _AT.c.session_id)
                  .join(u, u.c.id == _AT.c.user_id).join(o, o.c.id == u.c.org_id))
        key = _AT.c.token_hash if by_token == "hash" else _AT.c.id
        conditions += [key == sa.bindparam("key"), _AT.c.revoked_at.is_(None), _AT.c.expires_at > sa.bindparam("now"),
                       t.sessions.c.terminated_at.is_(None)]
    if with_client:
        columns, joined = _with_client(columns, joined, _AT.c.client_id if token_client else sa.bindparam("client_id"))
    return sa.select(*columns).select_from(joined).where(*conditions)


_CALLER = "caller_"
_CALLER_NAMES = (*((_CALLER + column.name, column.name) for column in t.applications.c),
                 (_CALLER + "project_state", "project_state"))


@cache
def _caller_statement(dialect: str, by_token: str) -> sa.Select[Any]:
    """Introspection's one read: the calling application (its columns prefixed `caller_`, with its
    project's state) and, beside it, the live access token with its subject and the caller's
    settings (`_statement`), or NULLs when there is no such token. The token's half does not
    depend on the caller's row: it is an uncorrelated subquery, found by its own indexes."""
    found = _statement(dialect, True, True, by_token).subquery("found")
    caller, project = t.applications.alias("caller"), t.projects.alias("caller_project")
    columns = [*(column.label(_CALLER + column.name) for column in caller.c),
               project.c.state.label(_CALLER + "project_state"), *found.c]
    joined = caller.join(project, project.c.id == caller.c.project_id).outerjoin(found, sa.true())
    return sa.select(*columns).select_from(joined).where(caller.c.client_id == sa.bindparam("client_id"))


@cache
def _login_statement(dialect: str, by: str) -> sa.Select[Any]:
    """A user of a live organization by user name (`by` "username") or by user name and a
    verified domain of its organization ("domain"), as a login name names it (store/users.py),
    with everything `_subject` needs and the user's secret hash (a `users` column)."""
    u, o, d = t.users, t.orgs, t.org_domains
    joined = u.join(o, o.c.id == u.c.org_id)
    conditions = [u.c.state != UserState.DELETED, o.c.state != OrgState.REMOVED,
                  u.c.username_lower == sa.bindparam("username")]
    if by == "domain":
        joined = joined.join(d, d.c.org_id == u.c.org_id)
        conditions += [d.c.domain == sa.bindparam("domain"), d.c.is_verified.is_(True)]
    return sa.select(*_subject_columns(dialect, True)).select_from(joined).where(*conditions)


# What a code or a refresh token is found by; its own columns come back prefixed with `start_`.
_STARTS = {"code": (t.authorization_codes, t.authorization_codes.c.code_hash),
           "refresh": (t.refresh_tokens, t.refresh_tokens.c.token_hash)}
_START = "start_"


@cache
def _start_statement(dialect: str, start: str) -> sa.Select[Any]:
    """The code or refresh token by its hash, whatever its state (the grants tell a replay from
    an unknown one), with its user when that is not removed, the end of its login session and
    the settings of the client `client_id`: the code and refresh grants' one read after the
    client's authentication (issue 10 §3)."""
    table, key = _STARTS[start]
    u, o, s = t.users, t.orgs, t.sessions
    columns = [*(column.label(_START + column.name) for column in table.c), *_subject_columns(dialect, True),
               s.c.terminated_at.label("session_terminated_at")]
    joined = (table.outerjoin(u, sa.and_(u.c.id == table.c.user_id, u.c.state != UserState.DELETED))
              .outerjoin(o, o.c.id == u.c.org_id).outerjoin(s, s.c.id == table.c.session_id))
    columns, joined = _with_client(columns, joined, sa.bindparam("client_id"))
    return sa.select(*columns).select_from(joined).where(key == sa.bindparam("key"))


def _metadata(value: Any, dialect: str) -> dict[str, bytes]:
    pairs = _json(value)
    decode = base64.b64decode if dialect == "postgresql" else bytes.fromhex
    return {key: decode(encoded) for key, encoded in sorted(pairs, key=lambda pair: pair[0])}


def _grants(value: Any, dialect: str) -> tuple[RoleGrant, ...]:
    entries = _json(value)
    if dialect != "postgresql":
        entries = sorted(entries, key=lambda entry: entry[4])
    return tuple(RoleGrant(project_id=entry[0], org_id=entry[1], role_keys=tuple(entry[2] or ()),
                           org_primary_domain=entry[3]) for entry in entries)


def _client(row: Any) -> ClientSettings | None:
    if row.app_client_id is None:
        return None
    return ClientSettings(
        client_id=row.app_client_id, project_id=row.app_project_id,
        jwt_access_token=row.app_access_token_type == TokenType.JWT,
        id_token_userinfo_assertion=bool(row.id_token_userinfo_assertion),
        id_token_role_assertion=bool(row.id_token_role_assertion),
        access_token_role_assertion=bool(row.access_token_role_assertion),
        project_role_assertion=bool(row.project_role_assertion),
    )


def _subject(row: Any, dialect: str, *, with_metadata: bool, must_be_domain: bool) -> Subject:
    user = user_store.from_row(row)
    org = Org(id=OrgId(row.org_id), name=row.org_name, state=OrgState(row.org_state),
              primary_domain=row.org_primary_domain)
    mapping = row._mapping
    return Subject(
        user=user, org=org, updated_at=row.changed_at,
        metadata=_metadata(row.metadata_json, dialect) if with_metadata else {},
        preferred_username=preferred_login_name(user.username, org.primary_domain, must_be_domain=must_be_domain),
        grants=_grants(row.grants_json, dialect),
        actions_v1=frozenset(trigger for trigger in _TRIGGERS if mapping[f"v1_{trigger}"]),
        actions_v2=frozenset(trigger for trigger in _TRIGGERS if mapping[f"v2_{trigger}"]),
    )


async def load_for_client(conn: AsyncConnection, user_id: str, client_id: str | None, *, must_be_domain: bool,
                          with_metadata: bool = True) -> tuple[Subject | None, ClientSettings | None]:
    """The subject and, when `client_id` names an application, its settings: one statement."""
    dialect = conn.dialect.name
    params: dict[str, Any] = {"user_id": user_id}
    if client_id is not None:
        params["client_id"] = client_id
    row = await fast.first(conn, _statement(dialect, with_metadata, client_id is not None), params)
    if row is None:
        return None, None
    subject = _subject(row, dialect, with_metadata=with_metadata, must_be_domain=must_be_domain)
    return subject, _client(row) if client_id is not None else None


@dataclass(frozen=True, slots=True)
class TokenSubject:
    """A live access token with its subject and a client's settings, from one statement."""

    record: AccessTokenRecord
    subject: Subject
    client: ClientSettings | None


async def load_by_access_token(conn: AsyncConnection, now: datetime, *, must_be_domain: bool,
                               token_hash: str | None = None, token_id: str | None = None,
                               client_id: str | None = None) -> TokenSubject | None:
    """The live access token found by its hash (opaque) or its id (a JWT's `jti`), with its
    user (not removed) and the settings of `client_id`, or of the token's own client when None:
    the userinfo and introspection endpoints' one read after the caller (issue 10 §3)."""
    dialect = conn.dialect.name
    by, key = ("hash", token_hash) if token_hash is not None else ("id", token_id)
    if key is None:
        return None
    params: dict[str, Any] = {"key": key, "now": now}
    if client_id is not None:
        params["client_id"] = client_id
    statement = _statement(dialect, True, True, by, token_client=client_id is None)
    row = await fast.first(conn, statement, params)
    return _token_subject(row, dialect, must_be_domain) if row is not None else None


def _token_subject(row: Any, dialect: str, must_be_domain: bool) -> TokenSubject | None:
    if row.token_id is None:
        return None
    grant = Grant(client_id=row.token_client_id, user_id=row.token_user_id, scopes=tuple(row.token_scopes),
                  audience=tuple(row.token_audience), session_id=row.token_session_id,
                  auth_time=row.token_auth_time, amr=tuple(row.token_amr or ()), actor=row.token_actor)
    record = AccessTokenRecord(id=row.token_id, format=row.token_format, grant=grant,
                               created_at=row.token_created_at, expires_at=row.token_expires_at,
                               family_id=row.token_family_id)
    return TokenSubject(record=record, client=_client(row),
                        subject=_subject(row, dialect, with_metadata=True, must_be_domain=must_be_domain))


async def load_caller_and_access_token(conn: AsyncConnection, caller_client_id: str, now: datetime, *,
                                       must_be_domain: bool, token_hash: str | None = None,
                                       token_id: str | None = None) -> tuple[fast.Row, TokenSubject | None] | None:
    """The calling application's row (`applications`' columns and `project_state`; None: no
    such client) and the live access token (by hash or by id) with its subject and the caller's
    settings: introspection's one read for a caller with a secret (issue 10 §3)."""
    dialect = conn.dialect.name
    by, key = ("hash", token_hash) if token_hash is not None else ("id", token_id)
    row = await fast.first(conn, _caller_statement(dialect, by),
                           {"client_id": caller_client_id, "key": key, "now": now})
    if row is None:
        return None
    mapping = row._mapping
    caller = fast.Row({short: mapping[name] for name, short in _CALLER_NAMES})
    return caller, _token_subject(row, dialect, must_be_domain)


@dataclass(frozen=True, slots=True)
class Started:
    """A code's or refresh token's row (`row`, its own column names) with what its grant needs:
    its subject (None when the user is removed), whether its login session has ended, and the
    settings of the client that presents it (None when no application has that client id)."""

    row: fast.Row
    subject: Subject | None
    session_ended: bool
    client: ClientSettings | None


async def load_by_hash(conn: AsyncConnection, start: str, key_hash: str, client_id: str, *,
                       must_be_domain: bool) -> Started | None:
    """`start` ("code" or "refresh") found by its keyed hash, with its subject: one statement."""
    dialect = conn.dialect.name
    row = await fast.first(conn, _start_statement(dialect, start), {"key": key_hash, "client_id": client_id})
    if row is None:
        return None
    mapping = row._mapping
    own = fast.Row({column.name: mapping[_START + column.name] for column in _STARTS[start][0].c})
    subject = None
    if row.id is not None:
        subject = _subject(row, dialect, with_metadata=True, must_be_domain=must_be_domain)
    return Started(row=own, subject=subject, session_ended=row.session_terminated_at is not None,
                   client=_client(row))


async def load_machine(conn: AsyncConnection, login_name: str, *,
                       must_be_domain: bool) -> tuple[Subject, str | None] | None:
    """The machine user a login name names, as a subject, with its secret's hash: the
    client_credentials grant's one read (issue 10 §3). The login name is read as
    `store.users.by_login_name` reads it; an e-mail address never names a machine user."""
    dialect = conn.dialect.name
    text = login_name.strip().lower()
    row = None
    if must_be_domain and "@" in text:
        username, _, domain = text.rpartition("@")
        row = await fast.first(conn, _login_statement(dialect, "domain"), {"username": username, "domain": domain})
    if row is None and not must_be_domain:
        row = await fast.first(conn, _login_statement(dialect, "username"), {"username": text})
    if row is None or row.type != UserType.MACHINE:
        return None
    return _subject(row, dialect, with_metadata=True, must_be_domain=must_be_domain), row.secret_hash


async def load(conn: AsyncConnection, user_id: str, *, must_be_domain: bool,
               with_metadata: bool = True) -> Subject | None:
    """The subject alone (one statement, as `load_for_client`)."""
    subject, _ = await load_for_client(conn, user_id, None, must_be_domain=must_be_domain,
                                       with_metadata=with_metadata)
    return subject
