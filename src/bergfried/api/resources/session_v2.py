"""Session service v2 (`/v2/sessions`, spec/api-v2.md §3): CreateSession (201), SetSession,
GetSession, DeleteSession, with the user and password checks (management/sessions.py).

Who may do what (ZITADEL `internal/command/session.go`, `internal/query/session.go`):
- create: `session.write` (an instance role: IAM_LOGIN_CLIENT, IAM_OWNER);
- set: the session's creator, or `session.write`;
- get / delete: with a `sessionToken` that token must be the session's latest one; without it the
  creator, the session's user, or `session.read` / `session.delete`.
A session belongs to the instance: `details.resourceOwner` is the instance id.
Only the user and password checks are served; other checks (WebAuthN, TOTP, OTP, IdP intents)
and challenges are accepted and ignored, so they never count as a factor.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from bergfried.api import details, protojson, v2
from bergfried.api.lists import ObjectDetailsModel
from bergfried.api.messages import Empty
from bergfried.api.protojson import ApiModel, B64Bytes, Int64, Timestamp
from bergfried.api.registry import Call, Resource
from bergfried.api.requests import invalid
from bergfried.domain.common import ObjectDetails
from bergfried.domain.users import HumanUser, preferred_login_name
from bergfried.errors import PermissionDenied
from bergfried.management import sessions as ops
from bergfried.oidc import backchannel
from bergfried.store import api_sessions, orgs
from bergfried.store import users as user_store
from bergfried.store.api_sessions import ApiSession

api = Resource("SessionService", "", connect="zitadel.session.v2.SessionService")


class CheckUser(ApiModel):
    user_id: Annotated[str, Field(max_length=200)] = ""
    login_name: Annotated[str, Field(max_length=200)] = ""


class CheckPassword(ApiModel):
    password: Annotated[str, Field(min_length=1, max_length=200)]


class ChecksModel(ApiModel):
    user: CheckUser | None = None
    password: CheckPassword | None = None


class HeaderValues(ApiModel):
    values: tuple[str, ...] = ()


class UserAgentModel(ApiModel):
    fingerprint_id: Annotated[str, Field(max_length=200)] = ""
    ip: Annotated[str, Field(max_length=64)] = ""
    description: Annotated[str, Field(max_length=500)] = ""
    header: dict[str, HeaderValues] = Field(default_factory=dict)


class CreateSessionRequest(ApiModel):
    checks: ChecksModel | None = None
    metadata: dict[str, B64Bytes] = Field(default_factory=dict)
    user_agent: UserAgentModel | None = None
    lifetime: v2.DurationIn | None = None


class CreateSessionResponse(ApiModel):
    details: ObjectDetailsModel | None = None
    session_id: str = ""
    session_token: str = ""


class SetSessionRequest(ApiModel):
    session_id: str
    session_token: str = ""  # deprecated in ZITADEL and ignored
    checks: ChecksModel | None = None
    metadata: dict[str, B64Bytes] = Field(default_factory=dict)
    lifetime: v2.DurationIn | None = None


class SetSessionResponse(ApiModel):
    details: ObjectDetailsModel | None = None
    session_token: str = ""


class SessionRequest(Empty):
    session_id: str
    session_token: str = ""


class UserFactor(ApiModel):
    verified_at: Timestamp | None = None
    id: str = ""
    login_name: str = ""
    display_name: str = ""
    organization_id: str = ""


class VerifiedFactor(ApiModel):
    verified_at: Timestamp | None = None


class Factors(ApiModel):
    user: UserFactor | None = None
    password: VerifiedFactor | None = None


class SessionModel(ApiModel):
    id: str = ""
    creation_date: Timestamp | None = None
    change_date: Timestamp | None = None
    sequence: Int64 = 0
    factors: Factors | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    user_agent: dict[str, Any] = Field(default_factory=dict)
    expiration_date: Timestamp | None = None


class GetSessionResponse(ApiModel):
    session: SessionModel | None = None


class DeleteSessionResponse(ApiModel):
    details: ObjectDetailsModel | None = None


def _checks(model: ChecksModel | None) -> ops.Checks:
    if model is None:
        return ops.Checks()
    user = model.user
    if user is not None and not (user.user_id or user.login_name):
        raise invalid("invalid CheckUser.Search: value is required")
    return ops.Checks(user_id=user.user_id if user else "", login_name=user.login_name if user else "",
                      password=model.password.password if model.password else None)


@api.post("/v2/sessions", "CreateSession", permission="authenticated", status=201)
async def create_session(call: Call, req: CreateSessionRequest) -> CreateSessionResponse:
    """Create a session, optionally checking a user and its password; answers the session token."""
    checks = _checks(req.checks)
    async with call.store.read() as conn:
        await v2.require(conn, call.caller, "session.write", call.caller.org_id)
    agent = protojson.encode(req.user_agent) if req.user_agent is not None else None
    outcome = await ops.create(call.services, creator_id=call.editor, owner=call.caller.instance_id, checks=checks,
                               metadata=dict(req.metadata), user_agent=agent, lifetime=req.lifetime)
    return CreateSessionResponse(details=details.of(outcome.details), session_id=outcome.session_id,
                                 session_token=outcome.token)


async def _session(call: Call, session_id: str) -> ApiSession:
    async with call.store.read() as conn:
        session = await api_sessions.get(conn, session_id)
    if session is None or session.terminated_at is not None:  # ended sessions leave ZITADEL's projection
        raise ops.session_not_found()
    return session


async def _authorize(call: Call, session: ApiSession, token: str, permission: str) -> None:
    if token:
        if not ops.token_matches(call.services, session, token):
            raise PermissionDenied("Errors.Session.Token.Invalid", "The session token is invalid",
                                   error_id="COMMAND-sGr42")
        return
    if call.caller.user_id in (session.creator_id, session.user_id):
        return
    async with call.store.read() as conn:
        await v2.require(conn, call.caller, permission, call.caller.org_id)


@api.patch("/v2/sessions/{sessionId}", "SetSession", permission="authenticated")
async def set_session(call: Call, req: SetSessionRequest) -> SetSessionResponse:
    """Add checks, metadata or a lifetime to a session; answers a new session token."""
    checks = _checks(req.checks)
    session = await _session(call, req.session_id)
    await _authorize(call, session, "", "session.write")
    if not session.live(call.store.clock()):
        raise ops.session_not_found()
    outcome = await ops.update(call.services, session, editor=call.editor, owner=call.caller.instance_id,
                               checks=checks, metadata=dict(req.metadata), lifetime=req.lifetime)
    return SetSessionResponse(details=details.of(outcome.details), session_token=outcome.token)


async def _factors(call: Call, session: ApiSession) -> Factors:
    """The checked factors. Sessions of the hosted login keep only their columns (user and password
    time), so those fill in what the JSON lacks."""
    user_factor = session.factors.get("user") or {}
    password_at = session.password_checked_at
    out = Factors(password=VerifiedFactor(verified_at=password_at) if password_at else None)
    user_id = user_factor.get("id") or session.user_id
    if not user_id:
        return out
    async with call.store.read() as conn:
        user = await user_store.find(conn, user_id)
        org = await orgs.get(conn, user.org_id) if user is not None else None
    if user is None or org is None:
        return out
    must = call.services.policies.domain.user_login_must_be_domain
    display = user.display_name if isinstance(user, HumanUser) else user.name
    verified = user_factor.get("verifiedAt")
    return out.model_copy(update={"user": UserFactor(
        verified_at=datetime.fromisoformat(verified) if verified else session.created_at, id=user.id,
        login_name=preferred_login_name(user.username, org.primary_domain, must_be_domain=must),
        display_name=display, organization_id=user.org_id)})


@api.get("/v2/sessions/{sessionId}", "GetSession", permission="authenticated")
async def get_session(call: Call, req: SessionRequest) -> GetSessionResponse:
    """A session with its factors, metadata and user agent."""
    session = await _session(call, req.session_id)
    await _authorize(call, session, req.session_token, "session.read")
    return GetSessionResponse(session=SessionModel(
        id=session.id, creation_date=session.created_at, change_date=session.changed_at, sequence=session.sequence,
        factors=await _factors(call, session), metadata=session.metadata, user_agent=session.user_agent or {},
        expiration_date=session.expires_at))


@api.delete("/v2/sessions/{sessionId}", "DeleteSession", permission="authenticated")
async def delete_session(call: Call, req: SessionRequest) -> DeleteSessionResponse:
    """End a session (terminated sessions stay ended; a second delete changes nothing)."""
    session = await _session(call, req.session_id)
    await _authorize(call, session, req.session_token, "session.delete")
    async with call.store.write(call.editor) as tx:
        await backchannel.end_session(call.services, tx, session.id)  # revokes its tokens, tells its apps
        ended = await api_sessions.get(tx.conn, session.id)
    assert ended is not None
    return DeleteSessionResponse(details=details.of(ObjectDetails(
        sequence=ended.sequence, creation_date=None, change_date=ended.changed_at,
        resource_owner=call.caller.instance_id)))
