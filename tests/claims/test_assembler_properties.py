"""Properties of the one assembler over random users, grants, scopes and settings (hypothesis):
it never emits a claim its cell forbids and never omits one its cell requires. The cells are
judged here by an oracle written from seed 003's words, apart from claims/assemble.py. Also the
`act` cells (token exchange is a later issue, so they are checked at the assembler)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bergfried.claims import scopes as sc
from bergfried.claims.assemble import assemble, decide, role_audience
from bergfried.claims.context import ClientSettings, Context, RoleGrant, TokenFacts
from bergfried.claims.matrix import ROWS, Destination, Row, When
from bergfried.claims.subject import Subject
from bergfried.claims.values import PRODUCERS
from bergfried.domain.ids import OrgId, UserId
from bergfried.domain.orgs import Org, OrgState
from bergfried.domain.users import Address, Gender, HumanUser, MachineUser, Profile, UserState
from tests.claims.cells import present

ORG = Org(id=OrgId("201"), name="ACME", state=OrgState.ACTIVE, primary_domain="acme.example.com")
OWN, OTHER = "101", "102"
SCOPE_POOL = [
    "openid", "profile", "email", "phone", "address", "offline_access", sc.METADATA, sc.RESOURCEOWNER,
    f"{sc.ROLE_PREFIX}admin", f"{sc.ROLE_PREFIX}user", sc.PROJECTS_ROLES, f"{sc.PROJECT_ID_PREFIX}{OTHER}:aud",
    f"{sc.ORG_ID_PREFIX}201", f"{sc.ORG_DOMAIN_PREFIX}acme.example.com", "urn:zitadel:iam:org:roles:id:202",
]

texts = st.sampled_from(["", "x", "Road"])
humans = st.builds(
    lambda first, last, nick, gender, lang, email, verified, phone, street: HumanUser(
        id=UserId("301"), org_id=ORG.id, username="road", state=UserState.ACTIVE,
        profile=Profile(first_name=first, last_name=last, nick_name=nick, gender=gender, preferred_language=lang),
        email=email, is_email_verified=verified, phone=phone, is_phone_verified=verified,
        address=Address(street_address=street)),
    texts, texts, texts, st.sampled_from(list(Gender)), st.sampled_from(["", "en", "de-CH"]),
    st.sampled_from(["", "road@acme.ch"]), st.booleans(), st.sampled_from(["", "+41791234567"]), texts)
machines = st.just(MachineUser(id=UserId("302"), org_id=ORG.id, username="svc", state=UserState.ACTIVE, name="Svc"))
grants = st.lists(st.builds(RoleGrant, project_id=st.sampled_from([OWN, OTHER]), org_id=st.sampled_from(["201", "202"]),
                            org_primary_domain=st.just("d.example.com"),
                            role_keys=st.lists(st.sampled_from(["admin", "user", "viewer"]), unique=True).map(tuple)),
                  max_size=4)
clients = st.builds(ClientSettings, client_id=st.just("c@p"), project_id=st.just(OWN), jwt_access_token=st.booleans(),
                    id_token_userinfo_assertion=st.booleans(), id_token_role_assertion=st.booleans(),
                    access_token_role_assertion=st.booleans(), project_role_assertion=st.booleans())


def facts(response_type: str, nonce: str | None, actor: dict[str, Any] | None) -> TokenFacts:
    return TokenFacts(issuer="https://auth.example.com", client_id="c@p", audience=("c@p", OWN), issued_at=1,
                      expires_at=2, token_id="401", auth_time=1, amr=("pwd",), session_id="501", nonce=nonce,
                      actor=actor, at_hash="h", response_type=response_type)


def oracle(row: Row, destination: Destination, scopes: tuple[str, ...], client: ClientSettings,
           response_type: str) -> bool:
    """May the claim be asserted here? Seed 003's words, one by one."""
    cell = row.cell(destination)
    requested = any(s in row.requested.scopes or any(s.startswith(p) for p in row.requested.prefixes)
                    for s in scopes)
    if destination == Destination.ACCESS_TOKEN and not client.jwt_access_token:
        return False  # "When JWT"
    rules = {
        When.NEVER: False,
        When.ALWAYS: True,
        When.REQUESTED: requested,
        When.REQUESTED_ID_TOKEN: requested and (response_type == "id_token" or client.id_token_userinfo_assertion),
        When.NONCE: True, When.ACTOR: True, When.BESIDE: True,  # then only if there is a value
        When.ROLES: (requested or client.project_role_assertion) and (
            cell.setting is None or client.setting(cell.setting)),
    }
    return rules[cell.when]


