"""Organizations (`/management/v1/orgs/...`, spec/management-api.md §4)."""

from __future__ import annotations

from bergfried.api import details
from bergfried.api.lists import ObjectDetailsModel
from bergfried.api.messages import Empty
from bergfried.api.protojson import ApiModel
from bergfried.api.registry import Call, Resource
from bergfried.domain.orgs import OrgState
from bergfried.store import orgs

api = Resource("Organizations", "/management/v1")


class OrgModel(ApiModel):
    id: str = ""
    details: ObjectDetailsModel | None = None
    state: OrgState = OrgState.UNSPECIFIED
    name: str = ""
    primary_domain: str = ""


class GetMyOrgResponse(ApiModel):
    org: OrgModel | None = None


@api.get("/orgs/me", "GetMyOrg", permission="org.read")
async def get_my_org(call: Call, req: Empty) -> GetMyOrgResponse:
    """The organization the call acts on."""
    async with call.store.read() as conn:
        org = await orgs.get(conn, call.org_id)
        org_details = await orgs.details(conn, org.id)
    return GetMyOrgResponse(org=OrgModel(id=org.id, details=details.of(org_details), state=org.state, name=org.name,
                                         primary_domain=org.primary_domain))
