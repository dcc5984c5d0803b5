"""Application keys (`/management/v1/projects/{projectId}/apps/{appId}/keys/...`, spec/management-api.md
§7): for apps that authenticate with private_key_jwt; `keyDetails` is the key file, base64, once."""

from __future__ import annotations

import enum
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import AfterValidator

from bergfried.api import details, lists
from bergfried.api.lists import ListDetails, ObjectDetailsModel
from bergfried.api.messages import DetailsResponse, Empty, ListRequest
from bergfried.api.protojson import ApiModel, B64Bytes, Timestamp, enum_in
from bergfried.api.registry import Call, Resource
from bergfried.management import apps as ops
from bergfried.store import app_keys

api = Resource("Applications", "/management/v1")


class KeyType(enum.StrEnum):
    UNSPECIFIED = "KEY_TYPE_UNSPECIFIED"
    JSON = "KEY_TYPE_JSON"


def _defined(value: KeyType) -> KeyType:
    """protoc-gen-validate `not_in: [0]`: the type must be given."""
    if value == KeyType.UNSPECIFIED:
        raise ValueError("value must not be in list [KEY_TYPE_UNSPECIFIED]")
    return value


class AddAppKeyRequest(ApiModel):
    project_id: str
    app_id: str
    type: Annotated[KeyType, enum_in(KeyType), AfterValidator(_defined)]
    expiration_date: Timestamp | None = None


class AddAppKeyResponse(ApiModel):
    id: str = ""
    details: ObjectDetailsModel | None = None
    key_details: B64Bytes = b""


class KeyModel(ApiModel):
    id: str = ""
    details: ObjectDetailsModel | None = None
    type: KeyType = KeyType.UNSPECIFIED
    expiration_date: Timestamp | None = None


class AppKeyRequest(Empty):
    project_id: str
    app_id: str
    key_id: str


class ListAppKeysRequest(ListRequest):
    project_id: str
    app_id: str


class ListAppKeysResponse(ApiModel):
    details: ListDetails | None = None
    result: tuple[KeyModel, ...] = ()


class GetAppKeyResponse(ApiModel):
    key: KeyModel | None = None


def key_model(row: Any, org_id: str) -> KeyModel:
    return KeyModel(id=row.id, details=details.of_row(row.sequence, row.created_at, row.changed_at, org_id),
                    type=KeyType(row.type), expiration_date=row.expires_at)


@api.post("/projects/{projectId}/apps/{appId}/keys", "AddAppKey", permission="project.app.write",
          check_field="project_id")
async def add_key(call: Call, req: AddAppKeyRequest) -> AddAppKeyResponse:
    """Generate a key pair; the private key leaves only in `keyDetails`."""
    async with call.store.write(call.editor) as tx:
        key_id, key_file, d = await ops.add_app_key(tx, call.org_id, req.project_id, req.app_id,
                                                    req.expiration_date)
    return AddAppKeyResponse(id=key_id, details=details.of(d), key_details=key_file)


@api.post("/projects/{projectId}/apps/{appId}/keys/_search", "ListAppKeys", permission="project.app.read",
          check_field="project_id")
async def list_keys(call: Call, req: ListAppKeysRequest) -> ListAppKeysResponse:
    """An app's keys (public halves only), paged."""
    query = sa.select(app_keys.AK).where(app_keys.AK.c.app_id == req.app_id)
    async with call.store.read() as conn:
        app = await ops.app_of(conn, call.org_id, req.project_id, req.app_id)
        page = await lists.page(conn, query, req.query, call.store.clock(), default_order=app_keys.AK.c.id)
    return ListAppKeysResponse(details=page.details(), result=tuple(key_model(r, app.org_id) for r in page.rows))


@api.get("/projects/{projectId}/apps/{appId}/keys/{keyId}", "GetAppKey", permission="project.app.read",
         check_field="project_id")
async def get_key(call: Call, req: AppKeyRequest) -> GetAppKeyResponse:
    """One key of an app."""
    async with call.store.read() as conn:
        app = await ops.app_of(conn, call.org_id, req.project_id, req.app_id)
        row = await app_keys.get_row(conn, app.id, req.key_id)
    if row is None:
        raise ops.key_not_found()
    return GetAppKeyResponse(key=key_model(row, app.org_id))


@api.delete("/projects/{projectId}/apps/{appId}/keys/{keyId}", "RemoveAppKey", permission="project.app.write",
            check_field="project_id")
async def remove_key(call: Call, req: AppKeyRequest) -> DetailsResponse:
    """Remove a key: assertions signed with it fail from now on."""
    async with call.store.write(call.editor) as tx:
        d = await ops.remove_app_key(tx, call.org_id, req.project_id, req.app_id, req.key_id)
    return DetailsResponse(details=details.of(d))
