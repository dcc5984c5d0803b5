"""Conditions on JSON list columns (role keys) that both databases index or scan the same way."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


def contains(dialect: str, column: Any, value: str) -> Any:
    """`value` is one element of the JSON array in `column` (ZITADEL's list-contains query)."""
    if dialect == "postgresql":
        return sa.cast(column, postgresql.JSONB).contains(sa.cast(sa.literal([value], postgresql.JSONB),
                                                                  postgresql.JSONB))
    each = sa.func.json_each(column).table_valued("value")
    return sa.exists(sa.select(sa.literal(1)).select_from(each).where(each.c.value == value))
