"""Project grants (spec/management-api.md §8): the owner's side under `/projects/{projectId}/grants`
and `/projectgrants/_search`, the granted organization's side under `/granted_projects`."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import Field

from bergfried.api import details, lists
from bergfried.api.lists import ListDetails, Method, ObjectDetailsModel, TextQueryMethod
from bergfried.api.messages import DetailsResponse, Empty, ListRequest
from bergfried.api.protojson import ApiModel
from bergfried.api.registry import Call, Resource
from bergfried.api.resources.projects import ListProjectRolesResponse, RoleKeyQuery, RoleModel
from bergfried.domain.grants import ProjectGrantState
from bergfried.management import grants as ops
from bergfried.management.projects import project_of
from bergfried.store import json_lists
from bergfried.store import tables as t

api = Resource("Project grants", "/management/v1")

PG, P = t.project_grants, t.projects
GRANTED_ORG, OWNER_ORG = t.orgs.alias("granted_org"), t.orgs.alias("owner_org")
RoleKeys = tuple[Annotated[str, Field(min_length=1, max_length=200)], ...]


class GrantedProjectModel(ApiModel):
    """ZITADEL's `GrantedProject`: both the owner's and the granted organization's view."""

    grant_id: str = ""
    granted_org_id: str = ""
    granted_org_name: str = ""
    granted_role_keys: tuple[str, ...] = ()
    state: ProjectGrantState = ProjectGrantState.UNSPECIFIED
    details: ObjectDetailsModel | None = None
    project_id: str = ""
    project_name: str = ""
    project_owner_id: str = ""
    project_owner_name: str = ""


class AddProjectGrantRequest(ApiModel):
    project_id: str
    granted_org_id: Annotated[str, Field(min_length=1, max_length=200)]
    role_keys: RoleKeys = ()


class AddProjectGrantResponse(ApiModel):
    grant_id: str = ""
    details: ObjectDetailsModel | None = None


class GrantIdRequest(Empty):
    project_id: str
    grant_id: str


class UpdateProjectGrantRequest(ApiModel):
    project_id: str
    grant_id: str
    role_keys: RoleKeys = ()


class GetProjectGrantByIDResponse(ApiModel):
    project_grant: GrantedProjectModel | None = None


class GetGrantedProjectByIDResponse(ApiModel):
    granted_project: GrantedProjectModel | None = None


class NameQuery(ApiModel):
    name: Annotated[str, Field(max_length=200)] = ""
    method: Method = TextQueryMethod.EQUALS


class ProjectIdQuery(ApiModel):
    project_id: Annotated[str, Field(max_length=200)] = ""


class GrantedOrgIdQuery(ApiModel):
    granted_org_id: Annotated[str, Field(max_length=200)] = ""


class GrantRoleKeyQuery(ApiModel):
    role_key: Annotated[str, Field(max_length=200)] = ""
    method: Method = TextQueryMethod.EQUALS


class ProjectGrantQuery(ApiModel):
    project_name_query: NameQuery | None = None
    role_key_query: GrantRoleKeyQuery | None = None
    project_id_query: ProjectIdQuery | None = None
    granted_org_id_query: GrantedOrgIdQuery | None = None


class ListProjectGrantsRequest(ListRequest):
    project_id: str
    queries: tuple[ProjectGrantQuery, ...] = ()


class ListAllProjectGrantsRequest(ListRequest):
    queries: tuple[ProjectGrantQuery, ...] = ()


class GrantedProjectQuery(ApiModel):
    name_query: NameQuery | None = None


class ListGrantedProjectsRequest(ListRequest):
    queries: tuple[GrantedProjectQuery, ...] = ()


class ListProjectGrantsResponse(ApiModel):
    details: ListDetails | None = None
    result: tuple[GrantedProjectModel, ...] = ()


def _query() -> sa.Select[Any]:
    return (sa.select(PG, P.c.name.label("project_name"), GRANTED_ORG.c.name.label("granted_org_name"),
                      OWNER_ORG.c.name.label("owner_name"))
            .join(P, P.c.id == PG.c.project_id)
            .join(GRANTED_ORG, GRANTED_ORG.c.id == PG.c.granted_org_id)
            .join(OWNER_ORG, OWNER_ORG.c.id == PG.c.org_id))


