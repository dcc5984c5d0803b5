"""Applications (`/management/v1/projects/{projectId}/apps/...`, spec/management-api.md §7): OIDC and
API apps, their client secrets (shown once) and their keys. Every call names the project as
check field, so a PROJECT_OWNER of that project may make it."""

from __future__ import annotations

import enum
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field

from bergfried.api import details, lists
from bergfried.api.lists import ListDetails, Method, ObjectDetailsModel, TextQueryMethod
from bergfried.api.messages import DetailsResponse, Empty, ListRequest
from bergfried.api.protojson import ApiModel, Duration, enum_in
from bergfried.api.registry import Call, Resource
from bergfried.domain.apps import (
    ApiAuthMethodType,
    AppKind,
    Application,
    AppState,
    AppType,
    AuthMethodType,
    GrantType,
    OIDCConfig,
    ResponseType,
    TokenType,
    compliance,
)
from bergfried.management import apps as ops
from bergfried.management.projects import project_of
from bergfried.store import apps as store

api = Resource("Applications", "/management/v1")

Name = Annotated[str, Field(min_length=1, max_length=200)]


class OIDCVersion(enum.StrEnum):
    V1_0 = "OIDC_VERSION_1_0"


class LoginV1(ApiModel):
    pass


class LoginV2(ApiModel):
    base_uri: str | None = None


class LoginVersion(ApiModel):
    login_v1: LoginV1 | None = None
    login_v2: LoginV2 | None = None


class LocalizedMessage(ApiModel):
    key: str = ""
    localized_message: str = ""


class OIDCFields(ApiModel):
    """The settings AddOIDCApp and UpdateOIDCAppConfig share; empty response/grant types mean
    CODE / AUTHORIZATION_CODE, as ZITADEL's converter fills them."""

    redirect_uris: tuple[str, ...] = ()
    response_types: tuple[Annotated[ResponseType, enum_in(ResponseType)], ...] = ()
    grant_types: tuple[Annotated[GrantType, enum_in(GrantType)], ...] = ()
    app_type: Annotated[AppType, enum_in(AppType)] = AppType.WEB
    auth_method_type: Annotated[AuthMethodType, enum_in(AuthMethodType)] = AuthMethodType.BASIC
    post_logout_redirect_uris: tuple[str, ...] = ()
    version: Annotated[OIDCVersion, enum_in(OIDCVersion)] = OIDCVersion.V1_0
    dev_mode: bool = False
    access_token_type: Annotated[TokenType, enum_in(TokenType)] = TokenType.BEARER
    access_token_role_assertion: bool = False
    id_token_role_assertion: bool = False
    id_token_userinfo_assertion: bool = False
    clock_skew: Duration = timedelta(0)
    additional_origins: tuple[str, ...] = ()
    skip_native_app_success_page: bool = False
    back_channel_logout_uri: Annotated[str, Field(max_length=2048)] = ""
    login_version: LoginVersion | None = None

    def config(self) -> OIDCConfig:
        login = self.login_version
        base_uri = (login.login_v2.base_uri or "") if login is not None and login.login_v2 is not None else None
        return OIDCConfig(
            redirect_uris=self.redirect_uris, response_types=self.response_types or (ResponseType.CODE,),
            grant_types=self.grant_types or (GrantType.AUTHORIZATION_CODE,), app_type=self.app_type,
            auth_method_type=self.auth_method_type, post_logout_redirect_uris=self.post_logout_redirect_uris,
            dev_mode=self.dev_mode, access_token_type=self.access_token_type,
            access_token_role_assertion=self.access_token_role_assertion,
            id_token_role_assertion=self.id_token_role_assertion,
            id_token_userinfo_assertion=self.id_token_userinfo_assertion, clock_skew=self.clock_skew,
            additional_origins=self.additional_origins,
            skip_native_app_success_page=self.skip_native_app_success_page,
            back_channel_logout_uri=self.back_channel_logout_uri, login_v2_base_uri=base_uri,
        )


