"""Steps every grant shares: the subject must still be active, the token family is new or
carried on."""

from __future__ import annotations

from bergfried.claims import subject as subject_loader
from bergfried.claims.subject import Subject
from bergfried.errors import InvalidGrant
from bergfried.services import Services
from bergfried.store.tx import Tx


async def active_subject(services: Services, tx: Tx, user_id: str) -> Subject:
    subject = await subject_loader.load(
        tx.conn, user_id, must_be_domain=services.policies.domain.user_login_must_be_domain)
    if subject is None or not subject.active:
        raise InvalidGrant("The user of this grant is not active", detail=f"user {user_id}")
    return subject
