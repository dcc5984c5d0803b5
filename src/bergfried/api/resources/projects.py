"""Projects and project roles (`/management/v1/projects/...`, spec/management-api.md §6).

Calls on one project carry its id as check field, so a PROJECT_OWNER of that project may make
them (spec/roles-and-permissions.md §2); ListProjects shows such a member only its projects."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from bergfried.api import details, lists
from bergfried.api.lists import ListDetails, Method, ObjectDetailsModel, TextQueryMethod
from bergfried.api.messages import DetailsResponse, Empty, ListRequest
from bergfried.api.protojson import ApiModel, enum_in
from bergfried.api.registry import Call, Resource
from bergfried.domain.projects import PrivateLabelingSetting, ProjectState
from bergfried.management import projects as ops

api = Resource("Projects", "/management/v1")

Name = Annotated[str, Field(min_length=1, max_length=200)]
Labeling = Annotated[PrivateLabelingSetting, enum_in(PrivateLabelingSetting)]
RoleKey = Annotated[str, Field(min_length=1, max_length=200)]
DisplayName = Annotated[str, Field(min_length=1, max_length=200)]
Group = Annotated[str, Field(max_length=200)]


class ProjectModel(ApiModel):
    id: str = ""
    details: ObjectDetailsModel | None = None
    name: str = ""
    state: ProjectState = ProjectState.UNSPECIFIED
    project_role_assertion: bool = False
    project_role_check: bool = False
    has_project_check: bool = False
    private_labeling_setting: PrivateLabelingSetting = PrivateLabelingSetting.UNSPECIFIED


class AddProjectRequest(ApiModel):
    name: Name
    project_role_assertion: bool = False
    project_role_check: bool = False
    has_project_check: bool = False
    private_labeling_setting: Labeling = PrivateLabelingSetting.UNSPECIFIED


class AddProjectResponse(ApiModel):
    id: str = ""
    details: ObjectDetailsModel | None = None


class ProjectIdRequest(Empty):
    id: str


class UpdateProjectRequest(AddProjectRequest):
    id: str


class GetProjectByIDResponse(ApiModel):
    project: ProjectModel | None = None


class ProjectNameQuery(ApiModel):
    name: Annotated[str, Field(max_length=200)] = ""
    method: Method = TextQueryMethod.EQUALS


class ProjectResourceOwnerQuery(ApiModel):
    resource_owner: Annotated[str, Field(max_length=200)] = ""


class ProjectQuery(ApiModel):
    name_query: ProjectNameQuery | None = None
    project_resource_owner_query: ProjectResourceOwnerQuery | None = None


class ListProjectsRequest(ListRequest):
    queries: tuple[ProjectQuery, ...] = ()


class ListProjectsResponse(ApiModel):
    details: ListDetails | None = None
    result: tuple[ProjectModel, ...] = ()


def project_model(row: Any) -> ProjectModel:
    return ProjectModel(
        id=row.id, details=details.of_row(row.sequence, row.created_at, row.changed_at, row.org_id), name=row.name,
        state=ProjectState(row.state), project_role_assertion=row.project_role_assertion,
        project_role_check=row.project_role_check, has_project_check=row.has_project_check,
        private_labeling_setting=PrivateLabelingSetting(row.private_labeling_setting),
    )


@api.post("/projects", "AddProject", permission="project.create")
async def add_project(call: Call, req: AddProjectRequest) -> AddProjectResponse:
    """Create a project in the context organization."""
    async with call.store.write(call.editor) as tx:
        project, d = await ops.add_project(
            tx, call.org_id, req.name, project_role_assertion=req.project_role_assertion,
            project_role_check=req.project_role_check, has_project_check=req.has_project_check,
            private_labeling_setting=req.private_labeling_setting)
    return AddProjectResponse(id=project.id, details=details.of(d))


@api.post("/projects/_search", "ListProjects", permission="project.read")
async def list_projects(call: Call, req: ListProjectsRequest) -> ListProjectsResponse:
    """The context organization's projects, filtered by `nameQuery`, paged."""
    query = ops.search_projects(call.org_id)
    if not call.granted.has("project.read"):  # only project-bound: that member's projects
        query = query.where(ops.P.c.id.in_(call.granted.bound_ids("project.read")))
    for q in req.queries:
        if q.name_query is not None:
            query = query.where(lists.text_condition(ops.P.c.name, q.name_query.name, q.name_query.method))
        if q.project_resource_owner_query is not None:
            query = query.where(ops.P.c.org_id == q.project_resource_owner_query.resource_owner)
    async with call.store.read() as conn:
        page = await lists.page(conn, query, req.query, call.store.clock(), default_order=ops.P.c.id)
    return ListProjectsResponse(details=page.details(), result=tuple(project_model(r) for r in page.rows))


@api.get("/projects/{id}", "GetProjectByID", permission="project.read", check_field="id")
async def get_project(call: Call, req: ProjectIdRequest) -> GetProjectByIDResponse:
    """One project of the context organization."""
    async with call.store.read() as conn:
        return GetProjectByIDResponse(project=project_model(await ops.project_row(conn, call.org_id, req.id)))


@api.put("/projects/{id}", "UpdateProject", permission="project.write", check_field="id")
async def update_project(call: Call, req: UpdateProjectRequest) -> DetailsResponse:
    """Replace name and settings; nothing different → `Errors.NoChangesFound`."""
    async with call.store.write(call.editor) as tx:
        d = await ops.change_project(
            tx, call.org_id, req.id, req.name, project_role_assertion=req.project_role_assertion,
            project_role_check=req.project_role_check, has_project_check=req.has_project_check,
            private_labeling_setting=req.private_labeling_setting)
    return DetailsResponse(details=details.of(d))


