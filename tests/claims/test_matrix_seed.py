"""The matrix data (claims/matrix.py) says what seed 003 says, read from the seed's own text; the
cells spec/claims.md §1 fills in, and every departure, are listed here with their source."""

from __future__ import annotations

from pathlib import Path

import pytest

from bergfried.claims.matrix import BY_CLAIM, ROWS, Destination, When

SEED = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "003_e5623d54238b7b76.txt"
COLUMNS = (Destination.USERINFO, Destination.INTROSPECTION, Destination.ID_TOKEN, Destination.ACCESS_TOKEN)

WORDS = {
    "No": When.NEVER,
    "Yes": When.ALWAYS,
    "When requested": When.REQUESTED,
    "When requested and response_type id_token": When.REQUESTED_ID_TOKEN,
    "When provided in the authorization request 1": When.NONCE,
    "After Token Exchange with actor_token": When.ACTOR,
    "When requested or configured": When.ROLES,
}

# spec/claims.md §1: the seed's row without a name is `email`; the seed's combined rows.
NAMES = {"": "email", "azp (client_id when Introspect)": "azp",
         "preferred_username (username when Introspect)": "preferred_username"}

# (claim, destination) → (the cell Bergfried has, where the decision is written down)
DEPARTURES: dict[tuple[str, Destination], tuple[When, str]] = {
    ("amr", Destination.INTROSPECTION): (When.ALWAYS, "spec/README.md decision: amr, auth_time in introspection"),
    ("auth_time", Destination.INTROSPECTION): (When.ALWAYS, "spec/README.md decision"),
    ("azp", Destination.INTROSPECTION): (When.NEVER, "seed 003: client_id when introspected (row client_id)"),
    ("urn:zitadel:iam:org:project:roles", Destination.USERINFO): (When.ROLES, "spec/scopes.md §4"),
    ("urn:zitadel:iam:org:project:roles", Destination.INTROSPECTION): (When.ROLES, "spec/scopes.md §4"),
}


def seed_rows() -> dict[str, tuple[When, ...]]:
    rows: dict[str, tuple[When, ...]] = {}
    lines = SEED.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Claims | Userinfo"))
    for line in lines[start + 1:]:
        if line.startswith("Standard Claims"):
            break
        cells = [c.strip() for c in line.split("|")]
        if cells[0] == "When requested":  # the row whose name the extraction lost (spec/claims.md §1)
            cells = ["", *cells]
        name = NAMES.get(cells[0], cells[0])
        rows[name] = tuple(_word(cells[1 + i], column) for i, column in enumerate(COLUMNS))
    return rows


def _word(text: str, column: Destination) -> When:
    if column == Destination.ACCESS_TOKEN and text.startswith("When JWT"):
        rest = text.removeprefix("When JWT").removeprefix(" and ")
        if not rest:
            return When.ALWAYS
        text = rest[0].upper() + rest[1:] if rest.startswith("after") else f"When {rest}"
    return WORDS[text]


SEED_ROWS = seed_rows()


@pytest.mark.rule("seed 003: the matrix has every row of the seed")
def test_every_seed_row_is_in_the_matrix() -> None:
    assert len(SEED_ROWS) == 31
    assert set(SEED_ROWS) <= set(BY_CLAIM), set(SEED_ROWS) - set(BY_CLAIM)


@pytest.mark.rule("seed 003: every cell as the seed says, or a listed decision")
@pytest.mark.parametrize(("claim", "destination"), [(c, d) for c in SEED_ROWS for d in COLUMNS])
def test_cell_agrees_with_the_seed(claim: str, destination: Destination) -> None:
    ours = BY_CLAIM[claim].cell(destination).when
    seed = SEED_ROWS[claim][COLUMNS.index(destination)]
    expected = DEPARTURES.get((claim, destination), (seed, "seed 003"))[0]
    assert ours == expected, f"{claim} × {destination}: seed says {seed}, matrix has {ours}"


@pytest.mark.rule("seed 003: combined rows — client_id and username when introspected")
def test_introspection_names() -> None:
    assert BY_CLAIM["client_id"].cell(Destination.INTROSPECTION).when == When.ALWAYS
    assert BY_CLAIM["username"].cell(Destination.INTROSPECTION).when == When.REQUESTED


def test_rows_beyond_the_seed_say_where_they_come_from() -> None:
    extra = [row for row in ROWS if row.claim not in SEED_ROWS]
    assert extra
    for row in extra:
        assert row.note, f"{row.claim} is not in seed 003 and says nothing about its source"
