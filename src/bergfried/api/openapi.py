"""The OpenAPI 3.1 document of the API, built from the same endpoint declarations and pydantic
models that route and validate the calls, so the document cannot drift from what is served."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from bergfried.api.registry import Endpoint

REF = "#/components/schemas/{model}"
STATUS_SCHEMA = {
    "type": "object",
    "description": "ZITADEL's error JSON: the gRPC code, the message with its error id, and details.",
    "properties": {
        "code": {"type": "integer", "format": "int32"},
        "message": {"type": "string"},
        "details": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
    },
}
ERRORS = {
    "400": "INVALID_ARGUMENT (3), FAILED_PRECONDITION (9)",
    "401": "UNAUTHENTICATED (16)",
    "403": "PERMISSION_DENIED (7)",
    "404": "NOT_FOUND (5)",
    "409": "ALREADY_EXISTS (6)",
}


def _schemas(endpoints: list[Endpoint]) -> tuple[dict[Any, Any], dict[str, Any]]:
    models: list[tuple[type[BaseModel], Any]] = []
    for endpoint in endpoints:
        models += [(endpoint.request, "validation"), (endpoint.response, "serialization")]
    mapping, top = models_json_schema(list(dict.fromkeys(models)), ref_template=REF, by_alias=True)
    defs: dict[str, Any] = top.get("$defs", {})
    return dict(mapping), defs


def _body_schema(endpoint: Endpoint, ref: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """The request message minus the fields that travel in the path."""
    name = ref["$ref"].rsplit("/", 1)[-1]
    schema: dict[str, Any] = copy.deepcopy(defs[name])
    path = set(endpoint.path_params)
    schema["properties"] = {k: v for k, v in schema.get("properties", {}).items() if k not in path}
    required = [k for k in schema.get("required", []) if k not in path]
    schema.pop("required", None)
    if required:
        schema["required"] = required
    return schema


def _operation(endpoint: Endpoint, mapping: dict[Any, Any],
               defs: dict[str, Any]) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in endpoint.path_params
    ]
    parameters.append({"name": "x-zitadel-orgid", "in": "header", "required": False,
                       "description": "The organization the call acts on (default: the caller's own).",
                       "schema": {"type": "string"}})
    responses: dict[str, Any] = {
        str(endpoint.status): {"description": "OK", "content": {"application/json": {
            "schema": mapping[(endpoint.response, "serialization")]}}},
    }
    for status, text in ERRORS.items():
        responses[status] = {"description": text,
                             "content": {"application/json": {"schema": {"$ref": REF.format(model="Status")}}}}
    operation: dict[str, Any] = {
        # v2 RPCs share names with v1 ones (GetUserByID, ListUsers): ZITADEL's v2 ids carry the service
        "operationId": f"{endpoint.tag}_{endpoint.rpc}" if endpoint.connect_service else endpoint.rpc,
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
        "description": f"Required permission: `{endpoint.permission}`"
                       + (f" (or a project membership matching `{endpoint.check_field}`)"
                          if endpoint.check_field else ""),
        "parameters": parameters,
        "responses": responses,
        "security": [{"bearer": []}],
    }
    if endpoint.has_body:
        body = _body_schema(endpoint, mapping[(endpoint.request, "validation")], defs)
        operation["requestBody"] = {"required": False, "content": {"application/json": {"schema": body}}}
    return operation


# The gateway's services per v1 base path: its OpenAPI ids are `<Service>_<Rpc>`.
_V1_SERVICES = {"/management/v1": "ManagementService", "/admin/v1": "AdminService", "/auth/v1": "AuthService"}


def _unique_operation_ids(paths: dict[str, dict[str, Any]]) -> None:
    """An RPC name served by two v1 services (admin and management `GetLoginPolicy`) gets the
    service prefix ZITADEL's own document uses, so operation ids stay unique."""
    operations = [(path, op) for path, methods in paths.items() for op in methods.values()]
    counts: dict[str, int] = {}
    for _, op in operations:
        counts[op["operationId"]] = counts.get(op["operationId"], 0) + 1
    for path, op in operations:
        if counts[op["operationId"]] > 1:
            service = next((name for base, name in _V1_SERVICES.items() if path.startswith(base + "/")), "Service")
            op["operationId"] = f"{service}_{op['operationId']}"


def document(endpoints: list[Endpoint], *, server_url: str, version: str) -> dict[str, Any]:
    mapping, defs = _schemas(endpoints)
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        paths.setdefault(endpoint.openapi_path, {})[endpoint.method.lower()] = _operation(endpoint, mapping, defs)
    _unique_operation_ids(paths)
    defs["Status"] = STATUS_SCHEMA
    return {
        "openapi": "3.1.0",
        "info": {"title": "Bergfried management API (ZITADEL-compatible)", "version": version,
                 "description": "ZITADEL's management, admin and auth v1 REST API as Bergfried serves it."},
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": defs,
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer",
                "description": "A personal access token, or an access token whose audience includes the "
                               "ZITADEL project (scope `urn:zitadel:iam:org:project:id:zitadel:aud`).",
            }},
        },
    }
