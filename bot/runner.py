"""`studybuddy run`: start every configured adapter and the scheduler; stop cleanly on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from bot.app import App, Component
from bot.settings import Settings

log = logging.getLogger(__name__)

NO_ADAPTER = (
    "studybuddy run: no chat adapter is configured.\n"
    "Set TELEGRAM_BOT_TOKEN and/or DISCORD_BOT_TOKEN in the environment (or a .env file),\n"
    "or try the bot without a token: studybuddy console"
)


def configured_adapters(app: App) -> list[Component]:
    """Adapters are added here as they land (Telegram, Discord)."""
    return []


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
    try:
        await app.start(adapters)
        log.info("studybuddy is running with %d adapter(s)", len(adapters))
        await stop.wait()
        log.info("shutting down")
    finally:
        await app.close()
    return 0


async def arxiv_fetch(settings: Settings, backfill_days: int | None) -> int:
    print("studybuddy arxiv fetch: not available yet (the arXiv ingest is being built).", file=sys.stderr)
    return 2
