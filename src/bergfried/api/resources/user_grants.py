"""User grants (`/management/v1/users/{userId}/grants/...`, `/users/grants/_search`, `/user_grants/_bulk`;
spec/management-api.md §8). A grant belongs to the organization that gave it (the project's owner,
or the granted organization for a project it was granted). A PROJECT_OWNER's `user.grant.*` is
bound to its project, so the handlers check the grant's project against it."""

from __future__ import annotations

import enum
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import Field

from bergfried.api import details, lists
from bergfried.api.lists import ListDetails, Method, ObjectDetailsModel, TextQueryMethod
from bergfried.api.messages import DetailsResponse, Empty, ListRequest
from bergfried.api.protojson import ApiModel, enum_in
from bergfried.api.registry import Call, Resource
from bergfried.domain.grants import UserGrant, UserGrantState
from bergfried.domain.users import preferred_login_name
from bergfried.errors import PermissionDenied
from bergfried.management import grants as ops
from bergfried.store import grants, json_lists
from bergfried.store import tables as t

api = Resource("User grants", "/management/v1")

UG, U, P = t.user_grants, t.users, t.projects
GRANT_ORG, USER_ORG = t.orgs.alias("grant_org"), t.orgs.alias("user_org")
RoleKeys = tuple[Annotated[str, Field(min_length=1, max_length=200)], ...]
Text200 = Annotated[str, Field(max_length=200)]


class UserType(enum.StrEnum):
    UNSPECIFIED = "TYPE_UNSPECIFIED"
    HUMAN = "TYPE_HUMAN"
    MACHINE = "TYPE_MACHINE"


class UserGrantModel(ApiModel):
    id: str = ""
    details: ObjectDetailsModel | None = None
    role_keys: tuple[str, ...] = ()
    state: UserGrantState = UserGrantState.UNSPECIFIED
    user_id: str = ""
    user_name: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    display_name: str = ""
    org_id: str = ""
    org_name: str = ""
    org_domain: str = ""
    project_id: str = ""
    project_name: str = ""
    project_grant_id: str = ""
    avatar_url: str = ""
    preferred_login_name: str = ""
    user_type: UserType = UserType.UNSPECIFIED
    granted_org_id: str = ""
    granted_org_name: str = ""
    granted_org_domain: str = ""


class AddUserGrantRequest(ApiModel):
    user_id: str
    project_id: Annotated[str, Field(min_length=1, max_length=200)]
    project_grant_id: Text200 = ""
    role_keys: RoleKeys = ()


class AddUserGrantResponse(ApiModel):
    user_grant_id: str = ""
    details: ObjectDetailsModel | None = None


class UserGrantIdRequest(Empty):
    user_id: str
    grant_id: str


class UpdateUserGrantRequest(ApiModel):
    user_id: str
    grant_id: str
    role_keys: RoleKeys = ()


class BulkRemoveUserGrantRequest(ApiModel):
    grant_id: Annotated[tuple[Annotated[str, Field(min_length=1)], ...], Field(min_length=1)]


class GetUserGrantByIDResponse(ApiModel):
    user_grant: UserGrantModel | None = None


class IdQuery(ApiModel):
    project_id: Text200 = ""
    user_id: Text200 = ""
    project_grant_id: Text200 = ""


class WithGrantedQuery(ApiModel):
    with_granted: bool = False


class RoleKeyQuery(ApiModel):
    role_key: Text200 = ""
    method: Method = TextQueryMethod.EQUALS


class UserNameQuery(ApiModel):
    user_name: Text200 = ""
    method: Method = TextQueryMethod.EQUALS


class EmailQuery(ApiModel):
    email: Text200 = ""
    method: Method = TextQueryMethod.EQUALS


class DisplayNameQuery(ApiModel):
    display_name: Text200 = ""
    method: Method = TextQueryMethod.EQUALS


class ProjectNameQuery(ApiModel):
    project_name: Text200 = ""
    method: Method = TextQueryMethod.EQUALS


class UserTypeQuery(ApiModel):
    type: Annotated[UserType, enum_in(UserType)] = UserType.UNSPECIFIED


class UserGrantQuery(ApiModel):
    project_id_query: IdQuery | None = None
    user_id_query: IdQuery | None = None
    with_granted_query: WithGrantedQuery | None = None
    role_key_query: RoleKeyQuery | None = None
    project_grant_id_query: IdQuery | None = None
    user_name_query: UserNameQuery | None = None
    email_query: EmailQuery | None = None
    display_name_query: DisplayNameQuery | None = None
    project_name_query: ProjectNameQuery | None = None
    user_type_query: UserTypeQuery | None = None


