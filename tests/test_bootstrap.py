"""First start (ZITADEL's FirstInstance) on both engines: idempotent, race-safe, PAT file."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bergfried import services as services_module
from bergfried.bootstrap import bootstrap
from bergfried.crypto.passwords import verify_password
from bergfried.domain.members import MemberLevel
from bergfried.domain.policies import check_password
from bergfried.domain.users import HumanUser, MachineUser, UserState
from bergfried.errors import ConfigError
from bergfried.services import Services
from bergfried.store import credentials, instances, members, orgs, projects, signing_keys, users
from bergfried.store import tables as t
from bergfried.store.tx import utcnow
from tests.conftest import Database, make_settings
from tests.factories import count_rows, latest_sequence


def _services(engine: AsyncEngine, tmp_path: Path, **overrides: Any) -> Services:
    return services_module.build(make_settings(tmp_path, **overrides), engine=engine)


async def _admin(services: Services) -> HumanUser:
    async with services.store.read() as conn:
        admin = await users.find_by_login_name(conn, "zitadel-admin@zitadel.localhost", must_be_domain=True)
    assert isinstance(admin, HumanUser)
    return admin


async def _roles(services: Services, user_id: str) -> set[tuple[MemberLevel, str, tuple[str, ...]]]:
    async with services.store.read() as conn:
        return {(m.level, m.object_id, m.roles) for m in await members.of_user(conn, user_id)}


def _token(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip()


@pytest.mark.rule("spec/management-api.md §4 (generated org domain), FirstInstance defaults")
async def test_first_run_creates_instance_default_org_and_iam_owner_admin(engine: AsyncEngine,
                                                                          tmp_path: Path) -> None:
    services = _services(engine, tmp_path)
    result = await bootstrap(services)
    assert result.created is True
    assert result.admin_login_name == "zitadel-admin@zitadel.localhost"
    assert result.pat_path is None
    async with services.store.read() as conn:
        instance = await instances.get(conn)
        org = await orgs.get(conn, result.instance.default_org_id)
        key = await signing_keys.current(conn, utcnow())
        published = await signing_keys.published(conn, utcnow())
        private = await signing_keys.private_jwk(conn, services.key_sealer, key.kid) if key else {}
    assert instance == result.instance
    assert instance.domain == "localhost"
    assert (org.name, org.primary_domain) == ("ZITADEL", "zitadel.localhost")
    admin = await _admin(services)
    assert admin.org_id == org.id
    assert admin.username == "zitadel-admin"
    assert admin.state == UserState.ACTIVE
    assert admin.is_email_verified
    assert await _roles(services, admin.id) == {
        (MemberLevel.INSTANCE, instance.id, ("IAM_OWNER",)), (MemberLevel.ORG, org.id, ("ORG_OWNER",))}
    assert key is not None
    assert key.algorithm == "RS256"
    assert [k.kid for k in published] == [key.kid]
    assert private["n"] == key.public_jwk["n"]  # the sealed private half opens with the master key
    assert "d" in private

    password = result.generated_admin_password
    assert password is not None
    check_password(services.policies.password, password)  # raises if the policy is broken
    assert verify_password(admin.password_hash, password)


async def test_second_run_creates_nothing_and_reports_no_password(engine: AsyncEngine, tmp_path: Path) -> None:
    services = _services(engine, tmp_path)
    first = await bootstrap(services)
    sequence = await latest_sequence(services.store)
    second = await bootstrap(services)
    assert (second.created, second.generated_admin_password, second.pat_path) == (False, None, None)
    assert second.instance == first.instance
    assert second.admin_login_name == first.admin_login_name
    assert await latest_sequence(services.store) == sequence  # not one event written
    assert (await count_rows(services.store, t.orgs), await count_rows(services.store, t.users),
            await count_rows(services.store, t.signing_keys)) == (1, 1, 1)


@pytest.mark.rule("spec/login.md §5 (password complexity)")
async def test_a_given_admin_password_is_used_and_one_that_breaks_the_policy_is_a_config_error(engine: AsyncEngine,
                                                                                tmp_path: Path) -> None:
    services = _services(engine, tmp_path, firstinstance_admin_password="password1!")  # no upper case
    with pytest.raises(ConfigError, match="BERGFRIED_FIRSTINSTANCE_ADMIN_PASSWORD"):
        await bootstrap(services)
    async with services.store.read() as conn:
        assert await instances.get(conn) is None
    assert await count_rows(services.store, t.users) == 0
    fixed = _services(engine, tmp_path, firstinstance_admin_password="Given-Passw0rd!")
    result = await bootstrap(fixed)  # a valid given password is used, and not reported back
    assert result.created is True
    assert result.generated_admin_password is None
    assert verify_password((await _admin(fixed)).password_hash, "Given-Passw0rd!")


@pytest.mark.rule("spec/other-grants.md §4")
async def test_pat_file_is_private_and_its_token_authenticates_an_iam_owner_machine(engine: AsyncEngine,
                                                                                   tmp_path: Path) -> None:
    pat_file = tmp_path / "secrets" / "admin.pat"
    services = _services(engine, tmp_path, firstinstance_patpath=str(pat_file))
    result = await bootstrap(services)
    assert result.pat_path == pat_file
    assert stat.S_IMODE(pat_file.stat().st_mode) == 0o600
    token = _token(pat_file)
    assert len(token) >= 40
    async with services.store.read() as conn:
        pat = await credentials.find_pat(conn, services.hasher.hash(token), utcnow())
        assert pat is not None
        machine = await users.get(conn, pat.user_id)
        stored = (await conn.execute(sa.select(t.personal_access_tokens.c.token_hash))).scalars().all()
    assert isinstance(machine, MachineUser)
    assert (machine.username, machine.org_id) == ("zitadel-admin-sa", result.instance.default_org_id)
    assert (MemberLevel.INSTANCE, result.instance.id, ("IAM_OWNER",)) in await _roles(services, machine.id)
    assert token not in stored  # only the keyed hash is kept


async def test_pat_file_is_not_rewritten_but_recreated_when_deleted(engine: AsyncEngine, tmp_path: Path) -> None:
    pat_file = tmp_path / "admin.pat"
    services = _services(engine, tmp_path, firstinstance_patpath=str(pat_file))
    await bootstrap(services)
    first_token = _token(pat_file)
    first_stat = pat_file.stat()

    again = await bootstrap(services)
    assert again.pat_path is None
    assert _token(pat_file) == first_token
    assert pat_file.stat().st_mtime_ns == first_stat.st_mtime_ns
    assert await count_rows(services.store, t.personal_access_tokens) == 1

    pat_file.unlink()
    renewed = await bootstrap(services)
    assert renewed.pat_path == pat_file
    new_token = _token(pat_file)
    assert new_token != first_token
    assert stat.S_IMODE(pat_file.stat().st_mode) == 0o600
    async with services.store.read() as conn:
        pat = await credentials.find_pat(conn, services.hasher.hash(new_token), utcnow())
        machines = [u for u in await users.list_in_org(conn, renewed.instance.default_org_id)
                    if isinstance(u, MachineUser)]
    assert pat is not None
    assert [m.id for m in machines] == [pat.user_id]  # the same machine user, a second token


async def test_two_concurrent_bootstraps_end_with_one_instance_org_admin_and_machine(
    database: Database, engine: AsyncEngine, tmp_path: Path,
) -> None:
    pat_file = tmp_path / "admin.pat"
    second_engine = database.engine()
    try:
        first = _services(engine, tmp_path, firstinstance_patpath=str(pat_file))
        second = _services(second_engine, tmp_path, firstinstance_patpath=str(pat_file))
        results = await asyncio.gather(bootstrap(first), bootstrap(second))
    finally:
        await second_engine.dispose()
    assert sorted(r.created for r in results) == [False, True]
    assert [r.generated_admin_password is not None for r in results] == [r.created for r in results]
    assert results[0].instance == results[1].instance
    assert sum(r.pat_path is not None for r in results) == 1
    store = first.store
    assert await count_rows(store, t.instances) == 1
    assert await count_rows(store, t.orgs) == 1
    assert await count_rows(store, t.personal_access_tokens) == 1
    assert await count_rows(store, t.signing_keys) == 1
    async with store.read() as conn:
        everyone = await users.list_in_org(conn, results[0].instance.default_org_id)
        pat = await credentials.find_pat(conn, first.hasher.hash(_token(pat_file)), utcnow())
    assert sorted((type(u).__name__, u.username) for u in everyone) == [
        ("HumanUser", "zitadel-admin"), ("MachineUser", "zitadel-admin-sa")]
    assert pat is not None
    winner = next(r for r in results if r.created)
    assert winner.generated_admin_password is not None
    assert verify_password((await _admin(first)).password_hash, winner.generated_admin_password)


@pytest.mark.rule("ZITADEL FirstInstance: project ZITADEL in the default org; its id is the API audience "
                  "(spec/management-api.md §2, audience rule)")
async def test_first_start_creates_the_zitadel_project_and_an_older_instance_gets_it_once(engine: AsyncEngine,
                                                                                         tmp_path: Path) -> None:
    services = _services(engine, tmp_path)
    result = await bootstrap(services)
    project_id = result.instance.zitadel_project_id
    assert project_id is not None
    async with services.store.read() as conn:
        project = await projects.get(conn, project_id)
    assert (project.name, project.org_id) == ("ZITADEL", result.instance.default_org_id)

    # An instance created before the project existed: forget the id; the next start finds the project.
    async with services.store.write() as tx:
        await tx.conn.execute(t.instances.update().values(settings={}))
    again = await bootstrap(services)
    assert again.instance.zitadel_project_id == project_id
    # And when the project is gone too, the next start creates a new one, once.
    async with services.store.write() as tx:
        await tx.conn.execute(t.instances.update().values(settings={}))
        await tx.conn.execute(t.projects.delete().where(t.projects.c.id == project_id))
    third = await bootstrap(services)
    assert third.instance.zitadel_project_id not in (None, project_id)
    fourth = await bootstrap(services)
    assert fourth.instance.zitadel_project_id == third.instance.zitadel_project_id
    assert await count_rows(services.store, t.projects) == 1


async def test_a_pat_whose_transaction_rolls_back_leaves_no_file(engine: AsyncEngine, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import bergfried.bootstrap as bootstrap_module

    pat_file = tmp_path / "admin.pat"
    services = _services(engine, tmp_path, firstinstance_patpath=str(pat_file))
    original = bootstrap_module._write_private

    def write_then_fail(path: Path, content: str) -> None:
        original(path, content)
        assert path.exists()
        raise RuntimeError("the transaction fails after the file was written")

    monkeypatch.setattr(bootstrap_module, "_write_private", write_then_fail)
    with pytest.raises(RuntimeError):
        await bootstrap(services)
    assert not pat_file.exists()
    assert await count_rows(services.store, t.personal_access_tokens) == 0
    monkeypatch.setattr(bootstrap_module, "_write_private", original)
    result = await bootstrap(services)  # the next start writes a token that works
    assert result.pat_path == pat_file
    async with services.store.read() as conn:
        assert await credentials.find_pat(conn, services.hasher.hash(_token(pat_file)), utcnow()) is not None
