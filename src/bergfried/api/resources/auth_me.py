"""The caller himself (`/auth/v1/users/me...`): any valid token, no membership needed."""

from __future__ import annotations

from bergfried.api import details, lists
from bergfried.api.messages import Empty, ListMetadataResponse, MetadataKey, MetadataListRequest
from bergfried.api.protojson import ApiModel
from bergfried.api.registry import Call, Resource
from bergfried.api.resources.user_metadata import GetUserMetadataResponse, filtered, metadata_of
from bergfried.api.user_messages import UserModel, user_model
from bergfried.management import user_metadata
from bergfried.management import users as ops
from bergfried.management.scope import user_for_query
from bergfried.store import metadata as store
from bergfried.store import users

api = Resource("Auth (the caller)", "/auth/v1")


class GetMyUserResponse(ApiModel):
    user: UserModel | None = None


class MyMetadataRequest(Empty):
    key: MetadataKey


@api.get("/users/me", "GetMyUser", permission="authenticated")
async def get_my_user(call: Call, req: Empty) -> GetMyUserResponse:
    """The user the token belongs to."""
    async with call.store.read() as conn:
        user = await user_for_query(conn, call.caller.user_id, call.caller.org_id)
        names = await ops.names(conn, call.services, user.org_id)
        created, changed, sequence = await users.details(conn, user.id)
    login, preferred = names.of(user)
    return GetMyUserResponse(user=user_model(user, details.of_row(sequence, created, changed, user.org_id), login,
                                             preferred))


@api.post("/users/me/metadata/_search", "ListMyMetadata", permission="authenticated")
async def list_my_metadata(call: Call, req: MetadataListRequest) -> ListMetadataResponse:
    """The caller's own metadata."""
    async with call.store.read() as conn:
        user = await user_for_query(conn, call.caller.user_id, call.caller.org_id)
        page = await lists.page(conn, filtered(store.of_user(user), req.queries), req.query, call.store.clock(),
                                default_order=store.M.c.key)
    return ListMetadataResponse(details=page.details(), result=tuple(metadata_of(r) for r in page.rows))


@api.get("/users/me/metadata/{key}", "GetMyMetadata", permission="authenticated")
async def get_my_metadata(call: Call, req: MyMetadataRequest) -> GetUserMetadataResponse:
    """One key of the caller's own metadata."""
    async with call.store.read() as conn:
        row = await user_metadata.get_metadata(conn, call.caller.org_id, call.caller.user_id, req.key)
    return GetUserMetadataResponse(metadata=metadata_of(row))
