"""The value of each row of the matrix, by the row's claim name: JSON keys and types of
spec/claims.md §3. A producer returns the claims it makes (usually one key; the roles rows may
make several), or `{}` when there is nothing to assert (no e-mail, no metadata, no nonce, …).
Producers never decide *where* a claim goes: that is the matrix's job."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bergfried.claims import roles
from bergfried.claims import scopes as sc
from bergfried.claims.context import Context
from bergfried.domain.metadata import encode_claim_value
from bergfried.domain.users import GENDER_CLAIM, HumanUser, effective_display_name

Producer = Callable[[Context], dict[str, Any]]
_ADDRESS_PARTS = ("formatted", "street_address", "locality", "region", "postal_code", "country")


def _human(ctx: Context) -> HumanUser | None:
    user = ctx.subject.user
    return user if isinstance(user, HumanUser) else None


def _one(key: str, value: Any) -> dict[str, Any]:
    return {} if value is None or value == "" or value == () else {key: value}


def _profile(key: str, pick: Callable[[HumanUser], Any]) -> Producer:
    return lambda ctx: _one(key, pick(human)) if (human := _human(ctx)) else {}


def _name(ctx: Context) -> dict[str, Any]:
    user = ctx.subject.user
    return {"name": effective_display_name(user.profile) if isinstance(user, HumanUser) else user.name}


def _locale(ctx: Context) -> dict[str, Any]:
    human = _human(ctx)
    # spec/claims.md §3: null when the preferred language is undefined
    return {"locale": human.profile.preferred_language or None} if human else {}


def _email(key: str, verified: bool) -> Producer:
    def produce(ctx: Context) -> dict[str, Any]:
        human = _human(ctx)
        if human is None or not human.email:
            return {}
        return {key: human.is_email_verified if verified else human.email}  # false stays false (spec/README.md)
    return produce


def _phone(key: str, verified: bool) -> Producer:
    def produce(ctx: Context) -> dict[str, Any]:
        human = _human(ctx)
        if human is None or not human.phone:
            return {}
        return {key: human.is_phone_verified if verified else human.phone}
    return produce


def _address(ctx: Context) -> dict[str, Any]:
    human = _human(ctx)
    if human is None:
        return {}
    parts = {k: getattr(human.address, k) for k in _ADDRESS_PARTS if getattr(human.address, k)}
    return {"address": parts} if parts else {}


def _metadata(ctx: Context) -> dict[str, Any]:
    meta = ctx.subject.metadata
    return {sc.METADATA: {k: encode_claim_value(v) for k, v in meta.items()}} if meta else {}


def _scope_suffix(prefix: str, key: str) -> Producer:
    def produce(ctx: Context) -> dict[str, Any]:
        value = next((s[len(prefix):] for s in ctx.scopes if s.startswith(prefix)), "")
        return _one(key, value)
    return produce


def _org(key: str, attribute: str) -> Producer:
    return lambda ctx: {key: getattr(ctx.subject.org, attribute)}


def _token(key: str, attribute: str) -> Producer:
    def produce(ctx: Context) -> dict[str, Any]:
        value = getattr(ctx.token, attribute)
        if isinstance(value, tuple):
            value = list(value)
        return {} if value is None or value == [] or value == "" else {key: value}
    return produce


PRODUCERS: dict[str, Producer] = {
    "acr": _token("acr", "acr"),
    "act": _token("act", "actor"),
    "address": _address,
    "amr": _token("amr", "amr"),
    "aud": lambda ctx: {"aud": list(ctx.token.audience)},  # always an array (spec/claims.md §3)
    "auth_time": _token("auth_time", "auth_time"),
    "azp": _token("azp", "client_id"),
    "client_id": _token("client_id", "client_id"),
    "email": _email("email", verified=False),
    "email_verified": _email("email_verified", verified=True),
    "exp": _token("exp", "expires_at"),
    "family_name": _profile("family_name", lambda h: h.profile.last_name),
    "gender": _profile("gender", lambda h: GENDER_CLAIM[h.profile.gender]),
    "given_name": _profile("given_name", lambda h: h.profile.first_name),
    "iat": _token("iat", "issued_at"),
    "iss": _token("iss", "issuer"),
    "jti": _token("jti", "token_id"),
    "locale": _locale,
    "name": _name,
    "nbf": _token("nbf", "issued_at"),
    "nickname": _profile("nickname", lambda h: h.profile.nick_name),
    "nonce": _token("nonce", "nonce"),
    "phone": _phone("phone_number", verified=False),
    "phone_verified": _phone("phone_number_verified", verified=True),
    "preferred_username": lambda ctx: {"preferred_username": ctx.subject.preferred_username},
    "username": lambda ctx: {"username": ctx.subject.preferred_username},
    "sid": _token("sid", "session_id"),
    "sub": lambda ctx: {"sub": ctx.subject.user.id},
    "updated_at": lambda ctx: {"updated_at": int(ctx.subject.updated_at.timestamp())},
    "urn:zitadel:iam:org:domain:primary:{domainname}": _scope_suffix(sc.ORG_DOMAIN_PREFIX,
                                                                     "urn:zitadel:iam:org:domain:primary"),
    "urn:zitadel:iam:org:id:{id}": _scope_suffix(sc.ORG_ID_PREFIX, "urn:zitadel:iam:org:id"),
    "urn:zitadel:iam:org:project:roles": roles.own_roles,
    "urn:zitadel:iam:org:project:{projectid}:roles": roles.project_roles,
    "urn:zitadel:iam:org:projects:roles": roles.all_roles,
    "urn:zitadel:iam:user:metadata": _metadata,
    "urn:zitadel:iam:user:resourceowner:id": _org("urn:zitadel:iam:user:resourceowner:id", "id"),
    "urn:zitadel:iam:user:resourceowner:name": _org("urn:zitadel:iam:user:resourceowner:name", "name"),
    "urn:zitadel:iam:user:resourceowner:primary_domain": _org("urn:zitadel:iam:user:resourceowner:primary_domain",
                                                              "primary_domain"),
    "at_hash": _token("at_hash", "at_hash"),
    "c_hash": _token("c_hash", "c_hash"),
    "active": lambda ctx: {"active": True},
    "scope": lambda ctx: {"scope": " ".join(ctx.scopes)},
    "token_type": lambda ctx: {"token_type": "Bearer"},
}
