"""Prove the fake Bot API against the real python-telegram-bot, end to end over loopback HTTP."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from tests.fakes.telegram import FakeTelegramServer, post_webhook, updates

TOKEN = "123:ABC"
USER_ID = 4242
TODAY_REPLY = "Today: week 1, day 1 — tokenizers."


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer(token=TOKEN) as fake:
        yield fake


def build_app(server: FakeTelegramServer, *, rate_limiter: AIORateLimiter | None = None) -> Application:
    builder = ApplicationBuilder().token(TOKEN).base_url(server.base_url).base_file_url(server.base_file_url)
    if rate_limiter is not None:
        builder = builder.rate_limiter(rate_limiter)
    return builder.build()


async def today(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(TODAY_REPLY)


async def start_polling(app: Application) -> None:
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)


async def stop_polling(app: Application) -> None:
    assert app.updater is not None
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


async def test_today_command_round_trip_and_offset_confirmation(server: FakeTelegramServer) -> None:
    app = build_app(server)
    app.add_handler(CommandHandler("today", today))
    await start_polling(app)
    try:
        first = server.push_update(updates.private_message("/today", user_id=USER_ID))
        call = await server.wait_for("sendMessage")
        assert call.params["chat_id"] == USER_ID
        assert call.params["text"] == TODAY_REPLY
        assert server.sent_texts(USER_ID) == [TODAY_REPLY]

        group = updates.group_message(
            "/today@studybuddy_test_bot please", chat_id=-100777, user_id=USER_ID, chat_type="supergroup"
        )
        last = server.push_update(group)
        await server.wait_for("sendMessage", count=2)
        assert server.sent_texts(-100777) == [TODAY_REPLY]
    finally:
        await stop_polling(app)

    assert first["update_id"] < last["update_id"]
    assert server.calls_of("getMe"), "Application.initialize() must call getMe"
    confirmed = last["update_id"] + 1
    # Updater.stop() issues one last getUpdates(offset=last+1, timeout=0) to confirm what it fetched.
    # (The cancelled in-flight long poll is answered 409 "terminated by other getUpdates request".)
    assert [c for c in server.calls_of("getUpdates") if c.ok][-1].params["offset"] == confirmed
    assert server.pending_updates == []
    async with Bot(TOKEN, base_url=server.base_url) as bot:
        assert await bot.get_updates(offset=confirmed, timeout=0) == ()
        assert await bot.get_updates(timeout=0) == ()


async def test_get_updates_keeps_unconfirmed_and_returns_early(server: FakeTelegramServer) -> None:
    async with Bot(TOKEN, base_url=server.base_url) as bot:
        server.push_update(updates.private_message("one", user_id=USER_ID))
        assert len(await bot.get_updates(timeout=0)) == 1
        assert len(await bot.get_updates(timeout=0)) == 1, "not confirmed yet, so delivered again"

        started = time.monotonic()
        poll = asyncio.create_task(bot.get_updates(offset=server.pending_updates[0]["update_id"] + 1, timeout=5))
        await asyncio.sleep(0.05)
        second = server.push_update(updates.private_message("two", user_id=USER_ID))
        got = await poll
        assert [u.update_id for u in got] == [second["update_id"]]
        assert got[0].message is not None and got[0].message.text == "two"
        assert time.monotonic() - started < 1.0


async def test_429_is_retried_by_aioratelimiter(server: FakeTelegramServer) -> None:
    # Telegram sends whole seconds; a fractional retry_after keeps the test fast (PTB sleeps it + 0.1 s).
    server.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", {"retry_after": 0.05})
    app = build_app(server, rate_limiter=AIORateLimiter(max_retries=2))
    async with app:
        message = await app.bot.send_message(chat_id=USER_ID, text="hello")
    assert message.text == "hello"
    attempts = server.calls_of("sendMessage")
    assert [c.status for c in attempts] == [429, 200]
    assert server.rejected_429 == 1


async def test_global_rate_limit_answers_retry_after(server: FakeTelegramServer) -> None:
    server.rate_limit(per_second=2)
    async with Bot(TOKEN, base_url=server.base_url) as bot:
        await bot.send_message(chat_id=1, text="a")
        await bot.send_message(chat_id=2, text="b")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(chat_id=3, text="c")
    assert "Retry in 1 seconds" in str(caught.value)
    assert server.rejected_429 == 1


async def test_send_document_multipart_is_recorded_and_downloadable(server: FakeTelegramServer) -> None:
    payload = b"%PDF-1.4 study plan \x00\xff"
    async with Bot(TOKEN, base_url=server.base_url, base_file_url=server.base_file_url) as bot:
        message = await bot.send_document(chat_id=USER_ID, document=payload, filename="plan.pdf", caption="Week 1")
        call = server.calls_of("sendDocument")[0]
        upload = call.files["document"]
        assert (upload.file_name, upload.content_type, upload.size, upload.data) == (
            "plan.pdf",
            "application/pdf",
            len(payload),
            payload,
        )
        assert call.params["chat_id"] == USER_ID and call.params["caption"] == "Week 1"
        assert message.document is not None and message.document.file_name == "plan.pdf"
        assert message.caption == "Week 1"
        tg_file = await bot.get_file(message.document.file_id)
        assert bytes(await tg_file.download_as_bytearray()) == payload


async def test_callback_query_reaches_handler(server: FakeTelegramServer) -> None:
    seen: list[str] = []

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.data is not None
        seen.append(query.data)
        await query.answer("Saved")
        await query.edit_message_text("Marked done ✅")

    app = build_app(server)
    app.add_handler(CallbackQueryHandler(on_button))
    await start_polling(app)
    try:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Done", callback_data="done:1")]])
        await app.bot.send_message(chat_id=USER_ID, text="Day 1 finished?", reply_markup=keyboard)
        sent = server.calls_of("sendMessage")[0]
        assert sent.params["reply_markup"] == {"inline_keyboard": [[{"text": "Done", "callback_data": "done:1"}]]}
        server.push_update(updates.callback_query("done:1", user_id=USER_ID, message=sent.result))
        edit = await server.wait_for("editMessageText")
    finally:
        await stop_polling(app)
    assert seen == ["done:1"]
    assert server.callback_answers[0]["text"] == "Saved"
    assert edit.ok and edit.result["text"] == "Marked done ✅"
    assert edit.params["message_id"] == sent.result["message_id"]


async def test_set_my_commands_stored_per_scope_and_language(server: FakeTelegramServer) -> None:
    async with Bot(TOKEN, base_url=server.base_url) as bot:
        assert await bot.set_my_commands([BotCommand("today", "Что учить сегодня")], language_code="ru")
        assert await bot.set_my_commands(
            [BotCommand("start", "Start")], scope=BotCommandScopeAllPrivateChats(), language_code="en"
        )
        ru = await bot.get_my_commands(language_code="ru")
        assert [(c.command, c.description) for c in ru] == [("today", "Что учить сегодня")]
        assert await bot.get_my_commands() == ()
        private_en = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="en")
        assert [c.command for c in private_en] == ["start"]
        assert await bot.delete_my_commands(language_code="ru")
        assert await bot.get_my_commands(language_code="ru") == ()
        # PTB strips "Bad Request: " and .capitalize()s the rest -> "Bot_command_invalid".
        with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
            await bot.set_my_commands([BotCommand("Today", "bad: uppercase")])
    assert server.get_commands({"type": "all_private_chats"}, "en") == [{"command": "start", "description": "Start"}]


async def test_forbidden_migrated_and_not_found_surface_as_ptb_errors(server: FakeTelegramServer) -> None:
    server.block_user(USER_ID)
    server.migrate_group(-100, -1001234567890)
    server.chat_not_found(777)
    async with Bot(TOKEN, base_url=server.base_url) as bot:
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(chat_id=USER_ID, text="hi")
        with pytest.raises(ChatMigrated) as migrated:
            await bot.send_message(chat_id=-100, text="hi")
        assert migrated.value.new_chat_id == -1001234567890
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(chat_id=777, text="hi")
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(chat_id=1, text="2 < 3 <b>bold", parse_mode="HTML")
        ok = await bot.send_message(chat_id=1, text="<b>Week 1</b> &amp; more", parse_mode="HTML")
        assert ok.text == "Week 1 & more" and ok.entities[0].type == "bold"
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(chat_id=1, text="x" * 4097)
    assert server.sent_texts(USER_ID) == []


async def test_members_and_chat_info(server: FakeTelegramServer) -> None:
    server.set_member(-100500, 1, "creator")
    server.set_member(-100500, 2, "administrator")
    server.set_member(-100500, 3, "member")
    async with Bot(TOKEN, base_url=server.base_url) as bot:
        me = await bot.get_me()
        assert me.username == "studybuddy_test_bot" and me.can_read_all_group_messages is False
        admins = await bot.get_chat_administrators(-100500)
        assert sorted((a.user.id, a.status) for a in admins) == [(1, "creator"), (2, "administrator")]
        assert (await bot.get_chat_member(-100500, 3)).status == "member"
        chat = await bot.get_chat(-100500)
        assert chat.type == "group"
        assert await bot.send_chat_action(USER_ID, "typing")


async def test_wire_format_errors_and_encodings(server: FakeTelegramServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.api_url}/bot999:nope/getMe") as resp:
            assert resp.status == 401
            assert await resp.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        async with http.post(f"{server.api_url}/bot{TOKEN}/noSuchMethod") as resp:
            assert resp.status == 404 and (await resp.json())["description"] == "Not Found"
        async with http.get(f"{server.api_url}/bot{TOKEN}/GETME") as resp:
            assert (await resp.json())["result"]["is_bot"] is True
        body = {"chat_id": "5", "text": "json body", "reply_markup": '{"inline_keyboard": []}'}
        async with http.post(f"{server.api_url}/bot{TOKEN}/sendMessage", json=body) as resp:
            result = (await resp.json())["result"]
            assert result["message_id"] == 1 and result["chat"]["id"] == 5
        async with http.get(f"{server.api_url}/bot{TOKEN}/sendmessage", params={"chat_id": 5, "text": "123"}) as resp:
            result = (await resp.json())["result"]
            assert result["message_id"] == 2 and result["text"] == "123"
    assert server.calls_of("sendMessage")[0].params["reply_markup"] == {"inline_keyboard": []}


def test_update_builders_parse_with_ptb() -> None:
    built = [
        updates.private_message("/today now", user_id=1),
        updates.group_message("/today@studybuddy_test_bot", chat_id=-5, user_id=1),
        updates.callback_query("x", user_id=1),
        updates.edited_message("fixed", user_id=1),
        updates.channel_post("news"),
        updates.sticker_message(user_id=1),
        updates.photo_message(user_id=1, caption="look"),
        updates.new_chat_members(-5, [updates.user(123, "StudyBuddy", is_bot=True), 7], from_user_id=1),
        updates.my_chat_member(1, 1, "member", "kicked"),
    ]
    parsed = [Update.de_json(u, None) for u in built]
    assert parsed[0].message is not None and parsed[0].message.entities[0].length == len("/today")
    assert parsed[1].message is not None and parsed[1].message.entities[0].length == len("/today@studybuddy_test_bot")
    assert parsed[2].callback_query is not None and parsed[2].callback_query.data == "x"
    assert parsed[3].edited_message is not None and parsed[4].channel_post is not None
    assert parsed[5].message is not None and parsed[5].message.sticker is not None
    assert parsed[6].message is not None and parsed[6].message.photo
    assert parsed[7].message is not None and len(parsed[7].message.new_chat_members) == 2
    assert parsed[8].my_chat_member is not None and parsed[8].my_chat_member.new_chat_member.status == "kicked"
    ids = [u.update_id for u in parsed]
    assert ids == sorted(ids)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_mode_delivery_and_secret(server: FakeTelegramServer) -> None:
    app = build_app(server)
    app.add_handler(CommandHandler("today", today))
    port = _free_port()
    url = f"http://127.0.0.1:{port}/tg"
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_webhook(
        listen="127.0.0.1", port=port, url_path="tg", webhook_url=url, secret_token="s3cret"
    )
    try:
        assert server.webhook["url"] == url and server.webhook["secret_token"] == "s3cret"
        server.push_update(updates.private_message("/today", user_id=USER_ID))
        await server.wait_for("sendMessage")
        assert await post_webhook(url, updates.private_message("/today", user_id=USER_ID), "wrong") == 403
        assert await post_webhook(url, updates.private_message("/today", user_id=USER_ID), "s3cret") == 200
        await server.wait_for("sendMessage", count=2)
        async with Bot(TOKEN, base_url=server.base_url) as bot:
            info = await bot.get_webhook_info()
            assert info.url == url and info.pending_update_count == 0
            with pytest.raises(Exception, match="webhook is active"):
                await bot.get_updates(timeout=0)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
