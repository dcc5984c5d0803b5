"""First start: the instance as ZITADEL's FirstInstance sets it up, idempotent across restarts.

- a default organization (`firstinstance_org_name`, primary domain `<org label>.<issuer host>`),
- an admin human user with IAM_OWNER (and ORG_OWNER of the default org); the password comes from
  `BERGFRIED_FIRSTINSTANCE_ADMIN_PASSWORD`, or is generated and reported once,
- with `BERGFRIED_FIRSTINSTANCE_PATPATH`: a machine user with IAM_OWNER whose personal access
  token is written to that file (mode 0600) when the file is not there yet,
- a signing key (`signing_algorithm`, RS256 by default), sealed with the master key,
- the project "ZITADEL" in the default organization, whose id is the management API's audience
  (scope `urn:zitadel:iam:org:project:id:zitadel:aud`).

Several processes may start at once on one database: the instance row is claimed first, so the
loser's transaction rolls back whole and it reads what the winner wrote.
"""

from __future__ import annotations

import os
import secrets
import string
from dataclasses import dataclass
from pathlib import Path

from bergfried.crypto.hashing import generate_secret
from bergfried.crypto.passwords import hash_password
from bergfried.domain.instance import Instance, instance_domain
from bergfried.domain.members import MemberLevel
from bergfried.domain.orgs import generated_org_domain
from bergfried.domain.policies import PasswordComplexityPolicy, check_password
from bergfried.domain.users import MachineUser, Profile, preferred_login_name
from bergfried.errors import ConfigError, InvalidArgument
from bergfried.services import Services
from bergfried.store import credentials, instances, members, orgs, projects, users
from bergfried.store.tx import Tx


@dataclass(frozen=True, slots=True)
class BootstrapResult:
    instance: Instance
    created: bool
    admin_login_name: str
    generated_admin_password: str | None  # only on the start that created the admin
    pat_path: Path | None  # only on the start that wrote the file


class _LostRace(Exception):
    """Another process claimed the instance first; roll back and read its result."""


def generate_password(policy: PasswordComplexityPolicy, length: int = 20) -> str:
    """A random password that satisfies the complexity policy."""
    alphabet = string.ascii_letters + string.digits + "!#$%&*+-=?@^_"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(max(length, policy.min_length)))
        try:
            check_password(policy, candidate)
        except InvalidArgument:
            continue
        return candidate


def _admin_password(services: Services) -> tuple[str, bool]:
    given = services.settings.firstinstance_admin_password
    if given is None:
        return generate_password(services.policies.password), True
    try:
        check_password(services.policies.password, given.get_secret_value())
    except InvalidArgument as exc:
        raise ConfigError(
            f"BERGFRIED_FIRSTINSTANCE_ADMIN_PASSWORD does not meet the password policy: {exc.description}"
        ) from None
    return given.get_secret_value(), False


async def _create_instance(tx: Tx, services: Services, password: str) -> Instance:
    settings = services.settings
    domain = instance_domain(settings.external_url)
    org_id = tx.new_id()
    instance = await instances.create(tx, instance_id=tx.new_id(), name="Bergfried", domain=domain,
                                      default_org_id=org_id)
    if instance is None:
        raise _LostRace
    org, _ = await orgs.create(tx, settings.firstinstance_org_name,
                               generated_org_domain(settings.firstinstance_org_name, domain), org_id=org_id)
    admin, _ = await users.create_human(
        tx, org.id, settings.firstinstance_admin_username,
        Profile(first_name="ZITADEL", last_name="Admin", display_name="ZITADEL Admin", preferred_language="en"),
        settings.firstinstance_admin_email or f"{settings.firstinstance_admin_username}@{org.primary_domain}",
        email_verified=True, password_hash=hash_password(password),
    )
    await members.add(tx, MemberLevel.INSTANCE, instance.id, admin.id, ["IAM_OWNER"], org_id=None)
    await members.add(tx, MemberLevel.ORG, org.id, admin.id, ["ORG_OWNER"], org_id=org.id)
    return await _create_zitadel_project(tx, instance)


ZITADEL_PROJECT_NAME = "ZITADEL"


async def _create_zitadel_project(tx: Tx, instance: Instance) -> Instance:
    project, _ = await projects.create(tx, instance.default_org_id, ZITADEL_PROJECT_NAME)
    return await instances.set_zitadel_project(tx, instance, project.id)


async def _ensure_zitadel_project(services: Services, instance: Instance) -> Instance:
    """Databases created before the project existed get it on their next start."""
    if instance.zitadel_project_id is not None:
        return instance
    async with services.store.write() as tx:
        await instances.lock(tx)
        current = await instances.get(tx.conn)
        assert current is not None
        if current.zitadel_project_id is not None:
            return current
        existing = await projects.find_by_name(tx.conn, current.default_org_id, ZITADEL_PROJECT_NAME)
        if existing is not None:
            return await instances.set_zitadel_project(tx, current, existing.id)
        return await _create_zitadel_project(tx, current)


async def _ensure_signing_key(services: Services) -> None:
    await services.keyring.ensure_key(services.settings.signing_algorithm)


async def _ensure_machine_pat(services: Services, instance: Instance) -> Path | None:
    """The machine user with IAM_OWNER, and a fresh token in the PAT file if it is missing."""
    settings = services.settings
    path = settings.firstinstance_patpath
    if path is None:
        return None
    written = False
    try:
        async with services.store.write() as tx:
            await instances.lock(tx)
            machine = await _find_machine(tx, instance, settings.firstinstance_machine_username)
            if machine is None:
                machine, _ = await users.create_machine(
                    tx, instance.default_org_id, settings.firstinstance_machine_username,
                    settings.firstinstance_machine_name, description="created by the first start",
                )
                await members.add(tx, MemberLevel.INSTANCE, instance.id, machine.id, ["IAM_OWNER"], org_id=None)
            if path.exists():
                return None
            token = generate_secret()
            await credentials.add_pat(tx, machine, services.hasher.hash(token))
            # Written while the instance row is locked, so a concurrent start sees the file; taken
            # back below if the commit fails, so the file never holds a token that was rolled back.
            written = True
            _write_private(path, token)
    except BaseException:
        if written:
            path.unlink(missing_ok=True)
        raise
    return path


async def _find_machine(tx: Tx, instance: Instance, username: str) -> MachineUser | None:
    for user in await users.list_in_org(tx.conn, instance.default_org_id):
        if isinstance(user, MachineUser) and user.username == username:
            return user
    return None


def _write_private(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content + "\n")
    os.chmod(path, 0o600)


async def bootstrap(services: Services) -> BootstrapResult:
    settings = services.settings
    async with services.store.read() as conn:
        instance = await instances.get(conn)
    created = False
    generated: str | None = None
    if instance is None:
        password, was_generated = _admin_password(services)
        try:
            async with services.store.write() as tx:
                instance = await _create_instance(tx, services, password)
            created = True
            generated = password if was_generated else None
        except _LostRace:
            async with services.store.read() as conn:
                instance = await instances.get(conn)
        assert instance is not None
    instance = await _ensure_zitadel_project(services, instance)
    await _ensure_signing_key(services)
    pat_path = await _ensure_machine_pat(services, instance)
    async with services.store.read() as conn:
        org = await orgs.get(conn, instance.default_org_id)
    login_name = preferred_login_name(settings.firstinstance_admin_username, org.primary_domain,
                                      must_be_domain=services.policies.domain.user_login_must_be_domain)
    return BootstrapResult(instance=instance, created=created, admin_login_name=login_name,
                           generated_admin_password=generated, pat_path=pat_path)
