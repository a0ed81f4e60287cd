"""End-to-end checks of the Discord fake with the real discord.py 2.7 client (no StudyBuddy code yet).

They also document the discord.py behaviours our Discord adapter relies on: endpoint redirection, the
interaction-callback shape, persistent-view matching and gateway resume.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import discord
import pytest
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.adapters.discord.endpoints import (
    configure_discord_endpoints,
    configure_discord_endpoints_from_env,
    current_discord_endpoints,
    discord_endpoints,
    reset_discord_endpoints,
)

from .discord import FakeDiscordServer, RestCall, payloads

TOKEN = "tkn"
STARTUP_TIMEOUT = 10.0


class StudyButtons(discord.ui.View):
    """A persistent view: no timeout and an explicit custom_id, so it is matched by custom_id alone."""

    def __init__(self, clicks: asyncio.Queue[discord.Interaction]) -> None:
        super().__init__(timeout=None)
        self.clicks = clicks

    @discord.ui.button(label="Start", custom_id="sb:test", style=discord.ButtonStyle.primary)
    async def start(self, interaction: discord.Interaction, button: discord.ui.Button[StudyButtons]) -> None:
        await interaction.response.send_message("Let's go!", ephemeral=True)
        self.clicks.put_nowait(interaction)


def _assert_pong(callback: RestCall, content: str = "pong", flags: int = 64) -> None:
    """discord.py sends ``{"type": 4, "data": {"content", "flags", "tts": false}}`` for a plain reply."""
    assert callback.json["type"] == 4
    assert {k: callback.json["data"][k] for k in ("content", "flags")} == {"content": content, "flags": flags}
    assert set(callback.json["data"]) <= {"content", "flags", "tts", "allowed_mentions"}


@dataclass
class Harness:
    server: FakeDiscordServer
    client: discord.Client
    tree: app_commands.CommandTree[discord.Client]
    task: asyncio.Task[None]
    clicks: asyncio.Queue[discord.Interaction] = field(default_factory=asyncio.Queue)

    @property
    def guild(self) -> payloads.JSON:
        return self.server.guilds[0]


class FastReidentifyClient(discord.Client):
    """discord.py sleeps 5 s before every non-initial IDENTIFY (identify rate limit); tests skip that."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