@pytest.mark.rule("issue 5: the assembler never emits a claim its cell forbids, never omits one it requires")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(user=st.one_of(humans, machines), metadata=st.dictionaries(st.sampled_from(["a", "b"]), st.binary(max_size=4)),
       user_grants=grants, scopes=st.lists(st.sampled_from(SCOPE_POOL), unique=True).map(tuple), client=clients,
       destination=st.sampled_from(list(Destination)), response_type=st.sampled_from(["code", "id_token"]),
       nonce=st.one_of(st.none(), st.just("n")),
       actor=st.one_of(st.none(), st.just({"iss": "https://auth.example.com", "sub": "259241944654282754"})))
def test_cells_hold(user: HumanUser | MachineUser, metadata: dict[str, bytes], user_grants: list[RoleGrant],
                    scopes: tuple[str, ...], client: ClientSettings, destination: Destination, response_type: str,
                    nonce: str | None, actor: dict[str, Any] | None) -> None:
    subject = Subject(user=user, org=ORG, preferred_username="road@acme.example.com", metadata=metadata,
                      updated_at=datetime(2026, 1, 1, tzinfo=UTC))
    projects = role_audience(scopes, client, destination)
    ctx = Context(subject=subject, scopes=scopes, client=client, token=facts(response_type, nonce, actor),
                  grants=tuple(g for g in user_grants if g.project_id in projects), role_projects=projects)
    out = assemble(ctx, destination)
    for row in ROWS:
        if not oracle(row, destination, scopes, client, response_type):
            assert not present(out, row), f"{row.claim} forbidden in {destination} but emitted"
        elif PRODUCERS[row.claim](ctx):
            assert present(out, row), f"{row.claim} required in {destination} but left out"
    allowed_keys = {key for row in ROWS for key in PRODUCERS[row.claim](ctx)}
    assert set(out) <= allowed_keys
    # the hot paths' remembered rows (allowed_rows) give what the explained decisions give
    explained: dict[str, Any] = {}
    for decision in decide(ctx, destination):
        explained.update(decision.claims)
    assert out == explained


def _actor_context(actor: dict[str, Any] | None, jwt: bool) -> Context:
    user = MachineUser(id=UserId("302"), org_id=ORG.id, username="svc", state=UserState.ACTIVE, name="Svc")
    subject = Subject(user=user, org=ORG, preferred_username="svc", metadata={}, updated_at=datetime.now(UTC))
    return Context(subject=subject, scopes=("openid",), client=ClientSettings("c@p", OWN, jwt_access_token=jwt),
                   token=facts("code", None, actor))


ACTOR = {"iss": "https://auth.example.com", "sub": "259241944654282754"}


@pytest.mark.rule("seed 003 row act: after token exchange with an actor token")
@pytest.mark.parametrize(("destination", "emitted"), [
    (Destination.USERINFO, False), (Destination.INTROSPECTION, True), (Destination.ID_TOKEN, True),
    (Destination.ACCESS_TOKEN, True),
])
def test_act_after_token_exchange_with_an_actor(destination: Destination, emitted: bool) -> None:
    out = assemble(_actor_context(ACTOR, jwt=True), destination)
    assert (out.get("act") == ACTOR) is emitted
    assert "act" not in assemble(_actor_context(None, jwt=True), destination)


@pytest.mark.rule("seed 003 row act: in the access token only when it is a JWT")
def test_act_not_in_an_opaque_access_token() -> None:
    assert assemble(_actor_context(ACTOR, jwt=False), Destination.ACCESS_TOKEN) == {}
