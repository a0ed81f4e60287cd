"""Configuration checked at start, logging that keeps libraries quiet, and arXiv hosts that can't be reached."""

from __future__ import annotations

import io
import logging
import socket

import httpx
import pytest

from bot.config import ConfigError, Settings, config_problems, configure_logging, load_settings
from bot.papers.feed import ArxivClient
from bot.papers.feed.client import no_route


def test_a_library_logger_set_to_debug_stays_below_the_configured_level() -> None:
    configure_logging("WARNING", [])
    stream = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    chatty = logging.getLogger("some.library")
    chatty.setLevel(logging.DEBUG)  # what bm25s does to its own logger
    chatty.debug("debug line")
    chatty.info("info line")
    chatty.warning("warning line")
    assert stream.getvalue().count("\n") == 1 and "warning line" in stream.getvalue()


def test_unknown_default_timezone_is_one_clear_problem() -> None:
    problems = config_problems(Settings(default_timezone="Europe/Atlantis", database_url="sqlite:///x.db"))
    assert problems == [
        "DEFAULT_TIMEZONE='Europe/Atlantis' is not a known timezone; use an IANA name such as Europe/Berlin or "
        "Asia/Shanghai."
    ]
    assert config_problems(Settings(default_timezone="Asia/Shanghai", database_url="sqlite:///x.db")) == []


def test_a_missing_postgres_driver_names_what_to_install() -> None:
    problems = config_problems(Settings(database_url="postgresql+nosuchdriver://u@127.0.0.1/db"))
    assert problems == [
        "DATABASE_URL uses PostgreSQL through the nosuchdriver driver, which is not installed: pip install nosuchdriver"
    ]


def test_bad_values_become_one_line_each(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DELIVERY_WORKERS", "0")
    monkeypatch.setenv("DEFAULT_TIMEZONE", "Nowhere/Special")
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert len(error.value.problems) == 1 and error.value.problems[0].startswith("DELIVERY_WORKERS:")


def _gaierror() -> httpx.ConnectError:
    try:
        try:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        except socket.gaierror as cause:
            raise httpx.ConnectError(str(cause)) from cause
    except httpx.ConnectError as error:
        return error


async def test_a_host_whose_name_does_not_resolve_fails_at_once_naming_it() -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    def handler(request: httpx.Request) -> httpx.Response:
        raise _gaierror()

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = ArxivClient("https://feeds.invalid/rss/cs.CL", client=http, max_retries=4, sleep=sleep)
    try:
        result = await client.fetch_feed(None, None)
    finally:
        await http.aclose()
    assert (result.status, result.attempts) == ("error", 1)  # no five attempts of a DNS failure
    assert result.error is not None and result.error.startswith("could not reach feeds.invalid:")
    assert sleeps == []


def test_refused_connections_are_still_worth_a_retry() -> None:
    assert no_route(_gaierror()) == "its name does not resolve"
    refused = httpx.ConnectError("refused")
    refused.__cause__ = ConnectionRefusedError(111, "Connection refused")
    assert no_route(refused) is None
