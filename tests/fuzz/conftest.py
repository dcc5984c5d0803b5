"""The fuzz tests reuse the worlds of the login and OIDC tests (fixtures by name)."""

from tests.login.conftest import overrides, world  # noqa: F401
from tests.oidc.conftest import clock, movable_services, res  # noqa: F401
