"""Actions v1: scripts of an organization and the flows whose triggers run them (spec/actions.md §2).

Flows and triggers are data: ids as ZITADEL's API speaks them (strings in paths, `1`–`6`), the
localization keys of `internal/domain/flow.go` and their English texts. Only the Complement Token
flow runs today (its two triggers); the other flows can be configured, as in ZITADEL, and are kept.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from bergfried.domain.common import check_length
from bergfried.errors import InvalidArgument

MAX_TIMEOUT = timedelta(seconds=20)  # ZITADEL `maxTimeout`; 0 or absent means this
MAX_SCRIPT_BYTES = 40_000


class ActionState(enum.StrEnum):
    UNSPECIFIED = "ACTION_STATE_UNSPECIFIED"
    INACTIVE = "ACTION_STATE_INACTIVE"
    ACTIVE = "ACTION_STATE_ACTIVE"


@dataclass(frozen=True, slots=True)
class Trigger:
    id: str
    key: str
    text: str


@dataclass(frozen=True, slots=True)
class Flow:
    id: str
    key: str
    text: str
    triggers: tuple[Trigger, ...]


POST_AUTHENTICATION = Trigger("1", "Action.TriggerType.PostAuthentication", "Post Authentication")
PRE_CREATION = Trigger("2", "Action.TriggerType.PreCreation", "Pre Creation")
POST_CREATION = Trigger("3", "Action.TriggerType.PostCreation", "Post Creation")
PRE_USERINFO = Trigger("4", "Action.TriggerType.PreUserinfoCreation", "Pre Userinfo creation")
PRE_ACCESS_TOKEN = Trigger("5", "Action.TriggerType.PreAccessTokenCreation", "Pre access token creation")
PRE_SAML_RESPONSE = Trigger("6", "Action.TriggerType.PreSAMLResponseCreation", "Pre SAMLResponse creation")

_AUTHENTICATION = (POST_AUTHENTICATION, PRE_CREATION, POST_CREATION)
FLOWS: tuple[Flow, ...] = (
    Flow("1", "Action.Flow.Type.ExternalAuthentication", "External Authentication", _AUTHENTICATION),
    Flow("2", "Action.Flow.Type.CustomiseToken", "Complement Token", (PRE_USERINFO, PRE_ACCESS_TOKEN)),
    Flow("3", "Action.Flow.Type.InternalAuthentication", "Internal Authentication", _AUTHENTICATION),
    Flow("4", "Action.Flow.Type.CustomizeSAMLResponse", "Complement SAMLResponse", (PRE_SAML_RESPONSE,)),
)
COMPLEMENT_TOKEN = FLOWS[1]
# Actions v2: the function each complement-token trigger runs as (`function/<name>` executions).
COMPLEMENT_FUNCTIONS = {PRE_USERINFO.id: "preuserinfo", PRE_ACCESS_TOKEN.id: "preaccesstoken"}
TRIGGERS = {t.id: t for t in (*_AUTHENTICATION, PRE_USERINFO, PRE_ACCESS_TOKEN, PRE_SAML_RESPONSE)}

# The old enum names the API still accepts (`converter.go` FlowTypeToDomain, TriggerTypeToDomain).
_FLOW_ALIASES = {"FLOW_TYPE_EXTERNAL_AUTHENTICATION": "1"}
_TRIGGER_ALIASES = {"TRIGGER_TYPE_POST_AUTHENTICATION": "1", "TRIGGER_TYPE_PRE_CREATION": "2",
                    "TRIGGER_TYPE_POST_CREATION": "3"}


def flow(type_id: str) -> Flow:
    wanted = _FLOW_ALIASES.get(type_id, type_id)
    for candidate in FLOWS:
        if candidate.id == wanted:
            return candidate
    raise InvalidArgument("Errors.Flow.FlowTypeMissing", "Flow type is missing or invalid",
                          error_id="MANAG-Dfw2h")


def trigger(of: Flow, type_id: str) -> Trigger:
    wanted = _TRIGGER_ALIASES.get(type_id, type_id)
    for candidate in of.triggers:
        if candidate.id == wanted:
            return candidate
    raise InvalidArgument("Errors.Flow.WrongTriggerType", "Trigger type is not valid for this flow",
                          error_id="COMMAND-dgb4q")


@dataclass(frozen=True, slots=True)
class Action:
    id: str
    org_id: str
    name: str
    script: str
    timeout: timedelta  # as set; 0 means the maximum
    allowed_to_fail: bool
    state: ActionState
    created_at: datetime
    changed_at: datetime
    sequence: int

    @property
    def limit(self) -> timedelta:
        """The time the script may run (ZITADEL `Action.Timeout()`)."""
        return self.timeout if self.timeout > timedelta(0) else MAX_TIMEOUT


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """What the API sets on an action (create and update send all of it)."""

    name: str
    script: str
    timeout: timedelta = timedelta(0)
    allowed_to_fail: bool = False

    def validated(self) -> ActionSpec:
        validate(self.name, self.script, self.timeout)
        return self


def validate(name: str, script: str, timeout: timedelta) -> None:
    """`management.proto`: name 1–200, script 1–40 000 bytes, timeout 0–20 s."""
    check_length(name, "Name", min_len=1, max_len=200, message="CreateActionRequest")
    if not 1 <= len(script.encode()) <= MAX_SCRIPT_BYTES:
        raise InvalidArgument("Errors.InvalidArgument", "invalid CreateActionRequest.Script: value length must be "
                              f"between 1 and {MAX_SCRIPT_BYTES} bytes, inclusive", error_id="VALID-Script")
    if not timedelta(0) <= timeout <= MAX_TIMEOUT:
        raise InvalidArgument("Errors.InvalidArgument", "invalid CreateActionRequest.Timeout: value must be inside "
                              "range [0s, 20s]", error_id="VALID-Timeout")
