"""The bootstrap: the one place that builds and wires everything.

`bootstrap(settings, **overrides)` returns a complete, immutable `Runtime`: the database and its
repositories, the features' commands and push kinds, the core, the adapters, delivery and its scheduler,
the ops server and the arXiv ingest. Nothing is filled in later. Every part can be overridden (tests pass
a manual clock, recording adapters, a metrics registry the same way). `cli.py` only calls this.

Adding a feature = a new package plus one line in `FEATURES`.
"""

from __future__ import annotations

import gc
import logging
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import Protocol

from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.accountability.feature import FEATURE as ACCOUNTABILITY_FEATURE
from bot.accountability.ports import ACCOUNTABILITY
from bot.buddies.feature import FEATURE as BUDDIES_FEATURE
from bot.buddies.ports import BUDDIES
from bot.calendar.feature import FEATURE as CALENDAR_FEATURE
from bot.config import Settings
from bot.core import help as help_command
from bot.core.adapter import Adapter, RecipientEvents
from bot.core.clock import Clock, SystemClock
from bot.core.context import Services
from bot.core.dispatcher import Core
from bot.core.metrics import NO_METRICS, Metrics
from bot.core.ports import NO_SCHEDULES, Ports, Schedules
from bot.core.registry import Registry
from bot.dashboard.feature import FEATURE as DASHBOARD_FEATURE
from bot.delivery.kinds import Feature, PushKinds
from bot.delivery.pacing import Pacer, shared_limits
from bot.delivery.recipients import StoreRecipients
from bot.delivery.reminders import FEATURE as REMINDERS_FEATURE
from bot.delivery.render import PushRenderer
from bot.delivery.scheduler import Job, Scheduler
from bot.delivery.schedules import ScheduleBook
from bot.delivery.service import DeliveryService
from bot.ops import OpsServer, PrometheusMetrics
from bot.papers.feature import FEATURE as PAPERS_FEATURE
from bot.papers.ingest import ArxivIngestJob
from bot.papers.ports import PAPERS
from bot.plan.feature import FEATURE as PLAN_FEATURE
from bot.web.links import WEB_LINKS, WebLinks
from bot.web.server import WebServer
from bot.web.tokens import WEB_TOKENS
from bot.web.versions import WEB_VERSIONS
from storage.accountability import SqlAccountability
from storage.buddies import SqlBuddies
from storage.db import create_engine, default_database_url, is_sqlite, ping
from storage.migrate import upgrade
from storage.outbox import SqlOutbox
from storage.papers import SqlPaperStore
from storage.repository import SqlStore
from storage.web import SqlWebTokens

log = logging.getLogger(__name__)

HELP_FEATURE = Feature("help", help_command.register)
FEATURES: tuple[Feature, ...] = (
    PLAN_FEATURE,
    REMINDERS_FEATURE,
    PAPERS_FEATURE,
    ACCOUNTABILITY_FEATURE,
    BUDDIES_FEATURE,
    CALENDAR_FEATURE,
    DASHBOARD_FEATURE,
    HELP_FEATURE,
)
INGEST_EVERY = timedelta(minutes=15)
AdapterFactory = Callable[[Core, RecipientEvents], Sequence[Adapter]]  # adapters that need the core