def _state_call(change: str, rpc: str, action: Any, summary: str) -> None:
    @api.post(f"/projects/{{id}}/_{change}", rpc, permission="project.write", check_field="id", summary=summary)
    async def handler(call: Call, req: ProjectIdRequest) -> DetailsResponse:
        async with call.store.write(call.editor) as tx:
            return DetailsResponse(details=details.of(await action(tx, call.org_id, req.id)))


_state_call("deactivate", "DeactivateProject", ops.deactivate_project,
            "Deactivate: its apps can no longer log users in.")
_state_call("reactivate", "ReactivateProject", ops.reactivate_project, "Reactivate an inactive project.")


@api.delete("/projects/{id}", "RemoveProject", permission="project.delete", check_field="id")
async def remove_project(call: Call, req: ProjectIdRequest) -> DetailsResponse:
    """Remove a project with its roles, apps and grants."""
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await ops.remove_project(tx, call.org_id, req.id)))


# --- roles -----------------------------------------------------------------------------------

class AddProjectRoleRequest(ApiModel):
    project_id: str
    role_key: RoleKey
    display_name: DisplayName
    group: Group = ""


class BulkRole(ApiModel):
    key: RoleKey
    display_name: DisplayName
    group: Group = ""


class BulkAddProjectRolesRequest(ApiModel):
    project_id: str
    roles: Annotated[tuple[BulkRole, ...], Field(min_length=1)]


class UpdateProjectRoleRequest(AddProjectRoleRequest):
    pass


class RemoveProjectRoleRequest(Empty):
    project_id: str
    role_key: RoleKey


class RoleModel(ApiModel):
    key: str = ""
    details: ObjectDetailsModel | None = None
    display_name: str = ""
    group: str = ""


class RoleKeyQuery(ApiModel):
    key: Annotated[str, Field(max_length=200)] = ""
    method: Method = TextQueryMethod.EQUALS


class RoleDisplayNameQuery(ApiModel):
    display_name: Annotated[str, Field(max_length=200)] = ""
    method: Method = TextQueryMethod.EQUALS


class RoleQuery(ApiModel):
    key_query: RoleKeyQuery | None = None
    display_name_query: RoleDisplayNameQuery | None = None


class ListProjectRolesRequest(ListRequest):
    project_id: str
    queries: tuple[RoleQuery, ...] = ()


class ListProjectRolesResponse(ApiModel):
    details: ListDetails | None = None
    result: tuple[RoleModel, ...] = ()


@api.post("/projects/{projectId}/roles", "AddProjectRole", permission="project.role.write",
          check_field="project_id")
async def add_role(call: Call, req: AddProjectRoleRequest) -> DetailsResponse:
    """Add a role; a key the project already has → 409 `Errors.Project.Role.AlreadyExists`."""
    async with call.store.write(call.editor) as tx:
        d = await ops.add_project_role(tx, call.org_id, req.project_id, req.role_key, req.display_name, req.group)
    return DetailsResponse(details=details.of(d))


@api.post("/projects/{projectId}/roles/_bulk", "BulkAddProjectRoles", permission="project.role.write",
          check_field="project_id")
async def bulk_add_roles(call: Call, req: BulkAddProjectRolesRequest) -> DetailsResponse:
    """Add several roles at once; all or none."""
    async with call.store.write(call.editor) as tx:
        d = await ops.bulk_add_project_roles(tx, call.org_id, req.project_id,
                                             [(r.key, r.display_name, r.group) for r in req.roles])
    return DetailsResponse(details=details.of(d))


@api.post("/projects/{projectId}/roles/_search", "ListProjectRoles", permission="project.role.read",
          check_field="project_id")
async def list_roles(call: Call, req: ListProjectRolesRequest) -> ListProjectRolesResponse:
    """A project's roles, filtered by `keyQuery` / `displayNameQuery`, paged."""
    query = ops.search_roles(req.project_id)
    for q in req.queries:
        if q.key_query is not None:
            query = query.where(lists.text_condition(ops.PR.c.key, q.key_query.key, q.key_query.method))
        if q.display_name_query is not None:
            query = query.where(lists.text_condition(ops.PR.c.display_name, q.display_name_query.display_name,
                                                     q.display_name_query.method))
    async with call.store.read() as conn:
        await ops.project_row(conn, call.org_id, req.project_id)
        page = await lists.page(conn, query, req.query, call.store.clock(), default_order=ops.PR.c.key)
    return ListProjectRolesResponse(details=page.details(), result=tuple(
        RoleModel(key=r.key, details=details.of_row(r.sequence, r.created_at, r.changed_at, r.org_id),
                  display_name=r.display_name, group=r.group) for r in page.rows))


@api.put("/projects/{projectId}/roles/{roleKey:path}", "UpdateProjectRole", permission="project.role.write",
         check_field="project_id")
async def update_role(call: Call, req: UpdateProjectRoleRequest) -> DetailsResponse:
    """Change a role's display name and group."""
    async with call.store.write(call.editor) as tx:
        d = await ops.change_project_role(tx, call.org_id, req.project_id, req.role_key, req.display_name, req.group)
    return DetailsResponse(details=details.of(d))


@api.delete("/projects/{projectId}/roles/{roleKey:path}", "RemoveProjectRole", permission="project.role.delete",
            check_field="project_id")
async def remove_role(call: Call, req: RemoveProjectRoleRequest) -> DetailsResponse:
    """Remove a role; its key leaves every user grant and project grant."""
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await ops.remove_project_role(tx, call.org_id, req.project_id,
                                                                                req.role_key)))
