"""The Telegram adapter end to end, in process: the real runtime on a SQLite file, real python-telegram-bot,
and the loopback fake Bot API. Nothing is mocked between the update and the HTTP call."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram.ext import AIORateLimiter

from bot.adapters.telegram import TelegramAdapter, menu_commands
from bot.app import Runtime
from bot.core.adapter import DeliveryResult, Target
from bot.core.dispatcher import Core
from bot.core.markup import bold, join, plain
from bot.core.types import Attachment, Button, Reply
from bot.delivery.recipients import StoreRecipients
from bot.i18n import translator
from storage.repository import SqlStore
from tests.fakes.telegram import ApiCall, FakeTelegramServer, post_webhook, updates

pytestmark = pytest.mark.sqlite_only  # what is under test is the platform adapter; the storage tests cover PostgreSQL

TOKEN = "4242:fake-TOKEN-for-tests"
BOT = "studybuddy_test_bot"
ANN = 5001
GROUP = -4001


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer(token=TOKEN, username=BOT) as fake:
        yield fake


@pytest.fixture
def store(app: Runtime) -> SqlStore:
    return app.database.store


def make_adapter(core: Core, store: SqlStore, server: FakeTelegramServer, **kwargs: Any) -> TelegramAdapter:
    recipients = StoreRecipients(store, store)
    return TelegramAdapter(core, TOKEN, api_url=server.api_url, recipients=recipients, poll_timeout=5, **kwargs)


async def apply_outcome(store: SqlStore, target: Target, result: DeliveryResult) -> Target | None:
    """What delivery does with a platform's answer about a recipient."""
    return await StoreRecipients(store, store).apply(target, result)


@pytest.fixture
async def adapter(core: Core, store: SqlStore, server: FakeTelegramServer) -> AsyncIterator[TelegramAdapter]:
    bot = make_adapter(core, store, server)
    await bot.start()
    yield bot
    await bot.stop()


def to_chat(chat_id: int) -> Any:
    return lambda call: call.params.get("chat_id") == chat_id


async def say(server: FakeTelegramServer, text: str, user_id: int = ANN, **kwargs: Any) -> ApiCall:
    """A private message; returns the bot's next sendMessage to that chat."""
    before = len([c for c in server.calls_of("sendMessage") if to_chat(user_id)(c)])
    server.push_update(updates.private_message(text, user_id=user_id, **kwargs))
    return await server.wait_for("sendMessage", to_chat(user_id), count=before + 1)


async def say_in_group(
    server: FakeTelegramServer, text: str, user_id: int = ANN, chat_id: int = GROUP, **kwargs: Any
) -> ApiCall:
    before = len([c for c in server.calls_of("sendMessage") if to_chat(chat_id)(c)])
    server.push_update(updates.group_message(text, chat_id=chat_id, user_id=user_id, **kwargs))
    return await server.wait_for("sendMessage", to_chat(chat_id), count=before + 1)


# ---------------------------------------------------------------------------------------- basics
def test_menu_is_generated_from_the_registry(core: Core) -> None:
    for lang in ("en", "zh"):
        menu = menu_commands(core.registry, lang)
        assert [c.command for c in menu] == [spec.name for spec in core.registry if spec.menu]
        assert all(1 <= len(c.description) <= 256 for c in menu)


async def test_set_my_commands_default_and_zh(server: FakeTelegramServer, adapter: TelegramAdapter) -> None:
    default = server.get_commands(None, "")
    chinese = server.get_commands(None, "zh")
    assert default is not None and chinese is not None
    assert [c["command"] for c in default] == [c["command"] for c in chinese]
    assert {"start", "today", "help"} <= {c["command"] for c in default}
    today_en = next(c for c in default if c["command"] == "today")
    today_zh = next(c for c in chinese if c["command"] == "today")
    assert today_en["description"] == "Today's topics and tasks"
    assert today_zh["description"] == "今天的学习内容和任务"
    assert all(1 <= len(c["description"]) <= 256 for c in default + chinese)


