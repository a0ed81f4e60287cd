"""`studybuddy` / `python -m bot`: every subcommand (console, run, db upgrade, arxiv fetch, plan).

Each builds the bot with `bot.app.bootstrap` and only chooses which parts run.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import signal
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from platformdirs import user_data_dir

from bot.core.types import Lang, lang_from_locale

if TYPE_CHECKING:
    from bot.config import Settings

EXIT_USAGE = 2
NO_ADAPTER = (
    "studybuddy run: no chat adapter is configured.\n"
    "Set TELEGRAM_BOT_TOKEN and/or DISCORD_BOT_TOKEN in the environment (or a .env file),\n"
    "or try the bot without a token: studybuddy console"
)
log = logging.getLogger("bot.cli")


def _env_lang() -> Lang | None:
    value = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG")
    return lang_from_locale(value) if value else None


def package_version() -> str:
    try:
        return version("studybuddy")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="studybuddy", description="A study buddy for the 20-week AI plan.")
    parser.add_argument("--version", action="version", version=f"studybuddy {package_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    console = sub.add_parser("console", help="chat with the bot in this terminal (no token needed)")
    console.add_argument("--user", default=None, help="who you are in the console (default: your login)")
    console.add_argument("--lang", choices=["zh", "en"], default=None, help="reply language (default: $LANG)")

    sub.add_parser("run", help="run every adapter whose token is set, plus the scheduler")

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply all migrations")

    plan = sub.add_parser("plan", help="print the whole study plan (or --outline, or one --week)")
    plan.add_argument("--week", type=int, default=None, help="one week (1-20)")
    plan.add_argument("--outline", action="store_true", help="only the phases and week titles")
    plan.add_argument("--lang", choices=["zh", "en"], default=None)

    arxiv = sub.add_parser("arxiv", help="arXiv papers for the weekly reading slot")
    arxiv_sub = arxiv.add_subparsers(dest="arxiv_command", required=True)
    fetch = arxiv_sub.add_parser("fetch", help="ingest today's feed now")
    fetch.add_argument(
        "--backfill",
        type=int,
        default=None,
        metavar="DAYS",
        help="also back-fill this many days from the arXiv API",
    )
    return parser


class BadConfig(Exception):
    """Raised after the configuration's problems were printed, one line each: the command exits 2."""


def _settings(quiet: bool = False) -> Settings:
    """Checked settings plus logging; `quiet` (the console) keeps every library's lines below WARNING out of
    the chat, whatever LOG_LEVEL says, so the conversation stays readable."""
    from bot.config import ConfigError, configure_logging, load_settings

    try:
        settings = load_settings()
    except ConfigError as error:
        for problem in error.problems:
            print(f"studybuddy: {problem}", file=sys.stderr)
        raise BadConfig from None
    level = settings.log_level
    if quiet and logging.getLevelName(level.upper()) in (logging.DEBUG, logging.INFO):
        level = "WARNING"
    configure_logging(level, settings.secrets())
    return settings


