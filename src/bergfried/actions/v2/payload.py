"""The body sent to the targets of `function/preuserinfo` and `function/preaccesstoken`
(spec/actions.md §3.4, ZITADEL `internal/api/oidc/userinfo.go` `ContextInfo`).

Keys are Go's snake_case JSON tags, not protojson: enums are numbers (user `state` 1 active …
6 initial, `type` 1 human / 2 machine, `gender` 1 female / 2 male / 3 diverse), metadata values
standard base64, empty strings left out (Go `omitempty`). The user's creation date and sequence
are not part of what the claims load, so they are left out too; nothing in ZITADEL's own
examples reads them.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bergfried.claims.context import Context
from bergfried.domain.users import AccessTokenType, Gender, HumanUser, MachineUser, UserState

_STATES = list(UserState)
_GENDERS = list(Gender)


def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and v != ""}


def _human(user: HumanUser) -> dict[str, Any]:
    p = user.profile
    return _compact({
        "first_name": p.first_name, "last_name": p.last_name, "nick_name": p.nick_name,
        "display_name": user.display_name, "preferred_language": p.preferred_language,
        "gender": _GENDERS.index(p.gender), "email": user.email, "is_email_verified": user.is_email_verified,
        "phone": user.phone, "is_phone_verified": user.is_phone_verified,
        "password_change_required": user.password_change_required,
        "password_changed": _time(user.password_changed_at),
    })


def _machine(user: MachineUser) -> dict[str, Any]:
    return _compact({"name": user.name, "description": user.description,
                     "access_token_type": 1 if user.access_token_type == AccessTokenType.JWT else 0})


def _user(ctx: Context) -> dict[str, Any]:
    s = ctx.subject
    user = s.user
    out = _compact({
        "id": user.id, "change_date": _time(s.updated_at), "resource_owner": user.org_id,
        "state": _STATES.index(user.state), "type": 1 if isinstance(user, HumanUser) else 2,
        "username": user.username, "login_names": [s.preferred_username],
        "preferred_login_name": s.preferred_username,
    })
    if isinstance(user, HumanUser):
        out["human"] = _human(user)
    else:
        out["machine"] = _machine(user)
    return out


def _grants(ctx: Context) -> list[dict[str, Any]]:
    s = ctx.subject
    user = s.user
    human = user if isinstance(user, HumanUser) else None
    out = []
    for grant in ctx.grants:
        out.append(_compact({
            "roles": list(grant.role_keys), "state": 1, "user_id": user.id, "username": user.username,
            "user_type": 1 if human else 2, "user_resource_owner": user.org_id,
            "first_name": human.profile.first_name if human else None,
            "last_name": human.profile.last_name if human else None,
            "email": human.email if human else None, "display_name": human.display_name if human else None,
            "preferred_login_name": s.preferred_username, "resource_owner": grant.org_id,
            "org_primary_domain": grant.org_primary_domain, "project_id": grant.project_id,
        }))
    return out


def build(function: str, ctx: Context, claims: Mapping[str, Any]) -> dict[str, Any]:
    """The payload of one function call. `function` is `preuserinfo` or `preaccesstoken`;
    `claims` are the claims computed so far (after the v1 actions), sent as `userinfo`.

    What the caller (actions/complement.py) must supply in `ctx`, whatever the scopes asked:
    - `ctx.subject` loaded with its metadata (`claims.subject.load(..., with_metadata=True)`),
      otherwise `user_metadata` is sent empty;
    - `ctx.grants`: the user's active grants (claims.roles loads them only when a roles scope or
      role assertion needs them), otherwise `user_grants` is sent empty;
    - `ctx.client.client_id`: the application the token or userinfo is for.
    """
    s = ctx.subject
    name = function.removeprefix("function/")
    return _compact({
        "function": f"function/{name}",
        "userinfo": dict(claims),
        "user": _user(ctx),
        "user_metadata": [
            {"key": key, "value": base64.b64encode(value).decode("ascii"), "resource_owner": s.user.org_id}
            for key, value in sorted(s.metadata.items())
        ] or None,
        "org": _compact({"id": s.org.id, "name": s.org.name, "primary_domain": s.org.primary_domain}),
        "user_grants": _grants(ctx) or None,
        "application": _compact({"client_id": ctx.client.client_id}),
    })
