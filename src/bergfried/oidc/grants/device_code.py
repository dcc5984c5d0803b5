"""`grant_type=urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4–3.5;
spec/other-grants.md §5).

Answers, in this order: missing `device_code` → `invalid_request`; unknown, issued to another
client or already used → `invalid_grant`; past its lifetime → `expired_token`; polled again before
the interval has passed (or while another poll runs) → `slow_down`, and the interval grows by 5 s
(§3.5); denied → `access_denied`; not decided yet → `authorization_pending`; approved → the
tokens, once: a conditional UPDATE picks the one winner of concurrent polls. Like a code, the
tokens need the approving login session still alive (`invalid_grant` otherwise); they name that
session, so its end reaches them (revocation, back-channel logout).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from bergfried.domain.apps import Application
from bergfried.errors import AccessDenied, AuthorizationPending, ExpiredToken, InvalidGrant, InvalidRequest, SlowDown
from bergfried.oidc.grants._common import active_subject
from bergfried.oidc.grants.authorization_code import session_ended
from bergfried.services import Services
from bergfried.store import device_authorizations as store
from bergfried.store import tokens as token_store
from bergfried.tokens.issue import Issued, TokenRequest, audience, issue

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
SLOW_DOWN_STEP = 5  # seconds, RFC 8628 §3.5


async def exchange(services: Services, app: Application, form: Mapping[str, str]) -> Issued:
    device_code = form.get("device_code")
    if not device_code:
        raise InvalidRequest("device_code missing")
    code_hash = services.hasher.hash(device_code)
    async with services.store.write() as tx:
        record = await store.by_device_code(tx.conn, code_hash)
        if record is None or record.client_id != app.client_id:
            raise InvalidGrant("The device code is invalid or was issued to another client")
        if record.consumed_at is not None:
            raise InvalidGrant("The device code has already been used")
        if record.expires_at <= tx.now:
            raise ExpiredToken("The device code has expired")
        too_soon = (record.last_polled_at is not None
                    and tx.now - record.last_polled_at < timedelta(seconds=record.poll_interval))
        if too_soon or not await store.record_poll(tx, record):
            await store.slow_down(tx, code_hash, SLOW_DOWN_STEP)
            slow = True
        else:
            slow = False
            if record.state == store.APPROVED:
                if not await store.consume(tx, code_hash):
                    raise InvalidGrant("The device code has already been used")
                assert record.user_id is not None
                if record.session_id and await session_ended(tx, record.session_id):
                    raise InvalidGrant("The login session that approved this device code has ended")
                subject = await active_subject(services, tx, record.user_id)
                grant = token_store.Grant(
                    client_id=app.client_id, user_id=record.user_id, scopes=record.scopes,
                    audience=await audience(tx, app, record.scopes), session_id=record.session_id,
                    auth_time=record.auth_time, amr=record.amr,
                )
                return await issue(services, tx, TokenRequest(app=app, subject=subject, grant=grant,
                                                              family_id=tx.new_id()))
    if slow:
        raise SlowDown(f"Polling too fast: wait at least {record.poll_interval + SLOW_DOWN_STEP} seconds")
    if record.state == store.DENIED:
        raise AccessDenied("The user denied the device authorization")
    raise AuthorizationPending("The user has not yet approved the device authorization")