def _filtered(query: sa.Select[Any], queries: tuple[ProjectGrantQuery, ...], dialect: str) -> sa.Select[Any]:
    for q in queries:
        if q.project_name_query is not None:
            query = query.where(lists.text_condition(P.c.name, q.project_name_query.name,
                                                     q.project_name_query.method))
        if q.role_key_query is not None:
            query = query.where(json_lists.contains(dialect, PG.c.role_keys, q.role_key_query.role_key))
        if q.project_id_query is not None:
            query = query.where(PG.c.project_id == q.project_id_query.project_id)
        if q.granted_org_id_query is not None:
            query = query.where(PG.c.granted_org_id == q.granted_org_id_query.granted_org_id)
    return query


def grant_model(row: Any) -> GrantedProjectModel:
    return GrantedProjectModel(
        grant_id=row.id, granted_org_id=row.granted_org_id, granted_org_name=row.granted_org_name,
        granted_role_keys=tuple(row.role_keys), state=ProjectGrantState(row.state),
        details=details.of_row(row.sequence, row.created_at, row.changed_at, row.org_id), project_id=row.project_id,
        project_name=row.project_name, project_owner_id=row.org_id, project_owner_name=row.owner_name,
    )


async def _list(call: Call, query: sa.Select[Any], req: ListRequest) -> ListProjectGrantsResponse:
    async with call.store.read() as conn:
        page = await lists.page(conn, query, req.query, call.store.clock(), default_order=PG.c.id)
    return ListProjectGrantsResponse(details=page.details(), result=tuple(grant_model(r) for r in page.rows))


async def _one(call: Call, grant_id: str) -> GrantedProjectModel:
    async with call.store.read() as conn:
        return grant_model((await conn.execute(_query().where(PG.c.id == grant_id))).one())


@api.post("/projects/{projectId}/grants", "AddProjectGrant", permission="project.grant.write",
          check_field="project_id")
async def add_grant(call: Call, req: AddProjectGrantRequest) -> AddProjectGrantResponse:
    """Grant a project to another organization with some of its role keys."""
    async with call.store.write(call.editor) as tx:
        grant, d = await ops.add_project_grant(tx, call.org_id, req.project_id, req.granted_org_id, req.role_keys)
    return AddProjectGrantResponse(grant_id=grant.id, details=details.of(d))


@api.post("/projects/{projectId}/grants/_search", "ListProjectGrants", permission="project.grant.read",
          check_field="project_id")
async def list_grants(call: Call, req: ListProjectGrantsRequest) -> ListProjectGrantsResponse:
    """The grants of one project of the context organization."""
    async with call.store.read() as conn:
        await project_of(conn, call.org_id, req.project_id)
    query = _query().where(PG.c.project_id == req.project_id, PG.c.org_id == call.org_id)
    return await _list(call, _filtered(query, req.queries, call.store.dialect), req)


@api.post("/projectgrants/_search", "ListAllProjectGrants", permission="project.grant.read")
async def list_all_grants(call: Call, req: ListAllProjectGrantsRequest) -> ListProjectGrantsResponse:
    """Every grant of the context organization's projects."""
    query = _query().where(PG.c.org_id == call.org_id)
    if not call.granted.has("project.grant.read"):
        query = query.where(PG.c.project_id.in_(call.granted.bound_ids("project.grant.read")))
    return await _list(call, _filtered(query, req.queries, call.store.dialect), req)


@api.get("/projects/{projectId}/grants/{grantId}", "GetProjectGrantByID", permission="project.grant.read",
         check_field="project_id")
async def get_grant(call: Call, req: GrantIdRequest) -> GetProjectGrantByIDResponse:
    """One grant of a project of the context organization."""
    async with call.store.read() as conn:
        await ops.project_grant_of(conn, call.org_id, req.project_id, req.grant_id)
    return GetProjectGrantByIDResponse(project_grant=await _one(call, req.grant_id))


@api.put("/projects/{projectId}/grants/{grantId}", "UpdateProjectGrant", permission="project.grant.write",
         check_field="project_id")
