"""Objects as seen from a context organization: an organization never sees another's resources."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.domain.users import User
from bergfried.errors import NotFound
from bergfried.store import users


async def user_for_command(conn: AsyncConnection, user_id: str, org_id: str) -> User:
    """A user of `org_id` to change. Unknown, removed or in another organization → FAILED_PRECONDITION
    `Errors.User.NotFound` (400), as ZITADEL's `checkUserExists` answers commands."""
    user = await users.find(conn, user_id)
    if user is None or user.org_id != org_id:
        raise users.not_found()
    return user


async def user_for_query(conn: AsyncConnection, user_id: str, org_id: str) -> User:
    """A user of `org_id` to read; otherwise NOT_FOUND `User could not be found (QUERY-Dfbg2)`."""
    user = await users.find(conn, user_id)
    if user is None or user.org_id != org_id:
        raise NotFound("Errors.User.NotFound", "User could not be found", error_id="QUERY-Dfbg2")
    return user