class Component(Protocol):
    """Anything with an async lifecycle, started in order and stopped in reverse."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Database:
    """The engine and the repositories on it; `start` brings the schema up to date, `stop` disposes.

    On SQLite one process owns delivery (`owns_delivery`): claims a killed run left in flight go back to
    pending at start. On PostgreSQL other workers may hold them, so their leases decide instead.
    """

    def __init__(self, url: str, owns_delivery: bool = False, clock: Clock | None = None) -> None:
        self.url = url
        self.owns_delivery = owns_delivery and is_sqlite(url)
        self.engine: AsyncEngine = create_engine(url)
        self.store = SqlStore(self.engine)
        self.papers = SqlPaperStore(self.engine)
        self.outbox = SqlOutbox(self.engine)
        self.accountability = SqlAccountability(self.engine)
        self.buddies = SqlBuddies(self.engine)
        self.web = SqlWebTokens(self.engine, clock.now) if clock is not None else SqlWebTokens(self.engine)

    @property
    def sqlite(self) -> bool:
        return is_sqlite(self.url)

    async def start(self) -> None:
        await upgrade(self.engine)
        if self.owns_delivery:
            released = await self.outbox.release_claims()
            if released:
                log.warning("re-queued %d push(es) left in flight by a previous run", released)

    async def stop(self) -> None:
        await self.engine.dispose()

    async def revision(self) -> str | None:
        """The schema's Alembic revision; None for an empty database."""
        from alembic.runtime.migration import MigrationContext

        async with self.engine.connect() as connection:
            return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())

    @staticmethod
    def migrations_between(before: str | None, after: str | None) -> list[str]:
        """The migrations that lead from `before` to `after`, oldest first, as "revision: message"."""
        from alembic.script import ScriptDirectory

        from storage.migrate import alembic_config

        if after is None or before == after:
            return []
        scripts = ScriptDirectory.from_config(alembic_config()).iterate_revisions(after, before or "base")
        return [f"{script.revision}: {script.doc}" for script in reversed(list(scripts)) if script is not None]

    async def ping(self) -> None:
        await ping(self.engine)


# The cyclic collector's young generation runs every 700 net allocations by default: a few times per
# command, and every tenth of those walks the middle generation too. With 10,000 and the start-up heap frozen,
# /streak in bench/leaderboard.py went 0.60 -> 0.43 ms (its bare SELECT 0.11 -> 0.07 ms) and the test
# suite's CPU time 296 -> 236 s.
GC_YOUNG_THRESHOLD = 10_000


@cache  # once per process: a later runtime (tests build hundreds) would freeze their garbage too
def settle_heap() -> None:
    """Once per process, when the bot is built: freeze what start-up allocated (the plan, the ORM's
    metadata, the adapters), so full collections no longer walk it, and collect the young generation
    less often. Memory stays bounded: cycles are still collected, only in larger batches."""
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


@dataclass(frozen=True, slots=True)
class Runtime:
    """Everything `studybuddy` runs, built once. `open` readies the database; `start` runs the rest."""

    settings: Settings
    clock: Clock
    database: Database
    features: tuple[Feature, ...]
    kinds: PushKinds
    services: Services
    core: Core
    recipients: StoreRecipients
    adapters: tuple[Adapter, ...]
    delivery: DeliveryService
    scheduler: Scheduler | None  # None where nothing is pushed (the console, one-off CLI commands)
    ingest: ArxivIngestJob | None
    ops: OpsServer | None
    web: WebServer | None  # None without WEB_PORT: no public pages
    metrics: Metrics
    components: tuple[Component, ...] = field(repr=False)
    lifecycle: Lifecycle = field(default_factory=lambda: Lifecycle(), repr=False)

    async def open(self) -> None:
        """The database, migrated; enough for the console and the CLI."""
        await self.database.start()
        settle_heap()

    async def start(self) -> None:
        """The database, then every other component in order (ops first, so /healthz says 503 early)."""
        started: list[Component] = []
        try:
            await self.open()
            for component in self.components:
                await component.start()
                started.append(component)
        except BaseException:
            await _stop_all(started)
            await self.database.stop()
            raise
        self.lifecycle.started = started

    async def stop(self) -> None:
        """Everything started, in reverse order, then the database; safe to call twice."""
        started, self.lifecycle.started = self.lifecycle.started, []
        await _stop_all(started)
        await self.database.stop()


class Lifecycle:
    """Which components are running: the one thing about a runtime that changes after it is built."""

    def __init__(self) -> None:
        self.started: list[Component] = []


