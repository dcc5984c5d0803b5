"""What the login hands back to the authorize callback, and token families.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

auth_requests gain the result of the login (user, auth time, methods, or an error);
authorization codes and access tokens carry the token family their redemption created, so a
replayed code can revoke everything the first redemption issued (RFC 6749 §4.1.2).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bergfried.store.tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("auth_requests") as batch:
        batch.add_column(sa.Column("user_id", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("auth_time", bergfried.store.tables.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("amr", _JSON, nullable=True))
        batch.add_column(sa.Column("error", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("error_description", sa.String(length=500), nullable=True))
    with op.batch_alter_table("authorization_codes") as batch:
        batch.add_column(sa.Column("family_id", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("response_type", sa.String(length=32), nullable=False, server_default="code"))
    with op.batch_alter_table("access_tokens") as batch:
        batch.add_column(sa.Column("family_id", sa.String(length=20), nullable=True))
        batch.create_index("ix_access_tokens_family_id", ["family_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("access_tokens") as batch:
        batch.drop_index("ix_access_tokens_family_id")
        batch.drop_column("family_id")
    with op.batch_alter_table("authorization_codes") as batch:
        batch.drop_column("response_type")
        batch.drop_column("family_id")
    with op.batch_alter_table("auth_requests") as batch:
        for column in ("error_description", "error", "amr", "auth_time", "user_id"):
            batch.drop_column(column)
