"""One declaration per endpoint; the HTTP routes and the OpenAPI document are both built from it.

A resource module declares its calls like this::

    api = Resource("Users", "/management/v1")

    @api.post("/users/{userId}/metadata/{key}", "SetUserMetadata", permission="user.write")
    async def set_user_metadata(call: Call, req: SetUserMetadataRequest) -> SetUserMetadataResponse: ...

The request and response models come from the handler's annotations. Path parameters are fields
of the request model (named by their lowerCamel alias in the path), as in ZITADEL's gateway,
which merges path, query and body into one request message. A module is picked up by being in
`bergfried/api/resources/` (see `load()`).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, get_type_hints

from pydantic import BaseModel

from bergfried.api.auth import Caller
from bergfried.api.permissions import Granted
from bergfried.services import Services
from bergfried.store.tx import Store

_PATH_PARAM = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)(?::path)?}")


@dataclass(frozen=True, slots=True)
class Call:
    """What a handler knows about the call: the process's services, the authenticated caller and
    the organization the call acts on (`x-zitadel-orgid` or the caller's own)."""

    services: Services
    caller: Caller
    granted: Granted

    @property
    def store(self) -> Store:
        return self.services.store

    @property
    def org_id(self) -> str:
        return self.granted.org_id

    @property
    def editor(self) -> str:
        return self.caller.user_id


Handler = Callable[[Call, Any], Awaitable[BaseModel]]


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str  # full path; `{name}` params, `{name:path}` for catch-alls (role keys with `/`)
    rpc: str  # ZITADEL's RPC name, the OpenAPI operationId
    permission: str  # e.g. `user.write`, or `authenticated`
    handler: Handler
    request: type[BaseModel]
    response: type[BaseModel]
    tag: str
    summary: str
    check_field: str | None = None  # request attribute compared with a project/grant membership
    status: int = 200  # `http_response.success_code` (CreateSession answers 201)
    connect_service: str = ""  # v2: also served as Connect at `/<service>/<rpc>` (spec/api-v2.md §1)

    @property
    def connect_path(self) -> str | None:
        return f"/{self.connect_service}/{self.rpc}" if self.connect_service else None

    @property
    def path_params(self) -> list[str]:
        return _PATH_PARAM.findall(self.path)

    @property
    def openapi_path(self) -> str:
        return self.path.replace(":path}", "}")

    @property
    def has_body(self) -> bool:
        body_fields = {
            info.alias or name for name, info in self.request.model_fields.items()
        } - set(self.path_params)
        return self.method != "GET" and bool(body_fields)


ENDPOINTS: list[Endpoint] = []


class Resource:
    """The calls of one resource under one base path (`/management/v1`, `/admin/v1`, `/auth/v1`)."""

    def __init__(self, tag: str, base: str, *, connect: str = "") -> None:
        self.tag = tag
        self.base = base
        self.connect = connect  # the gRPC service name, e.g. `zitadel.session.v2.SessionService`

    def _register(self, method: str, path: str, rpc: str, permission: str, check_field: str | None,
                  summary: str, status: int = 200) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            hints = get_type_hints(handler)
            request, response = hints["req"], hints["return"]
            ENDPOINTS.append(Endpoint(
                method=method, path=self.base + path, rpc=rpc, permission=permission, handler=handler,
                request=request, response=response, tag=self.tag,
                summary=summary or (handler.__doc__ or rpc).strip().splitlines()[0], check_field=check_field,
                status=status, connect_service=self.connect,
            ))
            return handler
        return decorate

    def get(self, path: str, rpc: str, *, permission: str, check_field: str | None = None,
            summary: str = "") -> Callable[[Handler], Handler]:
        return self._register("GET", path, rpc, permission, check_field, summary)

    def post(self, path: str, rpc: str, *, permission: str, check_field: str | None = None,
             summary: str = "", status: int = 200) -> Callable[[Handler], Handler]:
        return self._register("POST", path, rpc, permission, check_field, summary, status)

    def patch(self, path: str, rpc: str, *, permission: str, check_field: str | None = None,
              summary: str = "") -> Callable[[Handler], Handler]:
        return self._register("PATCH", path, rpc, permission, check_field, summary)

    def put(self, path: str, rpc: str, *, permission: str, check_field: str | None = None,
            summary: str = "") -> Callable[[Handler], Handler]:
        return self._register("PUT", path, rpc, permission, check_field, summary)

    def delete(self, path: str, rpc: str, *, permission: str, check_field: str | None = None,
               summary: str = "") -> Callable[[Handler], Handler]:
        return self._register("DELETE", path, rpc, permission, check_field, summary)


def load() -> list[Endpoint]:
    """Import every module of `bergfried.api.resources` once; their decorators fill ENDPOINTS.
    Static paths come before parameterised ones (`/users/_search` before `/users/{userId}`)."""
    from bergfried.api import resources

    for module in pkgutil.iter_modules(resources.__path__):
        importlib.import_module(f"{resources.__name__}.{module.name}")
    return sorted(ENDPOINTS, key=lambda e: [(seg.startswith("{"), seg) for seg in e.path.split("/")])
