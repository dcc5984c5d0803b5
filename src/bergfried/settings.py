"""Settings: flags > `BERGFRIED_*` environment variables > YAML file (`--config`) > defaults.

This module is the only reader of `os.environ`. The names below are a public contract: a key
`database_url` in the YAML file is `BERGFRIED_DATABASE_URL` in the environment and
`--database-url` on the command line where a flag exists.

Durations take Go's form as ZITADEL's configuration does (`12h`, `30m`, `1h30m`, `90s`) or a
plain number of seconds.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, SecretStr, TypeAdapter, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from bergfried.errors import ConfigError

ENV_PREFIX = "BERGFRIED_"
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
_PORT: TypeAdapter[int] = TypeAdapter(int)


def parse_duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d+(\.\d+)?", text):
            return timedelta(seconds=float(text))
        parts = _DURATION_PART.findall(text)
        if parts and "".join(n + u for n, u in parts) == text:
            return timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in parts))
    raise ValueError(f"not a duration: {value!r} (use e.g. 12h, 30m, 90s)")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", case_sensitive=False)

    # where and how to serve
    database_url: str = "sqlite+aiosqlite:///./data/bergfried.db"
    external_url: str = "http://localhost:8080"
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=256)
    log_format: Literal["console", "json"] = "console"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    database_pool_size: int = Field(20, ge=1, le=1000)

    # secrets
    masterkey: SecretStr | None = None
    masterkey_file: Path = Path("./data/masterkey")

    # the algorithm of signing keys made by the first start and by `bergfried keys rotate`
    signing_algorithm: Literal["RS256", "ES256", "EdDSA"] = "RS256"

    # token lifetimes (instance-wide, as ZITADEL's OIDC settings)
    access_token_lifetime: timedelta = timedelta(hours=12)
    id_token_lifetime: timedelta = timedelta(hours=12)
    refresh_token_idle_expiration: timedelta = timedelta(hours=720)
    refresh_token_expiration: timedelta = timedelta(hours=2160)
    auth_code_lifetime: timedelta = timedelta(seconds=60)
    device_code_lifetime: timedelta = timedelta(minutes=5)

    # lockout policy (0 = never lock)
    lockout_max_password_attempts: int = Field(0, ge=0)
    lockout_max_otp_attempts: int = Field(0, ge=0)
    lockout_show_failure: bool = True

    # password complexity policy
    password_min_length: int = Field(8, ge=1, le=72)
    password_has_lowercase: bool = True
    password_has_uppercase: bool = True
    password_has_number: bool = True
    password_has_symbol: bool = True

    # login and domain policy
    login_allow_register: bool = True
    login_ignore_unknown_usernames: bool = False
    login_force_mfa: bool = False
    user_login_must_be_domain: bool = True

    # first instance (ZITADEL's FirstInstance)
    firstinstance_org_name: str = "ZITADEL"
    firstinstance_admin_username: str = "zitadel-admin"
    firstinstance_admin_password: SecretStr | None = None
    firstinstance_admin_email: str = ""
    firstinstance_machine_username: str = "zitadel-admin-sa"
    firstinstance_machine_name: str = "Admin"
    firstinstance_patpath: Path | None = None

    # rate limits, failed requests a minute per key in this process (0 = off): client-authenticating
    # OAuth endpoints (token, introspect, revoke, device_authorization) per client IP; password checks
    # of the hosted login and of /v2/sessions per client IP and per login name (docs/security.md)
    rate_limit_token_per_ip: int = Field(1200, ge=0)
    rate_limit_password_per_ip: int = Field(300, ge=0)
    rate_limit_password_per_name: int = Field(30, ge=0)

    # the outbox worker that delivers back-channel logout tokens (off: rows wait in the outbox)
    outbox_worker: bool = True
    outbox_poll_interval: float = Field(1.0, gt=0, le=60)

    # how often each process deletes expired codes, tokens and old outbox rows (store/purge.py;
    # seconds, 0 = never: run `bergfried purge` from cron instead)
    purge_interval: float = Field(600.0, ge=0)

    # demo world (`bergfried start --demo`)
    demo_password: SecretStr = SecretStr("Password1!")

    @field_validator(
        "access_token_lifetime", "id_token_lifetime", "refresh_token_idle_expiration",
        "refresh_token_expiration", "auth_code_lifetime", "device_code_lifetime", mode="before",
    )
    @classmethod
    def _duration(cls, value: Any) -> timedelta:
        duration = parse_duration(value)
        if duration <= timedelta(0):
            raise ValueError("must be longer than zero")
        return duration

    @field_validator("external_url")
    @classmethod
    def _external_url(cls, value: str) -> str:
        if not re.fullmatch(r"https?://[^/\s?#]+(/[^\s?#]*)?", value):
            raise ValueError("must be an http(s) URL without query or fragment, e.g. http://localhost:8080")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            value = "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("masterkey")
    @classmethod
    def _masterkey(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) != 32:
            raise ValueError("must be exactly 32 characters long")
        return value

    @property
    def issuer(self) -> str:
        return self.external_url

    @property
    def is_https(self) -> bool:
        return self.external_url.startswith("https://")


class _YamlSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} does not exist") from exc
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"config file {path} cannot be read: {str(exc).splitlines()[0]}") from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"config file {path} must hold a mapping of setting names to values")
    return {str(key).lower().replace("-", "_"): value for key, value in loaded.items()}


def _explain(error: ValidationError, origins: dict[str, str]) -> str:
    first = error.errors()[0]
    name = str(first["loc"][0]) if first["loc"] else "?"
    origin = origins.get(name, f"setting {ENV_PREFIX}{name.upper()}")
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        return f"unknown {origin}"  # "unknown flag --x", "unknown setting 'x' in file.yaml"
    return f"invalid {origin}: {message}"


def load_settings(
    flags: dict[str, Any] | None = None,
    config_file: Path | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    """Resolve settings with the documented precedence; any error becomes one ConfigError line
    that names the setting and where it came from."""
    import os

    env = dict(os.environ if environ is None else environ)
    flag_values = {k: v for k, v in (flags or {}).items() if v is not None}
    file_values = _read_yaml(config_file) if config_file else {}
    if config_file is None and env.get(ENV_PREFIX + "CONFIG"):
        config_file = Path(env[ENV_PREFIX + "CONFIG"])
        file_values = _read_yaml(config_file)
    # Unknown BERGFRIED_* variables are left alone (other tools share the prefix); unknown keys
    # in the YAML file and unknown flags are errors, since nothing else reads them.
    env_values = {
        key[len(ENV_PREFIX):].lower(): value
        for key, value in env.items()
        if key.upper().startswith(ENV_PREFIX) and key[len(ENV_PREFIX):].lower() in Settings.model_fields
    }
    origins: dict[str, str] = {}
    for name in file_values:
        origins[name] = f"setting '{name}' in {config_file}"
    for name in env_values:
        origins[name] = f"environment variable {ENV_PREFIX}{name.upper()}"
    for name in flag_values:
        origins[name] = f"flag --{name.replace('_', '-')}"

    class _Resolved(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (
                InitSettingsSource(settings_cls, flag_values),
                _YamlSource(settings_cls, env_values),
                _YamlSource(settings_cls, file_values),
            )

    chosen = {**file_values, **env_values, **flag_values}
    if "external_url" not in chosen and "port" in chosen:
        # On a laptop the issuer follows the port unless it is set on its own. Only a port that
        # parses as the field does (" 9000", 9000.0) is used; a bad one is left for the port's own
        # check to report, rather than failing as a bad issuer the user never set.
        try:
            port = _PORT.validate_python(chosen["port"])
        except ValidationError:
            pass
        else:
            flag_values.setdefault("external_url", f"http://localhost:{port}")
    try:
        resolved = _Resolved()
    except ValidationError as exc:
        raise ConfigError(_explain(exc, origins)) from None
    return Settings.model_construct(**{name: getattr(resolved, name) for name in Settings.model_fields})


WORKER_FLAGS_VARIABLE = "BERGFRIED__RESOLVED_FLAGS"


def worker_environment(flags: dict[str, Any], config_file: Path | None) -> dict[str, str]:
    """What a parent process puts into its workers' environment so that each worker resolves
    exactly the settings the parent did (flags are not visible to a spawned process otherwise)."""
    import json

    env = {WORKER_FLAGS_VARIABLE: json.dumps({k: v for k, v in flags.items() if v is not None}, default=str)}
    if config_file is not None:
        env[ENV_PREFIX + "CONFIG"] = str(config_file)
    return env


def load_worker_settings() -> Settings:
    import json
    import os

    flags = json.loads(os.environ.get(WORKER_FLAGS_VARIABLE, "{}"))
    return load_settings(flags)
