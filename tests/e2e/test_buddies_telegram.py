"""Study buddies and reviews end to end on the loopback Telegram Bot API: a group of four, one of them
with a hostile name, through real python-telegram-bot and the real runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.adapters.telegram import TelegramAdapter
from bot.app import Runtime
from bot.core.dispatcher import Core
from bot.delivery.recipients import StoreRecipients
from tests.fakes.telegram import ApiCall, FakeTelegramServer, updates

pytestmark = pytest.mark.sqlite_only  # what is under test is the platform adapter; the storage tests cover PostgreSQL

TOKEN = "4242:fake-TOKEN-for-tests"
BOT = "studybuddy_test_bot"
GROUP = -4001
OTHER_GROUP = -4002
HOSTILE = "<b>&Bob</b> *_~ @everyone"
PEOPLE = {5001: "Ann", 5002: HOSTILE, 5003: "Cyd", 5004: "Dee"}


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer(token=TOKEN, username=BOT) as fake:
        yield fake


@pytest.fixture
async def adapter(app: Runtime, core: Core, server: FakeTelegramServer) -> AsyncIterator[TelegramAdapter]:
    store = app.database.store
    bot = TelegramAdapter(core, TOKEN, api_url=server.api_url, recipients=StoreRecipients(store, store), poll_timeout=5)
    await bot.start()
    yield bot
    await bot.stop()


def to_chat(chat_id: int) -> Any:
    return lambda call: call.params.get("chat_id") == chat_id


async def send(server: FakeTelegramServer, update: dict[str, Any], chat_id: int) -> ApiCall:
    before = len([c for c in server.calls_of("sendMessage") if to_chat(chat_id)(c)])
    server.push_update(update)
    return await server.wait_for("sendMessage", to_chat(chat_id), count=before + 1)


async def in_group(server: FakeTelegramServer, text: str, user_id: int, chat_id: int = GROUP) -> ApiCall:
    update = updates.group_message(text, chat_id=chat_id, user_id=user_id, first_name=PEOPLE[user_id])
    return await send(server, update, chat_id)


async def in_private(server: FakeTelegramServer, text: str, user_id: int) -> ApiCall:
    return await send(server, updates.private_message(text, user_id=user_id, first_name=PEOPLE[user_id]), user_id)


def pairs(text: str) -> list[set[str]]:
    line = next(x for x in text.splitlines() if x.startswith("This week's study buddies: "))
    return [set(g.split(" ↔ ")) for g in line.removeprefix("This week's study buddies: ").split(", ")]


async def test_a_group_of_four_pairs_up_shares_reviews_and_escapes_a_hostile_name(
    server: FakeTelegramServer, adapter: TelegramAdapter
) -> None:
    server.set_member(GROUP, 5001, "administrator")
    for user_id in PEOPLE:
        if user_id != 5001:
            server.set_member(GROUP, user_id, "member")
        joined = await in_group(server, f"/buddy@{BOT} on", user_id)
        assert joined.ok, joined.description
        assert f"{PEOPLE[user_id]} opted in to study buddies." in joined.result["text"]
    listed = await in_group(server, f"/buddies@{BOT}", 5003)
    split = pairs(listed.result["text"])
    assert sorted(len(g) for g in split) == [2, 2] and set().union(*split) == set(PEOPLE.values())
    assert "&lt;b&gt;&amp;Bob&lt;/b&gt; *_~ @everyone" in listed.params["text"]  # escaped for HTML
    assert not listed.result.get("entities")  # the name added no formatting
    refused = await in_group(server, f"/buddies@{BOT} shuffle", 5002)
    assert refused.result["text"] == "Only group administrators can use /buddies shuffle here."
    shuffled = await in_group(server, f"/buddies@{BOT} shuffle", 5001)
    assert "Redrawn for the rest of this week." in shuffled.result["text"]
    assert pairs(shuffled.result["text"]) != split
    # the hostile member writes a review in the group: shared there, shown literally
    await in_private(server, "/start", 5002)
    review = "<i>week one</i> & *bold?* _x_ ~y~ @everyone"
    saved = await in_group(server, f"/review@{BOT} {review}", 5002)
    assert "review of week 1 is saved and shared with this group" in saved.result["text"]
    shared = await in_group(server, f"/reviews@{BOT}", 5004)
    assert review in shared.result["text"] and HOSTILE in shared.result["text"]
    assert "&lt;i&gt;week one&lt;/i&gt; &amp; *bold?*" in shared.params["text"]
    kinds = {e["type"] for e in shared.result.get("entities") or []}
    assert kinds <= {"bold"}  # only our own headings are formatted
    # privately the member sees their buddy in this group; another group sees none of it
    mine = await in_private(server, "/buddy", 5002)
    assert "Study Group" in mine.result["text"] and "Your buddy:" in mine.result["text"]
    elsewhere = await in_group(server, f"/reviews@{BOT}", 5003, OTHER_GROUP)
    assert "No reviews shared here this week yet." in elsewhere.result["text"]
    nobody = await in_group(server, f"/buddies@{BOT}", 5003, OTHER_GROUP)
    assert HOSTILE not in nobody.result["text"] and "Nobody here has opted in" in nobody.result["text"]
