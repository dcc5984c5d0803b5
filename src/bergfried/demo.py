"""`bergfried start --demo`: the world of the seed guide "User Metadata", idempotent.

Project `docs-claims` with two roles; a web application with the code flow, redirect
`http://localhost`, Basic client authentication, "User Info inside ID Token" off; the human
user Road Runner with metadata `contract` = `1234` and a grant of the role `user`.
The client secret exists only as a hash: it is shown on the start that creates the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from bergfried.crypto.hashing import generate_secret
from bergfried.crypto.passwords import hash_password
from bergfried.domain.apps import AppType, AuthMethodType, GrantType, OIDCConfig, ResponseType
from bergfried.domain.instance import Instance
from bergfried.domain.metadata import Metadata
from bergfried.domain.policies import check_password
from bergfried.domain.projects import Project, ProjectRole
from bergfried.domain.users import HumanUser, Profile, preferred_login_name
from bergfried.errors import ConfigError, InvalidArgument
from bergfried.services import Services
from bergfried.store import apps, grants, metadata, orgs, projects, users
from bergfried.store.tx import Tx

PROJECT = "docs-claims"
ROLES = (("admin", "Administrator"), ("user", "User"))  # (key, display name)
APP = "docs-claims-web"
USERNAME = "road.runner"
REDIRECT_URI = "http://localhost"
SCOPES = "openid profile email urn:zitadel:iam:user:metadata"


@dataclass(frozen=True, slots=True)
class DemoWorld:
    issuer: str
    client_id: str
    client_secret: str | None  # None: created on an earlier start, only its hash is kept
    login_name: str
    password: str
    project_id: str
    user_id: str

    def authorize_url(self) -> str:
        query = urlencode({"client_id": self.client_id, "redirect_uri": REDIRECT_URI, "response_type": "code",
                           "scope": SCOPES})
        return f"{self.issuer}/oauth/v2/authorize?{query}"


async def _project(tx: Tx, org_id: str) -> Project:
    project = await projects.find_by_name(tx.conn, org_id, PROJECT)
    if project is None:
        project, _ = await projects.create(tx, org_id, PROJECT)
        await projects.add_roles(tx, project, [ProjectRole(project_id=project.id, key=key, display_name=name)
                                               for key, name in ROLES])
    return project


async def _user(tx: Tx, org_id: str, password: str, project: Project) -> HumanUser:
    org = await orgs.get(tx.conn, org_id)
    existing = await users.find_by_login_name(tx.conn, f"{USERNAME}@{org.primary_domain}", must_be_domain=True)
    if isinstance(existing, HumanUser):
        return existing
    user, _ = await users.create_human(
        tx, org_id, USERNAME,
        Profile(first_name="Road", last_name="Runner", nick_name="Beep", display_name="Road Runner",
                preferred_language="en"),
        f"{USERNAME}@{org.primary_domain}", email_verified=True, password_hash=hash_password(password),
    )
    await metadata.set_many(tx, user, [Metadata(key="contract", value=b"1234")])
    await grants.add_user_grant(tx, user, project, ["user"])
    return user


async def ensure_demo(services: Services, instance: Instance) -> DemoWorld:
    password = services.settings.demo_password.get_secret_value()
    try:
        check_password(services.policies.password, password)
    except InvalidArgument as exc:
        raise ConfigError(f"BERGFRIED_DEMO_PASSWORD does not meet the password policy: {exc.description}") from None
    secret: str | None = None
    async with services.store.write() as tx:
        org_id = instance.default_org_id
        project = await _project(tx, org_id)
        app = await apps.find_by_name(tx.conn, project.id, APP)
        if app is None:
            secret = generate_secret()
            config = OIDCConfig(
                redirect_uris=(REDIRECT_URI,), post_logout_redirect_uris=(REDIRECT_URI,),
                response_types=(ResponseType.CODE,), grant_types=(GrantType.AUTHORIZATION_CODE,),
                app_type=AppType.WEB, auth_method_type=AuthMethodType.BASIC, id_token_userinfo_assertion=False,
            )
            app, _ = await apps.add_oidc(tx, project, APP, config, secret_hash=services.hasher.hash(secret))
        user = await _user(tx, org_id, password, project)
        org = await orgs.get(tx.conn, org_id)
    login_name = preferred_login_name(user.username, org.primary_domain,
                                      must_be_domain=services.policies.domain.user_login_must_be_domain)
    return DemoWorld(issuer=services.settings.issuer, client_id=app.client_id, client_secret=secret,
                     login_name=login_name, password=password, project_id=project.id, user_id=user.id)