async def test_start_and_today_in_private(server: FakeTelegramServer, adapter: TelegramAdapter) -> None:
    welcome = await say(server, "/start")
    assert welcome.ok and welcome.params["parse_mode"] == "HTML"
    assert "Welcome! Your 20-week plan starts on 2026-11-29." in welcome.result["text"]
    assert any(e["type"] == "bold" for e in welcome.result.get("entities", []))

    today = await say(server, "/today")
    assert today.ok and today.params["parse_mode"] == "HTML"
    assert today.params["reply_markup"] == {
        "inline_keyboard": [
            [
                {"text": "Week 1 overview", "callback_data": "week:1"},
                {"text": "Done ✓", "callback_data": "done:2026-11-29"},
            ]
        ]
    }
    assert "reply_parameters" not in today.params  # private chats aren't quoted


async def test_chinese_user_gets_chinese_replies(server: FakeTelegramServer, adapter: TelegramAdapter) -> None:
    reply = await say(server, "/today", user_id=5002, first_name="李雷", language_code="zh-hans")
    english = "You haven't started the plan yet. Send /start to begin today, or /start YYYY-MM-DD."
    assert reply.result["text"] == translator("zh")(english) != english


async def test_button_callback_answers_and_sends_the_week(server: FakeTelegramServer, adapter: TelegramAdapter) -> None:
    await say(server, "/start")
    today = await say(server, "/today")
    server.push_update(updates.callback_query("week:1", user_id=ANN, message=today.result))
    answer = await server.wait_for("answerCallbackQuery")
    week = await server.wait_for("sendMessage", to_chat(ANN), count=3)
    assert answer.ok and "text" not in answer.params
    assert week.ok and "Week 1" in week.result["text"]
    assert week.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "week:2"


async def test_done_button_under_today_records_a_check_in(
    server: FakeTelegramServer, adapter: TelegramAdapter, app: Runtime
) -> None:
    await say(server, "/start")
    today = await say(server, "/today")
    done = today.params["reply_markup"]["inline_keyboard"][0][1]
    assert done["text"] == "Done ✓"
    server.push_update(updates.callback_query(done["callback_data"], user_id=ANN, message=today.result))
    await server.wait_for("answerCallbackQuery")
    edited = await server.wait_for("editMessageText")  # the press redraws the message it sat on
    assert edited.ok and edited.params["message_id"] == today.result["message_id"]
    assert "You checked in for 2026-11-29: tasks 1, 2, 3" in edited.result["text"]
    assert "✓ 1. " in edited.result["text"] and "✓ 3. " in edited.result["text"]
    buttons = edited.params["reply_markup"]["inline_keyboard"][0]
    assert buttons[-1] == {"text": "Undo ↩", "callback_data": "undo:2026-11-29"}  # all done: Undo instead
    assert len([c for c in server.calls_of("sendMessage") if to_chat(ANN)(c)]) == 2  # nothing new was sent
    streak = await say(server, "/streak")
    assert "counted" in streak.result["text"]


async def test_undo_button_edits_the_message_back(server: FakeTelegramServer, adapter: TelegramAdapter) -> None:
    await say(server, "/start")
    await say(server, "/done 1")
    today = await say(server, "/today")
    assert "✓ 1. " in today.result["text"] and "✓ 2. " not in today.result["text"]
    server.push_update(updates.callback_query("done:2026-11-29", user_id=ANN, message=today.result))
    done = await server.wait_for("editMessageText")
    server.push_update(updates.callback_query("undo:2026-11-29", user_id=ANN, message=done.result))
    undone = await server.wait_for("editMessageText", count=2)
    assert undone.params["message_id"] == today.result["message_id"]
    assert "Took back your check-in for 2026-11-29." in undone.result["text"] and "✓" not in undone.result["text"]
    assert undone.params["reply_markup"]["inline_keyboard"][0][-1]["callback_data"] == "done:2026-11-29"


async def test_unknown_callback_data_is_a_toast(server: FakeTelegramServer, adapter: TelegramAdapter) -> None:
    await say(server, "/start")
    server.push_update(updates.callback_query("no-such-button:42", user_id=ANN))
    answer = await server.wait_for("answerCallbackQuery")
    assert answer.params["text"] == "This button no longer works. Send /today for a fresh one."
    await adapter.stop()
    assert len(server.calls_of("sendMessage")) == 1  # only the /start reply


