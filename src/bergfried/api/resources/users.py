"""Human and machine users (`/management/v1/users/...`, spec/management-api.md §5.1, §5.2)."""

from __future__ import annotations

import enum
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import Field

from bergfried.api import details, lists
from bergfried.api.lists import ListDetails, Method, TextQueryMethod
from bergfried.api.messages import DetailsResponse, Empty, ListRequest
from bergfried.api.protojson import ApiModel, enum_in
from bergfried.api.registry import Call, Resource
from bergfried.api.user_messages import (
    AccessTokenTypeIn,
    GenderIn,
    Name200,
    Optional200,
    UserModel,
    UserStateIn,
    UserTypeIn,
    user_model,
)
from bergfried.domain.users import AccessTokenType, Gender, Profile, UserState, UserType
from bergfried.management import users as ops
from bergfried.management.scope import user_for_query
from bergfried.store import tables as t
from bergfried.store import users as store

api = Resource("Users", "/management/v1")
U = t.users


class AddProfile(ApiModel):
    first_name: Name200
    last_name: Name200
    nick_name: Optional200 = ""
    display_name: Optional200 = ""
    preferred_language: Annotated[str, Field(max_length=10)] = ""
    gender: GenderIn = Gender.UNSPECIFIED


class AddEmail(ApiModel):
    email: Annotated[str, Field(min_length=1, max_length=200)]
    is_email_verified: bool = False


class AddPhone(ApiModel):
    phone: Annotated[str, Field(max_length=50)] = ""
    is_phone_verified: bool = False


class AddHumanUserRequest(ApiModel):
    user_name: Name200
    profile: AddProfile
    email: AddEmail
    phone: AddPhone | None = None
    initial_password: Annotated[str, Field(max_length=200)] = ""


class HashedPassword(ApiModel):
    value: str = ""
    algorithm: str = ""


class ImportHumanUserRequest(ApiModel):
    user_name: Name200
    profile: AddProfile
    email: AddEmail
    phone: AddPhone | None = None
    password: Annotated[str, Field(max_length=200)] = ""
    hashed_password: HashedPassword | None = None
    password_change_required: bool = False
    request_passwordless_registration: bool = False
    otp_code: str = ""


class AddHumanUserResponse(ApiModel):
    user_id: str = ""
    details: lists.ObjectDetailsModel | None = None


class ImportHumanUserResponse(AddHumanUserResponse):
    pass


class AddMachineUserRequest(ApiModel):
    user_name: Name200
    name: Name200
    description: Annotated[str, Field(max_length=500)] = ""
    access_token_type: AccessTokenTypeIn = AccessTokenType.BEARER


class AddMachineUserResponse(AddHumanUserResponse):
    pass


class UserIdRequest(Empty):
    id: str


class GetUserByIDResponse(ApiModel):
    user: UserModel | None = None


def _new_human(req: AddHumanUserRequest | ImportHumanUserRequest, password: str, hashed: str,
               change_required: bool) -> ops.NewHuman:
    p = req.profile
    return ops.NewHuman(
        username=req.user_name,
        profile=Profile(first_name=p.first_name, last_name=p.last_name, nick_name=p.nick_name,
                        display_name=p.display_name, preferred_language=p.preferred_language, gender=p.gender),
        email=req.email.email, email_verified=req.email.is_email_verified,
        phone=req.phone.phone if req.phone else "", phone_verified=bool(req.phone and req.phone.is_phone_verified),
        password=password, hashed_password=hashed, password_change_required=change_required,
    )


@api.post("/users/human", "AddHumanUser", permission="user.write")
async def add_human(call: Call, req: AddHumanUserRequest) -> AddHumanUserResponse:
    """Add a human user to the organization (deprecated in ZITADEL, still served)."""
    async with call.store.write(call.editor) as tx:
        user, d = await ops.add_human(tx, call.services, call.org_id,
                                      _new_human(req, req.initial_password, "", False))
    return AddHumanUserResponse(user_id=user.id, details=details.of(d))


@api.post("/users/human/_import", "ImportHumanUser", permission="user.write")
async def import_human(call: Call, req: ImportHumanUserRequest) -> ImportHumanUserResponse:
    """Import a human user, with a plain or an argon2-hashed password and a verified e-mail."""
    hashed = req.hashed_password.value if req.hashed_password else ""
    async with call.store.write(call.editor) as tx:
        user, d = await ops.add_human(tx, call.services, call.org_id,
                                      _new_human(req, req.password, hashed, req.password_change_required))
    return ImportHumanUserResponse(user_id=user.id, details=details.of(d))


@api.post("/users/machine", "AddMachineUser", permission="user.write")
async def add_machine(call: Call, req: AddMachineUserRequest) -> AddMachineUserResponse:
    """Add a machine (service) user."""
    async with call.store.write(call.editor) as tx:
        user, d = await ops.add_machine(tx, call.org_id, req.user_name, req.name, req.description,
                                        req.access_token_type)
    return AddMachineUserResponse(user_id=user.id, details=details.of(d))


