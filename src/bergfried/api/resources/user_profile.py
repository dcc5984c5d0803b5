"""A user's profile, e-mail, phone, user name, machine data and password
(`/management/v1/users/{userId}/...`, spec/management-api.md §5.1)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.api import details
from bergfried.api.lists import ObjectDetailsModel
from bergfried.api.messages import DetailsResponse, Empty
from bergfried.api.protojson import ApiModel
from bergfried.api.registry import Call, Resource
from bergfried.api.resources.users import AddProfile
from bergfried.api.user_messages import (
    AccessTokenTypeIn,
    EmailModel,
    Name200,
    PhoneModel,
    ProfileModel,
    profile_of,
)
from bergfried.domain.users import AccessTokenType, HumanUser, Profile
from bergfried.management import user_profile as ops
from bergfried.management.scope import user_for_query
from bergfried.store import users

api = Resource("Users: profile and credentials", "/management/v1")


class UserRequest(Empty):
    user_id: str


class UpdateHumanProfileRequest(AddProfile):
    user_id: str


class UpdateHumanEmailRequest(UserRequest):
    email: Annotated[str, Field(min_length=1, max_length=200)]
    is_email_verified: bool = False


class UpdateHumanPhoneRequest(UserRequest):
    phone: Annotated[str, Field(min_length=1, max_length=50)]
    is_phone_verified: bool = False


class UpdateUserNameRequest(UserRequest):
    user_name: Name200


class UpdateMachineRequest(UserRequest):
    name: Name200
    description: Annotated[str, Field(max_length=500)] = ""
    access_token_type: AccessTokenTypeIn = AccessTokenType.BEARER


class SetHumanPasswordRequest(UserRequest):
    password: Annotated[str, Field(min_length=1, max_length=200)]
    no_change_required: bool = False


class GetHumanProfileResponse(ApiModel):
    details: ObjectDetailsModel | None = None
    profile: ProfileModel | None = None


class GetHumanEmailResponse(ApiModel):
    details: ObjectDetailsModel | None = None
    email: EmailModel | None = None


class GetHumanPhoneResponse(ApiModel):
    details: ObjectDetailsModel | None = None
    phone: PhoneModel | None = None


async def _human(call: Call, conn: AsyncConnection, user_id: str) -> tuple[HumanUser, ObjectDetailsModel]:
    user = ops.human(await user_for_query(conn, user_id, call.org_id))
    created, changed, sequence = await users.details(conn, user.id)
    return user, details.of_row(sequence, created, changed, user.org_id)


@api.get("/users/{userId}/profile", "GetHumanProfile", permission="user.read")
async def get_profile(call: Call, req: UserRequest) -> GetHumanProfileResponse:
    """A human user's profile."""
    async with call.store.read() as conn:
        user, d = await _human(call, conn, req.user_id)
    return GetHumanProfileResponse(details=d, profile=profile_of(user))


@api.put("/users/{userId}/profile", "UpdateHumanProfile", permission="user.write")
async def update_profile(call: Call, req: UpdateHumanProfileRequest) -> DetailsResponse:
    """Replace a human user's profile."""
    profile = Profile(first_name=req.first_name, last_name=req.last_name, nick_name=req.nick_name,
                      display_name=req.display_name, preferred_language=req.preferred_language, gender=req.gender)
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await ops.update_profile(tx, call.org_id, req.user_id, profile)))


@api.get("/users/{userId}/email", "GetHumanEmail", permission="user.read")
async def get_email(call: Call, req: UserRequest) -> GetHumanEmailResponse:
    """A human user's e-mail address."""
    async with call.store.read() as conn:
        user, d = await _human(call, conn, req.user_id)
    return GetHumanEmailResponse(details=d, email=EmailModel(email=user.email,
                                                             is_email_verified=user.is_email_verified))


@api.put("/users/{userId}/email", "UpdateHumanEmail", permission="user.write")
async def update_email(call: Call, req: UpdateHumanEmailRequest) -> DetailsResponse:
    """Change the e-mail address (verified when `isEmailVerified`)."""
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await ops.update_email(tx, call.org_id, req.user_id, req.email,
                                                                         req.is_email_verified)))


@api.get("/users/{userId}/phone", "GetHumanPhone", permission="user.read")
async def get_phone(call: Call, req: UserRequest) -> GetHumanPhoneResponse:
    """A human user's phone number."""
    async with call.store.read() as conn:
        user, d = await _human(call, conn, req.user_id)
    return GetHumanPhoneResponse(details=d, phone=PhoneModel(phone=user.phone,
                                                             is_phone_verified=user.is_phone_verified))


@api.put("/users/{userId}/phone", "UpdateHumanPhone", permission="user.write")
async def update_phone(call: Call, req: UpdateHumanPhoneRequest) -> DetailsResponse:
    """Change the phone number (`+` and 1–50 characters)."""
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await ops.update_phone(tx, call.org_id, req.user_id, req.phone,
                                                                         req.is_phone_verified)))


@api.delete("/users/{userId}/phone", "RemoveHumanPhone", permission="user.write")
async def remove_phone(call: Call, req: UserRequest) -> DetailsResponse:
    """Remove the phone number."""
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await ops.update_phone(tx, call.org_id, req.user_id, "", False)))


@api.put("/users/{userId}/username", "UpdateUserName", permission="user.write")
async def update_username(call: Call, req: UpdateUserNameRequest) -> DetailsResponse:
    """Change the user name (login names follow)."""
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await ops.update_username(tx, call.org_id, req.user_id,
                                                                            req.user_name)))


@api.put("/users/{userId}/machine", "UpdateMachine", permission="user.write")
async def update_machine(call: Call, req: UpdateMachineRequest) -> DetailsResponse:
    """Change a machine user's name, description and access token type."""
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await ops.update_machine(
            tx, call.org_id, req.user_id, req.name, req.description, req.access_token_type)))


@api.post("/users/{userId}/password", "SetHumanPassword", permission="user.write")
async def set_password(call: Call, req: SetHumanPasswordRequest) -> DetailsResponse:
    """Set a human user's password (checked against the complexity policy)."""
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await ops.set_password(
            tx, call.services, call.org_id, req.user_id, req.password, not req.no_change_required)))
