"""User service v2 (`/v2/users`, spec/api-v2.md §2): AddHumanUser, GetUserByID, ListUsers.

Differences from v1 kept as ZITADEL has them: `username` (absent → the e-mail address),
`profile.givenName`/`familyName`, `email.isVerified`, a oneof `password` / `hashedPassword`,
metadata at creation; the organization comes from `organization{orgId|orgDomain}`; permissions
are checked against the user's organization; ListUsers covers every organization the caller may
read (instance members: all) and answers `details.timestamp`.
Not served: e-mail/phone verification codes (`sendCode`/`returnCode` are accepted, no code is
sent or returned), IdP links and TOTP secrets at creation (ignored).
"""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from pydantic import Field

from bergfried.api import details, lists, v2
from bergfried.api.lists import ListQuery, ObjectDetailsModel
from bergfried.api.messages import Empty, MetadataEntry
from bergfried.api.protojson import ApiModel, Timestamp, enum_in
from bergfried.api.registry import Call, Resource
from bergfried.api.resources.users import SORT_COLUMNS, SearchQuery, UserFieldName, user_condition
from bergfried.api.user_messages import GenderIn, Name200, Optional200
from bergfried.domain.metadata import Metadata
from bergfried.domain.policies import PasswordComplexityPolicy
from bergfried.domain.users import Gender, HumanUser, MachineUser, Profile, User, UserState
from bergfried.errors import NotFound
from bergfried.management import policies
from bergfried.management import users as ops
from bergfried.store import metadata as metadata_store
from bergfried.store import tables as t
from bergfried.store import users as store

api = Resource("UserService", "", connect="zitadel.user.v2.UserService")
U = t.users


class ProfileV2(ApiModel):
    given_name: Name200
    family_name: Name200
    nick_name: Optional200 = ""
    display_name: Optional200 = ""
    preferred_language: Annotated[str, Field(max_length=10)] = ""
    gender: GenderIn = Gender.UNSPECIFIED


class EmailV2(ApiModel):
    email: Annotated[str, Field(min_length=1, max_length=200)]
    is_verified: bool = False


class PhoneV2(ApiModel):
    phone: Annotated[str, Field(max_length=200)] = ""
    is_verified: bool = False


class PasswordV2(ApiModel):
    password: Annotated[str, Field(min_length=1, max_length=200)]
    change_required: bool = False


class HashedPasswordV2(ApiModel):
    hash: Annotated[str, Field(min_length=1, max_length=200)]
    change_required: bool = False


class AddHumanUserRequest(ApiModel):
    user_id: Annotated[str, Field(max_length=20, pattern=r"^[0-9A-Za-z_-]*$")] = ""  # ids are 20 chars here
    username: Annotated[str, Field(max_length=200)] = ""
    organization: v2.Organization | None = None
    profile: ProfileV2
    email: EmailV2
    phone: PhoneV2 | None = None
    metadata: tuple[MetadataEntry, ...] = ()
    password: PasswordV2 | None = None
    hashed_password: HashedPasswordV2 | None = None


class AddHumanUserResponse(ApiModel):
    user_id: str = ""
    details: ObjectDetailsModel | None = None
    email_code: str = ""
    phone_code: str = ""


def _new_human(req: AddHumanUserRequest) -> ops.NewHuman:
    p = req.profile
    chosen = req.password or req.hashed_password
    return ops.NewHuman(
        username=req.username or req.email.email,
        profile=Profile(first_name=p.given_name, last_name=p.family_name, nick_name=p.nick_name,
                        display_name=p.display_name, preferred_language=p.preferred_language, gender=p.gender),
        email=req.email.email, email_verified=req.email.is_verified,
        phone=req.phone.phone if req.phone else "", phone_verified=bool(req.phone and req.phone.is_verified),
        password=req.password.password if req.password else "",
        hashed_password=req.hashed_password.hash if req.hashed_password else "",
        password_change_required=chosen.change_required if chosen else False,
    )


@api.post("/v2/users/human", "AddHumanUser", permission="authenticated")
async def add_human_user(call: Call, req: AddHumanUserRequest) -> AddHumanUserResponse:
    """Create (import) a human user in the organization given by `organization` (permission `user.write`)."""
    new = _new_human(req)
    async with call.store.write(call.editor) as tx:
        org_id = await v2.org_of(tx.conn, req.organization, call.org_id)
        await v2.require(tx.conn, call.caller, "user.write", org_id)
        policy, _ = await policies.current(tx.conn, call.services, PasswordComplexityPolicy)
        user, d = await store.create_human(
            tx, org_id, new.username, new.profile, new.email, email_verified=new.email_verified, phone=new.phone,
            phone_verified=new.phone_verified, password_hash=ops._password_hash(policy, new),
            password_change_required=new.password_change_required, user_id=req.user_id or None,
        )
        if req.metadata:
            await metadata_store.set_many(tx, user, [Metadata(e.key, e.value) for e in req.metadata])
    return AddHumanUserResponse(user_id=user.id, details=details.of(d))


# --- the v2 User object ----------------------------------------------------------------------

class ProfileOut(ApiModel):
    given_name: str = ""
    family_name: str = ""
    nick_name: str = ""
    display_name: str = ""
    preferred_language: str = ""
    gender: Gender = Gender.UNSPECIFIED
    avatar_url: str = ""


class EmailOut(ApiModel):
    email: str = ""
    is_verified: bool = False