@api.get("/users/{id}", "GetUserByID", permission="user.read")
async def get_user(call: Call, req: UserIdRequest) -> GetUserByIDResponse:
    """A user of the organization, with its login names."""
    async with call.store.read() as conn:
        user = await user_for_query(conn, req.id, call.org_id)
        names = await ops.names(conn, call.services, call.org_id)
        created, changed, sequence = await store.details(conn, user.id)
    login, preferred = names.of(user)
    return GetUserByIDResponse(user=user_model(user, details.of_row(sequence, created, changed, user.org_id), login,
                                               preferred))


class IsUserUniqueRequest(ApiModel):
    user_name: Optional200 = ""
    email: Optional200 = ""


class IsUserUniqueResponse(ApiModel):
    is_unique: bool = False


@api.get("/users/_is_unique", "IsUserUnique", permission="user.read")
async def is_unique(call: Call, req: IsUserUniqueRequest) -> IsUserUniqueResponse:
    """Whether no user holds this user name (`?userName=`) or e-mail (`?email=`) yet."""
    async with call.store.read() as conn:
        taken = await ops.taken(conn, call.services, call.org_id, req.user_name, req.email)
    return IsUserUniqueResponse(is_unique=not taken)


# --- state -----------------------------------------------------------------------------------

def _state_change(change: str, rpc: str, summary: str) -> None:
    @api.post(f"/users/{{id}}/_{change}", rpc, permission="user.write", summary=summary)
    async def handler(call: Call, req: UserIdRequest) -> DetailsResponse:
        async with call.store.write(call.editor) as tx:
            changed = await ops.change_state(tx, call.services, call.org_id, req.id, change)
            return DetailsResponse(details=details.of(changed))


_state_change("deactivate", "DeactivateUser", "Deactivate a user: it can no longer log in.")
_state_change("reactivate", "ReactivateUser", "Reactivate an inactive user.")
_state_change("lock", "LockUser", "Lock a user (as too many failed password checks do).")
_state_change("unlock", "UnlockUser", "Unlock a locked user.")


@api.delete("/users/{id}", "RemoveUser", permission="user.delete")
async def remove_user(call: Call, req: UserIdRequest) -> DetailsResponse:
    """Remove a user; its user name becomes free again."""
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await ops.remove(tx, call.services, call.org_id, req.id)))


# --- search ----------------------------------------------------------------------------------

class UserFieldName(enum.StrEnum):
    UNSPECIFIED = "USER_FIELD_NAME_UNSPECIFIED"
    USER_NAME = "USER_FIELD_NAME_USER_NAME"
    FIRST_NAME = "USER_FIELD_NAME_FIRST_NAME"
    LAST_NAME = "USER_FIELD_NAME_LAST_NAME"
    NICK_NAME = "USER_FIELD_NAME_NICK_NAME"
    DISPLAY_NAME = "USER_FIELD_NAME_DISPLAY_NAME"
    EMAIL = "USER_FIELD_NAME_EMAIL"
    STATE = "USER_FIELD_NAME_STATE"
    TYPE = "USER_FIELD_NAME_TYPE"
    CREATION_DATE = "USER_FIELD_NAME_CREATION_DATE"


SORT_COLUMNS: dict[UserFieldName, Any] = {
    UserFieldName.USER_NAME: U.c.username_lower, UserFieldName.FIRST_NAME: U.c.first_name,
    UserFieldName.LAST_NAME: U.c.last_name, UserFieldName.NICK_NAME: U.c.nick_name,
    UserFieldName.DISPLAY_NAME: U.c.display_name, UserFieldName.EMAIL: U.c.email_lower,
    UserFieldName.STATE: U.c.state, UserFieldName.TYPE: U.c.type, UserFieldName.CREATION_DATE: U.c.created_at,
}
Text200 = Annotated[str, Field(max_length=200)]


class UserNameQuery(ApiModel):
    user_name: Text200 = ""
    method: Method = TextQueryMethod.EQUALS


class FirstNameQuery(ApiModel):
    first_name: Text200 = ""
    method: Method = TextQueryMethod.EQUALS


class LastNameQuery(ApiModel):
    last_name: Text200 = ""
    method: Method = TextQueryMethod.EQUALS


class NickNameQuery(ApiModel):
    nick_name: Text200 = ""
    method: Method = TextQueryMethod.EQUALS


class DisplayNameQuery(ApiModel):
    display_name: Text200 = ""
    method: Method = TextQueryMethod.EQUALS


class EmailQuery(ApiModel):
    email_address: Text200 = ""
    method: Method = TextQueryMethod.EQUALS


class LoginNameQuery(ApiModel):
    login_name: Text200 = ""
    method: Method = TextQueryMethod.EQUALS


class StateQuery(ApiModel):
    state: UserStateIn = UserState.UNSPECIFIED


