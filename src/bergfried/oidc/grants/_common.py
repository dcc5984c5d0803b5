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
    subject, _ = await active_subject_for(services, tx, user_id, None)
    return subject


async def active_subject_for(services: Services, tx: Tx, user_id: str,
                             app: Application | None) -> tuple[Subject, ClientSettings | None]:
    """The active subject and, for an application, its claim settings: one statement
    (claims/subject.py), so the token's issuance reads nothing more about either."""
    subject, client = await subject_loader.load_for_client(
        tx.conn, user_id, app.client_id if app is not None else None,
        must_be_domain=services.policies.domain.user_login_must_be_domain)
    return await checked(tx, user_id, subject, app, client)


async def checked(tx: Tx, user_id: str, subject: Subject | None, app: Application | None,
                  client: ClientSettings | None) -> tuple[Subject, ClientSettings | None]:
    """The subject loaded with a grant's row, which must be active; and the client's settings."""
    if subject is None or not subject.active:
        raise InvalidGrant("The user of this grant is not active", detail=f"user {user_id}")
    if app is not None and client is None:  # not found by its client id: read as before
        client = await client_settings(tx.conn, app)
    return subject, client
