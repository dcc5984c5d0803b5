"""Targets and executions as ZITADEL defines them (spec/actions.md §3.1–§3.2): the three target
types, the rules a target must meet, and the execution ids conditions are stored under.

Rules (ZITADEL `internal/command/action_v2_target.go`, `proto/zitadel/action/v2/action_service.proto`):
- name 1–200 characters (the proto allows 1000; our column holds 200, so longer is refused, not cut);
- endpoint an absolute http(s) URL of at most 2048 characters (`Errors.Target.InvalidURL`);
- timeout > 0 (`Errors.Target.NoTimeout`) and at most 270 s (the proto's `lte: {seconds: 270}`);
- an execution id is `<type>/<value>`: `function/preuserinfo`, `request/<service>`,
  `request/<service>/<method>`, `request` (all), the same for `response`, `event/<event>`,
  `event/<group>.*`, `event` (all) (`internal/repository/execution/aggregate.go` `ID`).
"""

from __future__ import annotations

import enum
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from bergfried.errors import InvalidArgument

MAX_TIMEOUT = timedelta(seconds=270)
MAX_NAME = 200
MAX_ENDPOINT = 2048
# The functions a function condition may name; only the first two run here (the SAML response
# is not served) (`ListExecutionFunctions`).
FUNCTIONS = ("preuserinfo", "preaccesstoken", "presamlresponse")
EXECUTED_FUNCTIONS = ("preuserinfo", "preaccesstoken")
_KEY_ALPHABET = string.ascii_letters + string.digits
SIGNING_KEY_LENGTH = 64  # ZITADEL's default SigningKey generator: 64 letters and digits


class TargetType(enum.StrEnum):
    WEBHOOK = "webhook"
    CALL = "call"
    ASYNC = "async"


@dataclass(frozen=True, slots=True)
class Target:
    id: str
    name: str
    type: TargetType
    endpoint: str
    timeout: timedelta
    interrupt_on_error: bool
    created_at: datetime
    changed_at: datetime
    sequence: int


@dataclass(frozen=True, slots=True)
class NewTarget:
    name: str
    type: TargetType
    endpoint: str
    timeout: timedelta
    interrupt_on_error: bool

    def validated(self) -> NewTarget:
        validate_name(self.name)
        validate_endpoint(self.endpoint)
        validate_timeout(self.timeout)
        return self


@dataclass(frozen=True, slots=True)
class Execution:
    condition: str  # the execution id, e.g. `function/preuserinfo`
    targets: tuple[str, ...]
    created_at: datetime
    changed_at: datetime


def new_signing_key() -> str:
    return "".join(secrets.choice(_KEY_ALPHABET) for _ in range(SIGNING_KEY_LENGTH))


def validate_name(name: str) -> str:
    if not name.strip():
        raise InvalidArgument("Errors.Target.Invalid", "Errors.Target.Invalid", error_id="COMMAND-ddqbm9us5p")
    if len(name) > MAX_NAME:
        raise InvalidArgument("Errors.Target.Invalid",
                              f"invalid CreateTargetRequest.Name: value length must be between 1 and {MAX_NAME} runes, "
                              "inclusive", error_id="COMMAND-ddqbm9us5p")
    return name


def validate_endpoint(endpoint: str) -> str:
    """Absolute http(s) URL with a host; anything else would fail only at the first call."""
    try:
        parts = urlsplit(endpoint)
        _ = parts.port  # raises on a port that is not a number in range
        ok = parts.scheme in ("http", "https") and bool(parts.hostname) and len(endpoint) <= MAX_ENDPOINT
    except ValueError:  # a bad port or IPv6 literal
        ok = False
    if not ok or any(c.isspace() for c in endpoint):
        raise InvalidArgument("Errors.Target.InvalidURL", "Errors.Target.InvalidURL", error_id="COMMAND-1r2k6qo6wg")
    return endpoint


def validate_timeout(timeout: timedelta) -> timedelta:
    if timeout <= timedelta(0):
        raise InvalidArgument("Errors.Target.NoTimeout", "Errors.Target.NoTimeout", error_id="COMMAND-39f35d8uri")
    if timeout > MAX_TIMEOUT:
        raise InvalidArgument("Errors.Target.Invalid",
                              "invalid CreateTargetRequest.Timeout: value must be less than or equal to 4m30s",
                              error_id="COMMAND-39f35d8uri")
    return timeout


def function_id(name: str) -> str:
    return f"function/{name}"


def condition_invalid() -> InvalidArgument:
    return InvalidArgument("Errors.Execution.ConditionInvalid", "Errors.Execution.ConditionInvalid",
                           error_id="COMMAND-cdy39t0ksr")
