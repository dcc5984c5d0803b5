"""In-process rate limits: a token bucket per key (a client IP, a login name, a user id).

Why a bucket per key and not a global counter: one noisy client must not lock out the others,
and an online password guesser is slowed per account whatever IP it comes from (OWASP ASVS
V2.2.1, RFC 9700 §4.x "brute force"; the lockout policy is the hard stop, this is the soft one).

Each bucket holds `per_minute` tokens and refills at `per_minute / 60` a second, so a client may
spend a minute's worth at once and then the steady rate. A refused hit spends nothing, and the
answer says how long to wait (`Retry-After`). `per_minute = 0` turns a limit off.

The state lives in this process only: behind a load balancer with N processes a client gets up to
N times the limit (docs/security.md says what to do). Memory is bounded: when a limiter holds
more than `max_keys` buckets, full ones (the same as absent) are dropped first, then all.
No framework here; `web/ratelimit.py` applies these limits to HTTP.
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

    def hit(self, key: str) -> int | None:
        """Spend one token of `key`'s bucket: None when allowed, else whole seconds to wait (≥ 1)."""
        if self.per_minute <= 0:
            return None
        now = self.clock()
        tokens = self._level(key, now)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            if len(self._buckets) > self.max_keys:
                self._prune(now)
            return None
        return max(1, math.ceil((1 - tokens) * 60 / self.per_minute))

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
    """The process's limiters: the OAuth endpoints that authenticate clients (per IP), password
    checks (per IP and per login name or user)."""

    token_per_ip: Limiter
    password_per_ip: Limiter
    password_per_name: Limiter

    @classmethod
    def of(cls, token_per_ip: int, password_per_ip: int, password_per_name: int,
           clock: Clock = time.monotonic) -> RateLimits:
        return cls(Limiter(token_per_ip, clock), Limiter(password_per_ip, clock), Limiter(password_per_name, clock))

    def password(self, ip: str | None, name: str) -> int | None:
        """Both password limits, the IP's first (its hit counts even when the name's limit refuses)."""
        if ip is not None:
            wait = self.password_per_ip.hit(ip)
            if wait is not None:
                return wait
        return self.password_per_name.hit(name.strip().casefold())
