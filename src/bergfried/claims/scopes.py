"""Reserved and standard scopes, and ZITADEL's filter (spec/scopes.md §1): unknown or not
allowed scopes are dropped silently; role scopes only for role keys of the client's project."""

from __future__ import annotations

from collections.abc import Iterable

OPENID = "openid"
PROFILE = "profile"
EMAIL = "email"
PHONE = "phone"
ADDRESS = "address"
OFFLINE_ACCESS = "offline_access"
STANDARD = frozenset({OPENID, PROFILE, EMAIL, PHONE, ADDRESS, OFFLINE_ACCESS})

METADATA = "urn:zitadel:iam:user:metadata"
RESOURCEOWNER = "urn:zitadel:iam:user:resourceowner"
PROJECTS_ROLES = "urn:zitadel:iam:org:projects:roles"
ROLE_PREFIX = "urn:zitadel:iam:org:project:role:"
PROJECT_ID_PREFIX = "urn:zitadel:iam:org:project:id:"
ZITADEL_AUDIENCE = "urn:zitadel:iam:org:project:id:zitadel:aud"
ORG_ID_PREFIX = "urn:zitadel:iam:org:id:"
ORG_DOMAIN_PREFIX = "urn:zitadel:iam:org:domain:primary:"

_EXACT = frozenset({METADATA, RESOURCEOWNER, PROJECTS_ROLES})
_PREFIXES = (ORG_DOMAIN_PREFIX, ORG_ID_PREFIX, PROJECT_ID_PREFIX, "urn:zitadel:iam:org:idp:id:",
             "urn:zitadel:iam:org:roles:id:")


def parse(scope: str | None) -> list[str]:
    """Space-separated, order kept, duplicates dropped (RFC 6749 §3.3)."""
    return list(dict.fromkeys((scope or "").split()))


def allowed(scopes: Iterable[str], role_keys: Iterable[str]) -> tuple[str, ...]:
    """ZITADEL's `isScopeAllowed` filter for a client whose project has `role_keys`."""
    roles = {ROLE_PREFIX + key for key in role_keys}
    kept = [s for s in scopes if s in STANDARD or s in _EXACT or s in roles or s.startswith(_PREFIXES)]
    return tuple(dict.fromkeys(kept))


def with_asserted_roles(scopes: tuple[str, ...], role_keys: Iterable[str], asserted: bool) -> tuple[str, ...]:
    """ZITADEL's `assertProjectRoleScopesByProject` (spec/scopes.md §4): with the project's
    `projectRoleAssertion` and no role scope asked for, every role key of the project is asked for."""
    if not asserted or any(s.startswith(ROLE_PREFIX) for s in scopes):
        return scopes
    return tuple(dict.fromkeys([*scopes, *(ROLE_PREFIX + key for key in role_keys)]))


def audience_project_ids(scopes: Iterable[str]) -> list[str]:
    """Project ids from `urn:zitadel:iam:org:project:id:{id}:aud` scopes (not `zitadel`)."""
    out = []
    for scope in scopes:
        if scope.startswith(PROJECT_ID_PREFIX) and scope.endswith(":aud"):
            project_id = scope[len(PROJECT_ID_PREFIX):-len(":aud")]
            if project_id and project_id != "zitadel":
                out.append(project_id)
    return out
