"""Instance features (feature.v2 FeatureService, `/v2/features/instance`). Bergfried knows one:
`oidcTokenExchange`, which turns the token exchange grant on (spec/token-exchange.md §1).
Set flags are kept in the instance's settings (store/instances.py); an unset flag is off, from
the system default (`SOURCE_SYSTEM`)."""

from __future__ import annotations

from bergfried.api import details
from bergfried.api.lists import ObjectDetailsModel
from bergfried.api.messages import Empty
from bergfried.api.protojson import ApiModel
from bergfried.api.registry import Call, Resource
from bergfried.store import instances

api = Resource("FeatureService", "", connect="zitadel.feature.v2.FeatureService")


class FeatureFlag(ApiModel):
    enabled: bool = False
    source: str = "SOURCE_SYSTEM"


class GetInstanceFeaturesResponse(ApiModel):
    details: ObjectDetailsModel | None = None
    oidc_token_exchange: FeatureFlag | None = None


class SetInstanceFeaturesRequest(ApiModel):
    oidc_token_exchange: bool | None = None


class SetInstanceFeaturesResponse(ApiModel):
    details: ObjectDetailsModel | None = None


@api.get("/v2/features/instance", "GetInstanceFeatures", permission="iam.feature.read")
async def get_instance_features(call: Call, req: Empty) -> GetInstanceFeaturesResponse:
    """The instance's features and where each value comes from."""
    async with call.store.read() as conn:
        stored = await instances.features(conn)
    name = instances.TOKEN_EXCHANGE_FEATURE
    flag = FeatureFlag(enabled=bool(stored[name]), source="SOURCE_INSTANCE") if name in stored else FeatureFlag()
    return GetInstanceFeaturesResponse(oidc_token_exchange=flag)


@api.put("/v2/features/instance", "SetInstanceFeatures", permission="iam.feature.write")
async def set_instance_features(call: Call, req: SetInstanceFeaturesRequest) -> SetInstanceFeaturesResponse:
    """Change the flags given; the others keep their value."""
    flags = {instances.TOKEN_EXCHANGE_FEATURE: req.oidc_token_exchange} if req.oidc_token_exchange is not None else {}
    async with call.store.write(call.editor) as tx:
        found = await instances.set_features(tx, **flags)
    return SetInstanceFeaturesResponse(details=details.of(found))
