"""The world file: what `bergfried apply` reads. Field names and enum values are ZITADEL's API
names (lowerCamel fields, `OIDC_APP_TYPE_WEB`-style enums), so a value can be copied from
ZITADEL's docs or an API answer. Unknown fields are errors: a typo must not pass silently.

Lists that are left out are not managed; a list that is given (even empty) is the whole truth
for its parent, which `--prune` enforces (see docs/apply.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from bergfried.domain.apps import ApiAuthMethodType, AppType, AuthMethodType, GrantType, ResponseType, TokenType
from bergfried.domain.projects import PrivateLabelingSetting
from bergfried.domain.users import AccessTokenType, Gender
from bergfried.errors import ConfigError

_DURATION = re.compile(r"^(\d+(?:\.\d{1,9})?)s$")
Name = Annotated[str, Field(min_length=1)]


class Spec(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True,
                              use_enum_values=False)


class RoleSpec(Spec):
    key: Name
    display_name: Name
    group: str = ""


class OIDCSpec(Spec):
    redirect_uris: tuple[str, ...] = ()
    response_types: tuple[ResponseType, ...] = (ResponseType.CODE,)
    grant_types: tuple[GrantType, ...] = (GrantType.AUTHORIZATION_CODE,)
    app_type: AppType = AppType.WEB
    auth_method_type: AuthMethodType = AuthMethodType.BASIC
    post_logout_redirect_uris: tuple[str, ...] = ()
    dev_mode: bool = False
    access_token_type: TokenType = TokenType.BEARER
    access_token_role_assertion: bool = False
    id_token_role_assertion: bool = False
    id_token_userinfo_assertion: bool = False
    clock_skew: timedelta = timedelta(0)
    additional_origins: tuple[str, ...] = ()
    skip_native_app_success_page: bool = False
    back_channel_logout_uri: str = ""

    @field_validator("clock_skew", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        """protojson's Duration (`"1.5s"`), as ZITADEL's API writes `clockSkew`."""
        if isinstance(value, str):
            match = _DURATION.match(value.strip())
            if match is None:
                raise ValueError("a duration such as \"0s\" or \"1.5s\"")
            return timedelta(seconds=float(match.group(1)))
        return value


class APISpec(Spec):
    auth_method_type: ApiAuthMethodType = ApiAuthMethodType.BASIC


class AppSpec(Spec):
    name: Name
    oidc: OIDCSpec | None = None
    api: APISpec | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> AppSpec:
        if (self.oidc is None) == (self.api is None):
            raise ValueError("give exactly one of oidc or api")
        return self


class ProjectGrantSpec(Spec):
    """Share the project with another organization declared in the same file."""

    granted_org: Name
    role_keys: tuple[str, ...] = ()


class ProjectSpec(Spec):
    name: Name
    project_role_assertion: bool = False
    project_role_check: bool = False
    has_project_check: bool = False
    private_labeling_setting: PrivateLabelingSetting = PrivateLabelingSetting.UNSPECIFIED
    roles: tuple[RoleSpec, ...] | None = None
    applications: tuple[AppSpec, ...] | None = None
    grants: tuple[ProjectGrantSpec, ...] | None = None


class ProfileSpec(Spec):
    first_name: Name
    last_name: Name
    nick_name: str = ""
    display_name: str = ""
    preferred_language: str = ""
    gender: Gender = Gender.UNSPECIFIED


class EmailSpec(Spec):
    email: Name
    is_email_verified: bool = False


class PhoneSpec(Spec):
    phone: str = ""
    is_phone_verified: bool = False


class HumanSpec(Spec):
    """The password is an initial one: it is set when the user is created and never reset by a
    later apply (the user may have changed it since)."""

    profile: ProfileSpec
    email: EmailSpec
    phone: PhoneSpec = PhoneSpec()
    password: str | None = None
    password_file: Path | None = None
    password_env: str | None = None
    password_change_required: bool = False

    @model_validator(mode="after")
    def _one_password_source(self) -> HumanSpec:
        sources = (("password", self.password), ("passwordFile", self.password_file),
                   ("passwordEnv", self.password_env))
        given = [name for name, value in sources if value is not None]
        if len(given) > 1:
            raise ValueError(f"give at most one of {', '.join(given)}")
        return self


class MachineSpec(Spec):
    name: Name
    description: str = ""
    access_token_type: AccessTokenType = AccessTokenType.BEARER


class UserGrantSpec(Spec):
    project: Name
    project_org: str | None = None  # the project's organization when it is not the user's (via a project grant)
    role_keys: tuple[str, ...] = ()


class UserSpec(Spec):
    user_name: Name
    human: HumanSpec | None = None
    machine: MachineSpec | None = None
    metadata: dict[str, str] | None = None
    grants: tuple[UserGrantSpec, ...] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> UserSpec:
        if (self.human is None) == (self.machine is None):
            raise ValueError("give exactly one of human or machine")
        return self


# Flow and trigger types by the names ZITADEL's Terraform provider and console use, beside the ids
# the API takes ("2", "4"; domain/actions.py).
FLOW_NAMES = {"FLOW_TYPE_EXTERNAL_AUTHENTICATION": "1", "FLOW_TYPE_CUSTOMISE_TOKEN": "2",
              "FLOW_TYPE_INTERNAL_AUTHENTICATION": "3", "FLOW_TYPE_CUSTOMISE_SAML_RESPONSE": "4"}
TRIGGER_NAMES = {"TRIGGER_TYPE_POST_AUTHENTICATION": "1", "TRIGGER_TYPE_PRE_CREATION": "2",
                 "TRIGGER_TYPE_POST_CREATION": "3", "TRIGGER_TYPE_PRE_USERINFO_CREATION": "4",
                 "TRIGGER_TYPE_PRE_ACCESS_TOKEN_CREATION": "5", "TRIGGER_TYPE_PRE_SAML_RESPONSE_CREATION": "6"}


class ScriptActionSpec(Spec):
    """An Actions v1 script of the organization (`/management/v1/actions`), matched by name."""

    name: Name
    script: str | None = None
    script_file: Path | None = None  # relative to the world file
    timeout: timedelta = timedelta(0)  # 0: the 20 s maximum
    allowed_to_fail: bool = False

    @field_validator("timeout", mode="before")
    @classmethod
    def _timeout(cls, value: Any) -> Any:
        return _protojson_duration(value)

    @model_validator(mode="after")
    def _one_source(self) -> ScriptActionSpec:
        if (self.script is None) == (self.script_file is None):
            raise ValueError("give exactly one of script or scriptFile")
        return self


class TriggerSpec(Spec):
    trigger_type: Name  # "4" or TRIGGER_TYPE_PRE_USERINFO_CREATION
    actions: tuple[Name, ...] = ()  # action names, in the order they run


class FlowSpec(Spec):
    flow_type: Name  # "2" or FLOW_TYPE_CUSTOMISE_TOKEN
    triggers: tuple[TriggerSpec, ...] = ()


class OrgSpec(Spec):
    name: Name
    metadata: dict[str, str] | None = None
    projects: tuple[ProjectSpec, ...] = ()
    users: tuple[UserSpec, ...] = ()
    actions: tuple[ScriptActionSpec, ...] | None = None
    flows: tuple[FlowSpec, ...] | None = None


class InterruptSpec(Spec):
    interrupt_on_error: bool = False


class AsyncSpec(Spec):
    pass


def _protojson_duration(value: Any) -> Any:
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if match is None:
            raise ValueError("a duration such as \"10s\"")
        return timedelta(seconds=float(match.group(1)))
    return value


class TargetSpec(Spec):
    """An Actions v2 target (`/v2/actions/targets`), matched by name."""

    name: Name
    endpoint: Name
    timeout: timedelta
    rest_webhook: InterruptSpec | None = None
    rest_call: InterruptSpec | None = None
    rest_async: AsyncSpec | None = None

    _timeout = field_validator("timeout", mode="before")(_protojson_duration)

    @model_validator(mode="after")
    def _one_type(self) -> TargetSpec:
        if sum(x is not None for x in (self.rest_webhook, self.rest_call, self.rest_async)) != 1:
            raise ValueError("exactly one of restWebhook, restCall, restAsync")
        return self


class CallConditionSpec(Spec):
    method: str = ""
    service: str = ""
    all: bool = False


class EventConditionSpec(Spec):
    event: str = ""
    group: str = ""
    all: bool = False


class FunctionConditionSpec(Spec):
    name: Name


class ConditionSpec(Spec):
    """One of `function`, `request`, `response`, `event`, as SetExecution's `condition`."""

    function: FunctionConditionSpec | None = None
    request: CallConditionSpec | None = None
    response: CallConditionSpec | None = None
    event: EventConditionSpec | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ConditionSpec:
        if sum(x is not None for x in (self.function, self.request, self.response, self.event)) != 1:
            raise ValueError("exactly one of function, request, response, event")
        return self


