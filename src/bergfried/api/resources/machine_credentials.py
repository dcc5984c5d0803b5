"""Personal access tokens, machine keys and machine secrets (`/management/v1/users/{userId}/pats`,
`/keys`, `/secret`; spec/management-api.md §5.2)."""

from __future__ import annotations

import enum
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from bergfried.api import details, lists
from bergfried.api.lists import ListDetails, ObjectDetailsModel
from bergfried.api.messages import DetailsResponse, Empty, ListRequest
from bergfried.api.protojson import ApiModel, B64Bytes, Timestamp, enum_in
from bergfried.api.registry import Call, Resource
from bergfried.domain.users import preferred_login_name
from bergfried.errors import NotFound
from bergfried.management import machine_credentials as ops
from bergfried.management.scope import user_for_query
from bergfried.store import credentials, orgs
from bergfried.store import tables as t

api = Resource("Machine users: tokens, keys, secrets", "/management/v1")


class KeyType(enum.StrEnum):
    UNSPECIFIED = "KEY_TYPE_UNSPECIFIED"
    JSON = "KEY_TYPE_JSON"


def _not_unspecified(value: KeyType) -> KeyType:
    if value == KeyType.UNSPECIFIED:
        raise ValueError("value must not be in list [0]")
    return value


class UserRequest(Empty):
    user_id: str


class AddPersonalAccessTokenRequest(UserRequest):
    expiration_date: Timestamp | None = None


class AddPersonalAccessTokenResponse(ApiModel):
    token_id: str = ""
    token: str = ""
    details: ObjectDetailsModel | None = None


class TokenRequest(UserRequest):
    token_id: str


class PersonalAccessToken(ApiModel):
    id: str = ""
    details: ObjectDetailsModel | None = None
    expiration_date: Timestamp | None = None
    scopes: tuple[str, ...] = ()


class GetPersonalAccessTokenResponse(ApiModel):
    token: PersonalAccessToken | None = None


class ListPersonalAccessTokensRequest(ListRequest):
    user_id: str


class ListPersonalAccessTokensResponse(ApiModel):
    details: ListDetails | None = None
    result: tuple[PersonalAccessToken, ...] = ()


class AddMachineKeyRequest(UserRequest):
    type: Annotated[KeyType, enum_in(KeyType), AfterValidator(_not_unspecified)] = Field(
        default=KeyType.UNSPECIFIED, validate_default=True)
    expiration_date: Timestamp | None = None
    public_key: B64Bytes = b""


class AddMachineKeyResponse(ApiModel):
    key_id: str = ""
    key_details: B64Bytes = b""
    details: ObjectDetailsModel | None = None


class KeyRequest(UserRequest):
    key_id: str


class MachineKey(ApiModel):
    id: str = ""
    details: ObjectDetailsModel | None = None
    type: KeyType = KeyType.UNSPECIFIED
    expiration_date: Timestamp | None = None


class GetMachineKeyResponse(ApiModel):
    key: MachineKey | None = None


class ListMachineKeysRequest(ListRequest):
    user_id: str


class ListMachineKeysResponse(ApiModel):
    details: ListDetails | None = None
    result: tuple[MachineKey, ...] = ()


class GenerateMachineSecretResponse(ApiModel):
    client_id: str = ""
    client_secret: str = ""
    details: ObjectDetailsModel | None = None


def _row_details(row: Any) -> ObjectDetailsModel:
    return details.of_row(row.sequence, row.created_at, row.changed_at, row.org_id)


def _pat(row: Any) -> PersonalAccessToken:
    return PersonalAccessToken(id=row.id, details=_row_details(row), expiration_date=row.expires_at,
                               scopes=tuple(row.scopes))


def _key(row: Any) -> MachineKey:
    return MachineKey(id=row.id, details=_row_details(row), type=KeyType(row.type), expiration_date=row.expires_at)


# --- personal access tokens ------------------------------------------------------------------

@api.post("/users/{userId}/pats", "AddPersonalAccessToken", permission="user.write")
async def add_pat(call: Call, req: AddPersonalAccessTokenRequest) -> AddPersonalAccessTokenResponse:
    """A personal access token for a machine user, shown once."""
    async with call.store.write(call.editor) as tx:
        pat_id, token, d = await ops.add_pat(tx, call.services, call.org_id, req.user_id, req.expiration_date)
    return AddPersonalAccessTokenResponse(token_id=pat_id, token=token, details=details.of(d))


