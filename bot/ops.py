"""Operations endpoints for a worker: `/healthz` for load balancers and orchestrators, `/metrics` for Prometheus.

A separate small aiohttp server (not the Telegram webhook listener) so it also exists on send-only and
Discord-only workers, and so a health probe never competes with Telegram's webhook path. Metrics use
prometheus-client with a registry of their own, so several apps in one process (tests) don't collide.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from bot.core.adapter import Adapter

log = logging.getLogger(__name__)

DB_CHECK_TIMEOUT = 3.0
DatabaseCheck = Callable[[], Awaitable[None]]  # raises when the database cannot answer


class PrometheusMetrics:
    """The core's `Metrics` port (bot/core/metrics.py) on prometheus-client."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.deliveries = Counter(
            "studybuddy_deliveries",
            "Scheduled pushes settled, by platform and status (sent, failed, retry, skipped).",
            ["platform", "status"],
            registry=self.registry,
        )
        self.commands = Counter(
            "studybuddy_commands",
            "Commands and button presses handled.",
            ["command", "platform"],
            registry=self.registry,
        )
        self.command_seconds = Histogram(
            "studybuddy_command_seconds", "Time the core took to answer a command.", registry=self.registry
        )
        self.feed_fetches = Counter(
            "studybuddy_feed_fetches", "arXiv feed fetches recorded, by status.", ["status"], registry=self.registry
        )

    def delivery(self, platform: str, status: str) -> None:
        self.deliveries.labels(platform, status).inc()

    def command(self, command: str, platform: str, seconds: float) -> None:
        self.commands.labels(command, platform).inc()
        self.command_seconds.observe(seconds)

    def feed_fetch(self, status: str) -> None:
        self.feed_fetches.labels(status).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class OpsServer:
    """A `Component`: serves GET /healthz and GET /metrics on HEALTH_LISTEN:HEALTH_PORT."""

    def __init__(
        self,
        check_database: DatabaseCheck,
        adapters: Sequence[Adapter],
        metrics: PrometheusMetrics,
        *,
        host: str = "127.0.0.1",
        port: int = 9464,
    ) -> None:
        self._ping = check_database
        self.adapters = list(adapters)
        self.metrics = metrics
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics_page)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        log.info("ops: /healthz and /metrics on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def check_database(self) -> str:
        try:
            async with asyncio.timeout(DB_CHECK_TIMEOUT):
                await self._ping()
        except Exception as error:  # the reason, never the URL (it may hold a password)
            return f"error: {type(error).__name__}"
        return "ok"

    def adapter_states(self) -> dict[str, str]:
        states: dict[str, str] = {}
        for adapter in self.adapters:
            states[adapter.platform] = "connected" if adapter.connected else "disconnected"
        return states

    async def healthz(self, _request: web.Request) -> web.Response:
        database, adapters = await self.check_database(), self.adapter_states()
        healthy = database == "ok" and all(v == "connected" for v in adapters.values())
        body = {"database": database, "adapters": adapters}
        return web.json_response(body, status=200 if healthy else 503)

    async def metrics_page(self, _request: web.Request) -> web.Response:
        response = web.Response(body=self.metrics.render())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response
