"""One planned change: what it does (printable), where it comes from in the file, and the step
that performs it inside the apply's transaction.

Steps find their objects through `Context` by natural key, so a step can use what an earlier
step of the same plan created (a role of a project created two lines above).
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from bergfried.domain.instance import Instance
from bergfried.domain.projects import Project
from bergfried.domain.users import User
from bergfried.services import Services
from bergfried.store.tx import Tx


class Kind(enum.StrEnum):
    CREATE = "create"
    CHANGE = "change"
    DELETE = "delete"


SIGNS = {Kind.CREATE: "+", Kind.CHANGE: "~", Kind.DELETE: "-"}


@dataclass(frozen=True, slots=True)
class NewSecret:
    """A client secret made by this apply: handed out once, stored only as a keyed hash."""

    target: str
    client_id: str
    secret: str


@dataclass(slots=True)
class Context:
    tx: Tx
    services: Services
    instance: Instance
    base_dir: Path  # passwordFile paths are relative to the world file
    environ: Mapping[str, str]
    orgs: dict[str, str] = field(default_factory=dict)  # lower-case name → id
    projects: dict[tuple[str, str], Project] = field(default_factory=dict)  # (org key, name)
    users: dict[tuple[str, str], User] = field(default_factory=dict)  # (org key, lower-case user name)
    secrets: list[NewSecret] = field(default_factory=list)

    def org_id(self, org: str) -> str:
        return self.orgs[org.strip().lower()]

    def project(self, org: str, name: str) -> Project:
        return self.projects[(org.strip().lower(), name)]

    def user(self, org: str, user_name: str) -> User:
        return self.users[(org.strip().lower(), user_name.strip().lower())]


Step = Callable[[Context], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Action:
    kind: Kind
    what: str  # organization, project, role, application, user, metadata, grant, client secret
    target: str  # `ACME/docs-claims/admin`
    source: str  # where in the file: `orgs[0].projects[0].roles[1]`
    step: Step = field(repr=False, compare=False)
    changes: tuple[str, ...] = ()

    def render(self) -> str:
        line = f"{SIGNS[self.kind]} {self.kind} {self.what} {self.target}"
        return f"{line}: {'; '.join(self.changes)}" if self.changes else line


def diff(fields: Mapping[str, tuple[Any, Any]]) -> tuple[str, ...]:
    """`name: old → new` for every field whose current and wanted values differ."""
    return tuple(f"{name}: {_show(old)} → {_show(new)}" for name, (old, new) in fields.items() if old != new)


def camel(name: str) -> str:
    """A field as the file names it: `id_token_role_assertion` → `idTokenRoleAssertion`."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _show(value: Any) -> str:
    """Values as the file writes them: `true`, `1.5s`, `OIDC_APP_TYPE_WEB`, `'text'`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, timedelta):
        return f"{value.total_seconds():g}s"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return repr(value)


def summary(actions: list[Action]) -> str:
    counts = {kind: sum(1 for a in actions if a.kind == kind) for kind in Kind}
    return (f"{counts[Kind.CREATE]} to create, {counts[Kind.CHANGE]} to change, "
            f"{counts[Kind.DELETE]} to delete")
