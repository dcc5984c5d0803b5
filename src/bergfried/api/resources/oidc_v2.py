"""OIDC service v2 (`/v2/oidc/auth_requests/{authRequestId}`, spec/api-v2.md §4): a custom login
UI reads a `V2_` auth request and answers it with a session or an error
(management/auth_requests.py). The caller is the request's login client (`x-zitadel-login-client`
at authorize) or holds `session.read` (get) / `session.link` (callback), as IAM_LOGIN_CLIENT does.
Device authorization requests are not served.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.api import details, v2
from bergfried.api.lists import ObjectDetailsModel
from bergfried.api.messages import Empty
from bergfried.api.protojson import ApiModel, Duration, Timestamp
from bergfried.api.registry import Call, Resource
from bergfried.api.requests import invalid
from bergfried.domain.auth_requests import AuthRequest
from bergfried.management import auth_requests as ops
from bergfried.management.auth_requests import Permit

api = Resource("OIDCService", "", connect="zitadel.oidc.v2.OIDCService")


class AuthRequestModel(ApiModel):
    id: str = ""
    creation_date: Timestamp | None = None
    client_id: str = ""
    scope: tuple[str, ...] = ()
    redirect_uri: str = ""
    prompt: tuple[str, ...] = ()
    ui_locales: tuple[str, ...] = ()
    login_hint: str = ""
    max_age: Duration | None = None
    hint_user_id: str = ""


class GetAuthRequestRequest(Empty):
    auth_request_id: str


class GetAuthRequestResponse(ApiModel):
    auth_request: AuthRequestModel | None = None


class SessionRefModel(ApiModel):
    session_id: Annotated[str, Field(min_length=1, max_length=200)]
    session_token: Annotated[str, Field(min_length=1, max_length=200)]


class AuthorizationError(ApiModel):
    error: str = "ERROR_REASON_UNSPECIFIED"
    error_description: Annotated[str, Field(max_length=500)] = ""
    error_uri: Annotated[str, Field(max_length=2048)] = ""


class CreateCallbackRequest(ApiModel):
    auth_request_id: str
    session: SessionRefModel | None = None
    error: AuthorizationError | None = None


class CreateCallbackResponse(ApiModel):
    details: ObjectDetailsModel | None = None
    callback_url: str = ""


def _permit(call: Call, permission: str) -> Permit:
    async def permit(conn: AsyncConnection, request: AuthRequest) -> None:
        if request.login_client is None or request.login_client != call.caller.user_id:
            await v2.require(conn, call.caller, permission, call.caller.org_id)
    return permit


def _model(request: AuthRequest) -> AuthRequestModel:
    return AuthRequestModel(
        id=request.id, creation_date=request.created_at, client_id=request.client_id, scope=request.scopes,
        redirect_uri=request.redirect_uri, prompt=tuple(f"PROMPT_{p.upper()}" for p in request.prompt),
        ui_locales=request.ui_locales, login_hint=request.login_hint or "",
        max_age=timedelta(seconds=request.max_age) if request.max_age is not None else None,
        hint_user_id=request.hint_user_id or "",
    )


@api.get("/v2/oidc/auth_requests/{authRequestId}", "GetAuthRequest", permission="authenticated")
async def get_auth_request(call: Call, req: GetAuthRequestRequest) -> GetAuthRequestResponse:
    """What the application asked for: client, scopes, prompt, login hint, max age, locales."""
    request = await ops.get(call.services, req.auth_request_id, _permit(call, "session.read"))
    return GetAuthRequestResponse(auth_request=_model(request))


@api.post("/v2/oidc/auth_requests/{authRequestId}", "CreateCallback", permission="authenticated")
async def create_callback(call: Call, req: CreateCallbackRequest) -> CreateCallbackResponse:
    """Finish the request with a session (code or tokens) or an error; answers the URL to send the browser to."""
    answer: ops.SessionRef | ops.Refusal
    if req.session is not None and req.error is None:
        answer = ops.SessionRef(req.session.session_id, req.session.session_token)
    elif req.error is not None and req.session is None:
        answer = ops.Refusal(req.error.error, req.error.error_description)
    else:
        raise invalid("invalid CreateCallbackRequest.CallbackKind: value is required")
    url, d = await ops.create_callback(call.services, call.editor, call.caller.instance_id, req.auth_request_id,
                                       _permit(call, "session.link"), answer)
    return CreateCallbackResponse(details=details.of(d), callback_url=url)
