"""`studybuddy run`: start every configured adapter and the scheduler; stop cleanly on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys

from apscheduler.triggers.interval import IntervalTrigger

from bot.app import App, Component
from bot.core.delivery import Deliverer
from bot.ops import OpsServer, PrometheusMetrics, counted_feed_job
from bot.pacing import shared_limits
from bot.papers_ingest import ArxivIngestJob
from bot.scheduler import Scheduler
from bot.settings import Settings

log = logging.getLogger(__name__)

NO_ADAPTER = (
    "studybuddy run: no chat adapter is configured.\n"
    "Set TELEGRAM_BOT_TOKEN and/or DISCORD_BOT_TOKEN in the environment (or a .env file),\n"
    "or try the bot without a token: studybuddy console"
)


def configured_adapters(app: App) -> list[Component]:
    """Every adapter whose token is set. Each is also its platform's Deliverer for scheduled pushes."""
    settings = app.settings
    assert app.core is not None, "App.open() first"
    adapters: list[Component] = []
    if settings.telegram_bot_token is not None and settings.telegram_bot_token.get_secret_value():
        from bot.adapters.telegram import TelegramAdapter
        from bot.adapters.telegram_ptb import default_rate_limiter

        secret = settings.telegram_webhook_secret
        if settings.telegram_webhook_url and secret is None and settings.delivery_workers > 1:
            log.warning("several workers in webhook mode need one shared TELEGRAM_WEBHOOK_SECRET")
        pace = shared_limits(settings.delivery_workers, settings.delivery_rate_per_second)["telegram"]
        adapters.append(
            TelegramAdapter(
                app.core,
                settings.telegram_bot_token.get_secret_value(),
                api_url=settings.telegram_api_url,
                store=app.store,
                webhook_url=settings.telegram_webhook_url or None,
                webhook_secret=secret.get_secret_value() if secret is not None else None,
                webhook_listen=settings.telegram_webhook_listen,
                webhook_port=settings.telegram_webhook_port,
                rate_limiter=default_rate_limiter(pace.per_second),
                receive_updates=settings.telegram_updates,
            )
        )
    if settings.discord_bot_token is not None and settings.discord_bot_token.get_secret_value():
        from bot.adapters.discord import DiscordAdapter
        from bot.adapters.discord_endpoints import configure_discord_endpoints

        assert app.store is not None
        configure_discord_endpoints(settings.discord_api_url or None, settings.discord_gateway_url or None)
        adapters.append(
            DiscordAdapter(
                app.core,
                settings.discord_bot_token.get_secret_value(),
                settings_store=app.store,
                guild_id=settings.discord_guild_id,
            )
        )
    return adapters


async def run(settings: Settings) -> int:
    app = App(settings)
    if settings.telegram_bot_token is None and settings.discord_bot_token is None:
        print(NO_ADAPTER, file=sys.stderr)
        return 2
    await app.open()
    adapters = configured_adapters(app)
    if not adapters:
        print(NO_ADAPTER, file=sys.stderr)
        await app.close()
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    deliverers = {adapter.platform: adapter for adapter in adapters if isinstance(adapter, Deliverer)}
    worker = f"{socket.gethostname()}:{os.getpid()}"
    delivery = await app.enable_delivery(deliverers, worker_id=worker)
    try:
        jobs: list[Component] = []
        metrics: PrometheusMetrics | None = None
        if settings.health_port is not None:
            assert app.engine is not None and app.core is not None
            metrics = PrometheusMetrics()
            app.core.services.metrics = metrics
            # First up: /healthz answers 503 until the adapters are connected.
            ops = OpsServer(app.engine, adapters, metrics, host=settings.health_listen, port=settings.health_port)
            jobs.append(ops)
        if settings.arxiv_ingest:
            ingest = ArxivIngestJob(
                settings.arxiv_feed_url, settings.arxiv_api_url, app.core.services.papers, app.clock, worker
            )
            jobs.append(ingest)
            job = ingest if metrics is None else counted_feed_job(ingest, metrics)
            scheduler = Scheduler(delivery, extra_jobs=[("arxiv.ingest", job, IntervalTrigger(minutes=15))])
        else:
            scheduler = Scheduler(delivery)
        await app.start([*jobs, *adapters, scheduler])
        log.info("studybuddy is running with %d adapter(s)", len(adapters))
        await stop.wait()
        log.info("shutting down")
    finally:
        await app.close()
    return 0


async def arxiv_fetch(settings: Settings, backfill_days: int | None) -> int:
    """`studybuddy arxiv fetch [--backfill DAYS]`: ingest now; exit 1 if a fetch recorded a failure."""
    from bot.feeds.arxiv import ArxivClient
    from bot.papers_ingest import BACKFILL_MAX_DAYS, TextProgress, backfill, ingest_feed
    from storage.papers import SqlPaperStore

    if backfill_days is not None and not 1 <= backfill_days <= BACKFILL_MAX_DAYS:
        print(f"--backfill must be between 1 and {BACKFILL_MAX_DAYS} days.", file=sys.stderr)
        return 2
    app = App(settings)
    core = await app.open()
    repo = core.services.papers
    assert isinstance(repo, SqlPaperStore)
    failed = False
    try:
        async with ArxivClient(settings.arxiv_feed_url, settings.arxiv_api_url) as client:
            if backfill_days:
                bar = TextProgress()
                record = await backfill(client, repo, backfill_days, bar, app.clock)
                bar.close()
                failed |= record.failed
                print(
                    f"back-fill {backfill_days} day(s): {record.status}, {record.items} papers, "
                    f"{len(record.new_ids)} new, {record.updated_count} updated"
                    + (f" — {record.error}" if record.error else "")
                )
            record = await ingest_feed(client, repo, app.clock)
            failed |= record.failed
            print(
                f"feed {record.url}: {record.status}, {record.items} items, {len(record.new_ids)} new, "
                f"{record.updated_count} updated" + (f" — {record.error}" if record.error else "")
            )
    finally:
        await app.close()
    return 1 if failed else 0
