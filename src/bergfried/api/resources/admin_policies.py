"""Instance policies of the admin API (`/admin/v1/policies/...`): login, lockout and password
complexity. GET answers `{"policy": {...}}`; PUT replaces the policy and answers `{"details"}`.
The instance's policy is ZITADEL's default policy, so it is always `isDefault: true` (ZITADEL's
query sets it when the policy's owner is the instance). Organizations read the same policies at
`/management/v1/policies/...` (no organization-specific policies yet, so again `isDefault`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import Field

from bergfried.api import details
from bergfried.api.lists import ObjectDetailsModel
from bergfried.api.messages import DetailsResponse, Empty
from bergfried.api.protojson import ApiModel, Duration, Int64
from bergfried.api.registry import Call, Resource
from bergfried.domain.common import ObjectDetails
from bergfried.domain.policies import LockoutPolicy, LoginPolicy, PasswordComplexityPolicy
from bergfried.management import policies

api = Resource("Instance policies", "/admin/v1")
org_api = Resource("Organization policies", "/management/v1")
Count = Annotated[Int64, Field(ge=0, le=2**31)]
Lifetime = Annotated[Duration, Field(ge=timedelta(0), le=timedelta(days=36500))]


def _details(found: ObjectDetails | None) -> ObjectDetailsModel | None:
    return details.of(found) if found else None


class PasswordComplexity(ApiModel):
    min_length: Count = 0
    has_uppercase: bool = False
    has_lowercase: bool = False
    has_number: bool = False
    has_symbol: bool = False


class PasswordComplexityModel(PasswordComplexity):
    details: ObjectDetailsModel | None = None
    is_default: bool = False


class GetPasswordComplexityPolicyResponse(ApiModel):
    policy: PasswordComplexityModel | None = None


class UpdatePasswordComplexityPolicyRequest(PasswordComplexity):
    min_length: Annotated[Int64, Field(ge=1, le=72)] = 8


class Lockout(ApiModel):
    max_password_attempts: Count = 0
    max_otp_attempts: Count = 0


class LockoutModel(Lockout):
    details: ObjectDetailsModel | None = None
    is_default: bool = False


class GetLockoutPolicyResponse(ApiModel):
    policy: LockoutModel | None = None


class Login(ApiModel):
    allow_username_password: bool = False
    allow_register: bool = False
    allow_external_idp: bool = False
    force_mfa: bool = False
    hide_password_reset: bool = False
    ignore_unknown_usernames: bool = False
    allow_domain_discovery: bool = False
    disable_login_with_email: bool = False
    disable_login_with_phone: bool = False
    password_check_lifetime: Lifetime | None = None
    external_login_check_lifetime: Lifetime | None = None
    mfa_init_skip_lifetime: Lifetime | None = None
    second_factor_check_lifetime: Lifetime | None = None
    multi_factor_check_lifetime: Lifetime | None = None


class LoginModel(Login):
    details: ObjectDetailsModel | None = None
    is_default: bool = False


class GetLoginPolicyResponse(ApiModel):
    policy: LoginModel | None = None


@api.get("/policies/password/complexity", "GetPasswordComplexityPolicy", permission="iam.policy.read")
async def get_password_complexity(call: Call, req: Empty) -> GetPasswordComplexityPolicyResponse:
    """The instance's password complexity policy."""
    async with call.store.read() as conn:
        p, found = await policies.current(conn, call.services, PasswordComplexityPolicy)
    return GetPasswordComplexityPolicyResponse(policy=PasswordComplexityModel(
        details=_details(found), is_default=True, min_length=p.min_length, has_uppercase=p.has_uppercase,
        has_lowercase=p.has_lowercase, has_number=p.has_number, has_symbol=p.has_symbol))


org_api.get("/policies/password/complexity", "GetPasswordComplexityPolicy", permission="policy.read",
            summary="The password complexity policy of the organization (the instance's).")(get_password_complexity)


