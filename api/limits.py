"""A per-client rate limit: a token bucket per client address.

Each client gets ``burst`` requests at once and ``rate`` more each second;
past that the API answers 429 with ``Retry-After`` (whole seconds) and a
problem document. ``TIZBEK_RATE_LIMIT`` sets ``rate`` (requests per second;
``0`` turns the limit off), ``TIZBEK_RATE_BURST`` the burst.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from api.problems import problem

RATE_ENV = "TIZBEK_RATE_LIMIT"
BURST_ENV = "TIZBEK_RATE_BURST"
DEFAULT_RATE = 200.0
DEFAULT_BURST = 400.0
#: Buckets kept at most; the idlest are dropped first when full.
MAX_CLIENTS = 100_000


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimit:
    """ASGI middleware answering 429 to a client past its budget."""

    def __init__(self, app: ASGIApp, *, rate: float, burst: float) -> None:
        self.app = app
        self.rate = rate
        self.burst = max(burst, 1.0)
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, app: ASGIApp) -> ASGIApp:
        """The limit configured by the environment, or ``app`` itself when it is off."""
        rate = float(os.environ.get(RATE_ENV, DEFAULT_RATE))
        burst = float(os.environ.get(BURST_ENV, max(DEFAULT_BURST, 2 * rate)))
        return app if rate <= 0 else cls(app, rate=rate, burst=burst)

    def _wait(self, client: str) -> float:
        """Seconds until ``client`` may send again (0: now, and one token is spent)."""
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.get(client)
            if bucket is None:
                if len(self._buckets) >= MAX_CLIENTS:
                    oldest = min(self._buckets, key=lambda c: self._buckets[c].stamp)
                    del self._buckets[oldest]
                bucket = self._buckets[client] = _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        wait = self._wait(client[0] if client else "unknown")
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            response = problem(
                429, "rate_limited", "Too many requests", f"slow down: try again in {seconds} s"
            )
            response.headers["Retry-After"] = str(seconds)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