class AddOIDCAppRequest(OIDCFields):
    project_id: str
    name: Name


class AddOIDCAppResponse(ApiModel):
    app_id: str = ""
    details: ObjectDetailsModel | None = None
    client_id: str = ""
    client_secret: str = ""
    none_compliant: bool = False
    compliance_problems: tuple[LocalizedMessage, ...] = ()


class AddAPIAppRequest(ApiModel):
    project_id: str
    name: Name
    auth_method_type: Annotated[ApiAuthMethodType, enum_in(ApiAuthMethodType)] = ApiAuthMethodType.BASIC


class AddAPIAppResponse(ApiModel):
    app_id: str = ""
    details: ObjectDetailsModel | None = None
    client_id: str = ""
    client_secret: str = ""


class AppIdRequest(Empty):
    project_id: str
    app_id: str


class UpdateAppRequest(AppIdRequest):
    name: Name


class UpdateOIDCAppConfigRequest(OIDCFields):
    project_id: str
    app_id: str


class UpdateAPIAppConfigRequest(AppIdRequest):
    auth_method_type: Annotated[ApiAuthMethodType, enum_in(ApiAuthMethodType)] = ApiAuthMethodType.BASIC


class SecretResponse(ApiModel):
    client_secret: str = ""
    details: ObjectDetailsModel | None = None


class OIDCConfigModel(ApiModel):
    redirect_uris: tuple[str, ...] = ()
    response_types: tuple[ResponseType, ...] = ()
    grant_types: tuple[GrantType, ...] = ()
    app_type: AppType = AppType.WEB
    client_id: str = ""
    auth_method_type: AuthMethodType = AuthMethodType.BASIC
    post_logout_redirect_uris: tuple[str, ...] = ()
    version: OIDCVersion = OIDCVersion.V1_0
    none_compliant: bool = False
    compliance_problems: tuple[LocalizedMessage, ...] = ()
    dev_mode: bool = False
    access_token_type: TokenType = TokenType.BEARER
    access_token_role_assertion: bool = False
    id_token_role_assertion: bool = False
    id_token_userinfo_assertion: bool = False
    clock_skew: Duration | None = None
    additional_origins: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    skip_native_app_success_page: bool = False
    back_channel_logout_uri: str = ""
    login_version: LoginVersion | None = None


class APIConfigModel(ApiModel):
    client_id: str = ""
    auth_method_type: ApiAuthMethodType = ApiAuthMethodType.BASIC


class AppModel(ApiModel):
    id: str = ""
    details: ObjectDetailsModel | None = None
    state: AppState = AppState.UNSPECIFIED
    name: str = ""
    oidc_config: OIDCConfigModel | None = None
    api_config: APIConfigModel | None = None


class GetAppByIDResponse(ApiModel):
    app: AppModel | None = None


class AppNameQuery(ApiModel):
    name: Annotated[str, Field(max_length=200)] = ""
    method: Method = TextQueryMethod.EQUALS


class AppQuery(ApiModel):
    name_query: AppNameQuery | None = None


class ListAppsRequest(ListRequest):
    project_id: str
    queries: tuple[AppQuery, ...] = ()


class ListAppsResponse(ApiModel):
    details: ListDetails | None = None
    result: tuple[AppModel, ...] = ()


def problems(keys: tuple[str, ...]) -> tuple[LocalizedMessage, ...]:
    """ZITADEL translates each key; without a translation its i18n answers the key itself."""
    return tuple(LocalizedMessage(key=key, localized_message=key) for key in keys)


def _origin(uri: str) -> str | None:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def allowed_origins(config: OIDCConfig) -> tuple[str, ...]:
    """The redirect URIs' origins plus the additional origins, once each (ZITADEL's `AllowedOrigins`)."""
    found = [o for o in (_origin(uri) for uri in config.redirect_uris) if o is not None]
    return tuple(dict.fromkeys([*found, *config.additional_origins]))