@api.put("/policies/password/complexity", "UpdatePasswordComplexityPolicy", permission="iam.policy.write")
async def update_password_complexity(call: Call, req: UpdatePasswordComplexityPolicyRequest) -> DetailsResponse:
    """Replace the password complexity policy (checked when passwords are set)."""
    policy = PasswordComplexityPolicy(min_length=req.min_length, has_uppercase=req.has_uppercase,
                                      has_lowercase=req.has_lowercase, has_number=req.has_number,
                                      has_symbol=req.has_symbol)
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await policies.replace(tx, policy)))


@api.get("/policies/lockout", "GetLockoutPolicy", permission="iam.policy.read")
async def get_lockout(call: Call, req: Empty) -> GetLockoutPolicyResponse:
    """The instance's lockout policy (0 attempts = never lock)."""
    async with call.store.read() as conn:
        p, found = await policies.current(conn, call.services, LockoutPolicy)
    return GetLockoutPolicyResponse(policy=LockoutModel(
        details=_details(found), is_default=True, max_password_attempts=p.max_password_attempts,
        max_otp_attempts=p.max_otp_attempts))


org_api.get("/policies/lockout", "GetLockoutPolicy", permission="policy.read",
            summary="The lockout policy of the organization (the instance's).")(get_lockout)


@api.put("/policies/lockout", "UpdateLockoutPolicy", permission="iam.policy.write")
async def update_lockout(call: Call, req: Lockout) -> DetailsResponse:
    """Replace the lockout policy."""
    async with call.store.read() as conn:
        current, _ = await policies.current(conn, call.services, LockoutPolicy)
    policy = LockoutPolicy(max_password_attempts=req.max_password_attempts, max_otp_attempts=req.max_otp_attempts,
                           show_lockout_failure=current.show_lockout_failure)
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await policies.replace(tx, policy)))


@api.get("/policies/login", "GetLoginPolicy", permission="iam.policy.read")
async def get_login(call: Call, req: Empty) -> GetLoginPolicyResponse:
    """The instance's login policy."""
    async with call.store.read() as conn:
        p, found = await policies.current(conn, call.services, LoginPolicy)
    return GetLoginPolicyResponse(policy=LoginModel(
        details=_details(found), is_default=True, allow_username_password=p.allow_username_password,
        allow_register=p.allow_register, allow_external_idp=p.allow_external_idp, force_mfa=p.force_mfa,
        hide_password_reset=p.hide_password_reset, ignore_unknown_usernames=p.ignore_unknown_usernames,
        allow_domain_discovery=p.allow_domain_discovery, disable_login_with_email=p.disable_login_with_email,
        disable_login_with_phone=p.disable_login_with_phone, password_check_lifetime=p.password_check_lifetime,
        external_login_check_lifetime=p.external_login_check_lifetime,
        mfa_init_skip_lifetime=p.mfa_init_skip_lifetime, second_factor_check_lifetime=p.second_factor_check_lifetime,
        multi_factor_check_lifetime=p.multi_factor_check_lifetime))


org_api.get("/policies/login", "GetLoginPolicy", permission="policy.read",
            summary="The login policy of the organization (the instance's).")(get_login)


@api.put("/policies/login", "UpdateLoginPolicy", permission="iam.policy.write")
async def update_login(call: Call, req: Login) -> DetailsResponse:
    """Replace the login policy; lifetimes left out keep their current value."""
    async with call.store.read() as conn:
        current, _ = await policies.current(conn, call.services, LoginPolicy)
    values = {name: getattr(req, name) for name in Login.model_fields if getattr(req, name) is not None}
    policy = LoginPolicy(**{**_login_values(current), **values})
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await policies.replace(tx, policy)))


def _login_values(policy: LoginPolicy) -> dict[str, object]:
    return {name: getattr(policy, name) for name in LoginPolicy.__dataclass_fields__}