class ExecutionSpec(Spec):
    """An Actions v2 execution: its condition and the names of its targets, in order."""

    condition: ConditionSpec
    targets: tuple[Name, ...] = ()


class World(Spec):
    orgs: tuple[OrgSpec, ...] = ()
    targets: tuple[TargetSpec, ...] | None = None
    executions: tuple[ExecutionSpec, ...] | None = None


def _path(loc: Sequence[int | str]) -> str:
    """`('orgs', 0, 'projects', 1, 'name')` → `orgs[0].projects[1].name`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _message(error: Any) -> str:
    loc = [part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-"))]
    msg = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        msg = "unknown field"
    return f"{_path(loc)}: {msg}"


def _duplicates(items: Iterable[tuple[str, str]], what: str, *, fold: bool = False) -> None:
    """`fold`: the database compares these keys regardless of case (organization and user names)."""
    seen: set[str] = set()
    for path, key in items:
        folded = key.strip().lower() if fold else key
        if folded in seen:
            raise ConfigError(f"{path}: duplicate {what} {key!r}")
        seen.add(folded)


def _check_unique(world: World) -> None:
    """Natural keys must be unique where they match objects: one declaration, one object."""
    _duplicates(((f"targets[{i}].name", x.name) for i, x in enumerate(world.targets or ())), "target name")
    _duplicates(((f"orgs[{i}].name", o.name) for i, o in enumerate(world.orgs)), "organization name",
                fold=True)
    for i, org in enumerate(world.orgs):
        _duplicates(((f"orgs[{i}].projects[{j}].name", p.name) for j, p in enumerate(org.projects)), "project name")
        _duplicates(((f"orgs[{i}].users[{j}].userName", u.user_name) for j, u in enumerate(org.users)), "user name",
                    fold=True)
        _duplicates(((f"orgs[{i}].actions[{j}].name", a.name) for j, a in enumerate(org.actions or ())),
                    "action name")
        for j, project in enumerate(org.projects):
            at = f"orgs[{i}].projects[{j}]"
            _duplicates(((f"{at}.roles[{k}].key", r.key) for k, r in enumerate(project.roles or ())), "role key")
            _duplicates(((f"{at}.applications[{k}].name", a.name) for k, a in enumerate(project.applications or ())),
                        "application name")
            _duplicates(((f"{at}.grants[{k}].grantedOrg", g.granted_org) for k, g in enumerate(project.grants or ())),
                        "grant to organization", fold=True)
        for j, user in enumerate(org.users):
            at = f"orgs[{i}].users[{j}]"
            _duplicates(((f"{at}.grants[{k}].project", f"{(g.project_org or org.name).strip().lower()}/{g.project}")
                         for k, g in enumerate(user.grants or ())), "grant of project")


def parse(data: Any, source: str = "world file") -> World:
    """The world from already-loaded YAML; errors name the file and the path inside it."""
    if data is None:
        data = {}
    try:
        world = World.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{source}: {_message(first)}{more}") from None
    try:
        _check_unique(world)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    return world


def load(path: Path) -> World:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}:{where} not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    return parse(data, str(path))