def _login_version(base_uri: str | None) -> LoginVersion | None:
    return None if base_uri is None else LoginVersion(login_v2=LoginV2(base_uri=base_uri or None))


def oidc_model(app: Application, config: OIDCConfig) -> OIDCConfigModel:
    check = compliance(config)
    return OIDCConfigModel(
        redirect_uris=config.redirect_uris, response_types=config.response_types, grant_types=config.grant_types,
        app_type=config.app_type, client_id=app.client_id, auth_method_type=config.auth_method_type,
        post_logout_redirect_uris=config.post_logout_redirect_uris, none_compliant=check.none_compliant,
        compliance_problems=problems(check.problems), dev_mode=config.dev_mode,
        access_token_type=config.access_token_type, access_token_role_assertion=config.access_token_role_assertion,
        id_token_role_assertion=config.id_token_role_assertion,
        id_token_userinfo_assertion=config.id_token_userinfo_assertion, clock_skew=config.clock_skew,
        additional_origins=config.additional_origins, allowed_origins=allowed_origins(config),
        skip_native_app_success_page=config.skip_native_app_success_page,
        back_channel_logout_uri=config.back_channel_logout_uri, login_version=_login_version(config.login_v2_base_uri),
    )


def app_model(row: Any) -> AppModel:
    app = store.from_row(row)
    model = AppModel(id=app.id, details=details.of_row(row.sequence, row.created_at, row.changed_at, row.org_id),
                     state=app.state, name=app.name)
    if app.oidc is not None:
        return model.model_copy(update={"oidc_config": oidc_model(app, app.oidc)})
    return model.model_copy(update={"api_config": APIConfigModel(
        client_id=app.client_id, auth_method_type=app.api_auth_method_type or ApiAuthMethodType.BASIC)})


@api.post("/projects/{projectId}/apps/oidc", "AddOIDCApp", permission="project.app.write", check_field="project_id")
async def add_oidc_app(call: Call, req: AddOIDCAppRequest) -> AddOIDCAppResponse:
    """Add an OIDC app; `clientSecret` (BASIC and POST only) is shown this once."""
    async with call.store.write(call.editor) as tx:
        project = await project_of(tx.conn, call.org_id, req.project_id)
        added = await ops.add_oidc_app(tx, call.services.hasher, project, req.name, req.config())
    return AddOIDCAppResponse(app_id=added.app.id, details=details.of(added.details), client_id=added.app.client_id,
                              client_secret=added.client_secret or "",
                              none_compliant=added.compliance.none_compliant,
                              compliance_problems=problems(added.compliance.problems))


@api.post("/projects/{projectId}/apps/api", "AddAPIApp", permission="project.app.write", check_field="project_id")
async def add_api_app(call: Call, req: AddAPIAppRequest) -> AddAPIAppResponse:
    """Add an API app; `clientSecret` (BASIC only) is shown this once."""
    async with call.store.write(call.editor) as tx:
        project = await project_of(tx.conn, call.org_id, req.project_id)
        added = await ops.add_api_app(tx, call.services.hasher, project, req.name, req.auth_method_type)
    return AddAPIAppResponse(app_id=added.app.id, details=details.of(added.details), client_id=added.app.client_id,
                             client_secret=added.client_secret or "")


@api.post("/projects/{projectId}/apps/_search", "ListApps", permission="project.app.read", check_field="project_id")
async def list_apps(call: Call, req: ListAppsRequest) -> ListAppsResponse:
    """A project's apps, filtered by `nameQuery`, paged."""
    query = store.search(req.project_id)
    for q in req.queries:
        if q.name_query is not None:
            query = query.where(lists.text_condition(store.A.c.name, q.name_query.name, q.name_query.method))
    async with call.store.read() as conn:
        await project_of(conn, call.org_id, req.project_id)
        page = await lists.page(conn, query, req.query, call.store.clock(), default_order=store.A.c.id)
    return ListAppsResponse(details=page.details(), result=tuple(app_model(r) for r in page.rows))


