"""The subject of a token as the claims see it: the user, its organization and its metadata,
loaded with a bounded number of indexed queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.domain.orgs import Org
from bergfried.domain.users import User, UserState, preferred_login_name
from bergfried.store import metadata as metadata_store
from bergfried.store import orgs as org_store
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
    user = await user_store.find(conn, user_id)
    if user is None:
        return None
    org = await org_store.get(conn, user.org_id)
    changed = (await conn.execute(sa.select(t.users.c.changed_at).where(t.users.c.id == user_id))).scalar_one()
    metadata = await metadata_store.get_all(conn, user_id) if with_metadata else {}
    return Subject(user=user, org=org, metadata=metadata, updated_at=changed,
                   preferred_username=preferred_login_name(user.username, org.primary_domain,
                                                           must_be_domain=must_be_domain))
