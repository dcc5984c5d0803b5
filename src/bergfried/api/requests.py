"""From HTTP parts to a validated request message, in the gateway's way (spec/management-api.md §1).

The gateway first decodes the JSON body (a syntax error is INVALID_ARGUMENT before anything
else), merges query and path parameters into it (path wins), and the validation interceptor runs
after authentication and authorisation. Validation errors are plain statuses naming the field as
protoc-gen-validate does: `invalid AddHumanUserRequest.Profile.FirstName: value length must be
between 1 and 200 runes, inclusive`.
"""

from __future__ import annotations

from typing import Any

import annotated_types
import orjson
from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_camel, to_snake

from bergfried.errors import InvalidArgument

MAX_BODY = 1024 * 1024  # metadata values reach 500 000 bytes, ~667 kB in base64


def invalid(message: str) -> InvalidArgument:
    return InvalidArgument("Errors.InvalidArgument", message, error_id="VALID-req", plain=True)


def decode_body(body: bytes) -> dict[str, Any]:
    if len(body) > MAX_BODY:
        raise invalid("request body too large")
    if not body.strip():
        return {}
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise invalid("invalid JSON in request body") from None
    if not isinstance(data, dict):
        raise invalid("request body must be a JSON object")
    return data


def merge(body: dict[str, Any], query: dict[str, str], path: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {k: v for k, v in query.items() if k not in body}
    data.update(body)
    for name, value in path.items():
        for spelling in (name, to_snake(name), to_camel(name)):
            data.pop(spelling, None)
        data[name] = value
    if _has_nul(data):  # PostgreSQL refuses NUL in text: a 400 here, not a 500 at the first query
        raise invalid("NUL characters are not allowed in requests")
    return data


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def raw_field(data: dict[str, Any], attribute: str) -> str | None:
    """A request attribute before validation (for the permission check field)."""
    for spelling in (to_camel(attribute), attribute):
        value = data.get(spelling)
        if isinstance(value, str) and value:
            return value
    return None


def validate(model: type[BaseModel], rpc: str, data: dict[str, Any]) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise invalid(f"invalid {rpc}Request.{_field_path(first['loc'])}: {_text(model, first)}") from None


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = to_camel(part)
            out += ("." if out else "") + name[:1].upper() + name[1:]
    return out or "Body"


def _constraints(model: type[BaseModel], loc: tuple[int | str, ...]) -> tuple[int | None, int | None, Any]:
    current: Any = model
    low = high = None
    for part in loc:
        if not isinstance(part, str) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        info = next((i for n, i in current.model_fields.items() if part in (n, i.alias)), None)
        if info is None:
            break
        for meta in info.metadata:
            if isinstance(meta, annotated_types.MinLen):
                low = meta.min_length
            if isinstance(meta, annotated_types.MaxLen):
                high = meta.max_length
        current = _model_in(info.annotation)
    return low, high, current


def _model_in(annotation: Any) -> Any:
    """`Profile | None` → Profile, `list[Entry]` → Entry: where a nested field's rules live."""
    for arg in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return annotation


def _text(model: type[BaseModel], error: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return "value is required"
    if kind in ("string_too_short", "string_too_long", "too_short", "too_long", "bytes_too_short",
                "bytes_too_long"):
        low, high, annotation = _constraints(model, error["loc"])
        unit = {bytes: "bytes", str: "runes"}.get(annotation, "items")
        if low is not None and high is not None:
            return f"value length must be between {low} and {high} {unit}, inclusive"
        if high is not None:
            return f"value length must be at most {high} {unit}"
        return f"value length must be at least {low or 1} {unit}"
    return str(error["msg"]).removeprefix("Value error, ")