class PhoneOut(ApiModel):
    phone: str = ""
    is_verified: bool = False


class HumanOut(ApiModel):
    user_id: str = ""
    state: UserState = UserState.UNSPECIFIED
    username: str = ""
    login_names: tuple[str, ...] = ()
    preferred_login_name: str = ""
    profile: ProfileOut | None = None
    email: EmailOut | None = None
    phone: PhoneOut | None = None
    password_change_required: bool = False
    password_changed: Timestamp | None = None


class MachineOut(ApiModel):
    name: str = ""
    description: str = ""
    has_secret: bool = False
    access_token_type: str = ""


class UserV2(ApiModel):
    user_id: str = ""
    details: ObjectDetailsModel | None = None
    state: UserState = UserState.UNSPECIFIED
    username: str = ""
    login_names: tuple[str, ...] = ()
    preferred_login_name: str = ""
    human: HumanOut | None = None
    machine: MachineOut | None = None


def user_v2(user: User, d: ObjectDetailsModel, names: list[str], preferred: str) -> UserV2:
    base = UserV2(user_id=user.id, details=d, state=user.state, username=user.username, login_names=tuple(names),
                  preferred_login_name=preferred)
    if isinstance(user, MachineUser):
        return base.model_copy(update={"machine": MachineOut(
            name=user.name, description=user.description, has_secret=user.has_secret,
            access_token_type=user.access_token_type.value)})
    assert isinstance(user, HumanUser)
    p = user.profile
    return base.model_copy(update={"human": HumanOut(
        user_id=user.id, state=user.state, username=user.username, login_names=tuple(names),
        preferred_login_name=preferred,
        profile=ProfileOut(given_name=p.first_name, family_name=p.last_name, nick_name=p.nick_name,
                           display_name=user.display_name, preferred_language=p.preferred_language, gender=p.gender),
        email=EmailOut(email=user.email, is_verified=user.is_email_verified),
        phone=PhoneOut(phone=user.phone, is_verified=user.is_phone_verified),
        password_change_required=user.password_change_required, password_changed=user.password_changed_at)})


class GetUserByIDRequest(Empty):
    user_id: str


class GetUserByIDResponse(ApiModel):
    details: ObjectDetailsModel | None = None
    user: UserV2 | None = None


def user_not_found() -> NotFound:
    return NotFound("Errors.User.NotFound", "User could not be found", error_id="QUERY-Dfbg2")


@api.get("/v2/users/{userId}", "GetUserByID", permission="authenticated")
async def get_user_by_id(call: Call, req: GetUserByIDRequest) -> GetUserByIDResponse:
    """A user of any organization the caller may read (permission `user.read` there)."""
    async with call.store.read() as conn:
        user = await store.find(conn, req.user_id)
        if user is None or user.state == UserState.DELETED:
            raise user_not_found()
        await v2.require(conn, call.caller, "user.read", user.org_id)
        names = await ops.names(conn, call.services, user.org_id)
        created, changed, sequence = await store.details(conn, user.id)
    d = details.of_row(sequence, created, changed, user.org_id)
    login, preferred = names.of(user)
    return GetUserByIDResponse(details=d, user=user_v2(user, d, login, preferred))


class OrganizationIdQuery(ApiModel):
    organization_id: Annotated[str, Field(max_length=200)] = ""


class SearchQueryV2(SearchQuery):
    organization_id_query: OrganizationIdQuery | None = None


class ListUsersRequest(ApiModel):
    query: ListQuery | None = None
    sorting_column: Annotated[UserFieldName, enum_in(UserFieldName)] = UserFieldName.UNSPECIFIED
    queries: tuple[SearchQueryV2, ...] = ()


class ListUsersResponse(ApiModel):
    details: v2.ListDetailsV2 | None = None
    sorting_column: UserFieldName = UserFieldName.UNSPECIFIED
    result: tuple[UserV2, ...] = ()


@api.post("/v2/users", "ListUsers", permission="authenticated")
async def list_users(call: Call, req: ListUsersRequest) -> ListUsersResponse:
    """Search the users of every organization the caller may read (`user.read`)."""
    must_be_domain = call.services.policies.domain.user_login_must_be_domain
    async with call.store.read() as conn:
        readable = await v2.readable_orgs(conn, call.caller, "user.read")
        query = sa.select(U).where(U.c.state != UserState.DELETED)
        if readable is not None:
            query = query.where(U.c.org_id.in_(sorted(readable)))
        for q in req.queries:
            query = query.where(user_condition(q, must_be_domain))
            if q.organization_id_query is not None:
                query = query.where(U.c.org_id == q.organization_id_query.organization_id)
        page = await lists.page(conn, query, req.query, call.store.clock(), default_order=U.c.id,
                                sort_column=SORT_COLUMNS.get(req.sorting_column))
        org_names = {org_id: await ops.names(conn, call.services, org_id) for org_id in {r.org_id for r in page.rows}}
    result = []
    for row in page.rows:
        user = store.from_row(row)
        login, preferred = org_names[user.org_id].of(user)
        result.append(user_v2(user, details.of_row(*ops.details_of_row(row)), login, preferred))
    return ListUsersResponse(
        details=v2.ListDetailsV2(total_result=page.total, processed_sequence=page.sequence, timestamp=page.now),
        sorting_column=req.sorting_column, result=tuple(result))
