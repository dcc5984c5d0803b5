"""Settings: flags > BERGFRIED_* environment > YAML file > defaults; one-line errors that say where."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bergfried.errors import ConfigError
from bergfried.settings import (
    WORKER_FLAGS_VARIABLE,
    Settings,
    load_settings,
    load_worker_settings,
    parse_duration,
    worker_environment,
)

KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def write_yaml(tmp_path: Path) -> Any:
    def write(text: str, name: str = "bergfried.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def clear_bergfried_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("BERGFRIED_"):
            monkeypatch.delenv(name)


def config_error(flags: dict[str, Any] | None = None, config_file: Path | None = None,
                 environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(flags, config_file, environ=environ or {})
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- defaults and precedence ----------------------------------------------------------------


def test_defaults_without_any_source() -> None:
    settings = load_settings({}, None, environ={})
    assert isinstance(settings, Settings)
    assert settings.database_url == "sqlite+aiosqlite:///./data/bergfried.db"
    assert settings.external_url == "http://localhost:8080"
    assert settings.issuer == "http://localhost:8080"
    assert settings.port == 8080
    assert settings.workers == 1
    assert settings.log_format == "console"
    assert settings.masterkey is None
    assert settings.firstinstance_patpath is None
    assert settings.access_token_lifetime == timedelta(hours=12)
    assert settings.is_https is False


def test_flag_beats_environment_beats_file_beats_default(write_yaml: Any) -> None:
    path = write_yaml("workers: 2\nlog_format: json\nfirstinstance_org_name: FromFile\n")
    env = {"BERGFRIED_WORKERS": "3", "BERGFRIED_LOG_FORMAT": "console"}
    assert load_settings({"workers": 4}, path, environ=env).workers == 4
    assert load_settings({}, path, environ=env).workers == 3
    assert load_settings({}, path, environ={}).workers == 2
    assert load_settings({}, None, environ={}).workers == 1
    mixed = load_settings({"workers": 4}, path, environ=env)
    assert mixed.log_format == "console"  # env over file
    assert mixed.firstinstance_org_name == "FromFile"  # file over default


def test_flags_set_to_none_do_not_override(write_yaml: Any) -> None:
    path = write_yaml("workers: 2\n")
    settings = load_settings({"workers": None, "log_format": None}, path, environ={"BERGFRIED_LOG_FORMAT": "json"})
    assert settings.workers == 2
    assert settings.log_format == "json"


def test_os_environ_is_not_read_when_an_environment_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_bergfried_environment(monkeypatch)
    monkeypatch.setenv("BERGFRIED_WORKERS", "7")
    assert load_settings({}, None, environ={}).workers == 1
    assert load_settings({}, None).workers == 7


# --- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "field", "expected"),
    [
        ("BERGFRIED_DATABASE_URL", "sqlite+aiosqlite:///tmp/x.db", "database_url", "sqlite+aiosqlite:///tmp/x.db"),
        ("BERGFRIED_EXTERNAL_URL", "https://auth.example.com", "external_url", "https://auth.example.com"),
        ("BERGFRIED_PORT", "9090", "port", 9090),
        ("BERGFRIED_WORKERS", "4", "workers", 4),
        ("BERGFRIED_LOG_FORMAT", "json", "log_format", "json"),
        ("BERGFRIED_FIRSTINSTANCE_PATPATH", "/run/admin.pat", "firstinstance_patpath", Path("/run/admin.pat")),
        ("BERGFRIED_LOCKOUT_MAX_PASSWORD_ATTEMPTS", "5", "lockout_max_password_attempts", 5),
        ("BERGFRIED_USER_LOGIN_MUST_BE_DOMAIN", "false", "user_login_must_be_domain", False),
    ],
)
def test_environment_variable_names_are_bergfried_and_the_setting(
    variable: str, value: str, field: str, expected: object
) -> None:
    assert getattr(load_settings({}, None, environ={variable: value}), field) == expected


@pytest.mark.parametrize(
    ("variable", "field"),
    [("BERGFRIED_MASTERKEY", "masterkey"), ("BERGFRIED_FIRSTINSTANCE_ADMIN_PASSWORD", "firstinstance_admin_password")],
)
def test_secret_settings_are_read_and_kept_secret(variable: str, field: str) -> None:
    settings = load_settings({}, None, environ={variable: KEY})
    secret = getattr(settings, field)
    assert isinstance(secret, SecretStr)
    assert secret.get_secret_value() == KEY
    assert KEY not in repr(settings)


def test_yaml_keys_may_use_dashes_and_capitals(write_yaml: Any) -> None:
    path = write_yaml("Database-URL: postgresql+asyncpg://db/bergfried\nLOG_FORMAT: json\n")
    settings = load_settings({}, path, environ={})
    assert settings.database_url == "postgresql+asyncpg://db/bergfried"
    assert settings.log_format == "json"


def test_config_file_may_come_from_bergfried_config(write_yaml: Any) -> None:
    path = write_yaml("workers: 6\n")
    assert load_settings({}, None, environ={"BERGFRIED_CONFIG": str(path)}).workers == 6


def test_unknown_bergfried_environment_variables_are_ignored() -> None:
    env = {"BERGFRIED_NOPE": "1", "BERGFRIED_TEST_POSTGRES_URL": "postgresql://x/y", "PORT": "1", "WORKERS": "9"}
    settings = load_settings({}, None, environ=env)
    assert settings.port == 8080
    assert settings.workers == 1


# --- durations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12h", timedelta(hours=12)),
        ("30m", timedelta(minutes=30)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("90s", timedelta(seconds=90)),
        ("2m30s", timedelta(minutes=2, seconds=30)),
        ("1h0m5s", timedelta(hours=1, seconds=5)),
        ("500ms", timedelta(milliseconds=500)),
        ("1.5h", timedelta(minutes=90)),
        ("3600", timedelta(hours=1)),
        (" 60 ", timedelta(minutes=1)),
        ("2.5", timedelta(seconds=2.5)),
    ],
)
def test_durations_take_gos_form_or_plain_seconds(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected
    assert load_settings({}, None, environ={"BERGFRIED_ACCESS_TOKEN_LIFETIME": text}).access_token_lifetime == expected


def test_durations_in_yaml_may_be_numbers_of_seconds(write_yaml: Any) -> None:
    path = write_yaml("auth_code_lifetime: 120\nid_token_lifetime: 1h\ndevice_code_lifetime: 0.5\n")
    settings = load_settings({}, path, environ={})
    assert settings.auth_code_lifetime == timedelta(minutes=2)
    assert settings.id_token_lifetime == timedelta(hours=1)
    assert settings.device_code_lifetime == timedelta(milliseconds=500)


def test_duration_flags_may_be_timedeltas() -> None:
    settings = load_settings({"refresh_token_expiration": timedelta(days=1)}, None, environ={})
    assert settings.refresh_token_expiration == timedelta(days=1)


@pytest.mark.parametrize("text", ["forever", "1h 30m", "1h30", "h", "1d", "-5s", "", "12 h", "1H"])
def test_malformed_duration_is_a_config_error_naming_the_variable(text: str) -> None:
    message = config_error(environ={"BERGFRIED_ACCESS_TOKEN_LIFETIME": text})
    assert "environment variable BERGFRIED_ACCESS_TOKEN_LIFETIME" in message
    assert "duration" in message


@pytest.mark.parametrize("text", ["0", "0s", "0h0m"])
def test_zero_duration_is_a_config_error(text: str) -> None:
    message = config_error({"auth_code_lifetime": text})
    assert "flag --auth-code-lifetime" in message
    assert "longer than zero" in message


def test_boolean_is_not_a_duration() -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(True)


# --- errors say which setting and where -----------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("BERGFRIED_PORT", "abc"),
        ("BERGFRIED_PORT", "0"),
        ("BERGFRIED_PORT", "65536"),
        ("BERGFRIED_WORKERS", "0"),
        ("BERGFRIED_WORKERS", "many"),
        ("BERGFRIED_LOG_FORMAT", "xml"),
        ("BERGFRIED_EXTERNAL_URL", "ftp://auth.example.com"),
        ("BERGFRIED_EXTERNAL_URL", "auth.example.com"),
        ("BERGFRIED_EXTERNAL_URL", "https://auth.example.com/?x=1"),
        ("BERGFRIED_EXTERNAL_URL", "https://auth.example.com/#frag"),
        ("BERGFRIED_DATABASE_URL", "mysql://db/bergfried"),
        ("BERGFRIED_MASTERKEY", "too-short"),
        ("BERGFRIED_PASSWORD_MIN_LENGTH", "0"),
        ("BERGFRIED_LOCKOUT_MAX_PASSWORD_ATTEMPTS", "-1"),
        ("BERGFRIED_USER_LOGIN_MUST_BE_DOMAIN", "perhaps"),
    ],
)
def test_bad_environment_variable_is_named_in_a_one_line_error(variable: str, value: str) -> None:
    message = config_error(environ={variable: value})
    assert message.startswith(f"invalid environment variable {variable}: ")


@pytest.mark.parametrize(
    ("flag", "value", "name"),
    [("port", 0, "--port"), ("log_format", "xml", "--log-format"), ("workers", 1000, "--workers"),
     ("external_url", "nope", "--external-url")],
)
def test_bad_flag_is_named_in_a_one_line_error(flag: str, value: object, name: str) -> None:
    assert config_error({flag: value}).startswith(f"invalid flag {name}: ")


@pytest.mark.parametrize(("key", "value"), [("port", "70000"), ("log_format", "xml"), ("workers", "[1, 2]")])
def test_bad_file_key_is_named_with_the_file_in_a_one_line_error(write_yaml: Any, key: str, value: str) -> None:
    path = write_yaml(f"{key}: {value}\n")
    assert config_error(config_file=path).startswith(f"invalid setting '{key}' in {path}: ")


def test_error_names_the_source_that_won(write_yaml: Any) -> None:
    path = write_yaml("log_format: json\n")
    message = config_error({"log_format": "xml"}, path, {"BERGFRIED_LOG_FORMAT": "console"})
    assert "flag --log-format" in message


def test_masterkey_error_does_not_show_the_value() -> None:
    message = config_error(environ={"BERGFRIED_MASTERKEY": "hunter2-is-not-32-chars"})
    assert "BERGFRIED_MASTERKEY" in message
    assert "32 characters" in message
    assert "hunter2" not in message


def test_unknown_yaml_key_is_an_error_naming_key_and_file(write_yaml: Any) -> None:
    path = write_yaml("port: 8080\nno_such_setting: 1\n")
    message = config_error(config_file=path)
    assert message == f"unknown setting 'no_such_setting' in {path}"


def test_unknown_flag_is_an_error() -> None:
    assert config_error({"no_such_flag": 1}) == "unknown flag --no-such-flag"


def test_missing_yaml_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    message = config_error(config_file=path)
    assert str(path) in message
    assert "does not exist" in message


@pytest.mark.parametrize("text", ["port: [8080\n", "port: 1\n  workers: 2\n", "\tport: 1\n", "a: b: c\n"])
def test_malformed_yaml_file_is_a_one_line_config_error(write_yaml: Any, text: str) -> None:
    path = write_yaml(text)
    message = config_error(config_file=path)
    assert str(path) in message


@pytest.mark.parametrize("text", ["- port\n- workers\n", "just a string\n", "42\n"])
def test_yaml_file_that_is_not_a_mapping_is_a_config_error(write_yaml: Any, text: str) -> None:
    path = write_yaml(text)
    assert "mapping" in config_error(config_file=path)


def test_empty_yaml_file_means_defaults(write_yaml: Any) -> None:
    assert load_settings({}, write_yaml(""), environ={}).port == 8080


def test_directory_as_yaml_file_is_a_config_error(tmp_path: Path) -> None:
    assert str(tmp_path) in config_error(config_file=tmp_path)


# --- derived values -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://bergfried@db:5432/bergfried", "postgresql+asyncpg://bergfried@db:5432/bergfried"),
        ("postgres://bergfried@db/bergfried", "postgresql+asyncpg://bergfried@db/bergfried"),
        ("postgresql+asyncpg://db/bergfried", "postgresql+asyncpg://db/bergfried"),
        ("sqlite+aiosqlite:///./x.db", "sqlite+aiosqlite:///./x.db"),
    ],
)
def test_postgresql_url_is_normalised_to_asyncpg(given: str, expected: str) -> None:
    assert load_settings({}, None, environ={"BERGFRIED_DATABASE_URL": given}).database_url == expected


def test_external_url_loses_its_trailing_slash_and_sets_https() -> None:
    settings = load_settings({}, None, environ={"BERGFRIED_EXTERNAL_URL": "https://auth.example.com/"})
    assert settings.external_url == "https://auth.example.com"
    assert settings.issuer == "https://auth.example.com"
    assert settings.is_https is True


def test_issuer_follows_the_port_flag_when_external_url_is_not_set() -> None:
    settings = load_settings({"port": 9000}, None, environ={})
    assert settings.port == 9000
    assert settings.issuer == "http://localhost:9000"


@pytest.mark.parametrize("source", ["env", "file"])
def test_issuer_follows_the_port_from_environment_or_file(write_yaml: Any, source: str) -> None:
    if source == "env":
        settings = load_settings({}, None, environ={"BERGFRIED_PORT": "9001"})
    else:
        settings = load_settings({}, write_yaml("port: 9001\n"), environ={})
    assert settings.issuer == "http://localhost:9001"


@pytest.mark.parametrize("where", ["flag", "env", "file"])
def test_external_url_set_anywhere_wins_over_the_port(write_yaml: Any, where: str) -> None:
    url = "https://auth.example.com"
    flags: dict[str, Any] = {"port": 9000}
    env: dict[str, str] = {}
    path = None
    if where == "flag":
        flags["external_url"] = url
    elif where == "env":
        env["BERGFRIED_EXTERNAL_URL"] = url
    else:
        path = write_yaml(f"external_url: {url}\n")
    settings = load_settings(flags, path, environ=env)
    assert settings.port == 9000
    assert settings.issuer == url


def test_issuer_follows_a_port_written_as_a_yaml_float(write_yaml: Any) -> None:
    settings = load_settings({}, write_yaml("port: 9002.0\n"), environ={})
    assert settings.port == 9002
    assert settings.issuer == "http://localhost:9002"


def test_issuer_follows_a_port_with_surrounding_blanks() -> None:
    settings = load_settings({}, None, environ={"BERGFRIED_PORT": " 9003 "})
    assert settings.port == 9003
    assert settings.issuer == "http://localhost:9003"


@pytest.mark.parametrize("value", ["80 80", "8080/x", "abc", "-1"])
def test_bad_port_is_blamed_on_the_port_not_on_the_issuer(value: str) -> None:
    message = config_error(environ={"BERGFRIED_PORT": value})
    assert message.startswith("invalid environment variable BERGFRIED_PORT: ")


# --- workers see the parent's settings ------------------------------------------------------


def test_worker_environment_carries_flags_and_config_file(write_yaml: Any) -> None:
    path = write_yaml("workers: 3\n")
    env = worker_environment({"port": 9100, "log_format": None, "masterkey_file": Path("/k")}, path)
    assert json.loads(env[WORKER_FLAGS_VARIABLE]) == {"port": 9100, "masterkey_file": "/k"}
    assert env["BERGFRIED_CONFIG"] == str(path)
    assert "BERGFRIED_CONFIG" not in worker_environment({}, None)


def test_worker_resolves_the_same_settings_as_its_parent(write_yaml: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    clear_bergfried_environment(monkeypatch)
    path = write_yaml("workers: 3\nlog_format: json\n")
    flags = {"port": 9100, "masterkey": KEY}
    parent = load_settings(flags, path, environ={})
    for name, value in worker_environment(flags, path).items():
        monkeypatch.setenv(name, value)
    worker = load_worker_settings()
    assert (worker.port, worker.workers, worker.log_format, worker.issuer) == (9100, 3, "json", "http://localhost:9100")
    assert worker.model_dump() == parent.model_dump()