async def _stop_all(components: Sequence[Component]) -> None:
    for component in reversed(components):
        try:
            await component.stop()
        except Exception:
            log.exception("stopping %s failed", type(component).__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def build_registry(features: Sequence[Feature]) -> Registry:
    registry = Registry()
    for feature in features:
        with registry.registering(feature.name):
            feature.register(registry)
    return registry


def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    features: Sequence[Feature] = FEATURES,
    adapters: Sequence[Adapter] | AdapterFactory | None = None,
    deliver: bool | None = None,
    metrics: Metrics | None = None,
    worker_id: str | None = None,
    ingest: bool | None = None,
) -> Runtime:
    """Build the whole bot from settings; each keyword replaces one part (tests, benchmarks, the console).

    `adapters`: default, every adapter whose token is set; or given, or made from the core by a factory
    (a real platform adapter needs the core it hands updates to). `deliver`: keep schedules and send pushes;
    default, when there is an adapter to send through. `ingest`: run the arXiv ingest job; default,
    `ARXIV_INGEST` when delivering.
    """
    clock = clock or SystemClock()
    if deliver is not None:
        delivering = deliver
    else:
        delivering = bool(settings.secrets_of_adapters()) if adapters is None else callable(adapters) or bool(adapters)
    database = Database(settings.database_url or default_database_url(), owns_delivery=delivering, clock=clock)
    worker = worker_id or worker_name()
    if metrics is None:
        metrics = PrometheusMetrics() if settings.health_port is not None else NO_METRICS
    kinds = PushKinds.of(features)
    registry = build_registry(features)
    recipients = StoreRecipients(database.store, database.store)
    schedules: Schedules = ScheduleBook(database.store, database.outbox, kinds, clock) if delivering else NO_SCHEDULES
    services = Services(
        store=database.store,
        clock=clock,
        registry=registry,
        schedules=schedules,
        ports=Ports(
            {
                PAPERS: database.papers,
                ACCOUNTABILITY: database.accountability,
                BUDDIES: database.buddies,
                WEB_TOKENS: database.web,
                WEB_VERSIONS: database.web,
                WEB_LINKS: web_links(settings),
            }
        ),
        default_timezone=settings.default_timezone,
        metrics=metrics,
    )
    core = Core(services)
    if adapters is None:
        platform_adapters = configured_adapters(settings, core, recipients, database)
    elif callable(adapters):
        platform_adapters = list(adapters(core, recipients))
    else:
        platform_adapters = list(adapters)
    delivery = build_delivery(settings, services, kinds, database, platform_adapters, recipients, worker)
    run_ingest = ingest if ingest is not None else (delivering and settings.arxiv_ingest)
    ingest_job = (
        ArxivIngestJob(settings.arxiv_feed_url, settings.arxiv_api_url, database.papers, clock, worker, metrics)
        if run_ingest
        else None
    )
    ops = None
    if settings.health_port is not None and isinstance(metrics, PrometheusMetrics):
        ops = OpsServer(
            database.ping, platform_adapters, metrics, host=settings.health_listen, port=settings.health_port
        )
    scheduler = None
    if delivering:
        jobs: list[Job] = (
            [("arxiv.ingest", ingest_job, IntervalTrigger(seconds=INGEST_EVERY.total_seconds()))] if ingest_job else []
        )
        scheduler = Scheduler(delivery, extra_jobs=jobs)
    web = None
    if settings.web_port is not None:
        pages = [page for feature in features for page in feature.pages]
        web = WebServer(pages, services, host=settings.web_listen, port=settings.web_port)
    components: list[Component] = [c for c in (ops, web, ingest_job) if c is not None]
    components += platform_adapters
    if scheduler is not None:
        components.append(scheduler)
    return Runtime(
        settings=settings,
        clock=clock,
        database=database,
        features=tuple(features),
        kinds=kinds,
        services=services,
        core=core,
        recipients=recipients,
        adapters=tuple(platform_adapters),
        delivery=delivery,
        scheduler=scheduler,
        ingest=ingest_job,
        ops=ops,
        web=web,
        metrics=metrics,
        components=tuple(components),
    )