async def _console(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.adapters.console import ConsoleAdapter, file_stem
    from bot.app import bootstrap

    settings = _settings(quiet=True)
    if settings.default_timezone == "UTC" and "DEFAULT_TIMEZONE" not in os.environ:
        settings.default_timezone = _local_timezone()
    runtime = bootstrap(settings, adapters=[], deliver=False)
    await runtime.open()
    try:
        if runtime.web is not None:  # with WEB_PORT the console's /calendar links open too
            await runtime.web.start()
        user = args.user or getpass.getuser() or "me"
        data = Path(user_data_dir("studybuddy", appauthor=False))
        history = data / f"console-history-{file_stem(user)}"
        await ConsoleAdapter(
            runtime.core, user, args.lang or _env_lang(), files_dir=data / "files", history_file=history
        ).run()
    finally:
        if runtime.web is not None:
            await runtime.web.stop()
        await runtime.stop()
    return 0


def _local_timezone() -> str:
    try:
        from tzlocal import get_localzone_name

        return get_localzone_name() or "UTC"
    except Exception:
        return "UTC"


async def _run() -> int:
    """`studybuddy run`: every adapter whose token is set, plus the scheduler; stops on SIGTERM/SIGINT."""
    from bot.app import bootstrap

    settings = _settings()
    if not settings.secrets_of_adapters():
        print(NO_ADAPTER, file=sys.stderr)
        return EXIT_USAGE
    runtime = bootstrap(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await runtime.start()
        log.info("studybuddy is running with %d adapter(s)", len(runtime.adapters))
        await stop.wait()
        log.info("shutting down")
    finally:
        await runtime.stop()
    return 0


async def _db_upgrade() -> int:
    """Bring the schema to the newest revision and say what that took."""
    from bot.app import bootstrap

    runtime = bootstrap(_settings(quiet=True), adapters=[], deliver=False)  # our summary, not Alembic's log
    database = runtime.database
    where = database.url.split("@")[-1]
    try:
        before = await database.revision()
        await runtime.open()
        after = await database.revision()
        applied = database.migrations_between(before, after)
    finally:
        await runtime.stop()
    if not applied:
        print(f"database {where} was already up to date (revision {after})")
        return 0
    print(f"database {where}: revision {before or 'none (empty)'} -> {after}; applied {len(applied)} migration(s):")
    for line in applied:
        print(f"  {line}")
    return 0


async def arxiv_fetch(settings: Settings, backfill_days: int | None) -> int:
    """`studybuddy arxiv fetch [--backfill DAYS]`: ingest now; exit 1 if a fetch recorded a failure."""
    from bot.app import bootstrap
    from bot.papers.feed import ArxivClient
    from bot.papers.ingest import BACKFILL_MAX_DAYS, TextProgress, backfill, ingest_feed

    if backfill_days is not None and not 1 <= backfill_days <= BACKFILL_MAX_DAYS:
        print(f"--backfill must be between 1 and {BACKFILL_MAX_DAYS} days.", file=sys.stderr)
        return EXIT_USAGE
    runtime = bootstrap(settings, adapters=[], deliver=False)
    await runtime.open()
    repo, clock = runtime.database.papers, runtime.clock
    failed = False
    try:
        async with ArxivClient(settings.arxiv_feed_url, settings.arxiv_api_url) as client:
            if backfill_days:
                bar = TextProgress()
                record = await backfill(client, repo, backfill_days, bar, clock)
                bar.close()
                failed |= record.failed
                print(
                    f"back-fill {backfill_days} day(s): {record.status}, {record.items} papers, "
                    f"{len(record.new_ids)} new, {record.updated_count} updated"
                    + (f" — {record.error}" if record.error else "")
                )
            record = await ingest_feed(client, repo, clock)
            failed |= record.failed
            print(
                f"feed {record.url}: {record.status}, {record.items} items, {len(record.new_ids)} new, "
                f"{record.updated_count} updated" + (f" — {record.error}" if record.error else "")
            )
    finally:
        await runtime.stop()
    return 1 if failed else 0


def _plan(args: argparse.Namespace) -> int:
    from bot.adapters.render import to_terminal
    from bot.i18n import translator
    from bot.plan import load_plan
    from bot.plan.views import full_plan, plan_overview, week_view

    lang: Lang = args.lang or _env_lang() or "en"
    plan = load_plan(lang)
    _ = translator(lang)
    if args.week is not None:
        if not 1 <= args.week <= 20:
            print(_("{name} must be between {low} and {high}.", name="--week", low=1, high=20), file=sys.stderr)
            return EXIT_USAGE
        text = week_view(plan, args.week, None, _)
    elif args.outline:
        text = plan_overview(plan, None, _)
    else:
        text = full_plan(plan, _)
    print(to_terminal(text, sys.stdout.isatty()))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "console":
            return asyncio.run(_console(args))
        if args.command == "run":
            return asyncio.run(_run())
        if args.command == "db":
            return asyncio.run(_db_upgrade())
        if args.command == "plan":
            return _plan(args)
        if args.command == "arxiv":
            return asyncio.run(arxiv_fetch(_settings(), args.backfill))
    except BadConfig:
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception:
        # Through logging, never a bare traceback: the handler redacts secrets from the whole record.
        log.exception("studybuddy %s failed", args.command)
        return 1
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
