"""User messages of `user.proto` (the `User` object and its parts) and how a stored user becomes one."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from bergfried.api.lists import ObjectDetailsModel
from bergfried.api.protojson import ApiModel, Timestamp, enum_in
from bergfried.domain.users import AccessTokenType, Gender, HumanUser, MachineUser, User, UserState, UserType

GenderIn = Annotated[Gender, enum_in(Gender)]
AccessTokenTypeIn = Annotated[AccessTokenType, enum_in(AccessTokenType)]
UserStateIn = Annotated[UserState, enum_in(UserState)]
UserTypeIn = Annotated[UserType, enum_in(UserType)]
Name200 = Annotated[str, Field(min_length=1, max_length=200)]
Optional200 = Annotated[str, Field(max_length=200)]


class ProfileModel(ApiModel):
    first_name: str = ""
    last_name: str = ""
    nick_name: str = ""
    display_name: str = ""
    preferred_language: str = ""
    gender: Gender = Gender.UNSPECIFIED
    avatar_url: str = ""


class EmailModel(ApiModel):
    email: str = ""
    is_email_verified: bool = False


class PhoneModel(ApiModel):
    phone: str = ""
    is_phone_verified: bool = False


class HumanModel(ApiModel):
    profile: ProfileModel | None = None
    email: EmailModel | None = None
    phone: PhoneModel | None = None
    password_changed: Timestamp | None = None


class MachineModel(ApiModel):
    name: str = ""
    description: str = ""
    has_secret: bool = False
    access_token_type: AccessTokenType = AccessTokenType.BEARER


class UserModel(ApiModel):
    id: str = ""
    details: ObjectDetailsModel | None = None
    state: UserState = UserState.UNSPECIFIED
    user_name: str = ""
    login_names: tuple[str, ...] = ()
    preferred_login_name: str = ""
    human: HumanModel | None = None
    machine: MachineModel | None = None


def profile_of(user: HumanUser) -> ProfileModel:
    p = user.profile
    return ProfileModel(first_name=p.first_name, last_name=p.last_name, nick_name=p.nick_name,
                        display_name=user.display_name, preferred_language=p.preferred_language, gender=p.gender)


def user_model(user: User, details: ObjectDetailsModel, login_names: list[str], preferred: str) -> UserModel:
    base = UserModel(id=user.id, details=details, state=user.state, user_name=user.username,
                     login_names=tuple(login_names), preferred_login_name=preferred)
    if isinstance(user, MachineUser):
        return base.model_copy(update={"machine": MachineModel(
            name=user.name, description=user.description, has_secret=user.has_secret,
            access_token_type=user.access_token_type)})
    return base.model_copy(update={"human": HumanModel(
        profile=profile_of(user), email=EmailModel(email=user.email, is_email_verified=user.is_email_verified),
        phone=PhoneModel(phone=user.phone, is_phone_verified=user.is_phone_verified),
        password_changed=user.password_changed_at)})
