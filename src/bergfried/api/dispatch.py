"""One API call from start to end, in ZITADEL's interceptor order: decode the body (gateway),
authenticate and authorise, validate, run the handler, write protojson."""

from __future__ import annotations

from typing import Any

from bergfried.api import auth, permissions, protojson, requests
from bergfried.api.registry import Call, Endpoint
from bergfried.services import Services


async def run(services: Services, endpoint: Endpoint, *, authorization: str | None, org_header: str | None,
              body: bytes, query: dict[str, str], path: dict[str, str], connect: bool = False) -> Any:
    """`connect`: the whole request message is the JSON body (Connect protocol), even for GETs."""
    data = requests.merge(requests.decode_body(body) if endpoint.has_body or connect else {}, query, path)
    caller = await auth.authenticate(services, authorization)
    check_value = requests.raw_field(data, endpoint.check_field) if endpoint.check_field else None
    async with services.store.read() as conn:
        granted = await permissions.authorize(conn, caller, org_header, endpoint.permission, check_value,
                                              has_check_field=endpoint.check_field is not None)
    request = requests.validate(endpoint.request, endpoint.rpc, data)
    response = await endpoint.handler(Call(services=services, caller=caller, granted=granted), request)
    return protojson.encode(response)
