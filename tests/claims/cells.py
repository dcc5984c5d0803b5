"""The cases of the matrix test, generated from the matrix data: for every cell of every
destination, the scenario that must show the claim and the scenario that must not (a negative
case for each condition). Scenarios are defined in tests/claims/world.py."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bergfried.claims.matrix import ROWS, Cell, Destination, Row, When
from tests.claims.world import Scenario

FULL = Scenario("full", "all")  # JWT; User Info / roles inside ID token; roles in the access token
NO_NONCE = Scenario("full", "all", nonce=False)
OPENID_ONLY = Scenario("full", "openid")
PLAIN = Scenario("plain", "all")  # opaque access token, every setting off
PLAIN_IMPLICIT = Scenario("plain", "all", "id_token")
BARE = Scenario("bare", "all")  # JWT access token, every setting off
ASSERTING = Scenario("asserting", "openid")  # project with Assert Roles on Authentication

# The JSON keys of each row where they differ from its name (spec/claims.md §3).
KEYS: dict[str, str] = {
    "phone": "phone_number",
    "phone_verified": "phone_number_verified",
    "urn:zitadel:iam:org:domain:primary:{domainname}": "urn:zitadel:iam:org:domain:primary",
    "urn:zitadel:iam:org:id:{id}": "urn:zitadel:iam:org:id",
}
PROJECT_ROLES = re.compile(r"urn:zitadel:iam:org:project:\d+:roles")


def present(payload: dict[str, Any], row: Row) -> bool:
    if row.claim == "urn:zitadel:iam:org:project:{projectid}:roles":
        return any(PROJECT_ROLES.fullmatch(key) for key in payload)
    return KEYS.get(row.claim, row.claim) in payload


@dataclass(frozen=True)
class Case:
    row: Row
    destination: Destination
    scenario: Scenario
    expect: bool
    why: str

    @property
    def cell(self) -> Cell:
        return self.row.cell(self.destination)

    @property
    def id(self) -> str:
        verdict = "emitted" if self.expect else "left-out"
        return f"{self.row.claim}|{self.destination.value}|{verdict}|{self.why}"


def _for_cell(row: Row, destination: Destination) -> list[Case]:
    cell = row.cell(destination)
    when = cell.when
    jwt_column = destination == Destination.ACCESS_TOKEN
    out: list[Case] = []

    def case(scenario: Scenario, expect: bool, why: str) -> None:
        out.append(Case(row, destination, scenario, expect, why))

    if when == When.NEVER:
        case(FULL, False, "never-even-with-everything-requested-and-on")
        return out
    if jwt_column:
        case(PLAIN, False, "opaque-access-token")
    if when == When.ALWAYS:
        case(FULL, True, "always")
    elif when == When.REQUESTED:
        case(FULL, True, "requested")
        case(OPENID_ONLY, False, "not-requested")
    elif when == When.REQUESTED_ID_TOKEN:
        case(FULL, True, "requested-with-idTokenUserinfoAssertion")
        case(PLAIN_IMPLICIT, True, "requested-with-response_type-id_token")
        case(PLAIN, False, "requested-but-setting-off-and-code-flow")
        case(OPENID_ONLY, False, "not-requested")
    elif when == When.NONCE:
        case(FULL, True, "nonce-sent")
        case(NO_NONCE, False, "no-nonce")
    elif when == When.ACTOR:
        case(FULL, False, "no-token-exchange")  # the positive case is tested at the assembler (test_actor.py)
    elif when == When.ROLES:
        case(FULL, True, "requested")
        case(ASSERTING, True, "configured-projectRoleAssertion")
        case(OPENID_ONLY, False, "not-requested-not-configured")
        if cell.setting:
            case(BARE, False, f"requested-but-{cell.setting}-off")
    elif when == When.BESIDE:
        if row.claim == "at_hash":
            case(FULL, True, "access-token-beside")
            case(PLAIN_IMPLICIT, False, "no-access-token-beside")
        else:
            case(FULL, False, "no-code-beside-at-the-token-endpoint")
    return out


CASES: list[Case] = [c for row in ROWS for destination in Destination for c in _for_cell(row, destination)]
SCENARIOS: list[Scenario] = list(dict.fromkeys(c.scenario for c in CASES))
