"""What the two machine-user grants share (spec/other-grants.md §1, §2): no application takes
part, so the "client" is the machine user itself.

- `client_id` in the tokens is the machine user's user name; the access token type is the
  user's `accessTokenType` (opaque by default, or JWT).
- The audience comes only from `urn:zitadel:iam:org:project:id:{id}:aud` scopes (and
  `…:zitadel:aud`): the projects named there. Without them no API finds the token active.
- Scopes: standard, reserved and role scopes; org scopes only of the user's own organization.
- Never a refresh token (`offline_access` is dropped) and no ID token: ZITADEL builds one with a
  zero lifetime (`exp` = `iat`) that no relying party could accept; its docs list none.
"""

from __future__ import annotations

from bergfried.claims import scopes as sc
from bergfried.claims.context import ClientSettings
from bergfried.claims.subject import Subject
from bergfried.domain.apps import AppKind, Application
from bergfried.domain.ids import AppId, ProjectId
from bergfried.domain.users import AccessTokenType, MachineUser
from bergfried.oidc.grants._common import active_subject, checked
from bergfried.services import Services
from bergfried.store import instances as instance_store
from bergfried.store.tokens import Grant
from bergfried.store.tx import Tx
from bergfried.tokens.issue import Issued, TokenRequest, issue


def requested_scopes(scope: str | None) -> tuple[str, ...]:
    """ZITADEL's filter for machine clients (`client_credentials.go` `IsScopeAllowed`): standard and
    reserved scopes, and every role scope; anything else is dropped silently, `offline_access` too."""
    kept = sc.allowed(sc.parse(scope), ())
    roles = [s for s in sc.parse(scope) if s.startswith(sc.ROLE_PREFIX)]
    return tuple(s for s in dict.fromkeys([*kept, *roles]) if s != sc.OFFLINE_ACCESS)


def _own_org_scopes(scopes: tuple[str, ...], subject: Subject) -> tuple[str, ...]:
    """`client.go` `checkOrgScopes`: an org id or primary-domain scope of another organization is
    dropped silently."""
    def own(scope: str) -> bool:
        if scope.startswith(sc.ORG_ID_PREFIX):
            return scope[len(sc.ORG_ID_PREFIX):] == subject.user.org_id
        if scope.startswith(sc.ORG_DOMAIN_PREFIX):
            return scope[len(sc.ORG_DOMAIN_PREFIX):] == subject.org.primary_domain
        return True
    return tuple(s for s in scopes if own(s))


async def _audience(tx: Tx, scopes: tuple[str, ...]) -> tuple[str, ...]:
    projects = list(sc.audience_project_ids(scopes))
    if sc.ZITADEL_AUDIENCE in scopes:
        instance = await instance_store.get(tx.conn)
        if instance is not None and instance.zitadel_project_id:
            projects.append(instance.zitadel_project_id)
    return tuple(dict.fromkeys(projects))


def client_of(user: MachineUser, *, role_assertion: bool = False) -> ClientSettings:
    """The settings a machine user's tokens are made with (no project of its own); the JWT profile
    grant turns role assertion on (spec/other-grants.md §2)."""
    return ClientSettings(client_id=user.username, project_id="",
                          jwt_access_token=user.access_token_type == AccessTokenType.JWT,
                          access_token_role_assertion=role_assertion)


async def issue_for(services: Services, tx: Tx, user: MachineUser, scopes: tuple[str, ...],
                    amr: tuple[str, ...], *, role_assertion: bool = False, subject: Subject | None = None) -> Issued:
    """`subject`: the user as already loaded with its credentials (client_credentials), else read."""
    if subject is None:
        subject = await active_subject(services, tx, user.id)
    else:
        subject, _ = await checked(tx, user.id, subject, None, None)
    scopes = _own_org_scopes(scopes, subject)
    app = Application(id=AppId(user.id), project_id=ProjectId(""), org_id=user.org_id, name=user.username,
                      kind=AppKind.API, client_id=user.username)
    grant = Grant(client_id=user.username, user_id=user.id, scopes=scopes, audience=await _audience(tx, scopes),
                  auth_time=tx.now, amr=amr)
    return await issue(services, tx, TokenRequest(app=app, subject=subject, grant=grant, family_id=tx.new_id(),
                                                  client=client_of(user, role_assertion=role_assertion),
                                                  with_id_token=False))
