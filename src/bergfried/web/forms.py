"""Reading request parameters safely: a bounded body, `application/x-www-form-urlencoded` only,
valid UTF-8, one value per name (RFC 6749 §3.1: parameters must not repeat). Bad input becomes
`invalid_request`, never a 500."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from starlette.requests import Request

from bergfried.errors import InvalidRequest

MAX_BODY = 64 * 1024
FORM = "application/x-www-form-urlencoded"
_DIGITS = re.compile(r"[0-9]+")  # not str.isdigit: it admits "²", which int() refuses
REPEATABLE = frozenset({"audience"})  # RFC 8693 §2.1: may repeat; kept space-separated


def _pairs(text: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, errors="strict",
                          max_num_fields=100)
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("The parameters are not valid form encoding") from None
    values: dict[str, str] = {}
    for name, value in pairs:
        if name in values and name in REPEATABLE:
            values[name] = f"{values[name]} {value}"
            continue
        if name in values:
            raise InvalidRequest(f"The parameter {name!r} is repeated")
        if "\x00" in value:
            raise InvalidRequest(f"The parameter {name!r} holds a NUL character")
        values[name] = value
    return values


async def read_form(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM:
        raise InvalidRequest(f"The body must be {FORM}")
    length = request.headers.get("content-length")
    if length is not None and (not _DIGITS.fullmatch(length) or int(length) > MAX_BODY):
        raise InvalidRequest("The body is too large", status=413)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise InvalidRequest("The body is too large", status=413)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest("The body is not valid UTF-8") from None
    return _pairs(text)


def read_query(request: Request) -> dict[str, str]:
    raw = request.scope.get("query_string", b"")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest("The query is not valid UTF-8") from None
    return _pairs(text)
