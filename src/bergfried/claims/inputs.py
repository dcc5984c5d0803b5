"""Two plain values the claims read besides the subject: the client's settings and one of the
user's grants. They live apart from `context.py` so that `subject.py`, which loads them in the
subject's own query, needs nothing else of the claims package."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """The settings that move claims (spec/claims.md §4), by the client that asked for the token.
    `project_id` is the project whose roles are "the project's roles" (introspection: the caller's)."""

    client_id: str
    project_id: str
    jwt_access_token: bool = False
    id_token_userinfo_assertion: bool = False
    id_token_role_assertion: bool = False
    access_token_role_assertion: bool = False
    project_role_assertion: bool = False

    def setting(self, name: str) -> bool:
        return {
            "idTokenUserinfoAssertion": self.id_token_userinfo_assertion,
            "idTokenRoleAssertion": self.id_token_role_assertion,
            "accessTokenRoleAssertion": self.access_token_role_assertion,
            "projectRoleAssertion": self.project_role_assertion,
            "accessTokenType": self.jwt_access_token,
        }[name]


@dataclass(frozen=True, slots=True)
class RoleGrant:
    """One active user grant, with its organization's primary domain (the roles claim's value)."""

    project_id: str
    org_id: str
    org_primary_domain: str
    role_keys: tuple[str, ...]
