"""The device authorization endpoint (RFC 8628 §3.1–3.2; spec/other-grants.md §5).

- The client authenticates as at the token endpoint (public clients send `client_id`); its
  application must have the device code grant (`OIDC_GRANT_TYPE_DEVICE_CODE`), else
  `unauthorized_client`.
- Scopes are handled like at authorize: unknown ones dropped, role scopes and
  `projectRoleAssertion` applied (spec/scopes.md); no scope at all is `invalid_request`
  (zitadel/oidc `ValidateAuthReqScopes`).
- The answer: `device_code` (random, URL-safe, kept hashed), `user_code` (8 characters of
  `BCDFGHJKLMNPQRSTVWXZ`, a dash after 4), `verification_uri` `{issuer}/device`,
  `verification_uri_complete` with the user code, `expires_in` (300), `interval` (5).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from urllib.parse import urlencode

from bergfried.claims import scopes as sc
from bergfried.crypto.hashing import generate_secret
from bergfried.domain.apps import GrantType
from bergfried.errors import InvalidRequest, ServerError, UnauthorizedClient
from bergfried.oidc import client_auth
from bergfried.services import Services
from bergfried.store import device_authorizations as store
from bergfried.store import projects as project_store

USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"  # ZITADEL's `OIDC.DeviceAuth.UserCode.CharSet`
POLL_INTERVAL = 5  # seconds, RFC 8628 §3.2 default and ZITADEL's
VERIFICATION_PATH = "/device"


def new_user_code() -> str:
    chars = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def normalize_user_code(value: str) -> str:
    """RFC 8628 §6.1: accept the code in any case and without (or with extra) dashes and spaces."""
    chars = "".join(ch for ch in value.upper() if ch.isalnum())
    return f"{chars[:4]}-{chars[4:]}" if len(chars) == 8 else chars


async def authorize_device(services: Services, authorization: str | None,
                           form: Mapping[str, str]) -> dict[str, str | int]:
    app = await client_auth.authenticate(services, client_auth.parse(authorization, form))
    if app.oidc is None or GrantType.DEVICE_CODE not in app.oidc.grant_types:
        raise UnauthorizedClient("The device code grant is not allowed for this client")
    requested = sc.parse(form.get("scope"))
    async with services.store.read() as conn:
        role_keys = [role.key for role in await project_store.list_roles(conn, app.project_id)]
        project = await project_store.find(conn, app.project_id)
    scopes = sc.with_asserted_roles(sc.allowed(requested, role_keys), role_keys,
                                    project is not None and project.project_role_assertion)
    if not scopes:
        raise InvalidRequest("The scope of your request is missing")
    device_code = generate_secret()
    lifetime = services.settings.device_code_lifetime
    async with services.store.write() as tx:
        for _ in range(5):
            user_code = new_user_code()
            if await store.add(tx, store.DeviceAuthorization(
                device_code_hash=services.hasher.hash(device_code), user_code=user_code, client_id=app.client_id,
                scopes=scopes, state=store.PENDING, poll_interval=POLL_INTERVAL, created_at=tx.now,
                expires_at=tx.now + lifetime,
            )):
                break
        else:
            raise ServerError("Could not draw a free user code")
    verification_uri = services.settings.issuer + VERIFICATION_PATH
    return {
        "device_code": device_code,
        "user_code": user_code,
        "verification_uri": verification_uri,
        "verification_uri_complete": f"{verification_uri}?{urlencode({'user_code': user_code})}",
        "expires_in": int(lifetime.total_seconds()),
        "interval": POLL_INTERVAL,
    }