async def test_hostile_display_name_is_escaped(server: FakeTelegramServer, adapter: TelegramAdapter) -> None:
    reply = await say_in_group(server, "/join", first_name="<b>&Bob</b>")  # a group roster names people
    assert reply.ok, reply.description
    assert reply.params["text"].startswith("&lt;b&gt;&amp;Bob&lt;/b&gt; joined the roster.")
    assert reply.result["text"].startswith("<b>&Bob</b> joined the roster.")  # shown literally, not as formatting
    assert not reply.result.get("entities")  # the name added no entity


async def test_unknown_command_in_private_gets_the_core_answer(
    server: FakeTelegramServer, adapter: TelegramAdapter
) -> None:
    reply = await say(server, "/frobnicate now")
    assert reply.result["text"] == "Unknown command /frobnicate. Send /help to see the commands."
    reply = await say(server, "hello there")
    assert reply.result["text"] == "I understand commands. Send /help to see them."


# ---------------------------------------------------------------------------------------- groups
async def test_group_command_with_bot_suffix(
    server: FakeTelegramServer, adapter: TelegramAdapter, store: SqlStore
) -> None:
    server.set_member(GROUP, ANN, "administrator")
    started = await say_in_group(server, f"/start@{BOT}")
    assert started.ok and "This group starts the 20-week plan" in started.result["text"]
    assert started.params["reply_parameters"]["message_id"] > 0  # quotes the command in a busy group
    today = await say_in_group(server, f"/today@{BOT.upper()}")
    assert today.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "week:1"
    chat = await store.find_chat("telegram", str(GROUP))
    assert chat is not None and chat.title == "Study Group"


async def test_admin_check_is_cached(server: FakeTelegramServer, adapter: TelegramAdapter) -> None:
    server.set_member(GROUP, ANN, "creator")
    await say_in_group(server, f"/start@{BOT}")
    paused = await say_in_group(server, f"/pause@{BOT}")
    assert paused.result["text"].startswith("Paused.")
    assert len(server.calls_of("getChatMember")) == 1


async def test_non_admin_is_refused_a_group_setting(server: FakeTelegramServer, adapter: TelegramAdapter) -> None:
    server.set_member(GROUP, ANN, "member")
    refused = await say_in_group(server, f"/timezone@{BOT} Asia/Shanghai")
    assert refused.result["text"] == "Only group administrators can use /timezone here."
    call = server.calls_of("getChatMember")[0]
    assert (call.params["chat_id"], call.params["user_id"]) == (GROUP, ANN)


async def test_commands_for_other_bots_and_chatter_are_ignored(
    server: FakeTelegramServer, adapter: TelegramAdapter
) -> None:
    server.push_update(updates.group_message("/today@some_other_bot", chat_id=GROUP, user_id=ANN))
    server.push_update(updates.group_message("/otherbotcommand", chat_id=GROUP, user_id=ANN))
    server.push_update(updates.group_message("just chatting", chat_id=GROUP, user_id=ANN))
    server.push_update(updates.private_message("/today@some_other_bot", user_id=ANN))
    await say_in_group(server, f"/help@{BOT}")  # a sentinel behind them, in the same chat
    await adapter.stop()  # let everything in flight finish
    assert server.sent_texts(ANN) == []
    assert len(server.sent_texts(GROUP)) == 1


# ---------------------------------------------------------------------------------------- platform errors
async def test_429_is_waited_out_and_retried(server: FakeTelegramServer, adapter: TelegramAdapter) -> None:
    server.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", {"retry_after": 0.05})
    server.push_update(updates.private_message("/today", user_id=ANN))
    reply = await server.wait_for("sendMessage", lambda c: c.ok)
    assert "/start" in reply.result["text"]
    assert [c.status for c in server.calls_of("sendMessage")] == [429, 200]


async def test_persistent_429_is_retry_for_the_scheduler(
    server: FakeTelegramServer, core: Core, store: SqlStore
) -> None:
    bot = make_adapter(core, store, server, rate_limiter=AIORateLimiter(max_retries=1))
    await bot.start()
    try:
        server.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", {"retry_after": 0.05}, times=2)
        result = await bot.deliver(Target("telegram", "user", str(ANN)), [Reply(plain("hi"))])
    finally:
        await bot.stop()
    assert result.outcome == "retry" and result.retry_after == pytest.approx(0.05)


