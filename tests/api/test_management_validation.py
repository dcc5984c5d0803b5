"""Bad input to the project, role, app, key, grant and member calls is INVALID_ARGUMENT naming the
field as protoc-gen-validate does (spec/management-api.md §9: plain status, empty `details`),
checked before anything is written; one world for the whole table."""

from __future__ import annotations

import pytest

from tests.api.calls import MGMT, add_project, expect_error, ok
from tests.api.conftest import World
from tests.factories import events_after, latest_sequence


@pytest.mark.rule("spec/management-api.md §9: request validation errors are plain INVALID_ARGUMENT statuses "
                  "naming <Rpc>Request.<Field>")
async def test_invalid_requests_name_the_field(world: World) -> None:
    pid = await add_project(world, "Portal")
    app = ok(await world.call("POST", f"{MGMT}/projects/{pid}/apps/api", world.owner, json={"name": "api"}))["appId"]
    grant = ok(await world.call("POST", f"{MGMT}/users/{world.user.id}/grants", world.owner,
                                json={"projectId": pid, "roleKeys": ["user"]}))["userGrantId"]
    apps, user_grant = f"{MGMT}/projects/{pid}/apps", f"{MGMT}/users/{world.user.id}/grants/{grant}"
    long = "k" * 201
    table = [
        ("PUT", f"{MGMT}/projects/{pid}", {}, "UpdateProjectRequest.Name: value is required"),
        ("PUT", f"{MGMT}/projects/{pid}", {"name": ""},
         "UpdateProjectRequest.Name: value length must be between 1 and 200 runes, inclusive"),
        ("POST", f"{MGMT}/projects", {"name": "x", "privateLabelingSetting": "NOPE"},
         "AddProjectRequest.PrivateLabelingSetting"),
        ("PUT", f"{MGMT}/projects/{pid}/roles/admin", {"displayName": ""},
         "UpdateProjectRoleRequest.DisplayName: value length must be between 1 and 200 runes"),
        ("POST", f"{MGMT}/projects/{pid}/roles", {"roleKey": "k", "displayName": "K", "group": long},
         "AddProjectRoleRequest.Group: value length must be at most 200 runes"),
        ("POST", f"{MGMT}/projects/{pid}/roles/_bulk", {"roles": [{"key": "", "displayName": "x"}]},
         "BulkAddProjectRolesRequest.Roles[0].Key: value length must be between 1 and 200 runes"),
        ("POST", apps + "/api", {"name": ""}, "AddAPIAppRequest.Name"),
        ("POST", apps + "/api", {"name": "a", "authMethodType": "NOPE"}, "AddAPIAppRequest.AuthMethodType"),
        ("PUT", f"{apps}/{app}", {}, "UpdateAppRequest.Name: value is required"),
        ("PUT", f"{apps}/{app}/oidc_config", {"grantTypes": ["NOPE"]}, "UpdateOIDCAppConfigRequest.GrantTypes[0]"),
        ("PUT", f"{apps}/{app}/oidc_config", {"clockSkew": "soon"}, "UpdateOIDCAppConfigRequest.ClockSkew"),
        ("POST", f"{apps}/{app}/keys", {"type": "KEY_TYPE_JSON", "expirationDate": "tomorrow"},
         "AddAppKeyRequest.ExpirationDate"),
        ("POST", f"{MGMT}/projects/{pid}/grants", {"grantedOrgId": world.other.id, "roleKeys": [""]},
         "AddProjectGrantRequest.RoleKeys[0]"),
        ("PUT", user_grant, {"roleKeys": [long]}, "UpdateUserGrantRequest.RoleKeys[0]"),
        ("POST", f"{MGMT}/users/grants/_search", {"queries": [{"userTypeQuery": {"type": "NOPE"}}]},
         "ListUserGrantsRequest.Queries[0].UserTypeQuery.Type"),
        ("POST", f"{MGMT}/orgs/me/members", {"userId": world.user.id, "roles": [""]},
         "AddOrgMemberRequest.Roles[0]"),
        ("POST", f"{MGMT}/projects/{pid}/members", {}, "AddProjectMemberRequest.UserId: value is required"),
    ]
    before = await latest_sequence(world.services.store)
    for method, path, body, field in table:
        response = await world.call(method, path, world.owner, json=body)
        expect_error(response, 400, 3, "invalid " + field)
        assert response.json()["details"] == [], field
    expect_error(await world.call("POST", "/admin/v1/members", world.iam_pat, json={"userId": ""}), 400, 3,
                 "invalid AddIAMMemberRequest.UserId")
    assert await events_after(world.services.store, before) == []
