"""Seed 003's claims matrix as data: claim × destination → the condition under which it is asserted.

Read it as the table it is. Each `Row` is one line of the seed (spec/claims.md §1 fills the lost
cells), plus the claims ZITADEL emits that the seed's table leaves out (`nickname`, `updated_at`,
`urn:zitadel:iam:org:id`, `urn:zitadel:iam:org:projects:roles`, `at_hash`, `c_hash`, and the
introspection members `active`, `scope`, `token_type`). `claims/assemble.py` is the only reader;
adding a row never needs a new `if` there, only a value in `claims/values.py`.

Where Bergfried departs from the seed's words, the row says why in `note` (spec/README.md
"Bergfried's decisions"). The access token column is the JWT access token: an opaque token
carries no claims, so every cell of that column also needs `accessTokenType` JWT.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bergfried.claims import scopes as sc


class Destination(enum.StrEnum):
    USERINFO = "userinfo"
    INTROSPECTION = "introspection"
    ID_TOKEN = "id_token"
    ACCESS_TOKEN = "access_token"


class When(enum.StrEnum):
    """The conditions of seed 003, in its own words."""

    NEVER = "never"
    ALWAYS = "always"
    REQUESTED = "when requested"
    REQUESTED_ID_TOKEN = "when requested and response_type is id_token"
    NONCE = "when provided in the authorization request"
    ACTOR = "after token exchange with an actor token"
    ROLES = "when requested or configured"
    BESIDE = "when returned beside an access token or a code"


# Settings, by their API JSON names (spec/claims.md §4).
ID_TOKEN_USERINFO = "idTokenUserinfoAssertion"  # "User Info inside ID Token"
ID_TOKEN_ROLES = "idTokenRoleAssertion"  # "User roles inside ID Token"
ACCESS_TOKEN_ROLES = "accessTokenRoleAssertion"
ACCESS_TOKEN_TYPE = "accessTokenType"
PROJECT_ROLE_ASSERTION = "projectRoleAssertion"  # "Assert Roles on Authentication"


@dataclass(frozen=True, slots=True)
class Cell:
    """`setting`: for REQUESTED_ID_TOKEN the setting that stands in for response_type `id_token`;
    for ROLES the app setting that must be on besides (the project's `projectRoleAssertion`
    always counts as "configured")."""

    when: When
    setting: str | None = None

    def describe(self, destination: Destination) -> str:
        text = self.when.value
        if self.setting and self.when == When.REQUESTED_ID_TOKEN:
            text += f", or {self.setting} is on"
        elif self.when == When.ROLES:
            text = f"when requested or {PROJECT_ROLE_ASSERTION} is on"
            if self.setting:
                text += f", and {self.setting} is on"
        if destination == Destination.ACCESS_TOKEN and self.when != When.NEVER:
            text = f"when the access token is a JWT and {text}" if self.when != When.ALWAYS else \
                "when the access token is a JWT"
        return text


@dataclass(frozen=True, slots=True)
class Requested:
    """What "requested" means for a row: one of these scopes, or a scope with one of these prefixes."""

    scopes: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()

    def by(self, scopes: tuple[str, ...]) -> str | None:
        """The first scope that asks for the row, or None."""
        for scope in scopes:
            if scope in self.scopes or (self.prefixes and scope.startswith(self.prefixes)):
                return scope
        return None

    def describe(self) -> str:
        return " or ".join([*sorted(self.scopes), *(p + "…" for p in self.prefixes)])


@dataclass(frozen=True, slots=True)
class Row:
    claim: str  # the seed's name; the JSON keys come from claims/values.py
    userinfo: Cell
    introspection: Cell
    id_token: Cell
    access_token: Cell
    requested: Requested = Requested()
    note: str = ""

    def cell(self, destination: Destination) -> Cell:
        return {
            Destination.USERINFO: self.userinfo, Destination.INTROSPECTION: self.introspection,
            Destination.ID_TOKEN: self.id_token, Destination.ACCESS_TOKEN: self.access_token,
        }[destination]


NO, YES = Cell(When.NEVER), Cell(When.ALWAYS)
REQ = Cell(When.REQUESTED)
REQ_ID = Cell(When.REQUESTED_ID_TOKEN, ID_TOKEN_USERINFO)
ACT = Cell(When.ACTOR)

_PROFILE = Requested(frozenset({sc.PROFILE}))
_EMAIL = Requested(frozenset({sc.EMAIL}))
_PHONE = Requested(frozenset({sc.PHONE}))
_ADDRESS = Requested(frozenset({sc.ADDRESS}))
_ROLES = Requested(frozenset({sc.PROJECTS_ROLES}), (sc.ROLE_PREFIX,))
_OWNER = Requested(frozenset({sc.RESOURCEOWNER}), (sc.ORG_ID_PREFIX,))


def _user_info(claim: str, requested: Requested, note: str = "") -> Row:
    return Row(claim, REQ, REQ, REQ_ID, NO, requested, note)


def _reserved(claim: str, requested: Requested, note: str = "") -> Row:
    return Row(claim, REQ, REQ, REQ, REQ, requested, note)


def _roles(claim: str, note: str = "") -> Row:
    return Row(claim, Cell(When.ROLES), Cell(When.ROLES), Cell(When.ROLES, ID_TOKEN_ROLES),
               Cell(When.ROLES, ACCESS_TOKEN_ROLES), _ROLES, note)


_INTROSPECTION_EXTRA = "seed 003 says No; emitted as ZITADEL's code does (spec/README.md decision)"

ROWS: tuple[Row, ...] = (
    Row("acr", NO, NO, YES, NO, note='"0" until MFA exists (spec/README.md decision; seed 003 "Yes")'),
    Row("act", NO, ACT, ACT, ACT),
    _user_info("address", _ADDRESS),
    Row("amr", NO, YES, YES, NO, note=_INTROSPECTION_EXTRA),
    Row("aud", NO, YES, YES, YES),
    Row("auth_time", NO, YES, YES, NO, note=_INTROSPECTION_EXTRA),
    Row("azp", NO, NO, YES, YES, note="introspection names the client `client_id` (row client_id)"),
    Row("client_id", NO, YES, YES, YES, note="seed 003 row azp: client_id when introspected"),
    _user_info("email", _EMAIL),
    _user_info("email_verified", _EMAIL),
    Row("exp", NO, YES, YES, YES),
    _user_info("family_name", _PROFILE),
    _user_info("gender", _PROFILE),
    _user_info("given_name", _PROFILE),
    Row("iat", NO, YES, YES, YES),
    Row("iss", NO, YES, YES, YES),
    Row("jti", NO, YES, NO, YES),
    _user_info("locale", _PROFILE),
    _user_info("name", _PROFILE),
    Row("nbf", NO, YES, NO, YES),
    _user_info("nickname", _PROFILE, "not in seed 003; profile claim (spec/scopes.md §2)"),
    Row("nonce", NO, NO, Cell(When.NONCE), NO),
    _user_info("phone", _PHONE, "JSON key phone_number (OIDC Core §5.1)"),
    _user_info("phone_verified", _PHONE, "JSON key phone_number_verified (OIDC Core §5.1)"),
    Row("preferred_username", REQ, REQ, YES, NO, _PROFILE),
    Row("username", NO, REQ, NO, NO, _PROFILE, "seed 003 row preferred_username: username when introspected"),
    Row("sid", NO, NO, YES, NO, note="only for a token of a login session"),
    Row("sub", YES, YES, YES, YES),
    _user_info("updated_at", _PROFILE, "not in seed 003; profile claim (spec/scopes.md §2)"),
    _reserved("urn:zitadel:iam:org:domain:primary:{domainname}", Requested(prefixes=(sc.ORG_DOMAIN_PREFIX,)),
              "JSON key urn:zitadel:iam:org:domain:primary, the domain of the scope (spec/claims.md §3)"),
    _reserved("urn:zitadel:iam:org:id:{id}", Requested(prefixes=(sc.ORG_ID_PREFIX,)),
              "not in seed 003; JSON key urn:zitadel:iam:org:id, the id of the scope (spec/claims.md §3)"),
    _roles("urn:zitadel:iam:org:project:roles"),
    _roles("urn:zitadel:iam:org:project:{projectid}:roles", "one claim per project in the role audience"),
    _roles("urn:zitadel:iam:org:projects:roles", "not in seed 003; ZITADEL since Sept 2025 (spec/claims.md §3)"),
    _reserved("urn:zitadel:iam:user:metadata", Requested(frozenset({sc.METADATA}))),
    _reserved("urn:zitadel:iam:user:resourceowner:id", _OWNER),
    _reserved("urn:zitadel:iam:user:resourceowner:name", _OWNER),
    _reserved("urn:zitadel:iam:user:resourceowner:primary_domain", _OWNER),
    Row("at_hash", NO, NO, Cell(When.BESIDE), NO, note="OIDC Core §3.1.3.6, §3.3.2.11"),
    Row("c_hash", NO, NO, Cell(When.BESIDE), NO, note="OIDC Core §3.3.2.11"),
    Row("active", NO, YES, NO, NO, note="RFC 7662 §2.2"),
    Row("scope", NO, YES, NO, NO, note="RFC 7662 §2.2"),
    Row("token_type", NO, YES, NO, NO, note="RFC 7662 §2.2"),
)

BY_CLAIM: dict[str, Row] = {row.claim: row for row in ROWS}
ROLE_ROWS = tuple(row for row in ROWS if row.requested is _ROLES)