def web_links(settings: Settings) -> WebLinks | None:
    """The address users get in links: PUBLIC_URL, else the server's own; None when no pages are served."""
    if settings.web_port is None:
        return None
    if settings.public_url:
        return WebLinks(settings.public_url)
    if settings.web_listen in ("0.0.0.0", "::", ""):
        log.warning(
            "WEB_LISTEN=%s without PUBLIC_URL: links will name that address; set PUBLIC_URL", settings.web_listen
        )
    host = f"[{settings.web_listen}]" if ":" in settings.web_listen else settings.web_listen
    return WebLinks(f"http://{host}:{settings.web_port}")


def build_delivery(
    settings: Settings,
    services: Services,
    kinds: PushKinds,
    database: Database,
    adapters: Sequence[Adapter],
    recipients: StoreRecipients,
    worker: str,
) -> DeliveryService:
    """Pushes through the given adapters, paced per platform; several workers split each platform's rate.

    An adapter with its own send budget (Telegram, Discord) paces every message it sends, replies first;
    delivery paces only the others."""
    from bot.delivery.pacing import self_paced

    limits = shared_limits(settings.delivery_workers, settings.delivery_rate_per_second)
    lease = settings.delivery_lease_seconds
    rates = [limits[a.platform].per_second for a in adapters if a.platform in limits]  # unpaced: no bound
    claim_size = max(1, min(50, int(min(rates) * lease / 4))) if rates else 50  # a claim is sent well within its lease
    return DeliveryService(
        database.outbox,
        PushRenderer(services, kinds),
        adapters,
        recipients,
        services.clock,
        services.metrics,
        worker_id=worker,
        pace=Pacer(limits, skip=self_paced(adapters)),
        claim_size=claim_size,
        lease=timedelta(seconds=lease),
    )


def configured_adapters(
    settings: Settings, core: Core, recipients: StoreRecipients, database: Database
) -> list[Adapter]:
    """Every adapter whose token is set, given only what it needs: each gets its platform's one send
    budget (this worker's share), which its replies and pushes draw from."""
    from bot.delivery.pacing import platform_budgets

    adapters: list[Adapter] = []
    budgets = platform_budgets(shared_limits(settings.delivery_workers, settings.delivery_rate_per_second))
    if settings.telegram_bot_token is not None and settings.telegram_bot_token.get_secret_value():
        from bot.adapters.telegram import TelegramAdapter

        secret = settings.telegram_webhook_secret
        if settings.telegram_webhook_url and secret is None and settings.delivery_workers > 1:
            log.warning("several workers in webhook mode need one shared TELEGRAM_WEBHOOK_SECRET")
        adapters.append(
            TelegramAdapter(
                core,
                settings.telegram_bot_token.get_secret_value(),
                api_url=settings.telegram_api_url,
                recipients=recipients,
                webhook_url=settings.telegram_webhook_url or None,
                webhook_secret=secret.get_secret_value() if secret is not None else None,
                webhook_listen=settings.telegram_webhook_listen,
                webhook_port=settings.telegram_webhook_port,
                budget=budgets["telegram"],
                receive_updates=settings.telegram_updates,
            )
        )
    if settings.discord_bot_token is not None and settings.discord_bot_token.get_secret_value():
        from bot.adapters.discord import DiscordAdapter
        from bot.adapters.discord.endpoints import configure_discord_endpoints

        configure_discord_endpoints(settings.discord_api_url or None, settings.discord_gateway_url or None)
        adapters.append(
            DiscordAdapter(
                core,
                settings.discord_bot_token.get_secret_value(),
                settings_store=database.store,
                guild_id=settings.discord_guild_id,
                budget=budgets["discord"],
            )
        )
    return adapters