@api.post("/users/{userId}/pats/_search", "ListPersonalAccessTokens", permission="user.read")
async def list_pats(call: Call, req: ListPersonalAccessTokensRequest) -> ListPersonalAccessTokensResponse:
    """A machine user's personal access tokens (never the tokens themselves)."""
    async with call.store.read() as conn:
        await user_for_query(conn, req.user_id, call.org_id)
        page = await lists.page(conn, credentials.search_pats(req.user_id), req.query, call.store.clock(),
                                default_order=t.personal_access_tokens.c.id)
    return ListPersonalAccessTokensResponse(details=page.details(), result=tuple(_pat(r) for r in page.rows))


@api.get("/users/{userId}/pats/{tokenId}", "GetPersonalAccessTokenByIDs", permission="user.read")
async def get_pat(call: Call, req: TokenRequest) -> GetPersonalAccessTokenResponse:
    """One personal access token's metadata."""
    async with call.store.read() as conn:
        await user_for_query(conn, req.user_id, call.org_id)
        row = (await conn.execute(credentials.search_pats(req.user_id)
                                  .where(t.personal_access_tokens.c.id == req.token_id))).first()
    if row is None:
        raise NotFound("Errors.PersonalAccessToken.NotFound", "Personal Access Token not found",
                       error_id="QUERY-fk2fs")
    return GetPersonalAccessTokenResponse(token=_pat(row))


@api.delete("/users/{userId}/pats/{tokenId}", "RemovePersonalAccessToken", permission="user.write")
async def remove_pat(call: Call, req: TokenRequest) -> DetailsResponse:
    """Revoke a personal access token."""
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await ops.remove_pat(tx, call.org_id, req.user_id, req.token_id)))


# --- machine keys ----------------------------------------------------------------------------

@api.post("/users/{userId}/keys", "AddMachineKey", permission="user.write")
async def add_key(call: Call, req: AddMachineKeyRequest) -> AddMachineKeyResponse:
    """A key for JWT-profile authentication; `keyDetails` is the JSON key file, shown once."""
    async with call.store.write(call.editor) as tx:
        key_id, key_file, d = await ops.add_key(tx, call.org_id, req.user_id, req.expiration_date, req.public_key)
    return AddMachineKeyResponse(key_id=key_id, key_details=key_file, details=details.of(d))


@api.post("/users/{userId}/keys/_search", "ListMachineKeys", permission="user.read")
async def list_keys(call: Call, req: ListMachineKeysRequest) -> ListMachineKeysResponse:
    """A machine user's keys (public information only)."""
    async with call.store.read() as conn:
        await user_for_query(conn, req.user_id, call.org_id)
        page = await lists.page(conn, credentials.search_machine_keys(req.user_id), req.query, call.store.clock(),
                                default_order=t.machine_keys.c.id)
    return ListMachineKeysResponse(details=page.details(), result=tuple(_key(r) for r in page.rows))


@api.get("/users/{userId}/keys/{keyId}", "GetMachineKeyByIDs", permission="user.read")
async def get_key(call: Call, req: KeyRequest) -> GetMachineKeyResponse:
    """One machine key."""
    async with call.store.read() as conn:
        await user_for_query(conn, req.user_id, call.org_id)
        row = (await conn.execute(credentials.search_machine_keys(req.user_id)
                                  .where(t.machine_keys.c.id == req.key_id))).first()
    if row is None:
        raise NotFound("Errors.User.Machine.Key.NotFound", "Machine key not found", error_id="QUERY-fk3fs")
    return GetMachineKeyResponse(key=_key(row))


@api.delete("/users/{userId}/keys/{keyId}", "RemoveMachineKey", permission="user.write")
async def remove_key(call: Call, req: KeyRequest) -> DetailsResponse:
    """Remove a machine key; assertions signed with it fail from now on."""
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await ops.remove_key(tx, call.org_id, req.user_id, req.key_id)))


# --- client secret ---------------------------------------------------------------------------

@api.put("/users/{userId}/secret", "GenerateMachineSecret", permission="user.write")
async def generate_secret(call: Call, req: UserRequest) -> GenerateMachineSecretResponse:
    """A new client secret for client_credentials; `clientId` is the preferred login name."""
    async with call.store.write(call.editor) as tx:
        machine, secret, d = await ops.generate_machine_secret(tx, call.services, call.org_id, req.user_id)
        org = await orgs.get(tx.conn, machine.org_id)
    client_id = preferred_login_name(machine.username, org.primary_domain,
                                     must_be_domain=call.services.policies.domain.user_login_must_be_domain)
    return GenerateMachineSecretResponse(client_id=client_id, client_secret=secret, details=details.of(d))


@api.delete("/users/{userId}/secret", "RemoveMachineSecret", permission="user.write")
async def remove_secret(call: Call, req: UserRequest) -> DetailsResponse:
    """Remove the machine user's client secret."""
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await ops.remove_machine_secret(tx, call.org_id, req.user_id)))
