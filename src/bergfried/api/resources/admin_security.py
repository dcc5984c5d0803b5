"""The instance's security policy (`/admin/v1/policies/security`, admin.proto GetSecurityPolicy /
SetSecurityPolicy). `enableImpersonation` allows token exchange with an actor (impersonation and
delegation, spec/token-exchange.md §4); the actor also needs an `*_IMPERSONATOR` role. Kept in
the instance's settings (store/instances.py)."""

from __future__ import annotations

from bergfried.api import details
from bergfried.api.lists import ObjectDetailsModel
from bergfried.api.messages import DetailsResponse, Empty
from bergfried.api.protojson import ApiModel
from bergfried.api.registry import Call, Resource
from bergfried.store import instances

api = Resource("Instance security policy", "/admin/v1")


class SecurityPolicy(ApiModel):
    enable_iframe_embedding: bool = False
    allowed_origins: tuple[str, ...] = ()
    enable_impersonation: bool = False


class SecurityPolicyModel(SecurityPolicy):
    details: ObjectDetailsModel | None = None


class GetSecurityPolicyResponse(ApiModel):
    policy: SecurityPolicyModel | None = None


@api.get("/policies/security", "GetSecurityPolicy", permission="iam.policy.read")
async def get_security_policy(call: Call, req: Empty) -> GetSecurityPolicyResponse:
    """The instance's security policy (everything off until set)."""
    async with call.store.read() as conn:
        stored = await instances.security_policy(conn)
    return GetSecurityPolicyResponse(policy=SecurityPolicyModel(
        enable_iframe_embedding=stored["enableIframeEmbedding"], allowed_origins=tuple(stored["allowedOrigins"]),
        enable_impersonation=stored["enableImpersonation"]))


@api.put("/policies/security", "SetSecurityPolicy", permission="iam.policy.write")
async def set_security_policy(call: Call, req: SecurityPolicy) -> DetailsResponse:
    """Replace the security policy."""
    async with call.store.write(call.editor) as tx:
        found = await instances.set_security_policy(
            tx, enable_impersonation=req.enable_impersonation, enable_iframe_embedding=req.enable_iframe_embedding,
            allowed_origins=req.allowed_origins)
    return DetailsResponse(details=details.of(found))
