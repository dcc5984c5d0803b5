"""Sessions: one per user and user agent (browser) or per v2 session API call. They carry the
factors checked and when, which `auth_time`, `amr` and `sid` in tokens come from, and which
back-channel logout follows when they end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bergfried.domain.ids import UserId


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    user_id: UserId | None
    user_agent_id: str | None
    created_at: datetime
    password_checked_at: datetime | None = None
    terminated_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.terminated_at is None

    def amr(self) -> list[str]:
        """RFC 8176 method references of the factors checked so far."""
        return ["pwd"] if self.password_checked_at is not None else []

    def auth_time(self) -> datetime | None:
        return self.password_checked_at
