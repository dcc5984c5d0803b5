"""Why is my claim missing? `POST /management/v1/claims/_explain` (a Bergfried extension; ZITADEL has
no such call): what `bergfried claims explain` prints, over the API, for administrators.

For a user of the context organization and a client id, it answers every claim of every
destination (userinfo, introspection, ID token, JWT access token) as emitted or left out, with
the matrix cell and the setting that decided it (`bergfried.claims.explain`). It reads only.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from bergfried.api.protojson import ApiModel, Struct
from bergfried.api.registry import Call, Resource
from bergfried.claims.explain import explain
from bergfried.claims.matrix import Destination
from bergfried.management.scope import user_for_query

api = Resource("Claims", "/management/v1")


class ExplainClaimsRequest(ApiModel):
    user_id: Annotated[str, Field(min_length=1, max_length=200)]
    client_id: Annotated[str, Field(min_length=1, max_length=255)]
    scope: Annotated[str, Field(max_length=4096)] = "openid"
    destination: Destination | None = None  # all four when absent
    response_type: Annotated[str, Field(pattern=r"^(code|id_token|id_token token)$")] = "code"
    nonce: Annotated[str, Field(max_length=512)] | None = None


class ExplainClaimsResponse(ApiModel):
    explanation: Annotated[dict[str, Any], Struct()] = Field(default_factory=dict)


@api.post("/claims/_explain", "ExplainClaims", permission="user.read")
async def explain_claims(call: Call, req: ExplainClaimsRequest) -> ExplainClaimsResponse:
    """Every claim that would be emitted or left out for this user, client and scope, and why."""
    async with call.store.write(call.editor) as tx:  # explain reads only; it needs the transaction's clock
        user = await user_for_query(tx.conn, req.user_id, call.org_id)
        result = await explain(
            tx, issuer=call.services.settings.issuer, user_id=user.id, client_id=req.client_id, scope=req.scope,
            must_be_domain=call.services.policies.domain.user_login_must_be_domain,
            destinations=(req.destination,) if req.destination else tuple(Destination),
            response_type=req.response_type, nonce=req.nonce,
        )
    return ExplainClaimsResponse(explanation=result.to_json())
