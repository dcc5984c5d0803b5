"""Everything a process builds once from its settings: engine, store, master key, hashers.

`cli` builds one `Services` per process and hands it to the web app's lifespan; handlers get it
from `app.state`. Nothing below reads the environment.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bergfried.crypto import masterkey
from bergfried.crypto.aead import Sealer
from bergfried.crypto.hashing import SecretHasher
from bergfried.domain.policies import DomainPolicy, LockoutPolicy, LoginPolicy, PasswordComplexityPolicy
from bergfried.keys.keyring import KeyRing
from bergfried.ratelimit import RateLimits
from bergfried.settings import Settings
from bergfried.store.engine import create_engine
from bergfried.store.tx import Store


@dataclass(frozen=True, slots=True)
class Policies:
    """Instance defaults from the settings; organizations may later override them in `policies`."""

    password: PasswordComplexityPolicy
    lockout: LockoutPolicy
    login: LoginPolicy
    domain: DomainPolicy

    @classmethod
    def from_settings(cls, settings: Settings) -> Policies:
        return cls(
            password=PasswordComplexityPolicy(
                min_length=settings.password_min_length, has_lowercase=settings.password_has_lowercase,
                has_uppercase=settings.password_has_uppercase, has_number=settings.password_has_number,
                has_symbol=settings.password_has_symbol,
            ),
            lockout=LockoutPolicy(
                max_password_attempts=settings.lockout_max_password_attempts,
                max_otp_attempts=settings.lockout_max_otp_attempts,
                show_lockout_failure=settings.lockout_show_failure,
            ),
            login=LoginPolicy(
                allow_register=settings.login_allow_register, force_mfa=settings.login_force_mfa,
                ignore_unknown_usernames=settings.login_ignore_unknown_usernames,
            ),
            domain=DomainPolicy(user_login_must_be_domain=settings.user_login_must_be_domain),
        )


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    engine: AsyncEngine
    store: Store
    master: masterkey.MasterKey
    hasher: SecretHasher
    key_sealer: Sealer
    policies: Policies
    keyring: KeyRing
    limits: RateLimits

    async def close(self) -> None:
        await self.engine.dispose()


def load_masterkey(settings: Settings) -> tuple[masterkey.MasterKey, bool]:
    """From BERGFRIED_MASTERKEY, else from (or into) the key file. Returns (key, created)."""
    if settings.masterkey is not None:
        return masterkey.from_text(settings.masterkey.get_secret_value()), False
    return masterkey.load_or_create(settings.masterkey_file)


def build(settings: Settings, *, engine: AsyncEngine | None = None) -> Services:
    master, _ = load_masterkey(settings)
    engine = engine or create_engine(settings.database_url, pool_size=settings.database_pool_size)
    store, key_sealer = Store(engine), Sealer(master, "signing-keys")
    return Services(
        settings=settings, engine=engine, store=store, master=master, hasher=SecretHasher(master),
        key_sealer=key_sealer, policies=Policies.from_settings(settings),
        keyring=KeyRing(store, key_sealer, issuer=settings.issuer),
        limits=RateLimits.of(settings.rate_limit_token_per_ip, settings.rate_limit_password_per_ip,
                             settings.rate_limit_password_per_name),
    )