def _build_client(
    clicks: asyncio.Queue[discord.Interaction],
) -> tuple[discord.Client, app_commands.CommandTree]:
    # guild_ready_timeout: discord.py waits this long after the last GUILD_CREATE before firing on_ready
    # (default 2 s); production keeps the default.
    client = FastReidentifyClient(intents=discord.Intents.default(), guild_ready_timeout=0.05)
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)

    @tree.command(name="ping", description="Check that StudyBuddy is awake")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong", ephemeral=True)

    @tree.command(name="plan", description="Send this week's plan as a file")
    async def plan(interaction: discord.Interaction) -> None:
        data = io.BytesIO(b"Week 1: linear algebra refresher\n")
        await interaction.response.send_message("Your plan", file=discord.File(data, filename="week1.txt"))

    @tree.command(name="later", description="Defer, then answer")
    async def later(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.edit_original_response(content="done thinking")
        await interaction.followup.send("and one more thing")

    async def topic_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        topics = ["transformers", "tokenizers", "training"]
        return [app_commands.Choice(name=t, value=t) for t in topics if t.startswith(current)]

    @tree.command(name="topic", description="Pick a topic")
    @app_commands.autocomplete(name=topic_autocomplete)
    async def topic(interaction: discord.Interaction, name: str) -> None:
        await interaction.response.send_message(f"topic: {name}")

    client.add_view(StudyButtons(clicks))
    return client, tree


async def _wait_ready(client: discord.Client, task: asyncio.Task[None]) -> None:
    """Wait for on_ready, but fail fast if ``client.start`` died (bad URL, bad token...)."""
    ready = asyncio.ensure_future(client.wait_until_ready())
    done, _ = await asyncio.wait({ready, task}, timeout=STARTUP_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        ready.cancel()
        if task in done:
            task.result()
        raise TimeoutError("discord.py never became ready against the fake")


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    async with FakeDiscordServer(token=TOKEN, heartbeat_interval_ms=1000) as server:
        with discord_endpoints(server.api_url, server.gateway_url):
            clicks: asyncio.Queue[discord.Interaction] = asyncio.Queue()
            client, tree = _build_client(clicks)
            task = asyncio.create_task(client.start(TOKEN))
            try:
                await _wait_ready(client, task)
                yield Harness(server=server, client=client, tree=tree, task=task, clicks=clicks)
            finally:
                await client.close()
                await asyncio.wait_for(task, 5)


# ------------------------------------------------------------------ production helper


def test_configure_endpoints_is_idempotent_and_reversible() -> None:
    default_base, default_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    try:
        configure_discord_endpoints("http://127.0.0.1:8080", "ws://127.0.0.1:8080")
        configure_discord_endpoints("http://127.0.0.1:8080/", "ws://127.0.0.1:8080")
        assert Route.BASE == "http://127.0.0.1:8080/api/v10"
        assert DiscordWebSocket.DEFAULT_GATEWAY == yarl.URL("ws://127.0.0.1:8080/")
        assert Route("GET", "/users/@me").url == "http://127.0.0.1:8080/api/v10/users/@me"

        configure_discord_endpoints("https://chat.example.org/discord/api/v10", None)
        assert Route.BASE == "https://chat.example.org/discord/api/v10"
        assert DiscordWebSocket.DEFAULT_GATEWAY == default_gateway

        configure_discord_endpoints_from_env({"DISCORD_API_URL": "", "DISCORD_GATEWAY_URL": "wss://gw.example.org"})
        assert current_discord_endpoints().api_base == default_base
        assert current_discord_endpoints().gateway_url == "wss://gw.example.org/"

        for bad_api, bad_gateway in (
            ("ftp://x", None),
            ("http://x?a=1", None),
            (None, "http://x"),
            (None, "ws://x/?v=9"),
        ):
            with pytest.raises(ValueError):
                configure_discord_endpoints(bad_api, bad_gateway)
    finally:
        reset_discord_endpoints()
    assert (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY) == (default_base, default_gateway)


def test_context_manager_restores_previous_configuration() -> None:
    configure_discord_endpoints("http://127.0.0.1:1", "ws://127.0.0.1:1/")
    try:
        with discord_endpoints("http://127.0.0.1:2", "ws://127.0.0.1:2/") as endpoints:
            assert endpoints.api_base == "http://127.0.0.1:2/api/v10"
        assert Route.BASE == "http://127.0.0.1:1/api/v10"
    finally:
        reset_discord_endpoints()


# ------------------------------------------------------------------ fake on its own


async def test_rest_errors_use_discords_json_shape() -> None:
    async with FakeDiscordServer(token=TOKEN) as server, aiohttp.ClientSession() as http:
        auth = {"Authorization": f"Bot {TOKEN}"}
        async with http.get(f"{server.api_url}/api/v10/definitely/not/here", headers=auth) as resp:
            assert resp.status == 404
            assert resp.headers["Content-Type"] == "application/json"
            assert await resp.json() == {"message": "404: Not Found", "code": 0}
        async with http.get(f"{server.api_url}/api/v10/users/@me", headers={"Authorization": "Bot nope"}) as resp:
            assert resp.status == 401
            assert await resp.json() == {"message": "401: Unauthorized", "code": 0}
        async with http.get(f"{server.api_url}/api/v10/gateway/bot", headers=auth) as resp:
            body = await resp.json()
            assert resp.headers["Content-Type"] == "application/json"
            assert body["url"] == server.gateway_url and body["shards"] == 1
        calls = await server.wait_for_rest("GET", "/", count=3)
        assert [c.status for c in calls] == [404, 401, 200]


async def test_wrong_token_is_a_login_failure() -> None:
    async with FakeDiscordServer(token=TOKEN) as server:
        with discord_endpoints(server.api_url, server.gateway_url):
            client = discord.Client(intents=discord.Intents.default())
            try:
                with pytest.raises(discord.LoginFailure):
                    await client.login("wrong-token")
            finally:
                await client.close()


# ------------------------------------------------------------------ end to end with discord.py


async def test_login_identify_ready_and_sync(harness: Harness) -> None:
    server, client = harness.server, harness.client
    identify = await server.wait_for_identify()
    assert identify["token"] == TOKEN
    assert identify["intents"] == discord.Intents.default().value
    assert server.connections[0].query["encoding"] == "json"
    assert server.connections[0].query["v"] == "10"
    # discord.py always asks for zlib-stream (zstd-stream if `zstandard` is installed); the fake honours zlib.
    assert server.connections[0].query["compress"] in ("zlib-stream", "zstd-stream")
    assert [c.path for c in server.rest_calls[:2]] == ["/users/@me", "/oauth2/applications/@me"]

    assert client.user is not None and str(client.user.id) == server.bot_user["id"]
    assert client.application_id == int(server.application_id)
    guild = client.get_guild(int(harness.guild["id"]))
    assert guild is not None and guild.me is not None
    assert [c.name for c in guild.text_channels] == ["general"]

    synced = await harness.tree.sync()
    put = (await server.wait_for_rest("PUT", f"/applications/{server.application_id}/commands"))[0]
    assert sorted(c["name"] for c in put.json) == ["later", "ping", "plan", "topic"]
    ping = server.registered_command("ping")
    assert ping is not None and {c.name: c.id for c in synced}["ping"] == int(ping["id"])


async def test_slash_command_in_guild_answers_ephemerally(harness: Harness) -> None:
    server = harness.server
    interaction = payloads.application_command_interaction(
        application_id=server.application_id, name="ping", guild=harness.guild
    )
    await server.send_interaction(interaction)
    callback = await server.wait_for_callback(interaction)
    _assert_pong(callback)
    assert callback.query == {"with_response": "1"}
    assert callback.status == 200
    assert callback.response["resource"]["message"]["content"] == "pong"


async def test_slash_command_in_dm(harness: Harness) -> None:
    server = harness.server
    interaction = payloads.application_command_interaction(application_id=server.application_id, name="ping")
    await server.send_interaction(interaction)
    callback = await server.wait_for_callback(interaction)
    _assert_pong(callback)


async def test_button_reaches_persistent_view(harness: Harness) -> None:
    server = harness.server
    interaction = payloads.component_interaction(
        application_id=server.application_id, custom_id="sb:test", guild=harness.guild
    )
    await server.send_interaction(interaction)
    clicked = await asyncio.wait_for(harness.clicks.get(), 5)
    assert clicked.id == int(interaction["id"])
    assert clicked.message is not None and clicked.message.id == int(interaction["message"]["id"])
    callback = await server.wait_for_callback(interaction)
    _assert_pong(callback, "Let's go!")


async def test_attachment_reply_is_multipart(harness: Harness) -> None:
    server = harness.server
    interaction = payloads.application_command_interaction(
        application_id=server.application_id, name="plan", guild=harness.guild
    )
    await server.send_interaction(interaction)
    callback = await server.wait_for_callback(interaction)
    assert callback.json["type"] == 4
    assert callback.json["data"]["content"] == "Your plan"
    assert callback.json["data"]["attachments"] == [{"id": 0, "filename": "week1.txt"}]
    [upload] = callback.files
    assert (upload.field, upload.filename) == ("files[0]", "week1.txt")
    assert upload.data == b"Week 1: linear algebra refresher\n"
    [attachment] = callback.response["resource"]["message"]["attachments"]
    assert attachment["filename"] == "week1.txt" and attachment["size"] == len(upload.data)


async def test_defer_edit_original_and_followup(harness: Harness) -> None:
    server = harness.server
    interaction = payloads.application_command_interaction(
        application_id=server.application_id, name="later", guild=harness.guild
    )
    await server.send_interaction(interaction)
    webhook = f"/webhooks/{server.application_id}/{interaction['token']}"
    [followup] = await server.wait_for_rest("POST", webhook)
    assert (await server.wait_for_callback(interaction)).json == {"type": 5}
    [edit] = server.rest("PATCH", f"{webhook}/messages/@original")
    assert edit.json["content"] == "done thinking" and edit.response["content"] == "done thinking"
    assert followup.query["wait"] == "1" and followup.json["content"] == "and one more thing"


async def test_autocomplete(harness: Harness) -> None:
    server = harness.server
    interaction = payloads.autocomplete_interaction(
        application_id=server.application_id, name="topic", focused="name", value="t", guild=harness.guild
    )
    await server.send_interaction(interaction)
    callback = await server.wait_for_callback(interaction)
    assert callback.json["type"] == 8
    assert [c["value"] for c in callback.json["data"]["choices"]] == [
        "transformers",
        "tokenizers",
        "training",
    ]


@pytest.mark.parametrize("close_code", [4000, None], ids=["close-4000", "abrupt"])
async def test_dropped_socket_resumes_and_replays(harness: Harness, close_code: int | None) -> None:
    server = harness.server
    ready = await server.wait_for_ready_sent()
    resumed = asyncio.Event()
    harness.client.event(_set_on_resumed(resumed))

    await server.drop_socket(code=close_code)
    # Sent while no socket is attached: buffered in the session and replayed after RESUME.
    interaction = payloads.application_command_interaction(
        application_id=server.application_id, name="ping", guild=harness.guild
    )
    await server.send_interaction(interaction)

    resume = await server.wait_for_resume()
    assert resume["session_id"] == ready["session_id"] and resume["token"] == TOKEN
    conn = await server.wait_for_resumed_sent()
    assert conn.path == "/resume"  # discord.py resumes on READY's resume_gateway_url
    assert len(server.ready_payloads) == 1  # no second IDENTIFY
    sent_types = [f.get("t") for f in conn.sent]
    assert sent_types.index("INTERACTION_CREATE") < sent_types.index("RESUMED")  # replayed, then RESUMED
    callback = await server.wait_for_callback(interaction)
    _assert_pong(callback)
    await asyncio.wait_for(resumed.wait(), 5)

    after = payloads.application_command_interaction(application_id=server.application_id, name="ping")
    await server.send_interaction(after)
    assert (await server.wait_for_callback(after)).status == 200


def _set_on_resumed(flag: asyncio.Event) -> Callable[[], Coroutine[Any, Any, None]]:
    """discord.py registers event handlers by function name, hence the fixed ``on_resumed`` name."""

    async def on_resumed() -> None:
        flag.set()

    return on_resumed


async def test_invalid_session_forces_new_identify(harness: Harness) -> None:
    server = harness.server
    await server.invalidate_session(resumable=False)
    await server.wait_for_ready_sent(count=2)
    identify = await server.wait_for_identify(count=2)
    assert identify["token"] == TOKEN
    assert server.connections[-1].path == "/"  # a fresh IDENTIFY goes to DEFAULT_GATEWAY again
    interaction = payloads.application_command_interaction(
        application_id=server.application_id, name="ping", guild=harness.guild
    )
    await server.send_interaction(interaction)
    assert (await server.wait_for_callback(interaction)).status == 200


async def test_channel_message_and_dm(harness: Harness) -> None:
    server, client = harness.server, harness.client
    channel = client.get_channel(int(harness.guild["channels"][0]["id"]))
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("study time", file=discord.File(io.BytesIO(b"x"), filename="a.txt"))
    assert sent.content == "study time" and sent.attachments[0].filename == "a.txt"
    [post] = server.rest("POST", f"/channels/{channel.id}/messages")
    assert post.json["content"] == "study time" and post.files[0].data == b"x"

    learner = discord.Object(id=int(payloads.snowflake()))
    dm = await client.create_dm(learner)
    await dm.send("reminder: week 2 starts today")
    [dm_post] = server.rest("POST", f"/channels/{dm.id}/messages")
    assert dm_post.json["content"] == "reminder: week 2 starts today"
