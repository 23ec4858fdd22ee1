"""Failed sign-ins, limited per user and per address on the shared cache.

Why not DRF's ``SimpleRateThrottle``: it counts every request, successes
included, and reads then rewrites its history without a lock, so a burst of
concurrent guesses from many addresses all pass the same check. Here each
attempt takes a slot with an atomic increment before the password is checked,
so a concurrent flood cannot overshoot the limit, and a correct password gives
its slot back, so signing in does not use up anyone's allowance.

The check comes before the password is looked at: an account or address that
is locked out refuses the right password too. Otherwise the lockout would tell
a guesser which of his guesses was right.

Counts live in buckets of a sixth of the window. An attempt is weighed against
the buckets of the last window plus the current one, so no stretch of one
window ever holds more than the limit (a fixed window would allow twice the
limit across its boundary).
"""

import contextlib
import hashlib
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied

from server.core.cache import count_up

_BUCKETS_PER_WINDOW = 6
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Where a refused attempt leaves its wait for the view (Django's authenticate()
# turns the backend's PermissionDenied into a plain None).
_WAIT_ATTR = "agentloom_login_retry_after"


def parse_rate(rate: str) -> tuple[int, int]:
    """``"10/min"`` → (10, 60), as DRF spells rates."""
    count, _, period = rate.partition("/")
    return int(count), _PERIODS[period.strip()[:1]]


class LoginThrottled(PermissionDenied):
    def __init__(self, wait_s: float) -> None:
        super().__init__("Too many failed sign-ins.")
        self.wait_s = wait_s


@dataclass(frozen=True)
class _Slot:
    key: str


class SlidingWindow:
    """At most ``limit`` slots held per identity within any ``window_s`` seconds."""

    def __init__(self, name: str, rate: str) -> None:
        self.name = name
        self.limit, self.window_s = parse_rate(rate)
        self.bucket_s = self.window_s / _BUCKETS_PER_WINDOW

    def _key(self, ident: str, bucket: int) -> str:
        return f"agentloom:throttle:{self.name}:{ident}:{bucket}"

    def take(self, ident: str, now: float) -> _Slot:
        """A slot for one attempt, or ``LoginThrottled`` with the seconds to wait."""
        current = int(now // self.bucket_s)
        older = range(current - _BUCKETS_PER_WINDOW, current)
        counts = cache.get_many([self._key(ident, b) for b in older])
        key = self._key(ident, current)
        # Kept a little longer than it is read, so an increment never lands on an expired key.
        taken = count_up(key, timeout=int(self.window_s + 2 * self.bucket_s) + 1)
        total = taken + sum(counts.values())
        if total <= self.limit:
            return _Slot(key)
        cache.decr(key)
        raise LoginThrottled(self._wait(ident, older, counts, total - self.limit, current, now))

    def _wait(
        self,
        ident: str,
        older: range,
        counts: dict[str, int],
        excess: int,
        current: int,
        now: float,
    ) -> float:
        """Seconds until enough old attempts leave the window for one more."""
        dropped = 0
        for bucket in older:
            dropped += counts.get(self._key(ident, bucket), 0)
            if dropped >= excess:
                return (bucket + _BUCKETS_PER_WINDOW + 1) * self.bucket_s - now
        return (current + _BUCKETS_PER_WINDOW + 1) * self.bucket_s - now

    @staticmethod
    def give_back(slot: _Slot) -> None:
        # A bucket that expired meanwhile has nothing left to give back.
        with contextlib.suppress(ValueError):
            cache.decr(slot.key)


def _windows() -> list[tuple[SlidingWindow, str]]:
    rates = settings.AGENTLOOM_LOGIN_THROTTLE
    return [
        (SlidingWindow("login-user", rates["per_user"]), "user"),
        (SlidingWindow("login-address", rates["per_address"]), "address"),
    ]


def _idents(request: Any, username: str) -> dict[str, str]:
    # Usernames are hashed (bounded, safe cache keys) and case-folded, so
    # "Alice" and "alice" share one allowance. The address is the peer the
    # ASGI server reports; it honours X-Forwarded-For only from trusted proxies.
    return {
        "user": hashlib.sha256(username.casefold().encode()).hexdigest(),
        "address": request.META.get("REMOTE_ADDR") or "unknown",
    }


def take_login_slots(request: Any, username: str) -> list[_Slot]:
    """One slot per user and per address for a sign-in attempt, or ``LoginThrottled``."""
    now = time.time()
    idents = _idents(request, username)
    slots: list[_Slot] = []
    try:
        for window, ident_kind in _windows():
            slots.append(window.take(idents[ident_kind], now))
    except LoginThrottled as throttled:
        for slot in slots:
            SlidingWindow.give_back(slot)
        setattr(request, _WAIT_ATTR, throttled.wait_s)
        raise
    return slots


def give_back(slots: list[_Slot]) -> None:
    """A successful sign-in does not count against anyone's allowance."""
    for slot in slots:
        SlidingWindow.give_back(slot)


def refused_wait(request: Any) -> float | None:
    """The seconds to wait if the last sign-in on this request was throttled."""
    return getattr(request, _WAIT_ATTR, None)
