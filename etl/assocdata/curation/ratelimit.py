"""Politeness towards external services: a rate limit, and retries with backoff.

Why here and not in astroquery: astroquery sends what it is asked to send;
Simbad asks its users for at most 5-10 queries a second and bans hosts that
flood it, and transient failures (HTTP 5xx, a reset connection) are common
enough that one retry saves a whole curation run. The clock and the sleep are
injectable so that tests check the pacing without waiting (timings are never
asserted).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


@dataclass
class RateLimiter:
    """At most ``rate`` calls per second: each call waits until 1/rate s after the previous one."""

    rate: float = 5.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _last: float | None = field(default=None, init=False)
    waited: float = field(default=0.0, init=False)  # total seconds slept, for the summary

    def wait(self) -> None:
        now = self.clock()
        if self._last is not None:
            delay = self._last + 1.0 / self.rate - now
            if delay > 0:
                self.sleep(delay)
                self.waited += delay
                now = self.clock()
        self._last = now


class Unreachable(Exception):
    """The service could not be reached at all (no network, DNS failure): do not insist."""


def is_transient(exc: BaseException) -> bool:
    """A failure worth a retry: HTTP 429/5xx, timeouts, a dropped connection."""
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status is None and isinstance(getattr(exc, "code", None), int):  # pyvo's DALServiceError
        status = exc.code  # type: ignore[attr-defined]
    if status is not None:
        return status == 429 or status >= 500
    name = type(exc).__name__
    return name in {"Timeout", "ReadTimeout", "ConnectTimeout", "ChunkedEncodingError",
                    "ConnectionError", "RemoteDisconnected", "TimeoutError"}


def is_unreachable(exc: BaseException) -> bool:
    """No route to the service (name resolution or connection refused): offline."""
    text = f"{type(exc).__name__}: {exc}"
    return any(s in text for s in ("NameResolutionError", "Name or service not known",
                                   "Temporary failure in name resolution", "Failed to resolve",
                                   "Network is unreachable", "No route to host",
                                   "Connection refused", "nodename nor servname"))


def with_retries(call: Callable[[], T], *, limiter: RateLimiter, attempts: int = 4,
                 backoff: float = 1.0, sleep: Callable[[float], None] | None = None) -> T:
    """``call()`` paced by ``limiter``, retried on transient failures with exponential backoff.

    Raises :class:`Unreachable` at once when the host cannot be reached at all
    (retrying a DNS failure only wastes time), and the last error after
    ``attempts`` tries.
    """
    sleep = sleep or limiter.sleep
    for attempt in range(attempts):
        limiter.wait()
        try:
            return call()
        except Exception as exc:
            if is_unreachable(exc):
                raise Unreachable(str(exc)) from exc
            if not is_transient(exc) or attempt == attempts - 1:
                raise
            sleep(backoff * 2 ** attempt)
    raise AssertionError("unreachable")
