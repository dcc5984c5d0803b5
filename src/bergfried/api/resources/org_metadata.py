"""Organization metadata (`/management/v1/metadata/...`, spec/management-api.md §4): the same
calls and limits as user metadata, on the context organization."""

from __future__ import annotations

from bergfried.api import details, lists
from bergfried.api.messages import (
    DetailsResponse,
    Empty,
    ListMetadataResponse,
    MetadataEntry,
    MetadataKey,
    MetadataListRequest,
    MetadataValue,
)
from bergfried.api.protojson import ApiModel
from bergfried.api.registry import Call, Resource
from bergfried.api.resources.user_metadata import GetUserMetadataResponse, filtered, metadata_of
from bergfried.domain import metadata as domain
from bergfried.errors import NotFound
from bergfried.store import metadata as store

api = Resource("Organization metadata", "/management/v1")


class OrgKeyRequest(Empty):
    key: MetadataKey


class SetOrgMetadataRequest(OrgKeyRequest):
    value: MetadataValue


class BulkSetOrgMetadataRequest(ApiModel):
    metadata: tuple[MetadataEntry, ...] = ()


class BulkRemoveOrgMetadataRequest(ApiModel):
    keys: tuple[MetadataKey, ...] = ()


class GetOrgMetadataResponse(GetUserMetadataResponse):
    pass


@api.post("/metadata/_bulk", "BulkSetOrgMetadata", permission="org.write")
async def bulk_set(call: Call, req: BulkSetOrgMetadataRequest) -> DetailsResponse:
    """Set several keys of the organization's metadata."""
    entries = [domain.Metadata(e.key, e.value) for e in req.metadata]
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await store.set_for(tx, store.of_org(call.org_id), entries)))


@api.delete("/metadata/_bulk", "BulkRemoveOrgMetadata", permission="org.write")
async def bulk_remove(call: Call, req: BulkRemoveOrgMetadataRequest) -> DetailsResponse:
    """Remove several keys; a missing key fails the whole call."""
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await store.remove_for(tx, store.of_org(call.org_id),
                                                                         list(req.keys))))


@api.post("/metadata/_search", "ListOrgMetadata", permission="org.read")
async def search(call: Call, req: MetadataListRequest) -> ListMetadataResponse:
    """The organization's metadata, filtered by `keyQuery`, paged."""
    async with call.store.read() as conn:
        page = await lists.page(conn, filtered(store.of_org(call.org_id), req.queries), req.query,
                                call.store.clock(), default_order=store.OM.c.key)
    return ListMetadataResponse(details=page.details(), result=tuple(metadata_of(r) for r in page.rows))


@api.post("/metadata/{key}", "SetOrgMetadata", permission="org.write")
async def set_one(call: Call, req: SetOrgMetadataRequest) -> DetailsResponse:
    """Set one key of the organization's metadata (`value` is base64)."""
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await store.set_for(tx, store.of_org(call.org_id),
                                                                      [domain.Metadata(req.key, req.value)])))


@api.get("/metadata/{key}", "GetOrgMetadata", permission="org.read")
async def get_one(call: Call, req: OrgKeyRequest) -> GetOrgMetadataResponse:
    """One key of the organization's metadata."""
    async with call.store.read() as conn:
        row = (await conn.execute(store.search_for(store.of_org(call.org_id))
                                  .where(store.OM.c.key == req.key))).first()
    if row is None:
        raise NotFound("Errors.Metadata.NotFound", "Metadata not found", error_id="QUERY-Rph32")
    return GetOrgMetadataResponse(metadata=metadata_of(row))


@api.delete("/metadata/{key}", "RemoveOrgMetadata", permission="org.write")
async def remove_one(call: Call, req: OrgKeyRequest) -> DetailsResponse:
    """Remove one key."""
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await store.remove_one_for(tx, store.of_org(call.org_id),
                                                                             req.key)))
