"""The real runtime on a real SQLite file and the real Discord adapter against the loopback Discord fake.

Every wait is event-driven on the fake (no sleeps); the adapter's timeouts are shortened via its
constructor (guild_ready_timeout, reidentify_delay, unanswered_after), never patched.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from unittest.mock import patch

import discord
import pytest

from bot.adapters.discord import DiscordAdapter
from bot.adapters.discord.endpoints import current_discord_endpoints, discord_endpoints, reset_discord_endpoints
from bot.app import Runtime, bootstrap
from bot.config import Settings
from bot.core.adapter import Target
from bot.core.context import Context
from bot.core.dispatcher import Core
from bot.core.markup import bold, join, plain
from bot.core.types import Attachment, Button, Reply
from tests.fakes.discord import FakeDiscordServer, RestCall, payloads

pytestmark = pytest.mark.sqlite_only  # what is under test is the platform adapter; the storage tests cover PostgreSQL

TOKEN = "discord-test-token"
EPHEMERAL = 1 << 6
MANAGE_GUILD = 1 << 5
JSON = dict[str, Any]


@dataclass
class Discord:
    """One fake Discord with two guilds, and a way to start StudyBuddy adapters against it."""

    server: FakeDiscordServer
    core: Core
    app: Runtime
    adapters: list[DiscordAdapter]
    release_slow: asyncio.Event

    @property
    def guild(self) -> JSON:
        return self.server.guilds[0]

    @property
    def other_guild(self) -> JSON:
        return self.server.guilds[1]

    async def start_adapter(self, **options: Any) -> DiscordAdapter:
        adapter = DiscordAdapter(
            self.core,
            TOKEN,
            settings_store=self.app.database.store,
            ready_timeout=10.0,
            guild_ready_timeout=0.05,
            reidentify_delay=0.0,
            unanswered_after=0.2,
            **options,
        )
        await adapter.start()
        self.adapters.append(adapter)
        return adapter

    async def command(
        self,
        name: str,
        options: Sequence[JSON] = (),
        *,
        guild: JSON | None = None,
        invoker: JSON | None = None,
        channel_id: str | None = None,
        permissions: int = payloads.DEFAULT_EVERYONE_PERMISSIONS,
        locale: str = "en-US",
    ) -> RestCall:
        interaction = payloads.application_command_interaction(
            application_id=self.server.application_id,
            name=name,
            options=options,
            guild=guild,
            invoker=invoker,
            channel_id=channel_id,
            member_permissions=permissions,
            locale=locale,
        )
        await self.server.send_interaction(interaction)
        return await self.server.wait_for_callback(interaction)

    async def press(self, custom_id: str, *, guild: JSON | None = None, invoker: JSON | None = None) -> RestCall:
        interaction = payloads.component_interaction(
            application_id=self.server.application_id, custom_id=custom_id, guild=guild, invoker=invoker
        )
        await self.server.send_interaction(interaction)
        return await self.server.wait_for_callback(interaction)


def text_of(call: RestCall) -> str:
    """Everything a person would read in a callback: content and embed title/description, unescaped."""
    data = call.json["data"]
    parts = [data.get("content") or ""]
    for embed in data.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
    return "\n".join(parts).replace("\\", "").replace("**", "")


def flags(call: RestCall) -> int:
    return int(call.json["data"].get("flags") or 0)


def custom_ids(call: RestCall) -> list[str]:
    rows = call.json["data"].get("components") or []
    return [c["custom_id"] for row in rows for c in row["components"]]


def option(name: str, value: Any, kind: int = 3) -> JSON:
    return {"name": name, "type": kind, "value": value}


def register_test_commands(core: Core) -> asyncio.Event:
    """/card answers with an image and a file; /slow waits for the test (to exercise deferral)."""
    release = asyncio.Event()

    @core.registry.command("card", en="A study card image", zh="学习卡片图片")
    async def card(ctx: Context) -> Reply:
        return Reply(
            plain("Your card"),
            image=Attachment("card.png", b"\x89PNG fake", "image/png"),
            file=Attachment("week.ics", b"BEGIN:VCALENDAR", "text/calendar"),
            buttons=(Button("Week 2", "week:2"),),
        )

    @core.registry.command("slow", en="Takes its time", zh="很慢")
    async def slow(ctx: Context) -> Reply:
        await release.wait()
        return Reply(bold("Finally"))

    return release


@pytest.fixture
async def discord_env(app: Runtime, core: Core) -> AsyncIterator[Discord]:
    guilds = [
        payloads.guild(name="Study Hall", channels=None),
        payloads.guild(name="Other Server", channels=None),
    ]
    release_slow = register_test_commands(core)
    async with FakeDiscordServer(token=TOKEN, guilds=guilds, heartbeat_interval_ms=1000) as server:
        with discord_endpoints(server.api_url, server.gateway_url):
            env = Discord(server, core, app, [], release_slow)
            try:
                yield env
            finally:
                for adapter in env.adapters:
                    await adapter.stop()


@pytest.fixture
async def running(discord_env: Discord) -> Discord:
    await discord_env.start_adapter()
    return discord_env


# ------------------------------------------------------------------ command sync


async def test_commands_sync_once_typed_localised_and_admin_gated(discord_env: Discord) -> None:
    server = discord_env.server
    await discord_env.start_adapter()
    identify = await server.wait_for_identify()
    assert identify["intents"] == discord.Intents(guilds=True).value  # nothing privileged
    [put] = server.rest("PUT", f"/applications/{server.application_id}/commands")
    commands = {c["name"]: c for c in put.json}
    assert set(commands) >= {"start", "today", "week", "goto", "lang", "timezone", "help", "card"}

    [number] = commands["week"]["options"]
    assert (number["name"], number["type"], number["min_value"], number["max_value"]) == ("number", 4, 1, 20)
    assert number["required"] is False
    assert commands["week"]["description_localizations"]["zh-CN"] == "查看某一周的计划（默认本周）"
    assert number["description_localizations"]["zh-CN"] == "计划中的周数，1 到 20"
    [language] = commands["lang"]["options"]
    assert [c["value"] for c in language["choices"]] == ["zh", "en"]
    assert commands["start"]["options"][0]["type"] == 3  # a date is text the core parses
    assert commands["timezone"]["options"][0]["autocomplete"] is True
    action, topic = commands["topics"]["options"]  # a gap before the topic can't be told positionally
    assert (action["name"], action["required"], topic["name"], topic["required"]) == ("action", True, "topic", False)
    assert int(commands["goto"]["default_member_permissions"]) == MANAGE_GUILD
    assert commands["today"]["default_member_permissions"] is None
    assert all(c["name"] == c["name"].lower() and not c["name_localizations"] for c in put.json)

    # A restart with the same commands doesn't sync again (the hash is in the settings table) ...
    await discord_env.adapters.pop().stop()
    await discord_env.start_adapter()
    assert len(server.rest("PUT", "/applications/")) == 1
    assert await discord_env.app.database.store.get_setting("discord_commands_hash:global")

    # ... unless Discord lost them (deleted in the developer portal): then it syncs although the hash matches.
    server.global_commands.clear()
    await discord_env.adapters.pop().stop()
    await discord_env.start_adapter()
    assert len(server.rest("PUT", "/applications/")) == 2 and server.registered_command("today") is not None

    # ... and the previous process's buttons still work in the new one (dynamic items, stable custom ids).
    pressed = await discord_env.press("sb:week:3", guild=discord_env.guild)
    assert "Week 3" in text_of(pressed) and flags(pressed) & EPHEMERAL

    # A changed registry syncs again.
    await discord_env.adapters.pop().stop()

    @discord_env.core.registry.command("extra", en="New command", zh="新命令")
    async def extra(ctx: Context) -> Reply:
        return Reply(plain("new"))

    await discord_env.start_adapter()
    puts = server.rest("PUT", "/applications/")
    assert len(puts) == 3 and "extra" in {c["name"] for c in puts[2].json}


async def test_dev_guild_sync_goes_to_that_guild_only(discord_env: Discord) -> None:
    server, guild_id = discord_env.server, discord_env.guild["id"]
    await discord_env.start_adapter(guild_id=int(guild_id))
    [put] = server.rest("PUT", "/applications/")
    assert put.path == f"/applications/{server.application_id}/guilds/{guild_id}/commands"
    assert server.global_commands == []
    command = server.registered_command("today", guild_id)
    assert command is not None
    interaction = payloads.application_command_interaction(
        application_id=server.application_id, name="today", guild=discord_env.guild, command_guild_id=guild_id
    )
    await server.send_interaction(interaction)
    callback = await server.wait_for_callback(interaction)
    assert "/start" in text_of(callback)


# ------------------------------------------------------------------ conversations


async def test_today_in_a_dm_is_a_normal_message(running: Discord) -> None:
    ann = payloads.user(username="ann", global_name="Ann")
    dm = payloads.snowflake()
    started = await running.command("start", invoker=ann, channel_id=dm)
    assert "Welcome! Your 20-week plan starts on 2026-11-29." in text_of(started) and not flags(started) & EPHEMERAL
    today = await running.command("today", invoker=ann, channel_id=dm)
    assert "Week 1 · Day 1" in text_of(today)
    assert not flags(today) & EPHEMERAL
    assert custom_ids(today) == ["sb:week:1", "sb:done:2026-11-29"]
    assert len(today.json["data"]["content"]) <= 2000


async def test_today_in_a_guild_channel_is_ephemeral(running: Discord) -> None:
    today = await running.command("today", guild=running.guild)
    assert flags(today) & EPHEMERAL
    assert "This group hasn't started the plan yet" in text_of(today)


async def test_week_list_is_an_embed_and_its_buttons_navigate(running: Discord) -> None:
    week = await running.command("week", [option("number", 7, 4)], guild=running.guild)
    [embed] = week.json["data"]["embeds"]
    assert embed["title"] == "Week 7" and len(embed["description"]) <= 4096
    assert custom_ids(week) == ["sb:week:6", "sb:week:8"]
    pressed = await running.press("sb:week:8", guild=running.guild)
    assert pressed.json["data"]["embeds"][0]["title"] == "Week 8"
    assert flags(pressed) & EPHEMERAL


async def test_admin_commands_post_publicly_and_members_are_refused(running: Discord) -> None:
    refused = await running.command("goto", [option("number", 3, 4)], guild=running.guild)
    assert "Only group administrators can use /goto here." in text_of(refused)
    assert flags(refused) & EPHEMERAL
    started = await running.command(
        "start", guild=running.guild, permissions=payloads.DEFAULT_EVERYONE_PERMISSIONS | MANAGE_GUILD
    )
    assert "This group starts the 20-week plan on 2026-11-29." in text_of(started)
    assert not flags(started) & EPHEMERAL  # an announcement for the channel
    moved = await running.command(
        "goto", [option("number", 3, 4)], guild=running.guild, permissions=payloads.ADMINISTRATOR
    )
    assert "Moved to week 3, day 1." in text_of(moved) and not flags(moved) & EPHEMERAL
    today = await running.command("today", guild=running.guild)
    assert "Week 3 · Day 1" in text_of(today) and flags(today) & EPHEMERAL


async def test_attachments_are_uploaded_with_the_reply(running: Discord) -> None:
    card = await running.command("card")
    assert card.json["type"] == 4 and card.json["data"]["content"] == "Your card"
    assert [(f.filename, f.data) for f in card.files] == [
        ("card.png", b"\x89PNG fake"),
        ("week.ics", b"BEGIN:VCALENDAR"),
    ]
    assert custom_ids(card) == ["sb:week:2"]
    assert [a["filename"] for a in card.response["resource"]["message"]["attachments"]] == ["card.png", "week.ics"]


async def test_chinese_locale_gets_chinese_replies(running: Discord) -> None:
    today = await running.command("today", locale="zh-CN")
    assert "你还没有开始学习计划" in text_of(today)


async def test_timezone_autocomplete_offers_matching_zones(running: Discord) -> None:
    server = running.server
    for typed, expected in (("asia/sha", "Asia/Shanghai"), ("berl", "Europe/Berlin"), ("", "Asia/Shanghai")):
        interaction = payloads.autocomplete_interaction(
            application_id=server.application_id, name="timezone", focused="zone", value=typed, guild=running.guild
        )
        await server.send_interaction(interaction)
        callback = await server.wait_for_callback(interaction)
        assert callback.json["type"] == 8
        choices = [c["value"] for c in callback.json["data"]["choices"]]
        assert expected in choices and len(choices) <= 25
    zone = await running.command(
        "timezone", [option("zone", "asia/shanghai")], permissions=payloads.ADMINISTRATOR, guild=running.guild
    )
    assert "Timezone set to Asia/Shanghai" in text_of(zone)


async def test_slow_answers_are_deferred_then_edited(discord_env: Discord) -> None:
    server = discord_env.server
    await discord_env.start_adapter(defer_after=0.01)
    interaction = payloads.application_command_interaction(
        application_id=server.application_id, name="slow", guild=discord_env.guild
    )
    await server.send_interaction(interaction)
    deferred = await server.wait_for_callback(interaction)
    assert deferred.json["type"] == 5 and flags(deferred) & EPHEMERAL
    discord_env.release_slow.set()
    webhook = f"/webhooks/{server.application_id}/{interaction['token']}/messages/@original"
    [edit] = await server.wait_for_rest("PATCH", webhook)
    assert edit.json["content"] == "**Finally**"


# ------------------------------------------------------------------ resilience


async def test_the_bot_keeps_answering_after_the_socket_drops(running: Discord) -> None:
    server = running.server
    await server.drop_socket(code=4000)
    during = await running.command("today")
    assert "/start" in text_of(during)
    await server.wait_for_resumed_sent()
    await server.drop_socket(code=None)  # abrupt, too
    after = await running.command("help", guild=running.guild)
    assert "StudyBuddy" in text_of(after)
    await server.invalidate_session(resumable=False)  # forces a fresh IDENTIFY (no 5 s wait)
    await server.wait_for_ready_sent(count=2)
    last = await running.command("plan", guild=running.other_guild)
    assert last.json["data"]["embeds"]


@pytest.mark.parametrize(
    ("name", "options", "expected"),
    [
        ("week", [option("number", "seven", 3)], "seven is not a whole number; expected the week number (1-20)."),
        ("week", [option("number", 25, 4)], "25 is out of range; expected the week number (1-20)."),
        ("goto", [], "Missing the week number (1-20)."),
        ("lang", [option("language", "fr")], "fr is not one of the choices; expected zh or en."),
        ("start", [option("date", "2026-02-30")], "2026-02-30 is not a valid date"),
        ("retired", [], "Unknown command /retired."),
        ("week", [option("bogus", 3, 4)], "Week"),
    ],
    ids=["wrong-type", "out-of-range", "missing", "bad-choice", "bad-date", "deleted-command", "unknown-option"],
)
async def test_bad_input_gets_a_clear_ephemeral_answer(
    running: Discord, name: str, options: list[JSON], expected: str
) -> None:
    answer = await running.command(name, options, guild=running.guild, permissions=payloads.ADMINISTRATOR)
    assert expected in text_of(answer)
    assert flags(answer) & EPHEMERAL
    after = await running.command("today", guild=running.other_guild)  # the bot is still fine
    assert after.status == 200


async def test_unknown_buttons_and_interactions_are_answered(running: Discord) -> None:
    server = running.server
    legacy = await running.press("legacy-button", guild=running.guild)
    assert "This button no longer works" in text_of(legacy) and flags(legacy) & EPHEMERAL
    stale = await running.press("sb:papers:gone", guild=running.guild)
    assert "This button no longer works" in text_of(stale)
    # An autocomplete for a command we don't have: an empty list, not an error.
    auto = payloads.autocomplete_interaction(
        application_id=server.application_id, name="retired", focused="x", value="a"
    )
    await server.send_interaction(auto)
    assert (await server.wait_for_callback(auto)).json == {"type": 8, "data": {"choices": []}}
    # A modal submit nobody handles still gets an answer from the safety net.
    modal = payloads.component_interaction(application_id=server.application_id, custom_id="x", guild=running.guild)
    modal["type"] = payloads.MODAL_SUBMIT
    modal["data"] = {"custom_id": "form", "components": []}
    await server.send_interaction(modal)
    answered = await server.wait_for_callback(modal)
    assert "Sorry, something went wrong" in text_of(answered) and flags(answered) & EPHEMERAL


async def test_a_failure_in_one_guild_leaves_the_other_unaffected(running: Discord) -> None:
    server = running.server
    # An interaction Discord already expired: the callback 404s inside our handler.
    expired = payloads.application_command_interaction(
        application_id=server.application_id, name="today", guild=running.guild
    )
    await server.dispatch("INTERACTION_CREATE", expired)
    calls = await server.wait_for_rest("POST", f"/interactions/{expired['id']}/")
    assert calls[0].status == 404
    other = await running.command("plan", guild=running.other_guild)
    assert other.status == 200 and other.json["data"]["embeds"]
    same = await running.command("today", guild=running.guild)
    assert same.status == 200


# ------------------------------------------------------------------ pushes


async def test_deliver_to_a_dm_and_to_a_channel(running: Discord) -> None:
    server, adapter = running.server, running.adapters[0]
    learner = payloads.snowflake()
    result = await adapter.deliver(Target("discord", "user", learner), [Reply(plain("Time to study!"))])
    assert result.outcome == "sent"
    [opened] = server.rest("POST", "/users/@me/channels")
    dm_id = opened.response["id"]
    [post] = server.rest("POST", f"/channels/{dm_id}/messages")
    assert post.json["content"] == "Time to study!"

    channel = running.guild["channels"][0]["id"]
    week = Reply(bold("Week 2") + plain("\n1\n2\n3\n4"), buttons=(Button("Week 3 ▶", "week:3"),))
    result = await adapter.deliver(Target("discord", "chat", channel), [week])
    assert result.outcome == "sent"
    [post] = server.rest("POST", f"/channels/{channel}/messages")
    assert post.json["embeds"][0]["title"] == "Week 2"
    assert post.json["components"][0]["components"][0]["custom_id"] == "sb:week:3"
    assert "flags" not in post.json or not int(post.json["flags"] or 0) & EPHEMERAL


async def test_deliver_classifies_failures(running: Discord) -> None:
    adapter = running.adapters[0]
    gone = await adapter.deliver(Target("discord", "chat", payloads.snowflake()), [Reply(plain("x"))])
    assert gone.outcome == "gone" and "10003" in (gone.reason or "")
    assert (await adapter.deliver(Target("discord", "chat", "not-an-id"), [Reply(plain("x"))])).outcome == "gone"

    response = _FakeResponse(403, "Forbidden")
    cases: list[tuple[Exception, str]] = [
        (discord.Forbidden(response, {"message": "Cannot send messages to this user", "code": 50007}), "gone"),
        (discord.RateLimited(12.5), "retry"),
        (discord.HTTPException(_FakeResponse(429, "Too Many"), "slow down"), "retry"),
        (discord.HTTPException(_FakeResponse(500, "Oops"), "oops"), "failed"),
        (RuntimeError("boom"), "failed"),
    ]
    for error, outcome in cases:
        with patch.object(discord.PartialMessageable, "send", _raiser(error)):
            result = await adapter.deliver(
                Target("discord", "chat", running.guild["channels"][0]["id"]), [Reply(plain("x"))]
            )
        assert result.outcome == outcome, (error, result)
        if isinstance(error, discord.HTTPException) and error.status == 429:
            assert result.retry_after == 3.0
    assert (await _rate_limited(adapter)).retry_after == 12.5


async def test_a_retry_skips_the_messages_an_earlier_attempt_delivered(running: Discord) -> None:
    server, adapter = running.server, running.adapters[0]
    channel = running.guild["channels"][0]["id"]
    lines = [f"line {i} " + "x" * 60 for i in range(80)]  # three plain messages of at most 2,000 characters
    reply = Reply(join([plain(line) for line in lines]))
    original = discord.PartialMessageable.send
    calls = 0

    async def second_send_fails(self: discord.PartialMessageable, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise discord.HTTPException(_FakeResponse(500, "Oops"), "oops")
        return await original(self, *args, **kwargs)

    with patch.object(discord.PartialMessageable, "send", second_send_fails):
        first = await adapter.deliver(Target("discord", "chat", channel), [reply])
    assert first.outcome == "failed" and first.delivered == 1
    second = await adapter.deliver(Target("discord", "chat", channel), [reply], skip=first.delivered)
    assert second.outcome == "sent" and second.delivered == 2
    posts = server.rest("POST", f"/channels/{channel}/messages")
    assert "\n".join(post.json["content"] for post in posts).split("\n") == lines  # every line once, in order


async def _rate_limited(adapter: DiscordAdapter) -> Any:
    with patch.object(discord.abc.Messageable, "send", _raiser(discord.RateLimited(12.5))):
        return await adapter.deliver(Target("discord", "user", payloads.snowflake()), [Reply(plain("x"))])


def _raiser(error: Exception) -> Callable[..., Awaitable[None]]:
    async def send(*args: Any, **kwargs: Any) -> None:
        raise error

    return send


@dataclass
class _FakeResponse:
    """Just what discord.HTTPException reads from an aiohttp response."""

    status: int
    reason: str
    headers: dict[str, str] = field(default_factory=lambda: {"Retry-After": "3"})


# ------------------------------------------------------------------ wiring


async def test_no_voice_library_warnings_at_start(
    discord_env: Discord, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(discord.VoiceClient, "warn_nacl", True)  # as in a fresh process
    monkeypatch.setattr(discord.VoiceClient, "warn_dave", True)
    with caplog.at_level(logging.WARNING):
        await discord_env.start_adapter()
    assert not [r for r in caplog.records if "voice" in r.getMessage()]


async def test_a_wrong_token_fails_start_clearly(discord_env: Discord) -> None:
    store = discord_env.app.database.store
    adapter = DiscordAdapter(discord_env.core, "wrong-token", settings_store=store, ready_timeout=5)
    with pytest.raises(RuntimeError, match="refused DISCORD_BOT_TOKEN") as caught:
        await adapter.start()
    assert "wrong-token" not in str(caught.value)
    assert adapter.client is not None and adapter.client.is_closed()


async def test_run_configures_discord_next_to_other_adapters(discord_env: Discord, database_url: str) -> None:
    settings = Settings(
        database_url=database_url,
        discord_bot_token=TOKEN,
        discord_api_url=discord_env.server.api_url,
        discord_gateway_url=discord_env.server.gateway_url,
        _env_file=None,
    )
    app = bootstrap(settings)  # what `studybuddy run` builds: every adapter whose token is set
    await app.open()
    try:
        [adapter] = [a for a in app.adapters if isinstance(a, DiscordAdapter)]
        assert TOKEN not in repr(adapter) and adapter.platform == "discord"
        assert current_discord_endpoints().api_base == f"{discord_env.server.api_url}/api/v10"
    finally:
        await app.stop()
        reset_discord_endpoints()  # the fixture's context manager restores the fake's endpoints after us


def pairs_of(text: str) -> list[set[str]]:
    line = next(x for x in text.splitlines() if x.startswith("This week's study buddies: "))
    return [set(g.split(" ↔ ")) for g in line.removeprefix("This week's study buddies: ").split(", ")]


async def test_buddies_and_reviews_escape_a_hostile_name_and_review_text(running: Discord) -> None:
    hostile = payloads.user(username="mallory", global_name="<b>&Mal</b> *_~ @everyone")
    bob = payloads.user(username="bob", global_name="Bob")
    for person in (hostile, bob):
        joined = await running.command("buddy", [option("action", "on")], guild=running.guild, invoker=person)
        assert "opted in to study buddies" in text_of(joined)
    listed = await running.command("buddies", [option("action", "list")], guild=running.guild, invoker=bob)
    raw = listed.json["data"]["content"]
    assert r"\*\_\~ \@everyone" in raw and "@everyone" not in raw.replace(r"\@everyone", "")
    assert {"<b>&Mal</b> *_~ @everyone", "Bob"} in pairs_of(text_of(listed))
    dm = payloads.snowflake()
    await running.command("start", invoker=hostile, channel_id=dm)
    review = "<b>bold?</b> & *not italic* _x_ ~~y~~ @everyone"
    saved = await running.command("review", [option("text", review)], guild=running.guild, invoker=hostile)
    assert "shared with this group" in text_of(saved)
    shared = await running.command("reviews", guild=running.guild, invoker=bob)
    data = shared.json["data"]
    body = (data.get("content") or "") + "".join(e.get("description") or "" for e in data.get("embeds") or [])
    assert r"\<b\>bold?\</b\> & \*not italic\* \_x\_ \~\~y\~\~ \@everyone" in body
    assert review in text_of(shared)
    elsewhere = await running.command("reviews", guild=running.other_guild, invoker=bob)
    assert "No reviews shared here this week yet." in text_of(elsewhere)


async def test_done_and_undo_buttons_update_their_message_in_a_dm(running: Discord) -> None:
    ann = payloads.user(username="ann", global_name="Ann")
    dm = payloads.snowflake()
    await running.command("start", invoker=ann, channel_id=dm)
    today = await running.command("today", invoker=ann, channel_id=dm)
    assert "sb:done:2026-11-29" in custom_ids(today)

    async def press(custom_id: str) -> RestCall:
        interaction = payloads.component_interaction(
            application_id=running.server.application_id, custom_id=custom_id, invoker=ann, channel_id=dm
        )
        await running.server.send_interaction(interaction)
        return await running.server.wait_for_callback(interaction)

    done = await press("sb:done:2026-11-29")
    assert done.json["type"] == 7  # UPDATE_MESSAGE: the message the button sat on is redrawn
    assert "You checked in for 2026-11-29: tasks 1, 2, 3" in text_of(done) and "✓ 1." in text_of(done)
    assert custom_ids(done)[-1] == "sb:undo:2026-11-29"
    undone = await press("sb:undo:2026-11-29")
    assert undone.json["type"] == 7 and "Took back your check-in for 2026-11-29." in text_of(undone)
    assert custom_ids(undone)[-1] == "sb:done:2026-11-29"
