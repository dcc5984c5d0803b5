"""Members on four levels (spec/roles-and-permissions.md §1): the organization (`/orgs/me/members`),
a project (`/projects/{projectId}/members`), a project grant (`.../grants/{grantId}/members`) and the
instance (`/admin/v1/members`), each with list, add, update, remove and the list of its role names.
The four share one set of handlers; a row of `LEVELS` says where a level lives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.api import details, lists
from bergfried.api.lists import ListDetails, Method, ObjectDetailsModel, TextQueryMethod
from bergfried.api.messages import DetailsResponse, Empty, ListRequest
from bergfried.api.protojson import ApiModel
from bergfried.api.registry import Call, Resource
from bergfried.api.resources.user_grants import UserType
from bergfried.domain.members import MemberLevel
from bergfried.domain.users import preferred_login_name
from bergfried.errors import NotFound
from bergfried.management import members as ops
from bergfried.management.grants import project_grant_of
from bergfried.management.projects import project_of
from bergfried.store import instances
from bergfried.store import tables as t

UserId = Annotated[str, Field(min_length=1, max_length=200)]
Roles = tuple[Annotated[str, Field(min_length=1, max_length=200)], ...]
Text200 = Annotated[str, Field(max_length=200)]


class MemberModel(ApiModel):
    user_id: str = ""
    details: ObjectDetailsModel | None = None
    roles: tuple[str, ...] = ()
    preferred_login_name: str = ""
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    display_name: str = ""
    avatar_url: str = ""
    user_type: UserType = UserType.UNSPECIFIED


class TextQuery(ApiModel):
    first_name: Text200 = ""
    last_name: Text200 = ""
    email: Text200 = ""
    method: Method = TextQueryMethod.EQUALS


class UserIdQuery(ApiModel):
    user_id: Text200 = ""


class MemberQuery(ApiModel):
    first_name_query: TextQuery | None = None
    last_name_query: TextQuery | None = None
    email_query: TextQuery | None = None
    user_id_query: UserIdQuery | None = None


class ListMembersResponse(ApiModel):
    details: ListDetails | None = None
    result: tuple[MemberModel, ...] = ()


class ListMemberRolesResponse(ApiModel):
    details: ListDetails | None = None
    result: tuple[str, ...] = ()


# --- requests per level (path parameters differ) ---------------------------------------------

class _List(ListRequest):
    queries: tuple[MemberQuery, ...] = ()


class _Add(ApiModel):
    user_id: UserId
    roles: Roles = ()


class _Update(ApiModel):
    user_id: str
    roles: Roles = ()


class _Remove(Empty):
    user_id: str


class _InProject(ApiModel):
    project_id: str


class _InGrant(_InProject):
    grant_id: str


class ListOrgMembersRequest(_List): ...
class AddOrgMemberRequest(_Add): ...
class UpdateOrgMemberRequest(_Update): ...
class RemoveOrgMemberRequest(_Remove): ...
class ListProjectMembersRequest(_List, _InProject): ...
class AddProjectMemberRequest(_Add, _InProject): ...
class UpdateProjectMemberRequest(_Update, _InProject): ...
class RemoveProjectMemberRequest(_Remove, _InProject): ...
class ListProjectGrantMembersRequest(_List, _InGrant): ...
class AddProjectGrantMemberRequest(_Add, _InGrant): ...
class UpdateProjectGrantMemberRequest(_Update, _InGrant): ...
class RemoveProjectGrantMemberRequest(_Remove, _InGrant): ...
class ListIAMMembersRequest(_List): ...
class AddIAMMemberRequest(_Add): ...
class UpdateIAMMemberRequest(_Update): ...
class RemoveIAMMemberRequest(_Remove): ...


# --- where each level's membership lives -------------------------------------------------------

async def _org(conn: AsyncConnection, call: Call, req: Any) -> ops.Target:
    return ops.Target(MemberLevel.ORG, call.org_id, call.org_id)


async def _project(conn: AsyncConnection, call: Call, req: Any) -> ops.Target:
    project = await project_of(conn, call.org_id, req.project_id)
    return ops.Target(MemberLevel.PROJECT, project.id, project.org_id)


async def _grant(conn: AsyncConnection, call: Call, req: Any) -> ops.Target:
    """A project grant's members count in the granted organization (they manage its users' grants)."""
    grant = await project_grant_of(conn, call.org_id, req.project_id, req.grant_id)
    return ops.Target(MemberLevel.PROJECT_GRANT, grant.id, grant.granted_org_id)


async def _instance(conn: AsyncConnection, call: Call, req: Any) -> ops.Target:
    instance = await instances.get(conn)
    if instance is None:
        raise NotFound("Errors.IAM.NotFound", "Instance not found", error_id="QUERY-n0wng")
    return ops.Target(MemberLevel.INSTANCE, instance.id, None)


TargetOf = Callable[[AsyncConnection, Call, Any], Awaitable[ops.Target]]


@dataclass(frozen=True, slots=True)
class Level:
    resource: Resource
    path: str  # the members collection
    roles_path: str
    name: str  # `Org` → ListOrgMembers, AddOrgMember, ...
    permission: str  # `org.member` → .read / .write / .delete
    check_field: str | None
    target: TargetOf
    requests: tuple[type[ApiModel], type[ApiModel], type[ApiModel], type[ApiModel]]  # list, add, update, remove


MGMT = Resource("Members", "/management/v1")
LEVELS = (
    Level(MGMT, "/orgs/me/members", "/orgs/members/roles/_search", "Org", "org.member", None, _org,
          (ListOrgMembersRequest, AddOrgMemberRequest, UpdateOrgMemberRequest, RemoveOrgMemberRequest)),
    Level(MGMT, "/projects/{projectId}/members", "/projects/members/roles/_search", "Project", "project.member",
          "project_id", _project, (ListProjectMembersRequest, AddProjectMemberRequest, UpdateProjectMemberRequest,
                                   RemoveProjectMemberRequest)),
    Level(MGMT, "/projects/{projectId}/grants/{grantId}/members", "/projects/grants/members/roles/_search",
          "ProjectGrant", "project.grant.member", "grant_id", _grant,
          (ListProjectGrantMembersRequest, AddProjectGrantMemberRequest, UpdateProjectGrantMemberRequest,
           RemoveProjectGrantMemberRequest)),
    Level(Resource("Members", "/admin/v1"), "/members", "/members/roles/_search", "IAM", "iam.member", None,
          _instance, (ListIAMMembersRequest, AddIAMMemberRequest, UpdateIAMMemberRequest, RemoveIAMMemberRequest)),
)
_LEVEL_OF = {"Org": MemberLevel.ORG, "Project": MemberLevel.PROJECT, "ProjectGrant": MemberLevel.PROJECT_GRANT,
             "IAM": MemberLevel.INSTANCE}


def member_model(row: Any, must_be_domain: bool) -> MemberModel:
    return MemberModel(
        user_id=row.user_id, details=details.of_row(row.sequence, row.created_at, row.changed_at,
                                                    row.org_id or row.object_id),
        roles=tuple(row.roles), preferred_login_name=preferred_login_name(row.username, row.user_org_domain,
                                                                          must_be_domain=must_be_domain),
        email=row.email, first_name=row.first_name, last_name=row.last_name,
        display_name=row.display_name or row.machine_name, user_type=UserType(row.user_type),
    )


def _condition(q: MemberQuery) -> Any:
    u = t.users
    for sub, column, field in ((q.first_name_query, u.c.first_name, "first_name"),
                               (q.last_name_query, u.c.last_name, "last_name"), (q.email_query, u.c.email, "email")):
        if sub is not None:
            return lists.text_condition(column, getattr(sub, field), sub.method)
    if q.user_id_query is not None:
        return ops.MB.c.user_id == q.user_id_query.user_id
    return None


def _typed(handler: Any, request: type[ApiModel], response: type[ApiModel]) -> Any:
    """The registry reads the request and response models from the annotations."""
    handler.__annotations__ = {"call": Call, "req": request, "return": response}
    return handler


def _register(level: Level) -> None:
    api, perm, check = level.resource, level.permission, level.check_field
    list_req, add_req, update_req, remove_req = level.requests

    async def list_members(call: Call, req: Any) -> ListMembersResponse:
        async with call.store.read() as conn:
            query = ops.search(await level.target(conn, call, req))
            for q in req.queries:
                condition = _condition(q)
                query = query if condition is None else query.where(condition)
            page = await lists.page(conn, query, req.query, call.store.clock(), default_order=ops.MB.c.user_id)
        must_be_domain = call.services.policies.domain.user_login_must_be_domain
        return ListMembersResponse(details=page.details(),
                                   result=tuple(member_model(r, must_be_domain) for r in page.rows))

    async def add_member(call: Call, req: Any) -> DetailsResponse:
        async with call.store.write(call.editor) as tx:
            target = await level.target(tx.conn, call, req)
            return DetailsResponse(details=details.of(await ops.add_member(tx, target, req.user_id, req.roles)))

    async def update_member(call: Call, req: Any) -> DetailsResponse:
        async with call.store.write(call.editor) as tx:
            target = await level.target(tx.conn, call, req)
            return DetailsResponse(details=details.of(await ops.change_member(tx, target, req.user_id, req.roles)))

    async def remove_member(call: Call, req: Any) -> DetailsResponse:
        async with call.store.write(call.editor) as tx:
            target = await level.target(tx.conn, call, req)
            return DetailsResponse(details=details.of(await ops.remove_member(tx, target, req.user_id)))

    async def list_roles(call: Call, req: Any) -> ListMemberRolesResponse:
        roles = ops.roles_of_level(_LEVEL_OF[level.name])
        return ListMemberRolesResponse(details=ListDetails(total_result=len(roles), view_timestamp=call.store.clock()),
                                       result=tuple(roles))

    name, path = level.name, level.path
    api.post(path + "/_search", f"List{name}Members", permission=perm + ".read", check_field=check,
             summary=f"The {name} members with their roles.")(_typed(list_members, list_req, ListMembersResponse))
    api.post(path, f"Add{name}Member", permission=perm + ".write", check_field=check,
             summary=f"Make a user a {name} member.")(_typed(add_member, add_req, DetailsResponse))
    api.put(path + "/{userId}", f"Update{name}Member", permission=perm + ".write", check_field=check,
            summary="Replace a member's roles.")(_typed(update_member, update_req, DetailsResponse))
    api.delete(path + "/{userId}", f"Remove{name}Member", permission=perm + ".delete", check_field=check,
               summary="Remove a member.")(_typed(remove_member, remove_req, DetailsResponse))
    api.post(level.roles_path, f"List{name}MemberRoles", permission=perm + ".read",
             summary=f"The role names a {name} member may get.")(_typed(list_roles, Empty, ListMemberRolesResponse))


for _level in LEVELS:
    _register(_level)
