"""The benchmark's world, seeded straight through the store (not 10k HTTP calls).

Objects that have behaviour worth going through the real code (projects, roles, applications,
machine users and their secrets, the first human user and its argon2id hash) are made with the
store modules, one event each, as the API would. The bulk — the other users, their metadata and
their grants — is inserted with `executemany` and no events: same rows, same indexes, minutes
faster. Every bulk user shares the first user's password hash (same argon2id cost to verify).

Single-use things the load needs (authorization codes, refresh tokens) are minted in bulk
through `store.tokens`, with the same keyed hash the server uses.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from bergfried import services as services_module
from bergfried.bootstrap import bootstrap
from bergfried.crypto.hashing import generate_secret
from bergfried.crypto.passwords import hash_password
from bergfried.domain.apps import ApiAuthMethodType, AppType, AuthMethodType, GrantType, OIDCConfig, ResponseType
from bergfried.domain.metadata import Metadata
from bergfried.domain.projects import ProjectRole
from bergfried.domain.users import AccessTokenType, HumanUser, Profile
from bergfried.services import Services
from bergfried.settings import Settings
from bergfried.store import apps, grants, metadata, orgs, projects, users
from bergfried.store import tables as t
from bergfried.store import tokens as token_store
from bergfried.store.migrate import migrate
from bergfried.tokens.issue import audience

PASSWORD = "Bench-Passw0rd!"
REDIRECT_URI = "http://localhost/cb"
ROLES = ("admin", "editor", "viewer")
USER_SCOPES = ("openid", "profile", "email", "urn:zitadel:iam:user:metadata",
               "urn:zitadel:iam:org:project:role:admin", "offline_access")
BATCH = 2000


@dataclass
class World:
    issuer: str
    org_domain: str
    project_id: str
    web_client_id: str
    web_secret: str
    api_client_id: str
    api_secret: str
    jwt_machine: str  # client_id (login name) of the machine user with JWT access tokens
    jwt_machine_secret: str
    opaque_machine: str
    opaque_machine_secret: str
    users: int = 0
    metadata_per_user: int = 0
    user_ids: list[str] = field(default_factory=list)  # a sample for codes and logins
    heavy_user_id: str = ""  # 50 metadata entries
    bare_user_id: str = ""  # no metadata

    def login_name(self, index: int) -> str:
        return f"user{index:07d}@{self.org_domain}"

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("user_ids")
        return data


def build_services(settings: Settings) -> Services:
    return services_module.build(settings)


async def seed(services: Services, *, n_users: int, n_meta: int, n_projects: int = 100) -> World:
    """Migrate, bootstrap, and make the world (on an empty database)."""
    await migrate(services.engine)
    result = await bootstrap(services)
    org_id = result.instance.default_org_id
    async with services.store.write() as tx:
        org = await orgs.get(tx.conn, org_id)
        first_project = None
        for index in range(n_projects):
            project, _ = await projects.create(tx, org_id, f"bench-project-{index:03d}")
            await projects.add_roles(tx, project, [ProjectRole(project_id=project.id, key=key, display_name=key.title())
                                                   for key in ROLES])
            first_project = first_project or project
        assert first_project is not None
        web_secret, api_secret = generate_secret(), generate_secret()
        web, _ = await apps.add_oidc(tx, first_project, "bench-web", OIDCConfig(
            redirect_uris=(REDIRECT_URI,), response_types=(ResponseType.CODE,),
            grant_types=(GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN), app_type=AppType.WEB,
            auth_method_type=AuthMethodType.BASIC, dev_mode=True,
        ), secret_hash=services.hasher.hash(web_secret))
        api, _ = await apps.add_api(tx, first_project, "bench-api", ApiAuthMethodType.BASIC,
                                    secret_hash=services.hasher.hash(api_secret))
        machines: dict[str, tuple[str, str]] = {}
        for name, kind in (("bench-jwt", AccessTokenType.JWT), ("bench-opaque", AccessTokenType.BEARER)):
            machine, _ = await users.create_machine(tx, org_id, name, name, access_token_type=kind)
            secret = generate_secret()
            await users.set_machine_secret(tx, machine, services.hasher.hash(secret))
            machines[name] = (f"{name}@{org.primary_domain}", secret)
        first, _ = await users.create_human(
            tx, org_id, "user0000000", Profile(first_name="User", last_name="Zero", display_name="User Zero",
                                               preferred_language="en"),
            f"user0000000@{org.primary_domain}", email_verified=True, password_hash=hash_password(PASSWORD))
        assert isinstance(first, HumanUser)
        entries = [Metadata(key=f"key{k}", value=f"value-{k}".encode()) for k in range(n_meta)]
        await metadata.set_many(tx, first, entries)
        await grants.add_user_grant(tx, first, first_project, ["admin", "viewer"])
        project_ids = [first_project.id] + [
            row.id for row in (await tx.conn.execute(sa.select(t.projects.c.id).where(
                t.projects.c.org_id == org_id, t.projects.c.id != first_project.id))).all()]
    world = World(
        issuer=services.settings.issuer, org_domain=org.primary_domain, project_id=first_project.id,
        web_client_id=web.client_id, web_secret=web_secret, api_client_id=api.client_id, api_secret=api_secret,
        jwt_machine=machines["bench-jwt"][0], jwt_machine_secret=machines["bench-jwt"][1],
        opaque_machine=machines["bench-opaque"][0], opaque_machine_secret=machines["bench-opaque"][1],
        users=1, metadata_per_user=n_meta, user_ids=[first.id],
    )
    world.extra_project_ids = project_ids  # type: ignore[attr-defined]
    world.password_hash = first.password_hash  # type: ignore[attr-defined]
    world.org_id = org_id  # type: ignore[attr-defined]
    await grow(services, world, n_users)
    # Two users for the metadata check: one with 50 entries, one with none.
    heavy, bare = await _bulk_users(services, world, world.users, 2, n_meta=0)
    world.users += 2
    await _bulk_metadata(services, world, [heavy], 50)
    world.heavy_user_id, world.bare_user_id = heavy, bare
    return world


async def grow(services: Services, world: World, total_users: int) -> None:
    """Bulk-add users (each with `world.metadata_per_user` metadata entries and 1–3 grants)."""
    while world.users < total_users:
        count = min(BATCH, total_users - world.users)
        ids = await _bulk_users(services, world, world.users, count, n_meta=world.metadata_per_user)
        world.users += count
        if len(world.user_ids) < 2000:
            world.user_ids.extend(ids[: 2000 - len(world.user_ids)])


async def _bulk_users(services: Services, world: World, start: int, count: int, *, n_meta: int) -> list[str]:
    org_id: str = world.org_id  # type: ignore[attr-defined]
    projects_: list[str] = world.extra_project_ids  # type: ignore[attr-defined]
    rng = random.Random(start)
    async with services.store.write() as tx:
        ids = [tx.new_id() for _ in range(count)]
        rows = []
        for offset, user_id in enumerate(ids):
            name = f"user{start + offset:07d}"
            email = f"{name}@{world.org_domain}"
            rows.append({
                "id": user_id, "org_id": org_id, "type": "TYPE_HUMAN", "username": name, "username_lower": name,
                "state": "USER_STATE_ACTIVE", "first_name": "User", "last_name": f"N{start + offset}",
                "nick_name": "", "display_name": f"User {start + offset}", "preferred_language": "en",
                "gender": "GENDER_UNSPECIFIED", "email": email, "email_lower": email, "is_email_verified": True,
                "phone": "", "is_phone_verified": False, "address": None,
                "password_hash": world.password_hash,  # type: ignore[attr-defined]
                "password_change_required": False, "password_changed_at": tx.now, "failed_password_attempts": 0,
                "machine_name": "", "machine_description": "", "access_token_type": "ACCESS_TOKEN_TYPE_BEARER",
                "secret_hash": None, "created_at": tx.now, "changed_at": tx.now, "sequence": 0,
            })
        await tx.conn.execute(t.users.insert(), rows)
        meta = [{"user_id": user_id, "key": f"key{k}", "value": f"value-{k}-{user_id}".encode(), "org_id": org_id,
                 "created_at": tx.now, "changed_at": tx.now, "sequence": 0}
                for user_id in ids for k in range(n_meta)]
        if meta:
            await tx.conn.execute(t.user_metadata.insert(), meta)
        grant_rows = []
        for user_id in ids:
            chosen = [projects_[0], *rng.sample(projects_[1:], rng.randint(0, 2))]
            for project_id in chosen:
                grant_rows.append({
                    "id": tx.new_id(), "user_id": user_id, "project_id": project_id, "project_grant_id": None,
                    "org_id": org_id, "role_keys": rng.sample(ROLES, rng.randint(1, 3)),
                    "state": "USER_GRANT_STATE_ACTIVE", "created_at": tx.now, "changed_at": tx.now, "sequence": 0,
                })
        await tx.conn.execute(t.user_grants.insert(), grant_rows)
    return ids


async def _bulk_metadata(services: Services, world: World, user_ids: list[str], n_meta: int) -> None:
    async with services.store.write() as tx:
        await tx.conn.execute(t.user_metadata.insert(), [
            {"user_id": user_id, "key": f"key{k}", "value": f"value-{k}".encode(),
             "org_id": world.org_id,  # type: ignore[attr-defined]
             "created_at": tx.now, "changed_at": tx.now, "sequence": 0}
            for user_id in user_ids for k in range(n_meta)])


async def mint_codes(services: Services, world: World, count: int, *, user_ids: list[str] | None = None) -> list[str]:
    """`count` authorization codes for the web app, valid for an hour (each is single-use)."""
    user_ids = user_ids or world.user_ids
    codes = []
    async with services.store.write() as tx:
        app_row = await apps.find_by_client_id(tx.conn, world.web_client_id)
        assert app_row is not None
        aud = tuple(await audience(tx, app_row[0], USER_SCOPES))
        rows = []
        for index in range(count):
            code = generate_secret()
            codes.append(code)
            grant = token_store.Grant(client_id=world.web_client_id, user_id=user_ids[index % len(user_ids)],
                                      scopes=USER_SCOPES, audience=aud, auth_time=tx.now, amr=("pwd",))
            rows.append({
                "code_hash": services.hasher.hash(code), "auth_request_id": None, "redirect_uri": REDIRECT_URI,
                "nonce": None, "code_challenge": None, "code_challenge_method": None, "created_at": tx.now,
                "expires_at": tx.now + timedelta(hours=1), "response_type": "code",
                **token_store._grant_values(grant),
            })
        for start in range(0, len(rows), BATCH):
            await tx.conn.execute(t.authorization_codes.insert(), rows[start:start + BATCH])
    return codes


async def mint_refresh_tokens(services: Services, world: World, count: int) -> list[str]:
    tokens = []
    async with services.store.write() as tx:
        app_row = await apps.find_by_client_id(tx.conn, world.web_client_id)
        assert app_row is not None
        aud = list(await audience(tx, app_row[0], USER_SCOPES))
        rows = []
        for index in range(count):
            token = generate_secret()
            tokens.append(token)
            rows.append({
                "id": tx.new_id(), "token_hash": services.hasher.hash(token), "family_id": tx.new_id(),
                "client_id": world.web_client_id, "user_id": world.user_ids[index % len(world.user_ids)],
                "session_id": None, "scopes": list(USER_SCOPES), "audience": aud, "auth_time": tx.now,
                "amr": ["pwd"], "actor": None, "created_at": tx.now, "idle_expires_at": tx.now + timedelta(days=30),
                "family_expires_at": tx.now + timedelta(days=90),
            })
        for start in range(0, len(rows), BATCH):
            await tx.conn.execute(t.refresh_tokens.insert(), rows[start:start + BATCH])
    return tokens


EXPLAIN_QUERIES = {
    "user by login name": "SELECT id FROM users WHERE username_lower = 'user0000042' AND org_id = :org",
    "metadata of a user": "SELECT key, value FROM user_metadata WHERE user_id = :uid",
    "grants of a user": "SELECT project_id, role_keys FROM user_grants WHERE user_id = :uid",
    "access token by hash": "SELECT id FROM access_tokens WHERE token_hash = 'x'",
    "refresh token by hash": "SELECT id FROM refresh_tokens WHERE token_hash = 'x'",
    "code by hash": "SELECT client_id FROM authorization_codes WHERE code_hash = 'x'",
}


async def explain(services: Services, world: World) -> dict[str, str]:
    """PostgreSQL's plan for each hot lookup (after ANALYZE): index or scan."""
    out = {}
    async with services.engine.connect() as conn:
        await conn.execute(sa.text("ANALYZE"))
        for name, query in EXPLAIN_QUERIES.items():
            plan = (await conn.execute(sa.text("EXPLAIN " + query),
                                       {"org": world.org_id, "uid": world.user_ids[0]})).scalars().all()  # type: ignore[attr-defined]
            out[name] = " / ".join(line.strip() for line in plan)
        # The statements the hot paths send, as they send them (store/fast.py).
        from datetime import UTC, datetime

        from bergfried.claims import subject
        from bergfried.store import fast
        now = datetime.now(UTC)
        hot: dict[str, tuple[Any, dict[str, Any]]] = {
            "userinfo/introspection: access token with its subject": (
                subject._statement("postgresql", True, True, "hash", token_client=True), {"key": "x", "now": now}),
            "token endpoint: the subject with the client's settings": (
                subject._statement("postgresql", True, True), {"user_id": world.user_ids[0], "client_id": "x"}),
        }
        if hasattr(subject, "_caller_statement"):  # `--commit` of an older src/ lacks these
            hot.update({
                "introspection: the caller beside the access token with its subject": (
                    subject._caller_statement("postgresql", "hash"), {"key": "x", "now": now, "client_id": "x"}),
                "code grant: the code with its subject and session": (
                    subject._start_statement("postgresql", "code"), {"key": "x", "client_id": "x"}),
                "refresh grant: the refresh token with its subject": (
                    subject._start_statement("postgresql", "refresh"), {"key": "x", "client_id": "x"}),
                "client_credentials: the machine user by user name": (
                    subject._login_statement("postgresql", "username"), {"username": "x"}),
            })
        for name, (statement, params) in hot.items():
            out[name] = " / ".join(line.strip() for line in await fast.explain(conn, statement, params))
    return out
