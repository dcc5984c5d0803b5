"""The v2 OIDC service's rules for `V2_` auth requests (spec/api-v2.md §4; ZITADEL
`internal/command/auth_request.go` `LinkSessionToAuthRequest`, `internal/query/auth_request.go`).

- Only `V2_` requests exist here; an unknown, expired or hosted-login request is NOT_FOUND
  `Errors.AuthRequest.NotExisting`.
- The caller is the login client the request is bound to, or holds `session.read` (get) /
  `session.link` (callback).
- A request is answered once: the callback's conditional UPDATE consumes it; a second call is
  FAILED_PRECONDITION `Errors.AuthRequest.AlreadyHandled`.
- The session must be live, have a user that may still log in, and the token must be its latest
  (constant-time compare of keyed hashes); the project's login gates then apply
  (PERMISSION_DENIED `Errors.User.ProjectRequired` / `GrantRequired`, organization scopes
  `Errors.User.NotAllowedOrg`).

The callback URL is the client's redirect URI with the code (or the implicit tokens, or the
error) — the same answer the hosted login's browser-bound callback gives, minted here, in the
transaction that consumes the request. There is no browser binding to check: the code is the
one-time value, bound to the client, redirect URI and PKCE challenge, and only the login UI that
holds the session token could ask for it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.domain.auth_requests import AuthRequest
from bergfried.domain.common import ObjectDetails
from bergfried.domain.users import UserState
from bergfried.errors import InvalidArgument, NotFound, PermissionDenied, PreconditionFailed
from bergfried.management.sessions import token_matches
from bergfried.oidc import callback, login_gates
from bergfried.oidc.login_v2 import ERROR_REASONS
from bergfried.services import Services
from bergfried.store import api_sessions, auth_requests
from bergfried.store import users as user_store
from bergfried.store.api_sessions import ApiSession
from bergfried.store.tx import Tx

AGGREGATE = "auth_request"
_GATE_IDS = {login_gates.NOT_ALLOWED_ORG: "OIDC-Sfwjd", login_gates.PROJECT_REQUIRED: "APP-m92d",
             login_gates.GRANT_REQUIRED: "APP-asb43"}
# The API layer's check that the caller may act on this request (login client or permission).
Permit = Callable[[AsyncConnection, AuthRequest], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SessionRef:
    session_id: str
    session_token: str


@dataclass(frozen=True, slots=True)
class Refusal:
    """The login UI's reason to end the request without a user (`error{error,errorDescription}`)."""

    reason: str
    description: str = ""


def not_existing() -> NotFound:
    return NotFound("Errors.AuthRequest.NotExisting", "AuthRequest does not exist", error_id="QUERY-Sfwjr")


def already_handled() -> PreconditionFailed:
    return PreconditionFailed("Errors.AuthRequest.AlreadyHandled", "Auth Request has already been handled",
                              error_id="COMMAND-Sx208nt")


def invalid_token() -> PermissionDenied:
    return PermissionDenied("Errors.Session.Token.Invalid", "The session token is invalid", error_id="COMMAND-sGr42")


async def get(services: Services, request_id: str, permit: Permit) -> AuthRequest:
    async with services.store.read() as conn:
        request = await auth_requests.get(conn, request_id)
        if request is None or not request.is_v2 or request.expires_at <= services.store.clock():
            raise not_existing()
        await permit(conn, request)
    return request


async def _open(tx: Tx, request_id: str, permit: Permit) -> AuthRequest:
    request = await auth_requests.get(tx.conn, request_id)
    if request is None or not request.is_v2 or request.expires_at <= tx.now:
        raise not_existing()
    await permit(tx.conn, request)
    if request.consumed_at is not None or request.done:
        raise already_handled()
    return request


def authentication_time(session: ApiSession) -> datetime:
    """The latest factor check (ZITADEL's `SessionWriteModel.AuthenticationTime`)."""
    times = [session.created_at]
    if session.password_checked_at is not None:
        times.append(session.password_checked_at)
    user_checked = session.factors.get("user", {}).get("verifiedAt")
    if isinstance(user_checked, str):
        times.append(datetime.fromisoformat(user_checked))
    return max(times)


async def _link(tx: Tx, services: Services, request: AuthRequest, ref: SessionRef) -> AuthRequest:
    session = await api_sessions.get(tx.conn, ref.session_id)
    if session is None or not token_matches(services, session, ref.session_token):
        raise invalid_token()
    user = await user_store.find(tx.conn, session.user_id) if session.user_id else None
    if user is None:
        raise PreconditionFailed("Errors.Session.User.Missing", "The session has no user", error_id="COMMAND-aDGr4")
    if user.state != UserState.ACTIVE and user.state != UserState.INITIAL:
        raise PreconditionFailed("Errors.User.NotActive", "User is not active", error_id="SESSION-Gj4ko")
    amr = ["pwd"] if session.password_checked_at is not None else []
    auth_time = authentication_time(session)
    if not await auth_requests.link_session(tx, request.id, session_id=session.id, user_id=user.id,
                                            auth_time=auth_time, amr=amr):
        raise already_handled()
    linked = await auth_requests.get(tx.conn, request.id)
    assert linked is not None
    refusal = await callback.gate(tx, linked)
    if refusal is not None:
        raise PermissionDenied(refusal.key, refusal.message, error_id=_GATE_IDS[refusal.key], detail=refusal.reason)
    return linked


async def _fail(tx: Tx, request: AuthRequest, refusal: Refusal) -> AuthRequest:
    code = ERROR_REASONS.get(refusal.reason)
    if code is None:
        raise InvalidArgument("Errors.InvalidArgument", f"invalid AuthorizationError.Error: {refusal.reason!r}",
                              error_id="VALID-req", plain=True)
    if not await auth_requests.fail(tx, request.id, error=code, description=refusal.description or code):
        raise already_handled()
    failed = await auth_requests.get(tx.conn, request.id)
    assert failed is not None
    return failed


async def create_callback(services: Services, editor: str, owner: str, request_id: str, permit: Permit,
                          answer: SessionRef | Refusal) -> tuple[str, ObjectDetails]:
    """Link the session (or record the error), consume the request and answer its callback URL."""
    async with services.store.write(editor) as tx:
        request = await _open(tx, request_id, permit)
        if isinstance(answer, SessionRef):
            request = await _link(tx, services, request, answer)
            event = "auth_request.session.linked"
        else:
            request = await _fail(tx, request, answer)
            event = "auth_request.failed"
        if not await auth_requests.consume(tx, request.id):
            raise already_handled()
        reply = await callback.respond(services, tx, request)
        sequence = await tx.event(AGGREGATE, request.id, event, {"clientId": request.client_id},
                                  resource_owner=owner)
        details = ObjectDetails(sequence=sequence, creation_date=None, change_date=tx.now, resource_owner=owner)
    return callback.url_of(reply, request.response_type), details
