"""The one assembler: reads the matrix (claims/matrix.py) for a destination and decides, row by
row, whether the claim is emitted, and why. Userinfo, introspection, the ID token and the JWT
access token all get their whole payload from here; `claims/explain.py` shows the same decisions.

A cell allows a claim; the claim is emitted only when its producer also has a value (a user
without an e-mail gets no `email`). A role row also needs the grants, which the callers load
only when `needs_roles` says a roles claim can be emitted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from bergfried.claims import roles
from bergfried.claims.context import ClientSettings, Context
from bergfried.claims.matrix import (
    PROJECT_ROLE_ASSERTION,
    ROLE_ROWS,
    ROWS,
    Cell,
    Destination,
    Row,
    When,
)
from bergfried.claims.values import PRODUCERS

__all__ = ["Decision", "Destination", "allowed_rows", "assemble", "decide", "needs_roles", "role_audience"]


@dataclass(frozen=True, slots=True)
class Decision:
    claim: str
    destination: Destination
    cell: Cell
    emitted: bool
    reason: str
    claims: dict[str, Any] = field(default_factory=dict)


def _allowed(row: Row, cell: Cell, scopes: tuple[str, ...], client: ClientSettings, destination: Destination,
             response_type: str) -> tuple[bool, str]:
    """Does the cell allow the claim here? With the reason, in the matrix's words."""
    if destination == Destination.ACCESS_TOKEN and cell.when != When.NEVER and not client.jwt_access_token:
        return False, "the access token is opaque (accessTokenType BEARER): it carries no claims"
    when = cell.when
    if when == When.NEVER:
        return False, "the matrix never asserts it here"
    if when in (When.ALWAYS, When.NONCE, When.ACTOR, When.BESIDE):
        return True, cell.describe(destination)
    scope = row.requested.by(scopes)
    if when == When.REQUESTED:
        if scope is None:
            return False, f"not requested: no scope {row.requested.describe()}"
        return True, f"requested by scope {scope}"
    if when == When.REQUESTED_ID_TOKEN:
        if scope is None:
            return False, f"not requested: no scope {row.requested.describe()}"
        if response_type == "id_token":
            return True, f"requested by scope {scope} and response_type is id_token"
        if cell.setting and client.setting(cell.setting):
            return True, f"requested by scope {scope} and {cell.setting} is on"
        return False, f"requested by scope {scope}, but {cell.setting} is off and response_type is not id_token"
    # When.ROLES
    if cell.setting and not client.setting(cell.setting):
        return False, f"{cell.setting} is off"
    if scope is not None:
        return True, f"requested by scope {scope}" + (f" and {cell.setting} is on" if cell.setting else "")
    if client.project_role_assertion:
        return True, f"{PROJECT_ROLE_ASSERTION} is on" + (f" and {cell.setting} is on" if cell.setting else "")
    return False, f"not requested (no scope {row.requested.describe()}) and {PROJECT_ROLE_ASSERTION} is off"


_NO_VALUE = {
    When.NONCE: "no nonce was sent in the authorization request",
    When.ACTOR: "the token does not come from a token exchange with an actor token",
    When.BESIDE: "nothing was returned beside it",
}


def _decide_row(row: Row, ctx: Context, destination: Destination) -> Decision:
    cell = row.cell(destination)
    allowed, reason = _allowed(row, cell, ctx.scopes, ctx.client, destination, ctx.token.response_type)
    if not allowed:
        return Decision(row.claim, destination, cell, False, reason)
    claims = PRODUCERS[row.claim](ctx)
    if not claims:
        return Decision(row.claim, destination, cell, False, f"{reason}; but {_NO_VALUE.get(cell.when, 'no value')}")
    return Decision(row.claim, destination, cell, True, reason, claims)


def decide(ctx: Context, destination: Destination) -> list[Decision]:
    return [_decide_row(row, ctx, destination) for row in ROWS]


@lru_cache(maxsize=4096)
def allowed_rows(scopes: tuple[str, ...], client: ClientSettings, destination: Destination,
                 response_type: str) -> tuple[Row, ...]:
    """The rows whose cell allows their claim here: the same `_allowed` as `decide`, without the
    reasons, remembered per (scopes, settings, destination, response_type). A token's scopes and
    its client's settings repeat across requests, so the hot paths skip the matrix walk."""
    return tuple(row for row in ROWS
                 if _allowed(row, row.cell(destination), scopes, client, destination, response_type)[0])


def assemble(ctx: Context, destination: Destination) -> dict[str, Any]:
    """The payload `decide` would give (tests/claims/test_assemble_fast_path.py holds them equal)."""
    out: dict[str, Any] = {}
    for row in allowed_rows(ctx.scopes, ctx.client, destination, ctx.token.response_type):
        out.update(PRODUCERS[row.claim](ctx))
    return out


def needs_roles(scopes: tuple[str, ...], client: ClientSettings, destination: Destination) -> bool:
    """Can a roles claim be emitted? Only then are the user's grants worth a query."""
    return any(_allowed(row, row.cell(destination), scopes, client, destination, "code")[0] for row in ROLE_ROWS)


@lru_cache(maxsize=4096)
def role_audience(scopes: tuple[str, ...], client: ClientSettings, destination: Destination) -> tuple[str, ...]:
    """The projects whose grants to load for this destination (empty when no roles claim can be
    emitted); remembered like `allowed_rows`, as it depends on nothing else."""
    if not needs_roles(scopes, client, destination):
        return ()
    return roles.role_audience(scopes, client.project_id, introspection=destination == Destination.INTROSPECTION,
                               asserted=client.project_role_assertion)
