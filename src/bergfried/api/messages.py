"""Messages many resources share (`object.proto`, `metadata.proto`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from bergfried.api.lists import ListDetails, ListQuery, Method, ObjectDetailsModel, TextQueryMethod
from bergfried.api.protojson import ApiModel, B64Bytes

MetadataKey = Annotated[str, Field(min_length=1, max_length=200)]
MetadataValue = Annotated[B64Bytes, Field(min_length=1, max_length=500_000)]


class Empty(ApiModel):
    """A request without fields (besides those in the path, in subclasses)."""


class DetailsResponse(ApiModel):
    details: ObjectDetailsModel | None = None


class Metadata(ApiModel):
    details: ObjectDetailsModel | None = None
    key: str = ""
    value: B64Bytes = b""


class MetadataKeyQuery(ApiModel):
    key: str = Field(default="", max_length=200)
    method: Method = TextQueryMethod.EQUALS


class MetadataQuery(ApiModel):
    key_query: MetadataKeyQuery | None = None


class MetadataEntry(ApiModel):
    key: MetadataKey
    value: MetadataValue


class ListMetadataResponse(ApiModel):
    details: ListDetails | None = None
    result: tuple[Metadata, ...] = ()


class ListRequest(ApiModel):
    query: ListQuery | None = None


class MetadataListRequest(ListRequest):
    queries: tuple[MetadataQuery, ...] = ()
