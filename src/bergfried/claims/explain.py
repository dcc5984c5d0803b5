"""`bergfried claims explain`: every claim a user would get from a client for a scope, emitted or
left out, with the matrix cell and the setting that decided it. It runs the same scope filter as
the authorization endpoint, the same login gates as the callback and the same assembler as the
token, userinfo and introspection endpoints, so its verdict is the real one (tests compare it
with real tokens). `explain()` is a plain function: the CLI prints it, the management API can
serve `Explanation.to_json()`.

The token facts are those of a token made now after a password login (`amr` `pwd`, a login
session); introspection is shown as an API app of the client's own project would see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.claims import load
from bergfried.claims import scopes as sc
from bergfried.claims import subject as subject_loader
from bergfried.claims.assemble import Decision, decide
from bergfried.claims.context import ClientSettings, TokenFacts, client_settings
from bergfried.claims.matrix import Destination
from bergfried.errors import NotFound
from bergfried.oidc import login_gates
from bergfried.store import apps as app_store
from bergfried.store import projects as project_store
from bergfried.store.tx import Tx
from bergfried.tokens.issue import audience_for

PLACEHOLDER_TOKEN_ID = "(the access token's id)"
PLACEHOLDER_HASH = "(hash of the access token)"


@dataclass(frozen=True, slots=True)
class Explanation:
    user_id: str
    client_id: str
    requested_scopes: tuple[str, ...]
    scopes: tuple[str, ...]  # after ZITADEL's filter and the project's role assertion
    settings: ClientSettings
    response_type: str
    notes: tuple[str, ...]
    decisions: dict[Destination, list[Decision]]

    def to_json(self) -> dict[str, Any]:
        return {
            "userId": self.user_id, "clientId": self.client_id, "responseType": self.response_type,
            "requestedScopes": list(self.requested_scopes), "scopes": list(self.scopes),
            "droppedScopes": [s for s in self.requested_scopes if s not in self.scopes],
            "settings": {name: self.settings.setting(name) for name in (
                "accessTokenType", "idTokenUserinfoAssertion", "idTokenRoleAssertion", "accessTokenRoleAssertion",
                "projectRoleAssertion")},
            "notes": list(self.notes),
            "destinations": {
                destination.value: [
                    {"claim": d.claim, "emitted": d.emitted, "cell": d.cell.describe(destination),
                     "reason": d.reason, **({"value": d.claims} if d.emitted else {})}
                    for d in decisions
                ]
                for destination, decisions in self.decisions.items()
            },
        }

    def render(self) -> str:
        lines = [f"user {self.user_id}, client {self.client_id}, response_type {self.response_type}",
                 f"scopes asked: {' '.join(self.requested_scopes) or '(none)'}",
                 f"scopes kept:  {' '.join(self.scopes) or '(none)'}"]
        lines += [f"note: {note}" for note in self.notes]
        for destination, decisions in self.decisions.items():
            lines.append(f"\n{destination.value}")
            for d in decisions:
                mark = "+" if d.emitted else "-"
                keys = ", ".join(d.claims) if d.emitted else d.claim
                lines.append(f"  {mark} {keys}: {d.reason}  [cell: {d.cell.describe(destination)}]")
        return "\n".join(lines)


async def explain(tx: Tx, *, issuer: str, user_id: str, client_id: str, scope: str, must_be_domain: bool,
                  destinations: tuple[Destination, ...] = tuple(Destination), response_type: str = "code",
                  nonce: str | None = None) -> Explanation:
    """Raises `NotFound` for an unknown user or client. Reads only; `tx` is never written."""
    conn = tx.conn
    found = await app_store.find_by_client_id(conn, client_id)
    if found is None:
        raise NotFound("Errors.App.NotFound", "App not found", detail=f"client_id {client_id}")
    app = found[0]
    subject = await subject_loader.load(conn, user_id, must_be_domain=must_be_domain)
    if subject is None:
        raise NotFound("Errors.User.NotFound", "User could not be found", detail=f"user {user_id}")
    client = await client_settings(conn, app)
    requested = tuple(sc.parse(scope))
    role_keys = [role.key for role in await project_store.list_roles(conn, app.project_id)]
    scopes = sc.with_asserted_roles(sc.allowed(requested, role_keys), role_keys, client.project_role_assertion)
    notes = await _notes(conn, subject.user.id, client, scopes, response_type)
    now = int(tx.now.timestamp())
    facts = TokenFacts(issuer=issuer, client_id=app.client_id, audience=await audience_for(conn, app, scopes),
                       issued_at=now, expires_at=now, token_id=PLACEHOLDER_TOKEN_ID, auth_time=now, amr=("pwd",),
                       session_id="(the login session)", nonce=nonce, response_type=response_type,
                       at_hash=PLACEHOLDER_HASH if response_type != "id_token" else None)
    ctx = await load.context(conn, subject, scopes, client, facts, *destinations)
    decisions = {destination: decide(ctx, destination) for destination in destinations}
    return Explanation(user_id=subject.user.id, client_id=app.client_id, requested_scopes=requested, scopes=scopes,
                       settings=client, response_type=response_type, notes=notes, decisions=decisions)


async def _notes(conn: AsyncConnection, user_id: str, client: ClientSettings, scopes: tuple[str, ...],
                 response_type: str) -> tuple[str, ...]:
    notes = []
    refusal = await login_gates.check(conn, user_id=user_id, client_id=client.client_id, scopes=scopes)
    if refusal is not None:
        notes.append(f"the login would be refused: {refusal.key} ({refusal.reason}); no token at all")
    if sc.OPENID not in scopes:
        notes.append("no ID token: the scope openid is missing")
    if response_type == "id_token":
        notes.append("response_type id_token: no access token, so no userinfo, introspection or access token")
    if not client.jwt_access_token:
        notes.append("the access token is opaque (accessTokenType BEARER): its claims come from userinfo "
                     "and introspection")
    return tuple(notes)
