"""Organizations and their domains."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.domain.common import ObjectDetails
from bergfried.domain.ids import OrgId
from bergfried.domain.orgs import DomainValidationType, Org, OrgDomain, OrgState, validate_org_name
from bergfried.errors import NotFound, PreconditionFailed
from bergfried.store import tables as t
from bergfried.store._common import added, changed, details_of, touch, unique
from bergfried.store.tx import Tx

AGGREGATE = "org"


def _org(row: Any) -> Org:
    return Org(id=OrgId(row.id), name=row.name, state=OrgState(row.state), primary_domain=row.primary_domain)


def not_found() -> NotFound:
    return NotFound("Errors.Org.NotFound", "Organisation not found", error_id="QUERY-iTTGJ")


async def create(tx: Tx, name: str, primary_domain: str, *, org_id: str | None = None) -> tuple[Org, ObjectDetails]:
    """A new active organization with its generated domain, verified and primary."""
    name = validate_org_name(name)
    org_id = org_id or tx.new_id()
    sequence = await tx.event(AGGREGATE, org_id, "org.added", {"name": name}, resource_owner=org_id)
    async with unique(tx, "Errors.Org.AlreadyExists", "Organisation's name or id already taken", "COMMAND-ba4vG"):
        await tx.conn.execute(t.orgs.insert().values(
            id=org_id, name=name, state=OrgState.ACTIVE, primary_domain=primary_domain,
            created_at=tx.now, changed_at=tx.now, sequence=sequence,
        ))
    await add_domain(tx, org_id, primary_domain, verified=True, primary=True)
    return _org_from(org_id, name, primary_domain), added(tx, sequence, org_id)


def _org_from(org_id: str, name: str, primary_domain: str) -> Org:
    return Org(id=OrgId(org_id), name=name, state=OrgState.ACTIVE, primary_domain=primary_domain)


async def get(conn: AsyncConnection, org_id: str) -> Org:
    row = (await conn.execute(sa.select(t.orgs).where(t.orgs.c.id == org_id))).first()
    if row is None or row.state == OrgState.REMOVED:
        raise not_found()
    return _org(row)


async def get_by_domain(conn: AsyncConnection, domain: str) -> Org:
    query = sa.select(t.orgs).join(t.org_domains, t.org_domains.c.org_id == t.orgs.c.id).where(
        t.org_domains.c.domain == domain.lower(), t.org_domains.c.is_verified.is_(True),
        t.orgs.c.state != OrgState.REMOVED,
    )
    row = (await conn.execute(query)).first()
    if row is None:
        raise not_found()
    return _org(row)


async def rename(tx: Tx, org_id: str, name: str) -> ObjectDetails:
    name = validate_org_name(name)
    sequence = await tx.event(AGGREGATE, org_id, "org.changed", {"name": name}, resource_owner=org_id)
    async with unique(tx, "Errors.Org.AlreadyExists", "Organisation's name or id already taken", "COMMAND-ba4vG"):
        if not await touch(tx, t.orgs, t.orgs.c.id == org_id, sequence, name=name):
            raise not_found()
    return changed(tx, sequence, org_id)


async def set_state(tx: Tx, org_id: str, state: OrgState) -> ObjectDetails:
    event = {OrgState.ACTIVE: "org.reactivated", OrgState.INACTIVE: "org.deactivated", OrgState.REMOVED: "org.removed"}
    sequence = await tx.event(AGGREGATE, org_id, event[state], resource_owner=org_id)
    if not await touch(tx, t.orgs, t.orgs.c.id == org_id, sequence, state=state):
        raise not_found()
    return changed(tx, sequence, org_id)


async def add_domain(tx: Tx, org_id: str, domain: str, *, verified: bool, primary: bool = False) -> ObjectDetails:
    domain = domain.strip().lower()
    sequence = await tx.event(AGGREGATE, org_id, "org.domain.added", {"domain": domain}, resource_owner=org_id)
    if verified:
        await tx.event(AGGREGATE, org_id, "org.domain.verified", {"domain": domain}, resource_owner=org_id)
    async with unique(tx, "Errors.Org.DomainAlreadyExists", "Domain already exists", "COMMAND-Bd2jj"):
        await tx.conn.execute(t.org_domains.insert().values(
            org_id=org_id, domain=domain, is_verified=verified, is_primary=primary,
            validation_type=DomainValidationType.UNSPECIFIED, created_at=tx.now, changed_at=tx.now, sequence=sequence,
        ))
    return added(tx, sequence, org_id)


async def set_primary_domain(tx: Tx, org_id: str, domain: str) -> ObjectDetails:
    """Only a verified domain can become primary; the preferred login names follow it."""
    domain = domain.lower()
    row = (await tx.conn.execute(sa.select(t.org_domains).where(
        t.org_domains.c.org_id == org_id, t.org_domains.c.domain == domain))).first()
    if row is None:
        raise NotFound("Errors.Org.DomainNotOnOrg", "Domain doesn't exist on organization", error_id="ORG-Ggd32")
    if not row.is_verified:
        raise PreconditionFailed("Errors.Org.DomainNotVerified", "Domain is not verified", error_id="ORG-yPAjH")
    sequence = await tx.event(AGGREGATE, org_id, "org.domain.primary.set", {"domain": domain}, resource_owner=org_id)
    await tx.conn.execute(t.org_domains.update().where(t.org_domains.c.org_id == org_id).values(
        is_primary=t.org_domains.c.domain == domain, changed_at=tx.now))
    await touch(tx, t.orgs, t.orgs.c.id == org_id, sequence, primary_domain=domain)
    return changed(tx, sequence, org_id)


async def list_domains(conn: AsyncConnection, org_id: str) -> list[OrgDomain]:
    rows = await conn.execute(sa.select(t.org_domains).where(t.org_domains.c.org_id == org_id)
                              .order_by(t.org_domains.c.domain))
    return [
        OrgDomain(org_id=OrgId(r.org_id), domain=r.domain, is_verified=r.is_verified, is_primary=r.is_primary,
                  validation_type=DomainValidationType(r.validation_type))
        for r in rows
    ]


async def verified_domains(conn: AsyncConnection, org_id: str) -> list[str]:
    return [d.domain for d in await list_domains(conn, org_id) if d.is_verified]


async def details(conn: AsyncConnection, org_id: str) -> ObjectDetails:
    row = (await conn.execute(sa.select(t.orgs.c.sequence, t.orgs.c.created_at, t.orgs.c.changed_at)
                              .where(t.orgs.c.id == org_id))).mappings().one()
    return details_of(dict(row), org_id)


async def remove_domain(tx: Tx, org_id: str, domain: str) -> ObjectDetails:
    """The primary domain stays (ZITADEL: `Errors.Org.PrimaryDomainNotDeletable`)."""
    domain = domain.lower()
    row = (await tx.conn.execute(sa.select(t.org_domains.c.is_primary).where(
        t.org_domains.c.org_id == org_id, t.org_domains.c.domain == domain))).first()
    if row is None:
        raise NotFound("Errors.Org.DomainNotOnOrg", "Domain doesn't exist on organization", error_id="ORG-Ggd32")
    if row.is_primary:
        raise PreconditionFailed("Errors.Org.PrimaryDomainNotDeletable", "Primary domain must not be deleted",
                                 error_id="ORG-Sk2fs")
    sequence = await tx.event(AGGREGATE, org_id, "org.domain.removed", {"domain": domain}, resource_owner=org_id)
    await tx.conn.execute(t.org_domains.delete().where(t.org_domains.c.org_id == org_id,
                                                       t.org_domains.c.domain == domain))
    await touch(tx, t.orgs, t.orgs.c.id == org_id, sequence)
    return changed(tx, sequence, org_id)


def search_domains(org_id: str) -> sa.Select[Any]:
    d = t.org_domains
    return sa.select(d).where(d.c.org_id == org_id)
