"""What custom login UIs (the v2 session and OIDC services) need.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

auth_requests gain the login client (the user id of the service user that a `V2_` request is
bound to, from `x-zitadel-login-client`); sessions gain their creator (who may read and change
them without a permission) and the user agent the session API was told about.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("auth_requests") as batch:
        batch.add_column(sa.Column("login_client", sa.String(length=20), nullable=True))
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("creator_id", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("user_agent", _JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("user_agent")
        batch.drop_column("creator_id")
    with op.batch_alter_table("auth_requests") as batch:
        batch.drop_column("login_client")