@api.get("/projects/{projectId}/apps/{appId}", "GetAppByID", permission="project.app.read", check_field="project_id")
async def get_app(call: Call, req: AppIdRequest) -> GetAppByIDResponse:
    """One app with its OIDC or API config (never the secret)."""
    async with call.store.read() as conn:
        await ops.app_of(conn, call.org_id, req.project_id, req.app_id)
        row = await store.get_row(conn, req.app_id)
    return GetAppByIDResponse(app=app_model(row))


@api.put("/projects/{projectId}/apps/{appId}", "UpdateApp", permission="project.app.write", check_field="project_id")
async def update_app(call: Call, req: UpdateAppRequest) -> DetailsResponse:
    """Rename an app."""
    async with call.store.write(call.editor) as tx:
        d = await ops.change_app_name(tx, call.org_id, req.project_id, req.app_id, req.name)
    return DetailsResponse(details=details.of(d))


@api.put("/projects/{projectId}/apps/{appId}/oidc_config", "UpdateOIDCAppConfig", permission="project.app.write",
         check_field="project_id")
async def update_oidc_config(call: Call, req: UpdateOIDCAppConfigRequest) -> DetailsResponse:
    """Replace an OIDC app's settings."""
    async with call.store.write(call.editor) as tx:
        d = await ops.change_oidc_config(tx, call.org_id, req.project_id, req.app_id, req.config())
    return DetailsResponse(details=details.of(d))


@api.put("/projects/{projectId}/apps/{appId}/api_config", "UpdateAPIAppConfig", permission="project.app.write",
         check_field="project_id")
async def update_api_config(call: Call, req: UpdateAPIAppConfigRequest) -> DetailsResponse:
    """Change an API app's authentication method."""
    async with call.store.write(call.editor) as tx:
        d = await ops.change_api_config(tx, call.org_id, req.project_id, req.app_id, req.auth_method_type)
    return DetailsResponse(details=details.of(d))


def _secret_call(kind: AppKind, rpc: str) -> None:
    @api.post(f"/projects/{{projectId}}/apps/{{appId}}/{kind.value}_config/_generate_client_secret", rpc,
              permission="project.app.write", check_field="project_id",
              summary="A new client secret, shown once; the old one stops working.")
    async def handler(call: Call, req: AppIdRequest) -> SecretResponse:
        async with call.store.write(call.editor) as tx:
            secret, d = await ops.regenerate_client_secret(tx, call.services.hasher, call.org_id, req.project_id,
                                                           req.app_id, kind)
        return SecretResponse(client_secret=secret, details=details.of(d))


_secret_call(AppKind.OIDC, "RegenerateOIDCClientSecret")
_secret_call(AppKind.API, "RegenerateAPIClientSecret")


def _state_call(change: str, rpc: str, action: Any, summary: str) -> None:
    @api.post(f"/projects/{{projectId}}/apps/{{appId}}/_{change}", rpc, permission="project.app.write",
              check_field="project_id", summary=summary)
    async def handler(call: Call, req: AppIdRequest) -> DetailsResponse:
        async with call.store.write(call.editor) as tx:
            return DetailsResponse(details=details.of(await action(tx, call.org_id, req.project_id, req.app_id)))


_state_call("deactivate", "DeactivateApp", ops.deactivate_app, "Deactivate an app: it can no longer get tokens.")
_state_call("reactivate", "ReactivateApp", ops.reactivate_app, "Reactivate an inactive app.")


@api.delete("/projects/{projectId}/apps/{appId}", "RemoveApp", permission="project.app.delete",
            check_field="project_id")
async def remove_app(call: Call, req: AppIdRequest) -> DetailsResponse:
    """Remove an app with its keys."""
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await ops.remove_app(tx, call.org_id, req.project_id, req.app_id)))
