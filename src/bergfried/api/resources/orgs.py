"""Organizations (`/management/v1/orgs/...`, spec/management-api.md §4)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from bergfried.api import details, lists
from bergfried.api.lists import ListDetails, Method, ObjectDetailsModel, TextQueryMethod
from bergfried.api.messages import DetailsResponse, Empty, ListRequest
from bergfried.api.protojson import ApiModel
from bergfried.api.registry import Call, Resource
from bergfried.domain.orgs import DomainValidationType, Org, OrgState
from bergfried.management import orgs as ops
from bergfried.store import orgs
from bergfried.store import tables as t

api = Resource("Organizations", "/management/v1")


class OrgModel(ApiModel):
    id: str = ""
    details: ObjectDetailsModel | None = None
    state: OrgState = OrgState.UNSPECIFIED
    name: str = ""
    primary_domain: str = ""


class GetMyOrgResponse(ApiModel):
    org: OrgModel | None = None


OrgName = Annotated[str, Field(min_length=1, max_length=200)]
Domain = Annotated[str, Field(min_length=1, max_length=200)]


class AddOrgRequest(ApiModel):
    name: OrgName


class AddOrgResponse(ApiModel):
    id: str = ""
    details: ObjectDetailsModel | None = None


class UpdateOrgRequest(ApiModel):
    name: OrgName


class DomainRequest(Empty):
    domain: Domain


class GetOrgByDomainGlobalRequest(ApiModel):
    domain: Domain


class DomainNameQuery(ApiModel):
    name: Annotated[str, Field(max_length=200)] = ""
    method: Method = TextQueryMethod.EQUALS


class DomainSearchQuery(ApiModel):
    domain_name_query: DomainNameQuery | None = None


class ListOrgDomainsRequest(ListRequest):
    queries: tuple[DomainSearchQuery, ...] = ()


class OrgDomainModel(ApiModel):
    org_id: str = ""
    details: ObjectDetailsModel | None = None
    domain_name: str = ""
    is_verified: bool = False
    is_primary: bool = False
    validation_type: DomainValidationType = DomainValidationType.UNSPECIFIED


class ListOrgDomainsResponse(ApiModel):
    details: ListDetails | None = None
    result: tuple[OrgDomainModel, ...] = ()


async def _org_model(call: Call, org: Org) -> OrgModel:
    async with call.store.read() as conn:
        org_details = await orgs.details(conn, org.id)
    return OrgModel(id=org.id, details=details.of(org_details), state=org.state, name=org.name,
                    primary_domain=org.primary_domain)


@api.get("/orgs/me", "GetMyOrg", permission="org.read")
async def get_my_org(call: Call, req: Empty) -> GetMyOrgResponse:
    """The organization the call acts on (`x-zitadel-orgid` or the caller's own)."""
    async with call.store.read() as conn:
        org = await orgs.get(conn, call.org_id)
    return GetMyOrgResponse(org=await _org_model(call, org))


@api.get("/global/orgs/_by_domain", "GetOrgByDomainGlobal", permission="org.global.read")
async def get_by_domain(call: Call, req: GetOrgByDomainGlobalRequest) -> GetMyOrgResponse:
    """The organization that owns a verified domain (`?domain=`), in any organization."""
    async with call.store.read() as conn:
        org = await orgs.get_by_domain(conn, req.domain)
    return GetMyOrgResponse(org=await _org_model(call, org))


@api.post("/orgs", "AddOrg", permission="org.create")
async def add_org(call: Call, req: AddOrgRequest) -> AddOrgResponse:
    """A new organization; the caller becomes its ORG_OWNER."""
    async with call.store.write(call.editor) as tx:
        org, d = await ops.add(tx, req.name, call.caller.user_id)
    return AddOrgResponse(id=org.id, details=details.of(d))


@api.put("/orgs/me", "UpdateOrg", permission="org.write")
async def update_org(call: Call, req: UpdateOrgRequest) -> DetailsResponse:
    """Rename the organization."""
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await orgs.rename(tx, call.org_id, req.name)))


def _org_state(path: str, rpc: str, state: OrgState, method: str, permission: str, summary: str) -> None:
    async def handler(call: Call, req: Empty) -> DetailsResponse:
        async with call.store.write(call.editor) as tx:
            return DetailsResponse(details=details.of(await ops.set_state(tx, call.org_id, state)))

    register = api.delete if method == "DELETE" else api.post
    register(path, rpc, permission=permission, summary=summary)(handler)


_org_state("/orgs/me/_deactivate", "DeactivateOrg", OrgState.INACTIVE, "POST", "org.write",
           "Deactivate the organization: its users can no longer log in.")
_org_state("/orgs/me/_reactivate", "ReactivateOrg", OrgState.ACTIVE, "POST", "org.write",
           "Reactivate the organization.")
_org_state("/orgs/me", "RemoveOrg", OrgState.REMOVED, "DELETE", "org.delete",
           "Remove the organization (not the instance's default one).")


@api.post("/orgs/me/domains", "AddOrgDomain", permission="org.write")
async def add_domain(call: Call, req: DomainRequest) -> DetailsResponse:
    """Add a domain (verified at once unless the domain policy asks for validation)."""
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await ops.add_domain(tx, call.services, call.org_id,
                                                                       req.domain)))


def _domain(row: Any) -> OrgDomainModel:
    return OrgDomainModel(org_id=row.org_id, details=details.of_row(row.sequence, row.created_at, row.changed_at,
                                                                    row.org_id),
                          domain_name=row.domain, is_verified=row.is_verified, is_primary=row.is_primary,
                          validation_type=DomainValidationType(row.validation_type))


@api.post("/orgs/me/domains/_search", "ListOrgDomains", permission="org.read")
async def list_domains(call: Call, req: ListOrgDomainsRequest) -> ListOrgDomainsResponse:
    """The organization's domains, filtered by `domainNameQuery`."""
    query = orgs.search_domains(call.org_id)
    for q in req.queries:
        if q.domain_name_query is not None:
            query = query.where(lists.text_condition(t.org_domains.c.domain, q.domain_name_query.name,
                                                     q.domain_name_query.method))
    async with call.store.read() as conn:
        page = await lists.page(conn, query, req.query, call.store.clock(), default_order=t.org_domains.c.domain)
    return ListOrgDomainsResponse(details=page.details(), result=tuple(_domain(r) for r in page.rows))


@api.delete("/orgs/me/domains/{domain}", "RemoveOrgDomain", permission="org.write")
async def remove_domain(call: Call, req: DomainRequest) -> DetailsResponse:
    """Remove a domain that is not the primary one."""
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await orgs.remove_domain(tx, call.org_id, req.domain)))


@api.post("/orgs/me/domains/{domain}/_set_primary", "SetPrimaryOrgDomain", permission="org.write")
async def set_primary(call: Call, req: DomainRequest) -> DetailsResponse:
    """Make a verified domain primary: preferred login names follow it."""
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await orgs.set_primary_domain(tx, call.org_id, req.domain)))
