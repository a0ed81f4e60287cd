"""`studybuddy` / `python -m bot`: console, run, db upgrade, arxiv fetch, plan."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Sequence

from platformdirs import user_data_dir

from bot.core.types import Lang, lang_from_locale

EXIT_USAGE = 2


def _env_lang() -> Lang | None:
    value = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG")
    return lang_from_locale(value) if value else None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="studybuddy", description="A study buddy for the 20-week AI plan.")
    sub = parser.add_subparsers(dest="command", required=True)

    console = sub.add_parser("console", help="chat with the bot in this terminal (no token needed)")
    console.add_argument("--user", default=None, help="who you are in the console (default: your login)")
    console.add_argument("--lang", choices=["zh", "en"], default=None, help="reply language (default: $LANG)")

    sub.add_parser("run", help="run every adapter whose token is set, plus the scheduler")

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply all migrations")

    plan = sub.add_parser("plan", help="print the study plan")
    plan.add_argument("--week", type=int, default=None, help="one week (1-20)")
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


def _settings(quiet: bool = False):
    """Settings plus logging; `quiet` (the console) keeps INFO lines out of the chat unless LOG_LEVEL asks."""
    from bot.logging_setup import configure_logging
    from bot.settings import Settings

    settings = Settings()
    level = "WARNING" if quiet and "LOG_LEVEL" not in os.environ else settings.log_level
    configure_logging(level, settings.secrets())
    return settings


async def _console(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.adapters.console import ConsoleAdapter
    from bot.app import App

    settings = _settings(quiet=True)
    if settings.default_timezone == "UTC" and "DEFAULT_TIMEZONE" not in os.environ:
        settings.default_timezone = _local_timezone()
    app = App(settings)
    core = await app.open()
    try:
        user = args.user or getpass.getuser() or "me"
        files = Path(user_data_dir("studybuddy", appauthor=False)) / "files"
        await ConsoleAdapter(core, user, args.lang or _env_lang(), files_dir=files).run()
    finally:
        await app.close()
    return 0


def _local_timezone() -> str:
    try:
        from tzlocal import get_localzone_name

        return get_localzone_name() or "UTC"
    except Exception:
        return "UTC"


async def _run() -> int:
    from bot.runner import run

    return await run(_settings())


async def _db_upgrade() -> int:
    from bot.app import App

    app = App(_settings())
    await app.open()
    await app.close()
    print("database is up to date:", app.database_url.split("@")[-1])
    return 0


def _plan(args: argparse.Namespace) -> int:
    from bot.adapters.render import to_terminal
    from bot.core.views import plan_overview, week_view
    from bot.i18n import translator
    from bot.plan import load_plan

    lang: Lang = args.lang or _env_lang() or "en"
    plan = load_plan(lang)
    _ = translator(lang)
    if args.week is not None:
        if not 1 <= args.week <= 20:
            print(_("{name} must be between {low} and {high}.", name="--week", low=1, high=20), file=sys.stderr)
            return EXIT_USAGE
        text = week_view(plan, args.week, None, _)
    else:
        text = plan_overview(plan, None, _)
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
            from bot.runner import arxiv_fetch

            return asyncio.run(arxiv_fetch(_settings(), args.backfill))
    except KeyboardInterrupt:
        return 130
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
