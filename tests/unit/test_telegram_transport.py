"""PTB's calls over aiohttp: the same requests PTB made with httpx, and its own errors for failures, none of
them carrying the token that sits in every Bot API URL."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import NetworkError, TimedOut

from bot.adapters.telegram.transport import AiohttpRequest

TOKEN = "123456:SECRET-token-value"


class BotApi:
    """A tiny Bot API on 127.0.0.1 that records what it got and answers as told."""

    def __init__(self) -> None:
        self.got: list[tuple[str, str, dict[str, Any]]] = []
        self.stall = 0.0
        self.drop = False
        self.url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if self.drop:
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        if request.content_type.startswith("multipart/"):
            fields: dict[str, Any] = {}
            async for part in await request.multipart():
                fields[part.name or ""] = (part.filename, await part.read()) if part.filename else await part.text()  # type: ignore[union-attr]
        else:
            fields = dict(await request.post())
        self.got.append((method, request.content_type, fields))
        await asyncio.sleep(self.stall)
        result: Any = True
        if method == "getMe":
            result = {"id": 123456, "is_bot": True, "first_name": "Study", "username": "study_bot"}
        elif method in ("sendMessage", "sendPhoto"):
            result = {"message_id": 7, "date": 0, "chat": {"id": 42, "type": "private"}, "text": fields.get("text", "")}
        return web.json_response({"ok": True, "result": result})


@pytest.fixture
async def api() -> AsyncIterator[BotApi]:
    fake = BotApi()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    fake.url = f"http://127.0.0.1:{port}/bot"
    yield fake
    await runner.cleanup()


async def bot_on(url: str, read_timeout: float = 5.0) -> Bot:
    request = AiohttpRequest(connection_pool_size=4, read_timeout=read_timeout, write_timeout=5.0, trust_env=False)
    bot = Bot(TOKEN, base_url=url, request=request, get_updates_request=request)
    await request.initialize()
    return bot


async def test_a_message_goes_as_form_fields_and_comes_back_parsed(api: BotApi) -> None:
    bot = await bot_on(api.url)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Done", callback_data="done:1")]])
    message = await bot.send_message(42, "<b>Today</b>", parse_mode="HTML", reply_markup=markup)
    await bot.shutdown()
    assert message.message_id == 7 and message.chat.id == 42
    [(method, content_type, fields)] = api.got
    assert (method, content_type) == ("sendMessage", "application/x-www-form-urlencoded")
    assert fields["chat_id"] == "42" and fields["text"] == "<b>Today</b>" and fields["parse_mode"] == "HTML"
    assert json.loads(fields["reply_markup"]) == {"inline_keyboard": [[{"text": "Done", "callback_data": "done:1"}]]}


async def test_a_picture_goes_as_multipart_with_its_name(api: BotApi) -> None:
    bot = await bot_on(api.url)
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    await bot.send_photo(42, photo=png, caption="Your streak", filename="streak.png")
    await bot.shutdown()
    [(method, content_type, fields)] = api.got
    assert (method, content_type) == ("sendPhoto", "multipart/form-data")
    assert fields["chat_id"] == "42" and fields["caption"] == "Your streak"
    assert fields["photo"] == ("streak.png", png)


async def test_a_slow_answer_is_ptbs_timeout_without_the_token(api: BotApi) -> None:
    api.stall = 2.0
    bot = await bot_on(api.url, read_timeout=0.2)
    with pytest.raises(TimedOut) as caught:
        await bot.send_message(42, "hello")
    await bot.shutdown()
    assert "SECRET" not in str(caught.value) and caught.value.__cause__ is None


async def test_a_dropped_connection_is_a_network_error_without_the_token(api: BotApi) -> None:
    api.drop = True
    bot = await bot_on(api.url)
    with pytest.raises(NetworkError) as caught:
        await bot.send_message(42, "hello")
    await bot.shutdown()
    assert not isinstance(caught.value, TimedOut)
    assert "aiohttp." in str(caught.value) and "SECRET" not in str(caught.value)


async def test_nobody_listening_is_a_network_error_without_the_token() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    bot = await bot_on(f"http://127.0.0.1:{port}/bot")
    with pytest.raises(NetworkError) as caught:
        await bot.send_message(42, "hello")
    await bot.shutdown()
    assert "SECRET" not in repr(caught.value) and caught.value.__cause__ is None


async def test_a_call_before_initialize_says_so() -> None:
    request = AiohttpRequest(connection_pool_size=1, read_timeout=1.0, write_timeout=1.0)
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request("http://127.0.0.1:9/bot/getMe", "POST")


def test_an_error_quoting_the_url_loses_the_token() -> None:
    from aiohttp import InvalidURL

    from bot.adapters.telegram.transport import _describe

    described = _describe(InvalidURL(f"http://127.0.0.1:1/bot{TOKEN}/sendMessage"))
    assert "SECRET" not in described and "/bot[redacted]/sendMessage" in described
