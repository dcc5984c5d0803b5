"""Sessions: activity, and the `amr` / `auth_time` they give tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bergfried.domain.ids import UserId
from bergfried.domain.sessions import Session

CREATED = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def session(**changes: object) -> Session:
    values: dict[str, object] = {"id": "s1", "user_id": UserId("1"), "user_agent_id": "ua1", "created_at": CREATED}
    values.update(changes)
    return Session(**values)  # type: ignore[arg-type]


def test_session_is_active_until_terminated() -> None:
    assert session().active is True
    assert session(terminated_at=CREATED + timedelta(hours=1)).active is False


@pytest.mark.rule("RFC 8176 §2 (pwd)")
def test_amr_is_pwd_after_a_password_check() -> None:
    assert session(password_checked_at=CREATED).amr() == ["pwd"]


@pytest.mark.rule("RFC 8176 §2")
def test_amr_is_empty_before_any_factor_is_checked() -> None:
    assert session().amr() == []


@pytest.mark.rule("OIDC Core §2 (auth_time)")
def test_auth_time_is_the_time_of_the_password_check() -> None:
    checked = CREATED + timedelta(minutes=3)
    assert session(password_checked_at=checked).auth_time() == checked
    assert session().auth_time() is None
