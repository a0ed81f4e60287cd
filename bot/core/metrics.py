"""The metrics port: the core reports what happened, an outside implementation (bot/ops.py) counts it.

Kept as a tiny protocol with a no-op default so `bot/core` stays free of any metrics library and tests
need no set-up; the composition root puts a real one in `Services.metrics`.
"""

from __future__ import annotations

from typing import Protocol


class Metrics(Protocol):
    def delivery(self, platform: str, status: str) -> None:
        """One scheduled push settled: sent, failed, retry or skipped."""
        ...

    def command(self, command: str, platform: str, seconds: float) -> None:
        """One command or button press handled, and how long the core took."""
        ...

    def feed_fetch(self, status: str) -> None:
        """One arXiv feed fetch recorded (ok, not_modified, empty, stale, error)."""
        ...


class NoMetrics:
    def delivery(self, platform: str, status: str) -> None:
        return None

    def command(self, command: str, platform: str, seconds: float) -> None:
        return None

    def feed_fetch(self, status: str) -> None:
        return None


NO_METRICS = NoMetrics()