class ListUserGrantsRequest(ListRequest):
    queries: tuple[UserGrantQuery, ...] = ()


class ListUserGrantsResponse(ApiModel):
    details: ListDetails | None = None
    result: tuple[UserGrantModel, ...] = ()


def _may(call: Call, permission: str, project_id: str, project_grant_id: str | None = None) -> None:
    """A bound `user.grant.*` counts only for grants on its project (PROJECT_OWNER) or made through
    its project grant (PROJECT_GRANT_OWNER), as ZITADEL's `checkExplicitProjectPermission`."""
    if call.granted.has(permission, project_id) or (project_grant_id and call.granted.has(permission,
                                                                                          project_grant_id)):
        return
    raise PermissionDenied("No matching permissions found", "No matching permissions found", error_id="AUTH-3jknH")


def _may_change(call: Call, permission: str, grant: UserGrant) -> None:
    _may(call, permission, grant.project_id, grant.project_grant_id)


def _query() -> sa.Select[Any]:
    return (sa.select(UG, U.c.username, U.c.first_name, U.c.last_name, U.c.email, U.c.display_name,
                      U.c.machine_name, U.c.type.label("user_type"), U.c.org_id.label("user_org_id"),
                      P.c.name.label("project_name"), GRANT_ORG.c.name.label("org_name"),
                      GRANT_ORG.c.primary_domain.label("org_domain"), USER_ORG.c.name.label("user_org_name"),
                      USER_ORG.c.primary_domain.label("user_org_domain"))
            .join(U, U.c.id == UG.c.user_id).join(P, P.c.id == UG.c.project_id)
            .join(GRANT_ORG, GRANT_ORG.c.id == UG.c.org_id).join(USER_ORG, USER_ORG.c.id == U.c.org_id))


def grant_model(row: Any, must_be_domain: bool) -> UserGrantModel:
    return UserGrantModel(
        id=row.id, details=details.of_row(row.sequence, row.created_at, row.changed_at, row.org_id),
        role_keys=tuple(row.role_keys), state=UserGrantState(row.state), user_id=row.user_id, user_name=row.username,
        first_name=row.first_name, last_name=row.last_name, email=row.email,
        display_name=row.display_name or row.machine_name, org_id=row.org_id, org_name=row.org_name,
        org_domain=row.org_domain, project_id=row.project_id, project_name=row.project_name,
        project_grant_id=row.project_grant_id or "",
        preferred_login_name=preferred_login_name(row.username, row.user_org_domain, must_be_domain=must_be_domain),
        user_type=UserType(row.user_type), granted_org_id=row.user_org_id, granted_org_name=row.user_org_name,
        granted_org_domain=row.user_org_domain,
    )


def _condition(q: UserGrantQuery, dialect: str) -> Any:
    text_queries = (
        (q.user_name_query, U.c.username, "user_name"), (q.email_query, U.c.email, "email"),
        (q.display_name_query, U.c.display_name, "display_name"),
        (q.project_name_query, P.c.name, "project_name"),
    )
    for sub, column, field in text_queries:
        if sub is not None:
            return lists.text_condition(column, getattr(sub, field), sub.method)
    if q.project_id_query is not None:
        return UG.c.project_id == q.project_id_query.project_id
    if q.user_id_query is not None:
        return UG.c.user_id == q.user_id_query.user_id
    if q.project_grant_id_query is not None:
        return UG.c.project_grant_id == q.project_grant_id_query.project_grant_id
    if q.role_key_query is not None:
        return json_lists.contains(dialect, UG.c.role_keys, q.role_key_query.role_key)
    if q.user_type_query is not None:
        return U.c.type == q.user_type_query.type.value
    return sa.true()


@api.post("/users/{userId}/grants", "AddUserGrant", permission="user.grant.write")
async def add_grant(call: Call, req: AddUserGrantRequest) -> AddUserGrantResponse:
    """Give a user role keys of a project (owned by, or granted to, the context organization)."""
    async with call.store.write(call.editor) as tx:
        through = req.project_grant_id or None
        if through is None and not call.granted.has("user.grant.write", req.project_id):
            found = await grants.find_project_grant(tx.conn, req.project_id, call.org_id)
            through = found.id if found else None
        _may(call, "user.grant.write", req.project_id, through)
        grant, d = await ops.add_user_grant(tx, call.org_id, req.user_id, req.project_id, req.role_keys,
                                            req.project_grant_id or None)
    return AddUserGrantResponse(user_grant_id=grant.id, details=details.of(d))