async def test_blocked_user_is_deactivated_until_they_write_again(
    server: FakeTelegramServer, adapter: TelegramAdapter, store: SqlStore
) -> None:
    await say(server, "/start")
    server.block_user(ANN)
    target = Target("telegram", "user", str(ANN))
    result = await adapter.deliver(target, [Reply(plain("Time to study!"))])
    assert result.outcome == "gone" and "blocked" in (result.reason or "")
    assert await apply_outcome(store, target, result) is None
    user = await store.find_user("telegram", str(ANN))
    assert user is not None and not user.active

    server.unblock_user(ANN)
    await say(server, "/today")
    user = await store.find_user("telegram", str(ANN))
    assert user is not None and user.active


async def test_reply_to_a_blocked_user_deactivates_them(
    server: FakeTelegramServer, adapter: TelegramAdapter, store: SqlStore
) -> None:
    await say(server, "/start")
    server.block_user(ANN)
    server.push_update(updates.private_message("/today", user_id=ANN))
    await server.wait_for("sendMessage", lambda c: c.status == 403)
    await adapter.stop()
    user = await store.find_user("telegram", str(ANN))
    assert user is not None and not user.active


async def test_chat_not_found_is_gone(server: FakeTelegramServer, adapter: TelegramAdapter) -> None:
    server.chat_not_found(777)
    result = await adapter.deliver(Target("telegram", "user", "777"), [Reply(plain("hi"))])
    assert result.outcome == "gone"
    result = await adapter.deliver(Target("telegram", "user", "not-a-number"), [Reply(plain("hi"))])
    assert result.outcome == "gone"


async def test_other_errors_fail_without_raising_or_leaking_the_token(
    server: FakeTelegramServer, adapter: TelegramAdapter
) -> None:
    server.fail_next("sendMessage", 500, f"Internal Server Error {TOKEN}", times=3)
    result = await adapter.deliver(Target("telegram", "user", str(ANN)), [Reply(plain("hi"))])
    assert result.outcome == "failed" and result.reason and TOKEN not in result.reason


async def test_group_migration_follows_the_new_chat_id(
    server: FakeTelegramServer, adapter: TelegramAdapter, store: SqlStore
) -> None:
    server.set_member(GROUP, ANN, "administrator")
    await say_in_group(server, f"/start@{BOT}")
    new_id = -1001234567890
    server.migrate_group(GROUP, new_id)

    target = Target("telegram", "chat", str(GROUP))
    result = await adapter.deliver(target, [Reply(plain("Reading day!"))])
    assert result.outcome == "migrated" and result.new_external_id == str(new_id)
    moved = await apply_outcome(store, target, result)
    assert moved == Target("telegram", "chat", str(new_id))
    assert (await adapter.deliver(moved, [Reply(plain("Reading day!"))])).outcome == "sent"
    chat = await store.find_chat("telegram", str(new_id))
    assert chat is not None and await store.find_chat("telegram", str(GROUP)) is None
    assert server.sent_texts(new_id) == ["Reading day!"]


async def test_command_reply_in_a_migrated_group_is_resent(
    server: FakeTelegramServer, adapter: TelegramAdapter, store: SqlStore
) -> None:
    server.set_member(GROUP, ANN, "administrator")
    await say_in_group(server, f"/start@{BOT}")
    new_id = -1009876543210
    server.migrate_group(GROUP, new_id)
    server.push_update(updates.group_message(f"/today@{BOT}", chat_id=GROUP, user_id=ANN))
    resent = await server.wait_for("sendMessage", to_chat(new_id))
    assert resent.ok and "reply_parameters" not in resent.params
    await adapter.stop()
    chat = await store.find_chat("telegram", str(new_id))
    assert chat is not None