class TypeQuery(ApiModel):
    type: UserTypeIn = UserType.HUMAN


class InUserIdsQuery(ApiModel):
    user_ids: tuple[str, ...] = ()


class InUserEmailsQuery(ApiModel):
    user_emails: tuple[str, ...] = ()


class SearchQuery(ApiModel):
    user_name_query: UserNameQuery | None = None
    first_name_query: FirstNameQuery | None = None
    last_name_query: LastNameQuery | None = None
    nick_name_query: NickNameQuery | None = None
    display_name_query: DisplayNameQuery | None = None
    email_query: EmailQuery | None = None
    login_name_query: LoginNameQuery | None = None
    state_query: StateQuery | None = None
    type_query: TypeQuery | None = None
    in_user_ids_query: InUserIdsQuery | None = None
    in_user_emails_query: InUserEmailsQuery | None = None
    or_query: OrQuery | None = None
    and_query: AndQuery | None = None
    not_query: NotQuery | None = None


class OrQuery(ApiModel):
    queries: tuple[SearchQuery, ...] = ()


class AndQuery(ApiModel):
    queries: tuple[SearchQuery, ...] = ()


class NotQuery(ApiModel):
    query: SearchQuery | None = None


SearchQuery.model_rebuild()


class ListUsersRequest(ListRequest):
    sorting_column: Annotated[UserFieldName, enum_in(UserFieldName)] = UserFieldName.UNSPECIFIED
    queries: tuple[SearchQuery, ...] = ()


class ListUsersResponse(ApiModel):
    details: ListDetails | None = None
    sorting_column: UserFieldName = UserFieldName.UNSPECIFIED
    result: tuple[UserModel, ...] = ()


def _login_name_condition(q: LoginNameQuery, must_be_domain: bool) -> Any:
    """Login names are `username@verified-domain` (or the bare user name): the user name part is
    matched with the method, the domain must be one of the user's organization's verified ones."""
    name, at, domain = q.login_name.rpartition("@")
    if not must_be_domain or not at:
        return lists.text_condition(U.c.username, q.login_name, q.method)
    verified = sa.select(t.org_domains.c.org_id).where(
        t.org_domains.c.domain == domain.lower(), t.org_domains.c.is_verified.is_(True))
    return sa.and_(lists.text_condition(U.c.username, name, q.method), U.c.org_id.in_(verified))


def user_condition(q: SearchQuery, must_be_domain: bool) -> Any:
    parts: list[Any] = []
    text = [(q.user_name_query, U.c.username, "user_name"), (q.first_name_query, U.c.first_name, "first_name"),
            (q.last_name_query, U.c.last_name, "last_name"), (q.nick_name_query, U.c.nick_name, "nick_name"),
            (q.display_name_query, U.c.display_name, "display_name"), (q.email_query, U.c.email, "email_address")]
    for query, column, field in text:
        if query is not None:
            parts.append(lists.text_condition(column, getattr(query, field), query.method))
    if q.login_name_query is not None:
        parts.append(_login_name_condition(q.login_name_query, must_be_domain))
    if q.state_query is not None:
        parts.append(U.c.state == q.state_query.state)
    if q.type_query is not None:
        parts.append(U.c.type == q.type_query.type)
    if q.in_user_ids_query is not None:
        parts.append(U.c.id.in_(q.in_user_ids_query.user_ids))
    if q.in_user_emails_query is not None:
        parts.append(U.c.email_lower.in_([e.lower() for e in q.in_user_emails_query.user_emails]))
    if q.or_query is not None:
        parts.append(sa.or_(sa.false(), *[user_condition(sub, must_be_domain) for sub in q.or_query.queries]))
    if q.and_query is not None:
        parts.append(sa.and_(sa.true(), *[user_condition(sub, must_be_domain) for sub in q.and_query.queries]))
    if q.not_query is not None and q.not_query.query is not None:
        parts.append(sa.not_(user_condition(q.not_query.query, must_be_domain)))
    return sa.and_(sa.true(), *parts)


@api.post("/users/_search", "ListUsers", permission="user.read")
async def list_users(call: Call, req: ListUsersRequest) -> ListUsersResponse:
    """Search the organization's users with ZITADEL's queries, sorting and paging."""
    async with call.store.read() as conn:
        names = await ops.names(conn, call.services, call.org_id)
        query = ops.search(call.org_id)
        for q in req.queries:
            query = query.where(user_condition(q, names.must_be_domain))
        page = await lists.page(conn, query, req.query, call.store.clock(), default_order=U.c.id,
                                sort_column=SORT_COLUMNS.get(req.sorting_column))
    result = []
    for row in page.rows:
        user = store.from_row(row)
        login, preferred = names.of(user)
        result.append(user_model(user, details.of_row(*ops.details_of_row(row)), login, preferred))
    return ListUsersResponse(details=page.details(), sorting_column=req.sorting_column, result=tuple(result))
