"""Steps every grant shares: the subject must still be active, the token family is new or
carried on."""

from __future__ import annotations

from bergfried.claims import subject as subject_loader
from bergfried.claims.context import ClientSettings, client_settings
from bergfried.claims.subject import Subject
from bergfried.domain.apps import Application
from bergfried.errors import InvalidGrant
from bergfried.services import Services
from bergfried.store.tx import Tx


async def active_subject(services: Services, tx: Tx, user_id: str) -> Subject:
    """The active subject of a grant whose row does not bring it (the machine grants, the device
    code, the authorize callback's tokens): one statement (claims/subject.py). The code and
    refresh grants load theirs with the code or the token."""
    subject = await subject_loader.load(tx.conn, user_id,
                                        must_be_domain=services.policies.domain.user_login_must_be_domain)
    return (await checked(tx, user_id, subject, None, None))[0]


async def checked(tx: Tx, user_id: str, subject: Subject | None, app: Application | None,
                  client: ClientSettings | None) -> tuple[Subject, ClientSettings | None]:
    """The subject loaded with a grant's row, which must be active; and the client's settings."""
    if subject is None or not subject.active:
        raise InvalidGrant("The user of this grant is not active", detail=f"user {user_id}")
    if app is not None and client is None:  # not found by its client id: read as before
        client = await client_settings(tx.conn, app)
    return subject, client
