"""The subject of a token as the claims see it: the user, its organization and its metadata,
loaded with a bounded number of indexed queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.domain.ids import OrgId
from bergfried.domain.orgs import Org, OrgState
from bergfried.domain.users import User, UserState, preferred_login_name
from bergfried.store import metadata as metadata_store
from bergfried.store import tables as t
from bergfried.store import users as user_store


@dataclass(frozen=True, slots=True)
class Subject:
    user: User
    org: Org
    preferred_username: str
    metadata: dict[str, bytes]
    updated_at: datetime

    @property
    def active(self) -> bool:
        return self.user.state == UserState.ACTIVE


async def load(conn: AsyncConnection, user_id: str, *, must_be_domain: bool,
               with_metadata: bool = True) -> Subject | None:
    """Two indexed queries on the hot paths (userinfo, introspection, token): the user joined to
    its organization, then the metadata."""
    o = t.orgs
    row = (await conn.execute(
        sa.select(t.users, o.c.name.label("org_name"), o.c.state.label("org_state"),
                  o.c.primary_domain.label("org_primary_domain"))
        .join(o, o.c.id == t.users.c.org_id)
        .where(t.users.c.id == user_id, t.users.c.state != UserState.DELETED)
    )).first()
    if row is None:
        return None
    user = user_store.from_row(row)
    org = Org(id=OrgId(row.org_id), name=row.org_name, state=OrgState(row.org_state),
              primary_domain=row.org_primary_domain)
    metadata = await metadata_store.get_all(conn, user_id) if with_metadata else {}
    return Subject(user=user, org=org, metadata=metadata, updated_at=row.changed_at,
                   preferred_username=preferred_login_name(user.username, org.primary_domain,
                                                           must_be_domain=must_be_domain))
