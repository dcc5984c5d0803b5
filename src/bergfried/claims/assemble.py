"""The one assembler of user claims, per destination (seed 003's matrix; spec/claims.md §2–§3).

Protocol claims (`iss`, `aud`, `exp`, `iat`, `azp`, `nonce`, `at_hash`, …) are added by the token
code around what this returns. Which user claims go where:

- `sub`: everywhere.
- profile, email, phone, address claims: userinfo and introspection when the scope asks; the
  ID token when the scope asks and either "User Info inside ID Token" is on or the response type
  is `id_token` (no access token to call userinfo with); never the JWT access token.
- `preferred_username`: with `profile` in userinfo and introspection (introspection also as
  `username`); always in the ID token (seed 003: "Yes").
- `urn:zitadel:iam:user:metadata` and the `urn:zitadel:iam:user:resourceowner:*` claims: in
  every destination when the scope asks.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from bergfried.claims import scopes as sc
from bergfried.claims.subject import Subject
from bergfried.domain.metadata import encode_claim_value
from bergfried.domain.users import GENDER_CLAIM, HumanUser, effective_display_name


class Destination(enum.StrEnum):
    USERINFO = "userinfo"
    INTROSPECTION = "introspection"
    ID_TOKEN = "id_token"
    ACCESS_TOKEN = "access_token"


@dataclass(frozen=True, slots=True)
class Request:
    """What decides the claims besides the subject."""

    scopes: tuple[str, ...]
    id_token_userinfo_assertion: bool = False
    response_type: str = "code"


def _profile(subject: Subject) -> dict[str, Any]:
    user = subject.user
    claims: dict[str, Any] = {"updated_at": int(subject.updated_at.timestamp())}
    if isinstance(user, HumanUser):
        p = user.profile
        claims["name"] = effective_display_name(p)
        if p.first_name:
            claims["given_name"] = p.first_name
        if p.last_name:
            claims["family_name"] = p.last_name
        if p.nick_name:
            claims["nickname"] = p.nick_name
        gender = GENDER_CLAIM[p.gender]
        if gender:
            claims["gender"] = gender
        claims["locale"] = p.preferred_language or None  # spec/claims.md §3: null when undefined
    else:
        claims["name"] = user.name
    claims["preferred_username"] = subject.preferred_username
    return claims


def _email(subject: Subject) -> dict[str, Any]:
    user = subject.user
    if not isinstance(user, HumanUser) or not user.email:
        return {}
    return {"email": user.email, "email_verified": user.is_email_verified}  # a boolean either way (OIDC Core §5.1)


def _phone(subject: Subject) -> dict[str, Any]:
    user = subject.user
    if not isinstance(user, HumanUser) or not user.phone:
        return {}
    return {"phone_number": user.phone, "phone_number_verified": user.is_phone_verified}


def _address(subject: Subject) -> dict[str, Any]:
    user = subject.user
    if not isinstance(user, HumanUser):
        return {}
    parts = {k: getattr(user.address, k) for k in ("formatted", "street_address", "locality", "region",
                                                      "postal_code", "country")}
    parts = {k: v for k, v in parts.items() if v}
    return {"address": parts} if parts else {}


_USERINFO_SCOPES = ((sc.PROFILE, _profile), (sc.EMAIL, _email), (sc.PHONE, _phone), (sc.ADDRESS, _address))


def _reserved(subject: Subject, scopes: tuple[str, ...]) -> dict[str, Any]:
    claims: dict[str, Any] = {}
    if sc.METADATA in scopes and subject.metadata:
        claims[sc.METADATA] = {key: encode_claim_value(value) for key, value in subject.metadata.items()}
    if sc.RESOURCEOWNER in scopes:
        claims["urn:zitadel:iam:user:resourceowner:id"] = subject.org.id
        claims["urn:zitadel:iam:user:resourceowner:name"] = subject.org.name
        claims["urn:zitadel:iam:user:resourceowner:primary_domain"] = subject.org.primary_domain
    return claims


def user_claims(subject: Subject, request: Request, destination: Destination) -> dict[str, Any]:
    claims: dict[str, Any] = {"sub": subject.user.id}
    scopes = request.scopes
    with_user_info = destination in (Destination.USERINFO, Destination.INTROSPECTION) or (
        destination == Destination.ID_TOKEN
        and (request.id_token_userinfo_assertion or request.response_type == "id_token")
    )
    if with_user_info:
        for scope, build in _USERINFO_SCOPES:
            if scope in scopes:
                claims.update(build(subject))
    if destination == Destination.ID_TOKEN:
        claims["preferred_username"] = subject.preferred_username
    if destination == Destination.INTROSPECTION and "preferred_username" in claims:
        claims["username"] = claims["preferred_username"]
    claims.update(_reserved(subject, scopes))
    return claims