@api.post("/users/grants/_search", "ListUserGrants", permission="user.grant.read")
async def list_grants(call: Call, req: ListUserGrantsRequest) -> ListUserGrantsResponse:
    """The context organization's user grants (`withGrantedQuery`: also those other organizations
    gave on its projects), filtered and paged."""
    with_granted = any(q.with_granted_query is not None and q.with_granted_query.with_granted for q in req.queries)
    query = _query().where(sa.or_(UG.c.org_id == call.org_id, P.c.org_id == call.org_id) if with_granted
                           else UG.c.org_id == call.org_id)
    if not call.granted.has("user.grant.read"):
        bound = call.granted.bound_ids("user.grant.read")
        query = query.where(sa.or_(UG.c.project_id.in_(bound), UG.c.project_grant_id.in_(bound)))
    for q in req.queries:
        query = query.where(_condition(q, call.store.dialect))
    async with call.store.read() as conn:
        page = await lists.page(conn, query, req.query, call.store.clock(), default_order=UG.c.id)
    must_be_domain = call.services.policies.domain.user_login_must_be_domain
    return ListUserGrantsResponse(details=page.details(), result=tuple(grant_model(r, must_be_domain)
                                                                       for r in page.rows))


@api.delete("/user_grants/_bulk", "BulkRemoveUserGrant", permission="user.grant.delete")
async def bulk_remove(call: Call, req: BulkRemoveUserGrantRequest) -> DetailsResponse:
    """Remove several user grants (`grantId` is a list); all or none."""
    async with call.store.write(call.editor) as tx:
        for grant_id in req.grant_id:
            _may_change(call, "user.grant.delete", await ops.user_grant_of(tx.conn, call.org_id, grant_id))
        d = await ops.bulk_remove_user_grants(tx, call.org_id, req.grant_id)
    return DetailsResponse(details=details.of(d))


@api.get("/users/{userId}/grants/{grantId}", "GetUserGrantByID", permission="user.grant.read")
async def get_grant(call: Call, req: UserGrantIdRequest) -> GetUserGrantByIDResponse:
    """One user grant of the context organization."""
    async with call.store.read() as conn:
        grant = await ops.user_grant_of(conn, call.org_id, req.grant_id, req.user_id)
        _may_change(call, "user.grant.read", grant)
        row = (await conn.execute(_query().where(UG.c.id == grant.id))).one()
    return GetUserGrantByIDResponse(user_grant=grant_model(row, call.services.policies.domain
                                                           .user_login_must_be_domain))


async def _change(call: Call, req: UserGrantIdRequest, permission: str, action: Any, *args: Any) -> DetailsResponse:
    async with call.store.write(call.editor) as tx:
        grant = await ops.user_grant_of(tx.conn, call.org_id, req.grant_id, req.user_id)
        _may_change(call, permission, grant)
        return DetailsResponse(details=details.of(await action(tx, call.org_id, req.user_id, req.grant_id, *args)))


@api.put("/users/{userId}/grants/{grantId}", "UpdateUserGrant", permission="user.grant.write")
async def update_grant(call: Call, req: UpdateUserGrantRequest) -> DetailsResponse:
    """Replace a user grant's role keys."""
    ids = UserGrantIdRequest(user_id=req.user_id, grant_id=req.grant_id)
    return await _change(call, ids, "user.grant.write", ops.change_user_grant, req.role_keys)


@api.post("/users/{userId}/grants/{grantId}/_deactivate", "DeactivateUserGrant", permission="user.grant.write")
async def deactivate_grant(call: Call, req: UserGrantIdRequest) -> DetailsResponse:
    """Deactivate a user grant: its roles no longer count."""
    return await _change(call, req, "user.grant.write", ops.deactivate_user_grant)


@api.post("/users/{userId}/grants/{grantId}/_reactivate", "ReactivateUserGrant", permission="user.grant.write")
async def reactivate_grant(call: Call, req: UserGrantIdRequest) -> DetailsResponse:
    """Reactivate an inactive user grant."""
    return await _change(call, req, "user.grant.write", ops.reactivate_user_grant)


@api.delete("/users/{userId}/grants/{grantId}", "RemoveUserGrant", permission="user.grant.delete")
async def remove_grant(call: Call, req: UserGrantIdRequest) -> DetailsResponse:
    """Remove a user grant."""
    return await _change(call, req, "user.grant.delete", ops.remove_user_grant)
