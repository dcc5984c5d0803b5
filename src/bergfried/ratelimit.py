"""In-process rate limits: a token bucket per key (a client IP, a login name, a user id).

Why a bucket per key and not a global counter: one noisy client must not lock out the others,
and an online password guesser is slowed per account whatever IP it comes from (OWASP ASVS
V2.2.1; the lockout policy is the hard stop, this is the soft one).

Each bucket holds `per_minute` tokens and refills at `per_minute / 60` a second. The callers
`check` before the work and `spend` only when the request failed (a wrong password, a failed
client authentication): guessing is what is limited, while a busy resource server introspecting
from one IP, or an office behind one NAT logging in, never is. A refused request spends nothing,
and the answer says how long to wait (`Retry-After`). `per_minute = 0` turns a limit off.

The state lives in this process only: behind a load balancer with N processes a client gets up to
N times the limit (docs/security.md says what to do). Requests in flight at once are all checked
before any of them spends, so a burst may pass the limit by its concurrency; the bucket then goes
below zero (down to minus a minute's worth) and the wait grows accordingly. Memory is bounded:
when a limiter holds more than `max_keys` buckets, full ones (the same as absent) are dropped
first, then all. No framework here; `web/ratelimit.py` applies these limits to HTTP.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bergfried.errors import DomainError

Clock = Callable[[], float]


@dataclass(slots=True)
class Limiter:
    per_minute: int
    clock: Clock = time.monotonic
    max_keys: int = 100_000
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # key → (tokens, at)

    def check(self, key: str) -> int | None:
        """None when `key` may go on, else whole seconds to wait (at least 1). Spends nothing."""
        if self.per_minute <= 0:
            return None
        tokens = self._level(key, self.clock())
        if tokens >= 1:
            return None
        return max(1, math.ceil((1 - tokens) * 60 / self.per_minute))

    def spend(self, key: str) -> None:
        """Take one token from `key`'s bucket (a failed attempt)."""
        if self.per_minute <= 0:
            return
        now = self.clock()
        self._buckets[key] = (max(-float(self.per_minute), self._level(key, now) - 1), now)
        if len(self._buckets) > self.max_keys:
            self._prune(now)

    def _level(self, key: str, now: float) -> float:
        found = self._buckets.get(key)
        if found is None:
            return float(self.per_minute)
        tokens, at = found
        return min(float(self.per_minute), tokens + (now - at) * self.per_minute / 60)

    def _prune(self, now: float) -> None:
        full = [key for key in self._buckets if self._level(key, now) >= self.per_minute]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) > self.max_keys:  # a flood of distinct keys: forget them all
            self._buckets.clear()


class TooManyRequests(DomainError):
    """ZITADEL's RESOURCE_EXHAUSTED (gRPC 8, HTTP 429); `retry_after` feeds the `Retry-After` header."""

    grpc_code = 8
    http_status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__("Errors.RateLimit.Exceeded", f"Too many requests; retry after {retry_after} seconds",
                         error_id="BERG-RATE1")
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The process's limiters: failed requests at the OAuth endpoints that authenticate clients
    (per IP), failed password checks (per IP and per login name or user)."""

    token_per_ip: Limiter
    password_per_ip: Limiter
    password_per_name: Limiter

    @classmethod
    def of(cls, token_per_ip: int, password_per_ip: int, password_per_name: int,
           clock: Clock = time.monotonic) -> RateLimits:
        return cls(Limiter(token_per_ip, clock), Limiter(password_per_ip, clock), Limiter(password_per_name, clock))

    def password_check(self, ip: str | None, name: str) -> int | None:
        """Seconds to wait before this password check, or None: the longer of the two limits."""
        waits = [wait for wait in (self.password_per_ip.check(ip) if ip is not None else None,
                                   self.password_per_name.check(_name_key(name))) if wait is not None]
        return max(waits) if waits else None

    def password_failed(self, ip: str | None, name: str) -> None:
        if ip is not None:
            self.password_per_ip.spend(ip)
        self.password_per_name.spend(_name_key(name))


def _name_key(name: str) -> str:
    return name.strip().casefold()
