"""The world file's errors name the file and the path inside it, one line each; typos are
errors, not silently ignored fields."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from bergfried.apply import schema
from bergfried.domain.apps import AppType, AuthMethodType
from bergfried.errors import ConfigError

ROLE = "{key: admin, displayName: Administrator}"


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        schema.parse(yaml.safe_load(text), "world.yaml")
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(("text", "expected"), [
    ("orgs: [{name: A, projects: [{name: p}, {name: q, roles: [" + ROLE + ", " + ROLE + ", {key: 3}]}]}]",
     "world.yaml: orgs[0].projects[1].roles[2].key: Input should be a valid string (and 1 more)"),
    ("orgs: [{name: A, projects: [{name: p, roles: [{key: x}]}]}]",
     "world.yaml: orgs[0].projects[0].roles[0].displayName: Field required"),
    ("orgs: [{name: A, projekts: []}]", "world.yaml: orgs[0].projekts: unknown field"),
    ("orgs: [{name: ''}]", "world.yaml: orgs[0].name: String should have at least 1 character"),
    ("orgs: [{name: A, projects: [{name: p, applications: [{name: w, oidc: {appType: WEB}}]}]}]",
     "world.yaml: orgs[0].projects[0].applications[0].oidc.appType: Input should be 'OIDC_APP_TYPE_WEB', "
     "'OIDC_APP_TYPE_USER_AGENT' or 'OIDC_APP_TYPE_NATIVE'"),
    ("orgs: [{name: A, projects: [{name: p, applications: [{name: w}]}]}]",
     "world.yaml: orgs[0].projects[0].applications[0]: give exactly one of oidc or api"),
    ("orgs: [{name: A, projects: [{name: p, applications: [{name: w, oidc: {clockSkew: 2 seconds}}]}]}]",
     "world.yaml: orgs[0].projects[0].applications[0].oidc.clockSkew: a duration such as \"0s\" or \"1.5s\""),
    ("orgs: [{name: A, users: [{userName: u, machine: {name: m}, human: {}}]}]",
     "world.yaml: orgs[0].users[0].human.profile: Field required (and 1 more)"),
    ("orgs: [{name: A, users: [{userName: u, human: {profile: {firstName: a, lastName: b}, email: {email: e},"
     " password: x, passwordEnv: Y}}]}]",
     "world.yaml: orgs[0].users[0].human: give at most one of password, passwordEnv"),
    ("orgs: [{name: A, users: [{userName: u, machine: {name: m}, metadata: {k: 1}}]}]",
     "world.yaml: orgs[0].users[0].metadata.k: Input should be a valid string"),
    ("orgs: {name: A}", "world.yaml: orgs: Input should be a valid tuple"),
    ("[]", "world.yaml: (top level): Input should be a valid dictionary or instance of World"),
])
def test_parse_errors_name_the_path_in_the_file(text: str, expected: str) -> None:
    assert error_of(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("orgs: [{name: A}, {name: a}]", "world.yaml: orgs[1].name: duplicate organization name 'a'"),
    ("orgs: [{name: A, projects: [{name: p, roles: [" + ROLE + ", " + ROLE + "]}]}]",
     "world.yaml: orgs[0].projects[0].roles[1].key: duplicate role key 'admin'"),
    ("orgs: [{name: A, projects: [{name: p, applications: [{name: w, api: {}}, {name: w, api: {}}]}]}]",
     "world.yaml: orgs[0].projects[0].applications[1].name: duplicate application name 'w'"),
    ("orgs: [{name: A, users: [{userName: U, machine: {name: m}}, {userName: u, machine: {name: m}}]}]",
     "world.yaml: orgs[0].users[1].userName: duplicate user name 'u'"),
])
def test_natural_keys_are_unique_where_they_match_objects(text: str, expected: str) -> None:
    assert error_of(text) == expected


def test_defaults_are_zitadel_defaults_and_durations_read_as_protojson() -> None:
    world = schema.parse(yaml.safe_load(
        "orgs: [{name: A, projects: [{name: p, applications: [{name: w, oidc: {clockSkew: 1.5s}}]}]}]"))
    (app,) = world.orgs[0].projects[0].applications or ()
    assert app.oidc is not None
    assert app.oidc.app_type == AppType.WEB
    assert app.oidc.auth_method_type == AuthMethodType.BASIC
    assert app.oidc.clock_skew == timedelta(seconds=1.5)
    assert world.orgs[0].projects[0].roles is None  # not given: not managed


def test_unreadable_and_invalid_yaml_files_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read .*missing.yaml: No such file or directory"):
        schema.load(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("orgs:\n  - name: [A\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken.yaml: line 3 not valid YAML"):
        schema.load(broken)


def test_the_example_file_parses() -> None:
    world = schema.load(Path(__file__).parents[2] / "examples" / "seed-guide.yaml")
    assert [org.name for org in world.orgs] == ["ACME"]


def test_plan_lines_show_values_as_the_file_writes_them() -> None:
    from bergfried.apply.actions import diff

    assert diff({"devMode": (False, True), "clockSkew": (timedelta(0), timedelta(seconds=1.5)),
                 "appType": (AppType.WEB, AppType.NATIVE), "name": ("a", "a")}) == (
        "devMode: false → true", "clockSkew: 0s → 1.5s", "appType: OIDC_APP_TYPE_WEB → OIDC_APP_TYPE_NATIVE")


def test_the_file_described_in_docs_apply_md_parses() -> None:
    import re

    text = (Path(__file__).parents[2] / "docs" / "apply.md").read_text(encoding="utf-8")
    block = re.search(r"## The file.*?```yaml\n(.*?)```", text, re.DOTALL)
    assert block is not None
    world = schema.parse(yaml.safe_load(block.group(1)), "docs/apply.md")
    assert [org.name for org in world.orgs] == ["ACME", "Partner"]