async def update_grant(call: Call, req: UpdateProjectGrantRequest) -> DetailsResponse:
    """Replace the granted role keys; keys taken away leave the user grants made through it."""
    async with call.store.write(call.editor) as tx:
        d = await ops.change_project_grant(tx, call.org_id, req.project_id, req.grant_id, req.role_keys)
    return DetailsResponse(details=details.of(d))


def _state_call(change: str, rpc: str, action: Any, summary: str) -> None:
    @api.post(f"/projects/{{projectId}}/grants/{{grantId}}/_{change}", rpc, permission="project.grant.write",
              check_field="project_id", summary=summary)
    async def handler(call: Call, req: GrantIdRequest) -> DetailsResponse:
        async with call.store.write(call.editor) as tx:
            return DetailsResponse(details=details.of(await action(tx, call.org_id, req.project_id, req.grant_id)))


_state_call("deactivate", "DeactivateProjectGrant", ops.deactivate_project_grant, "Deactivate a project grant.")
_state_call("reactivate", "ReactivateProjectGrant", ops.reactivate_project_grant,
            "Reactivate an inactive project grant.")


@api.delete("/projects/{projectId}/grants/{grantId}", "RemoveProjectGrant", permission="project.grant.delete",
            check_field="project_id")
async def remove_grant(call: Call, req: GrantIdRequest) -> DetailsResponse:
    """Remove a project grant with the user grants made through it."""
    async with call.store.write(call.editor) as tx:
        d = await ops.remove_project_grant(tx, call.org_id, req.project_id, req.grant_id)
    return DetailsResponse(details=details.of(d))


# --- the granted organization's side ----------------------------------------------------------

@api.post("/granted_projects/_search", "ListGrantedProjects", permission="project.read")
async def list_granted(call: Call, req: ListGrantedProjectsRequest) -> ListProjectGrantsResponse:
    """Projects other organizations granted to the context organization."""
    query = _query().where(PG.c.granted_org_id == call.org_id)
    if not call.granted.has("project.read"):  # a PROJECT_GRANT_OWNER sees its own grant only
        query = query.where(PG.c.id.in_(call.granted.bound_ids("project.read")))
    for q in req.queries:
        if q.name_query is not None:
            query = query.where(lists.text_condition(P.c.name, q.name_query.name, q.name_query.method))
    return await _list(call, query, req)


@api.get("/granted_projects/{projectId}/grants/{grantId}", "GetGrantedProjectByID", permission="project.read")
async def get_granted(call: Call, req: GrantIdRequest) -> GetGrantedProjectByIDResponse:
    """One project granted to the context organization."""
    async with call.store.read() as conn:
        await ops.granted_project_of(conn, call.org_id, req.project_id, req.grant_id)
    return GetGrantedProjectByIDResponse(granted_project=await _one(call, req.grant_id))


class GrantedRoleQuery(ApiModel):
    key_query: RoleKeyQuery | None = None


class ListGrantedProjectRolesRequest(ListRequest):
    project_id: str
    grant_id: str
    queries: tuple[GrantedRoleQuery, ...] = ()


@api.post("/granted_projects/{projectId}/grants/{grantId}/roles/_search", "ListGrantedProjectRoles",
          permission="project.role.read")
async def list_granted_roles(call: Call, req: ListGrantedProjectRolesRequest) -> ListProjectRolesResponse:
    """The roles of a granted project the grant includes."""
    pr = t.project_roles
    async with call.store.read() as conn:
        grant = await ops.granted_project_of(conn, call.org_id, req.project_id, req.grant_id)
        query = sa.select(pr).where(pr.c.project_id == grant.project_id, pr.c.key.in_(grant.role_keys))
        for q in req.queries:
            if q.key_query is not None:
                query = query.where(lists.text_condition(pr.c.key, q.key_query.key, q.key_query.method))
        page = await lists.page(conn, query, req.query, call.store.clock(), default_order=pr.c.key)
    return ListProjectRolesResponse(details=page.details(), result=tuple(
        RoleModel(key=r.key, details=details.of_row(r.sequence, r.created_at, r.changed_at, r.org_id),
                  display_name=r.display_name, group=r.group) for r in page.rows))
