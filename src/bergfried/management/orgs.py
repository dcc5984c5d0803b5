"""Organizations through the management API (spec/management-api.md §4)."""

from __future__ import annotations

import dataclasses

from bergfried.domain.common import ObjectDetails
from bergfried.domain.members import MemberLevel
from bergfried.domain.orgs import Org, OrgState, generated_org_domain
from bergfried.errors import InvalidArgument, PreconditionFailed
from bergfried.services import Services
from bergfried.store import instances, members, orgs
from bergfried.store.tx import Tx

# Which state an organization must be in for each change, and the error otherwise.
_STATE_CHANGES = {
    OrgState.INACTIVE: (OrgState.ACTIVE, "Errors.Org.NotActive", "Organisation is not active"),
    OrgState.ACTIVE: (OrgState.INACTIVE, "Errors.Org.NotInactive", "Organisation is not inactive"),
}


async def add(tx: Tx, name: str, creator_id: str) -> tuple[Org, ObjectDetails]:
    """A new organization with its generated verified primary domain; the caller becomes its
    ORG_OWNER (`internal/command/org.go` `addOrgWithIDAndMember`)."""
    instance = await instances.get(tx.conn)
    assert instance is not None
    org, details = await orgs.create(tx, name, generated_org_domain(name.strip(), instance.domain))
    member = await members.add(tx, MemberLevel.ORG, org.id, creator_id, ["ORG_OWNER"], org_id=org.id)
    # The answer names the last event of the change (`pushedEventsToObjectDetails`).
    return org, dataclasses.replace(details, sequence=member.sequence)


async def set_state(tx: Tx, org_id: str, state: OrgState) -> ObjectDetails:
    org = await orgs.get(tx.conn, org_id)
    if state == OrgState.REMOVED:
        instance = await instances.get(tx.conn)
        if instance is not None and instance.default_org_id == org_id:
            raise PreconditionFailed("Errors.Org.DefaultOrgNotDeletable", "Default organisation must not be deleted",
                                     error_id="COMMAND-wt9ju")
    else:
        required, key, text = _STATE_CHANGES[state]
        if org.state != required:
            raise PreconditionFailed(key, text, error_id="ORG-" + key[-6:])
    return await orgs.set_state(tx, org_id, state)


async def add_domain(tx: Tx, services: Services, org_id: str, domain: str) -> ObjectDetails:
    """Without the domain policy's `validateOrgDomains` a new domain is verified at once, as in
    ZITADEL (`internal/command/org_domain.go`); with it, it waits for validation."""
    domain = domain.strip().lower()
    if not domain or " " in domain or len(domain) > 200:
        raise InvalidArgument("Errors.Org.InvalidDomain", "Invalid domain", error_id="ORG-R24hb")
    verified = not services.policies.domain.validate_org_domains
    return await orgs.add_domain(tx, org_id, domain, verified=verified)