async def test_migration_service_message_moves_the_chat(
    server: FakeTelegramServer, adapter: TelegramAdapter, store: SqlStore
) -> None:
    server.set_member(GROUP, ANN, "administrator")
    await say_in_group(server, f"/start@{BOT}")
    new_id = -1005555555555
    notice = updates.group_message("x", chat_id=GROUP, user_id=ANN)
    del notice["message"]["text"]
    notice["message"]["migrate_to_chat_id"] = new_id
    server.push_update(notice)
    await say_in_group(server, f"/help@{BOT}", chat_id=new_id, chat_type="supergroup")
    chat = await store.find_chat("telegram", str(new_id))
    assert chat is not None and await store.find_chat("telegram", str(GROUP)) is None


# ---------------------------------------------------------------------------------------- rendering
async def test_long_replies_split_at_line_boundaries(server: FakeTelegramServer, adapter: TelegramAdapter) -> None:
    lines = [f"line {i} <&> " + "x" * 60 for i in range(200)]
    reply = Reply(join([bold("Title"), *(plain(line) for line in lines)]), buttons=(Button("More", "week:2"),))
    result = await adapter.deliver(Target("telegram", "user", str(ANN)), [reply])
    assert result.outcome == "sent"
    calls = server.calls_of("sendMessage")
    assert len(calls) > 1 and all(c.ok for c in calls)
    assert all(len(c.params["text"]) <= 4096 for c in calls)
    assert "\n".join(c.result["text"] for c in calls).split("\n") == ["Title", *lines]
    assert [("reply_markup" in c.params) for c in calls] == [False] * (len(calls) - 1) + [True]


async def test_a_retry_skips_the_parts_an_earlier_attempt_delivered(
    server: FakeTelegramServer, adapter: TelegramAdapter
) -> None:
    lines = [f"line {i} " + "x" * 60 for i in range(200)]  # four messages
    reply = Reply(join([plain(line) for line in lines]), buttons=(Button("More", "week:2"),))
    target = Target("telegram", "user", str(ANN))
    server.fail_next("sendMessage", 400, "Bad Request: something odd", after=2)
    first = await adapter.deliver(target, [reply])
    assert first.outcome == "failed" and first.delivered == 2
    second = await adapter.deliver(target, [reply], skip=first.delivered)
    assert second.outcome == "sent" and second.delivered == 2
    delivered = [c for c in server.calls_of("sendMessage") if c.ok]
    assert len(delivered) == 4
    assert "\n".join(c.result["text"] for c in delivered).split("\n") == lines  # every part once, in order
    assert [("reply_markup" in c.params) for c in delivered] == [False, False, False, True]


async def test_html_refused_falls_back_to_plain_text(server: FakeTelegramServer, adapter: TelegramAdapter) -> None:
    # A single bold line longer than 4096 characters is cut mid-tag by the chunker; say it anyway.
    result = await adapter.deliver(Target("telegram", "user", str(ANN)), [Reply(bold("y" * 5000))])
    assert result.outcome == "sent"
    assert [c.status for c in server.calls_of("sendMessage")][-1] == 200


async def test_images_and_files(server: FakeTelegramServer, adapter: TelegramAdapter) -> None:
    image = Attachment("progress.png", b"\x89PNG fake", "image/png")
    document = Attachment("plan.ics", b"BEGIN:VCALENDAR", "text/calendar")
    reply = Reply(plain("Your progress"), image=image, file=document, buttons=(Button("Week 1", "week:1"),))
    result = await adapter.deliver(Target("telegram", "user", str(ANN)), [reply])
    assert result.outcome == "sent"
    photo, doc = server.calls_of("sendPhoto")[0], server.calls_of("sendDocument")[0]
    assert photo.ok and photo.files["photo"].data == image.data
    assert doc.ok and doc.files["document"].file_name == "plan.ics" and doc.files["document"].data == document.data
    assert "reply_markup" in server.calls_of("sendMessage")[0].params
    only_file = Reply(file=document, buttons=(Button("Week 1", "week:1"),))
    assert (await adapter.deliver(Target("telegram", "user", str(ANN)), [only_file])).outcome == "sent"
    assert "reply_markup" in server.calls_of("sendDocument")[1].params


