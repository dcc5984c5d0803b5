"""User metadata (`/management/v1/users/{id}/metadata/...`, spec/management-api.md §5.3)."""

from __future__ import annotations

from typing import Any

from bergfried.api import details, lists
from bergfried.api.messages import (
    DetailsResponse,
    Empty,
    ListMetadataResponse,
    Metadata,
    MetadataEntry,
    MetadataKey,
    MetadataListRequest,
    MetadataQuery,
    MetadataValue,
)
from bergfried.api.protojson import ApiModel
from bergfried.api.registry import Call, Resource
from bergfried.domain import metadata as domain
from bergfried.management import user_metadata as ops
from bergfried.management.scope import user_for_query
from bergfried.store import metadata as store

api = Resource("User metadata", "/management/v1")


class UserKeyRequest(Empty):
    id: str
    key: MetadataKey


class SetUserMetadataRequest(UserKeyRequest):
    value: MetadataValue


class BulkSetUserMetadataRequest(ApiModel):
    id: str
    metadata: tuple[MetadataEntry, ...] = ()


class BulkRemoveUserMetadataRequest(ApiModel):
    id: str
    keys: tuple[MetadataKey, ...] = ()


class ListUserMetadataRequest(MetadataListRequest):
    id: str


class GetUserMetadataResponse(ApiModel):
    metadata: Metadata | None = None


def filtered(owner: store.Owner, queries: tuple[MetadataQuery, ...]) -> Any:
    """Metadata rows narrowed by the request's `keyQuery`s."""
    query = store.search_for(owner)
    for q in queries:
        if q.key_query is not None:
            query = query.where(lists.text_condition(owner.table.c.key, q.key_query.key, q.key_query.method))
    return query


def metadata_of(row: Any) -> Metadata:
    return Metadata(details=details.of_row(row.sequence, row.created_at, row.changed_at, row.org_id),
                    key=row.key, value=bytes(row.value))


@api.post("/users/{id}/metadata/_bulk", "BulkSetUserMetadata", permission="user.write")
async def bulk_set(call: Call, req: BulkSetUserMetadataRequest) -> DetailsResponse:
    """Set several keys of a user's metadata at once."""
    entries = [domain.Metadata(e.key, e.value) for e in req.metadata]
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await ops.set_metadata(tx, call.org_id, req.id, entries)))


@api.delete("/users/{id}/metadata/_bulk", "BulkRemoveUserMetadata", permission="user.write")
async def bulk_remove(call: Call, req: BulkRemoveUserMetadataRequest) -> DetailsResponse:
    """Remove several keys (the body carries `keys`); a missing key fails the whole call."""
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await ops.remove_metadata(tx, call.org_id, req.id, list(req.keys))))


@api.post("/users/{id}/metadata/_search", "ListUserMetadata", permission="user.read")
async def search(call: Call, req: ListUserMetadataRequest) -> ListMetadataResponse:
    """A user's metadata, filtered by `keyQuery`, paged."""
    async with call.store.read() as conn:
        user = await user_for_query(conn, req.id, call.org_id)
        page = await lists.page(conn, filtered(store.of_user(user), req.queries), req.query, call.store.clock(),
                                default_order=store.M.c.key)
    return ListMetadataResponse(details=page.details(), result=tuple(metadata_of(r) for r in page.rows))


@api.post("/users/{id}/metadata/{key}", "SetUserMetadata", permission="user.write")
async def set_one(call: Call, req: SetUserMetadataRequest) -> DetailsResponse:
    """Set one key; `value` is base64 (seed 000: `1234` is `MTIzNA==`)."""
    async with call.store.write(call.editor) as tx:
        entry = domain.Metadata(req.key, req.value)
        return DetailsResponse(details=details.of(await ops.set_metadata(tx, call.org_id, req.id, [entry])))


@api.get("/users/{id}/metadata/{key}", "GetUserMetadata", permission="user.read")
async def get_one(call: Call, req: UserKeyRequest) -> GetUserMetadataResponse:
    """One key of a user's metadata."""
    async with call.store.read() as conn:
        return GetUserMetadataResponse(metadata=metadata_of(await ops.get_metadata(conn, call.org_id, req.id,
                                                                                   req.key)))


@api.delete("/users/{id}/metadata/{key}", "RemoveUserMetadata", permission="user.write")
async def remove_one(call: Call, req: UserKeyRequest) -> DetailsResponse:
    """Remove one key."""
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await ops.remove_one(tx, call.org_id, req.id, req.key)))

