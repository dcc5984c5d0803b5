"""What the two machine-user grants share (spec/other-grants.md §1, §2): no application takes
part, so the "client" is the machine user itself.

- `client_id` in the tokens is the machine user's user name; the access token type is the
  user's `accessTokenType` (opaque by default, or JWT).
- The audience comes only from `urn:zitadel:iam:org:project:id:{id}:aud` scopes (and
  `…:zitadel:aud`): the projects named there. Without them no API finds the token active.
- Never a refresh token (`offline_access` is dropped) and no ID token: ZITADEL builds one with a
  zero lifetime (`exp` = `iat`) that no relying party could accept; its docs list none.
"""

from __future__ import annotations

from bergfried.claims import scopes as sc
from bergfried.claims.context import ClientSettings
from bergfried.domain.apps import AppKind, Application
from bergfried.domain.ids import AppId, ProjectId
from bergfried.domain.users import AccessTokenType, MachineUser
from bergfried.oidc.grants._common import active_subject
from bergfried.services import Services
from bergfried.store import instances as instance_store
from bergfried.store.tokens import Grant
from bergfried.store.tx import Tx
from bergfried.tokens.issue import Issued, TokenRequest, issue


def requested_scopes(scope: str | None) -> tuple[str, ...]:
    return tuple(s for s in dict.fromkeys(sc.parse(scope)) if s != sc.OFFLINE_ACCESS)


async def _audience(tx: Tx, scopes: tuple[str, ...]) -> tuple[str, ...]:
    projects = list(sc.audience_project_ids(scopes))
    if sc.ZITADEL_AUDIENCE in scopes:
        instance = await instance_store.get(tx.conn)
        if instance is not None and instance.zitadel_project_id:
            projects.append(instance.zitadel_project_id)
    return tuple(dict.fromkeys(projects))


def client_of(user: MachineUser) -> ClientSettings:
    """The settings a machine user's tokens are made with (no project of its own)."""
    return ClientSettings(client_id=user.username, project_id="",
                          jwt_access_token=user.access_token_type == AccessTokenType.JWT)


async def issue_for(services: Services, tx: Tx, user: MachineUser, scopes: tuple[str, ...],
                    amr: tuple[str, ...]) -> Issued:
    subject = await active_subject(services, tx, user.id)
    app = Application(id=AppId(user.id), project_id=ProjectId(""), org_id=user.org_id, name=user.username,
                      kind=AppKind.API, client_id=user.username)
    grant = Grant(client_id=user.username, user_id=user.id, scopes=scopes, audience=await _audience(tx, scopes),
                  auth_time=tx.now, amr=amr)
    return await issue(services, tx, TokenRequest(app=app, subject=subject, grant=grant, family_id=tx.new_id(),
                                                  client=client_of(user), with_id_token=False))