# ---------------------------------------------------------------------------------------- bad input
async def test_updates_without_text_and_malformed_updates_never_break_polling(
    server: FakeTelegramServer, adapter: TelegramAdapter, store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    await say(server, "/start", user_id=6001)
    server.push_update(updates.edited_message("/today", user_id=ANN))
    server.push_update(updates.channel_post("/today"))
    server.push_update(updates.new_chat_members(GROUP, [updates.user(4242, BOT, is_bot=True), 7], from_user_id=ANN))
    server.push_update({"message": {"message_id": 1, "chat": {"id": ANN}}})  # no date, no type: malformed
    server.push_update({"callback_query": {"id": "9", "data": "week:1"}})  # malformed: no from, no instance
    server.push_update({"poll": {"id": "p"}})  # an update kind we don't handle, and malformed too
    server.push_update(updates.my_chat_member(6001, 6001, "member", "kicked"))
    group_photo = updates.photo_message(user_id=ANN, caption="look")
    group_photo["message"]["chat"] = updates.chat(GROUP, "group")
    server.push_update(group_photo)

    sticker = await say_private_update(server, updates.sticker_message(user_id=ANN))
    assert sticker.result["text"] == "I understand commands. Send /help to see them."
    photo = await say_private_update(server, updates.photo_message(user_id=ANN))
    assert photo.result["text"] == "I understand commands. Send /help to see them."
    await say(server, "/help")  # polling survived everything above
    await adapter.stop()

    assert server.sent_texts(GROUP) == []
    assert server.sent_texts(-1001000000001) == []
    blocked = await store.find_user("telegram", "6001")
    assert blocked is not None and not blocked.active  # my_chat_member "kicked": no more pushes
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    assert any("malformed" in r.getMessage() for r in caplog.records)
    confirmed = [c for c in server.calls_of("getUpdates") if c.ok][-1].params["offset"]
    assert server.pending_updates == [] and confirmed == max(server.delivered_update_ids) + 1


async def say_private_update(server: FakeTelegramServer, update: dict[str, Any]) -> ApiCall:
    chat_id = update["message"]["chat"]["id"]
    before = len([c for c in server.calls_of("sendMessage") if to_chat(chat_id)(c)])
    server.push_update(update)
    return await server.wait_for("sendMessage", to_chat(chat_id), count=before + 1)


async def test_too_long_a_command_is_answered_clearly(server: FakeTelegramServer, adapter: TelegramAdapter) -> None:
    reply = await say(server, "/week " + "9" * 5000)
    assert reply.ok and "too long" in reply.result["text"]


# ---------------------------------------------------------------------------------------- webhook
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_mode_checks_the_secret(server: FakeTelegramServer, core: Core, store: SqlStore) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    bot = make_adapter(core, store, server, webhook_url=url, webhook_secret="s3cret-value", webhook_port=port)
    await bot.start()
    try:
        assert server.webhook["url"] == url and server.webhook["secret_token"] == "s3cret-value"
        assert server.calls_of("getUpdates") == []
        wrong = await post_webhook(url, updates.private_message("/today", user_id=ANN), "wrong")
        assert wrong == 403
        missing = await post_webhook(url, updates.private_message("/today", user_id=ANN))
        assert missing == 403
        right = await post_webhook(url, updates.private_message("/start", user_id=ANN), "s3cret-value")
        assert right == 200
        welcome = await server.wait_for("sendMessage", to_chat(ANN))
        assert "Welcome" in welcome.result["text"]
        server.push_update(updates.private_message("/today", user_id=ANN))  # Telegram's own delivery
        await server.wait_for("sendMessage", to_chat(ANN), count=2)
    finally:
        await bot.stop()
    assert len(server.sent_texts(ANN)) == 2


async def test_webhook_without_a_configured_secret_still_uses_one(
    server: FakeTelegramServer, core: Core, store: SqlStore
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    bot = make_adapter(core, store, server, webhook_url=url, webhook_port=port)
    await bot.start()
    try:
        secret = server.webhook["secret_token"]
        assert isinstance(secret, str) and len(secret) >= 32
        assert await post_webhook(url, updates.private_message("/today", user_id=ANN)) == 403
    finally:
        await bot.stop()


# ---------------------------------------------------------------------------------------- papers
async def test_the_read_button_under_papers_checks_in_the_reading_slot(
    server: FakeTelegramServer, adapter: TelegramAdapter, app: Runtime
) -> None:
    """✓ under a listed paper, pressed in Telegram: the paper is read, the day counts for the streak."""
    import dataclasses

    from bot.papers.feed import parse_feed
    from tests.support import SHARED

    feed = SHARED / "fixtures/arxiv/rss_cs.CL_pub2026-08-20_weekday.xml"
    if not feed.is_file():
        pytest.skip(f"shared arXiv fixture missing: {feed}")
    yesterday = app.clock.now().date().replace(day=28)  # the clock is at 2026-11-29: stored as this week's
    papers = [dataclasses.replace(p, announced=yesterday) for p in parse_feed(feed.read_bytes()).papers]
    await app.database.papers.upsert_papers(papers, app.clock.now())
    await say(server, "/start")

    def papers_list(call: ApiCall) -> bool:  # not a follow-up of /start (e.g. a settings prompt)
        return to_chat(ANN)(call) and str(call.params.get("text", "")).startswith("<b>arXiv papers for")

    server.push_update(updates.private_message("/papers", user_id=ANN))
    # The first ranking of a process imports scikit-learn and builds the index: seconds on a loaded machine.
    listing = await server.wait_for("sendMessage", papers_list, timeout=30)
    first_row = listing.params["reply_markup"]["inline_keyboard"][0]
    assert [b["text"] for b in first_row] == ["👍 1", "👎 1", "✓ 1"]
    read = first_row[2]
    assert read["callback_data"].startswith("pr:") and len(read["callback_data"].encode()) <= 64
    before = len(server.calls_of("sendMessage"))
    server.push_update(updates.callback_query(read["callback_data"], user_id=ANN, message=listing.result))
    await server.wait_for("answerCallbackQuery")
    done = await server.wait_for("sendMessage", to_chat(ANN), count=before + 1)
    assert "today counts for your streak: 1 day" in done.result["text"]
    assert "Current streak: 1 day" in (await say(server, "/streak")).result["text"]
    assert "Reading slot: done ✓ (1 read)" in (await say(server, "/reading")).result["text"]
    arxiv_id = read["callback_data"].removeprefix("pr:")
    server.push_update(updates.private_message("/papers", user_id=ANN))
    again = await server.wait_for("sendMessage", papers_list, count=2)
    assert arxiv_id not in again.result["text"] + str(again.params["reply_markup"])  # read: never listed again
    assert "is not an arXiv id" in (await say(server, "/read abc")).result["text"]


async def test_a_shared_location_sets_the_timezone(server: FakeTelegramServer, adapter: TelegramAdapter) -> None:
    before = len([c for c in server.calls_of("sendMessage") if to_chat(ANN)(c)])
    server.push_update(updates.location_message(ANN, 52.52, 13.405))  # Berlin
    # The process's first lookup loads the zone polygons (numpy and ~25 MB of data, in a worker thread, so
    # other chats go on): about a second warm, several on a cold and busy machine (seen in CI: over 5 s).
    reply = await server.wait_for("sendMessage", to_chat(ANN), count=before + 1, timeout=30.0)
    assert "Timezone set to Europe/Berlin" in reply.result["text"]
    settings = await say(server, "/settings")
    assert "Timezone: Europe/Berlin" in settings.result["text"]


async def test_a_new_learner_is_asked_for_their_zone_once(server: FakeTelegramServer, adapter: TelegramAdapter) -> None:
    question = await say(server, "/start", user_id=5003, first_name="李雷", language_code="zh-hans")
    assert "你在哪个时区" in question.result["text"] and "分享你的位置" in question.result["text"]
    row = question.params["reply_markup"]["inline_keyboard"]
    assert [b["callback_data"] for line in row for b in line][:2] == ["tz:Asia/Shanghai", "tz:Asia/Taipei"]
    server.push_update(updates.callback_query("tz:Asia/Shanghai", user_id=5003, message=question.result))
    chosen = await server.wait_for("sendMessage", to_chat(5003), count=2)
    assert "Asia/Shanghai" in chosen.result["text"]
    await say(server, "/start 2026-11-29 confirm", user_id=5003, language_code="zh-hans")
    assert not [c for c in server.calls_of("sendMessage") if to_chat(5003)(c) and "你在哪个时区" in c.params["text"]][
        1:
    ]
