"""`studybuddy run` never prints a secret, tracebacks included: a token the platform rejects (the library's
own error quotes it), and a proxy's error page that echoes the request path and headers back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from tests.botproc import bot_env, start_bot, stop_bot
from tests.fakes.telegram import FakeTelegramServer

TELEGRAM = "5151:leaky-TELEGRAM-token-value"
DISCORD = "MTUx.leaky-discord.token-value"
STARTUP_TIMEOUT = 60.0


class EchoingProxy:
    """A reverse proxy whose upstream is down: every request gets an error page quoting its path and
    headers, as some proxies' default pages do (the Authorization header carries Discord's token)."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.requests = 0
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _echo(self, request: web.Request) -> web.Response:
        self.requests += 1
        headers = "".join(f"<li>{name}: {value}</li>" for name, value in request.headers.items())
        page = f"<html><h1>{self.status} upstream unavailable</h1><p>{request.path_qs}</p><ul>{headers}</ul></html>"
        return web.Response(status=self.status, text=page, content_type="text/html")

    async def __aenter__(self) -> EchoingProxy:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._echo)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


async def run_until_it_exits(tmp_path: Path, **env: str) -> tuple[int, str]:
    proc = await start_bot(tmp_path, bot_env(tmp_path, **env))
    try:
        await asyncio.wait_for(proc.wait(), STARTUP_TIMEOUT)
    except TimeoutError:
        pass
    return await stop_bot(proc)


@pytest.fixture
async def proxy_502() -> AsyncIterator[EchoingProxy]:
    async with EchoingProxy(502) as proxy:
        yield proxy


async def test_a_rejected_telegram_token_is_not_printed(tmp_path: Path) -> None:
    async with FakeTelegramServer(token="1:the-right-token") as server:
        code, output = await run_until_it_exits(tmp_path, TELEGRAM_BOT_TOKEN=TELEGRAM, TELEGRAM_API_URL=server.api_url)
    assert server.calls_of("getMe"), "the bot never asked"
    assert code != 0 and "failed" in output
    assert TELEGRAM not in output and "leaky-TELEGRAM" not in output


async def test_a_proxy_page_echoing_the_telegram_url_is_not_printed(tmp_path: Path, proxy_502: EchoingProxy) -> None:
    code, output = await run_until_it_exits(tmp_path, TELEGRAM_BOT_TOKEN=TELEGRAM, TELEGRAM_API_URL=proxy_502.url)
    assert proxy_502.requests >= 1
    assert code != 0
    assert "leaky-TELEGRAM" not in output


async def test_a_proxy_page_echoing_discords_authorization_header_is_not_printed(tmp_path: Path) -> None:
    async with EchoingProxy(403) as proxy:
        code, output = await run_until_it_exits(
            tmp_path, DISCORD_BOT_TOKEN=DISCORD, DISCORD_API_URL=proxy.url, DISCORD_GATEWAY_URL="ws://127.0.0.1:9"
        )
    assert proxy.requests >= 1
    assert code != 0 and "403" in output
    assert "leaky-discord" not in output


async def test_a_database_password_is_not_printed(tmp_path: Path) -> None:
    from tests.botproc import free_port

    url = f"postgresql+psycopg://studybuddy:pg-LEAKY-password@127.0.0.1:{free_port()}/none?connect_timeout=3"
    code, output = await run_until_it_exits(tmp_path, TELEGRAM_BOT_TOKEN=TELEGRAM, DATABASE_URL=url)
    assert code != 0 and "failed" in output
    assert "pg-LEAKY-password" not in output
