"""ZITADEL's list shape (spec/management-api.md §3): `query{offset,limit,asc}` and `queries[]` in,
`details{totalResult,processedSequence,viewTimestamp}` and `result[]` out.

`page()` runs one filtered, sorted SELECT with its count; resources describe their queries as
SQL conditions built by `text_condition()`.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.api.protojson import ApiModel, Int64, Timestamp, UInt32, enum_in
from bergfried.store.events import latest_sequence

# ZITADEL's v1 default when `limit` is 0 or absent on auth/admin (`cmd/defaults.yaml` SearchLimit);
# management v1 has none, but an unbounded page is a foot-gun, so we cap it there too.
MAX_LIMIT = 1000


class TextQueryMethod(enum.StrEnum):
    EQUALS = "TEXT_QUERY_METHOD_EQUALS"
    EQUALS_IGNORE_CASE = "TEXT_QUERY_METHOD_EQUALS_IGNORE_CASE"
    STARTS_WITH = "TEXT_QUERY_METHOD_STARTS_WITH"
    STARTS_WITH_IGNORE_CASE = "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE"
    CONTAINS = "TEXT_QUERY_METHOD_CONTAINS"
    CONTAINS_IGNORE_CASE = "TEXT_QUERY_METHOD_CONTAINS_IGNORE_CASE"
    ENDS_WITH = "TEXT_QUERY_METHOD_ENDS_WITH"
    ENDS_WITH_IGNORE_CASE = "TEXT_QUERY_METHOD_ENDS_WITH_IGNORE_CASE"


Method = Annotated[TextQueryMethod, enum_in(TextQueryMethod)]


class ListQuery(ApiModel):
    offset: Annotated[Int64, Field(ge=0, le=2**62)] = 0
    limit: Annotated[UInt32, Field(le=2**32 - 1)] = 0
    asc: bool = False


class ListDetails(ApiModel):
    total_result: Int64 = 0
    processed_sequence: Int64 = 0
    view_timestamp: Timestamp | None = None


class ObjectDetailsModel(ApiModel):
    """`details` of an object or of a change (`object.proto` ObjectDetails)."""

    sequence: Int64 = 0
    creation_date: Timestamp | None = None
    change_date: Timestamp | None = None
    resource_owner: str = ""


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def text_condition(column: Any, text: str, method: TextQueryMethod) -> Any:
    """One text query as SQL, with LIKE wildcards in `text` taken literally."""
    ignore_case = method.name.endswith("IGNORE_CASE")
    col = sa.func.lower(column) if ignore_case else column
    value = text.lower() if ignore_case else text
    base = method.name.removesuffix("_IGNORE_CASE")
    if base == "EQUALS":
        return col == value
    pattern = {"STARTS_WITH": "{}%", "CONTAINS": "%{}%", "ENDS_WITH": "%{}"}[base].format(_like_escape(value))
    return col.like(pattern, escape="\\")


@dataclass(frozen=True, slots=True)
class Page:
    rows: Sequence[Any]
    total: int
    sequence: int
    now: datetime

    def details(self) -> ListDetails:
        return ListDetails(total_result=self.total, processed_sequence=self.sequence, view_timestamp=self.now)


async def page(conn: AsyncConnection, query: sa.Select[Any], list_query: ListQuery | None, now: datetime, *,
               default_order: Any, sort_column: Any | None = None) -> Page:
    """A page of `query`. With a sorting column the order follows `asc` (false = descending, as
    ZITADEL's `SearchRequest.toQuery`); without one, ZITADEL adds no ORDER BY and rows come in
    creation order, which `default_order` (ascending, the time-ordered id) makes stable."""
    lq = list_query or ListQuery()
    total = int((await conn.execute(sa.select(sa.func.count()).select_from(query.subquery()))).scalar_one())
    if sort_column is not None:
        ordered = query.order_by(sort_column.asc() if lq.asc else sort_column.desc(), default_order)
    else:
        ordered = query.order_by(default_order)
    limit = lq.limit if 0 < lq.limit <= MAX_LIMIT else MAX_LIMIT
    rows = (await conn.execute(ordered.limit(limit).offset(lq.offset))).all()
    return Page(rows=rows, total=total, sequence=await latest_sequence(conn), now=now)
