"""The Discord adapter: discord.py 2.7 slash commands, buttons and pushes around the neutral core.

Every slash command is generated from the core registry (bot/adapters/discord_commands.py) and handed
to `Core.handle` as the plain command line, so validation and wording live in the core.  Replies are
rendered by bot/adapters/discord_render.py.  Personal answers in guild channels are ephemeral; commands
that change a guild channel's shared plan (`group_admin` ones: /start /goto /pause /resume /lang
/timezone) answer publicly there, so the group sees the announcement.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import discord
from discord import app_commands

from bot.adapters.discord.commands import (
    RegistryTranslator,
    build_commands,
    claim,
    command_line,
    commands_payload,
    is_claimed,
    payload_hash,
    raw_options,
)
from bot.adapters.discord.render import BUTTON_TEMPLATE, ActionButton, render_replies, render_reply
from bot.core.adapter import DeliveryResult, Target
from bot.core.dispatcher import Core
from bot.core.ratelimit import Priority, SendBudget
from bot.core.types import ChatRef, Incoming, Reply, UserRef, lang_from_locale
from bot.i18n import translator

log = logging.getLogger(__name__)

PLATFORM = "discord"
HASH_KEY = "discord_commands_hash:{scope}"
# Errors that mean "Discord's idea of the command differs from ours": let the core judge the raw input.
_REPLAY_ERRORS = (app_commands.CommandNotFound, app_commands.CommandSignatureMismatch, app_commands.TransformerError)


class SettingsStore(Protocol):
    async def get_setting(self, key: str) -> str | None: ...

    async def set_setting(self, key: str, value: str) -> None: ...


def intents() -> discord.Intents:
    """Slash commands and buttons arrive as interactions; only guild metadata is needed (no privileged intents)."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    return wanted


class StudyBuddyClient(discord.Client):
    def __init__(self, adapter: DiscordAdapter, *, guild_ready_timeout: float, reidentify_delay: float | None) -> None:
        # A text-only bot: discord.py's start-up warnings about missing voice libraries are noise in our logs.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(intents=intents(), guild_ready_timeout=guild_ready_timeout, max_ratelimit_timeout=30.0)
        self.adapter = adapter
        self.reidentify_delay = reidentify_delay

    async def setup_hook(self) -> None:
        self.add_dynamic_items(ActionButton)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py waits 5 s before a re-IDENTIFY (rate limit); tests shorten that."""
        if self.reidentify_delay is None:
            await super().before_identify_hook(shard_id, initial=initial)
        elif not initial:
            await asyncio.sleep(self.reidentify_delay)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        await self.adapter.on_interaction(interaction)


class StudyBuddyTree(app_commands.CommandTree[StudyBuddyClient]):
    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await self.client.adapter.on_tree_error(interaction, error)


class DiscordAdapter:
    """Lifecycle (`start`/`stop`), interaction handling and `deliver` for scheduled pushes."""

    platform = PLATFORM

    def __init__(
        self,
        core: Core,
        token: str,
        *,
        settings_store: SettingsStore,
        guild_id: int | None = None,
        ready_timeout: float = 60.0,
        guild_ready_timeout: float = 2.0,
        reidentify_delay: float | None = None,
        defer_after: float = 2.0,
        unanswered_after: float = 1.5,
        budget: SendBudget | None = None,
    ) -> None:
        self.core = core
        self._token = token
        self.settings_store = settings_store
        self.guild_id = guild_id
        self.ready_timeout = ready_timeout
        self.guild_ready_timeout = guild_ready_timeout
        self.reidentify_delay = reidentify_delay
        self.defer_after = defer_after
        self.unanswered_after = unanswered_after
        # The platform's one budget: replies and pushes draw from it, replies first (discord.py still
        # keeps Discord's per-route buckets on top). None: unpaced here, delivery paces pushes.
        self.send_budget = budget
        self.client: StudyBuddyClient | None = None
        self.tree: StudyBuddyTree | None = None
        self.translator = RegistryTranslator()
        self._task: asyncio.Task[None] | None = None
        self._watchdogs: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:  # never show the token
        return f"DiscordAdapter(guild_id={self.guild_id})"

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Log in on the running loop, wait for READY, then sync commands if they changed."""
        client = StudyBuddyClient(
            self, guild_ready_timeout=self.guild_ready_timeout, reidentify_delay=self.reidentify_delay
        )
        tree = StudyBuddyTree(client)
        await tree.set_translator(self.translator)
        scope = discord.Object(id=self.guild_id) if self.guild_id else None
        for command in build_commands(self.core.registry, self.run_command):
            tree.add_command(command, guild=scope)
        self.client, self.tree = client, tree
        self._task = asyncio.create_task(client.start(self._token), name="discord-client")
        self._task.add_done_callback(_report_client_exit)
        ready = asyncio.ensure_future(client.wait_until_ready())
        done, _pending = await asyncio.wait(
            {ready, self._task}, timeout=self.ready_timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            failure = self._task.exception() if self._task in done and not self._task.cancelled() else None
            await self.stop()
            if isinstance(failure, discord.LoginFailure):
                raise RuntimeError("Discord refused DISCORD_BOT_TOKEN (login failed)") from None
            raise RuntimeError(f"Discord client did not become ready: {failure!r}") from failure
        log.info("discord: connected as %s", client.user)
        await self.sync_commands()

    @property
    def connected(self) -> bool:
        """For /healthz: the gateway session is ready and the client not closed."""
        return self.client is not None and self.client.is_ready() and not self.client.is_closed()

    async def stop(self) -> None:
        for task in list(self._watchdogs):
            task.cancel()
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.close()
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._task, 10)
        self._task = None

    async def sync_commands(self) -> bool:
        """Sync to the dev guild (instant) or globally, only when the generated payload changed or Discord
        no longer has our commands (someone removed them in the developer portal or another deploy)."""
        assert self.client is not None and self.tree is not None
        guild = discord.Object(id=self.guild_id) if self.guild_id else None
        key = HASH_KEY.format(scope=f"guild:{self.guild_id}" if self.guild_id else "global")
        digest = payload_hash(self.client.application_id, await commands_payload(self.tree, self.translator, guild))
        if await self.settings_store.get_setting(key) == digest and await self._registered_match(guild):
            log.info("discord: slash commands unchanged, not syncing")
            return False
        try:
            synced = await self.tree.sync(guild=guild)
        except discord.HTTPException:
            log.exception("discord: syncing slash commands failed; will retry on the next start")
            return False
        await self.settings_store.set_setting(key, digest)
        log.info("discord: synced %d slash commands (%s)", len(synced), key.partition(":")[2])
        return True

    async def _registered_match(self, guild: discord.Object | None) -> bool:
        """Whether Discord lists exactly our command names (one cheap GET; trust the hash if it fails)."""
        assert self.tree is not None
        try:
            registered = await self.tree.fetch_commands(guild=guild)
        except discord.HTTPException:
            return True
        return {c.name for c in registered} == {c.name for c in self.tree.get_commands(guild=guild)}

    # ------------------------------------------------------------------ incoming

    def incoming(self, interaction: discord.Interaction, *, text: str = "", action: str | None = None) -> Incoming:
        in_guild = interaction.guild_id is not None
        channel_id = interaction.channel_id or (interaction.channel.id if interaction.channel else 0)
        title = interaction.guild.name if interaction.guild is not None else None
        chat = ChatRef(PLATFORM, str(channel_id), "group" if in_guild else "private", title)
        user = UserRef(PLATFORM, str(interaction.user.id), interaction.user.display_name, interaction.locale.value)

        async def admin_check() -> bool:
            permissions = interaction.permissions
            return permissions.manage_guild or permissions.administrator

        return Incoming(chat, user, text=text, action=action, admin_check=admin_check)

    async def run_command(self, interaction: discord.Interaction, name: str) -> None:
        """A slash command (or one Discord knows and we don't): rebuild `/name args` and let the core judge."""
        claim(interaction)
        spec = self.core.registry.get(name)
        text = command_line(name, spec, raw_options(interaction))
        public = spec is not None and spec.group_admin and interaction.guild_id is not None
        await self._answer(interaction, self.incoming(interaction, text=text), public=public)

    async def on_action(self, interaction: discord.Interaction, action: str) -> None:
        """A button press; the answer is personal (ephemeral) in guild channels."""
        claim(interaction)
        try:
            await self._answer(interaction, self.incoming(interaction, action=action), public=False)
        except Exception:
            log.exception("discord: answering a button press failed")
            await self._apologise(interaction)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Answer buttons that aren't ours at once; watch everything else so no user is left hanging."""
        if interaction.type is discord.InteractionType.component:
            custom_id = _data_text(interaction, "custom_id")
            if not BUTTON_TEMPLATE.fullmatch(custom_id):
                await self.on_action(interaction, "")  # the core answers "this button no longer works"
                return
        if interaction.type is discord.InteractionType.ping:
            return
        task = asyncio.create_task(self._answer_if_unclaimed(interaction))
        self._watchdogs.add(task)
        task.add_done_callback(self._watchdogs.discard)

    async def _answer_if_unclaimed(self, interaction: discord.Interaction) -> None:
        """Last resort for interactions no handler took (malformed data, modal submits, vanished buttons)."""
        await asyncio.sleep(self.unanswered_after)
        if is_claimed(interaction) or interaction.response.is_done():
            return
        log.warning("discord: unanswered %s interaction %s", interaction.type, interaction.id)
        try:
            if interaction.type is discord.InteractionType.autocomplete:
                await interaction.response.autocomplete([])
            elif interaction.type is discord.InteractionType.component:
                await self.on_action(interaction, "")
            else:
                await self._apologise(interaction)
        except discord.HTTPException:
            log.warning("discord: could not answer interaction %s", interaction.id)

    async def on_tree_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        claim(interaction)
        if interaction.type is discord.InteractionType.autocomplete:
            if not interaction.response.is_done():
                with contextlib.suppress(discord.HTTPException):
                    await interaction.response.autocomplete([])
            return
        if isinstance(error, _REPLAY_ERRORS) and not interaction.response.is_done():
            name = _data_text(interaction, "name")
            try:
                await self.run_command(interaction, name)
                return
            except Exception:
                log.exception("discord: answering /%s failed", name[:32])
        else:
            log.error("discord: command failed", exc_info=error)
        await self._apologise(interaction)

    async def _apologise(self, interaction: discord.Interaction) -> None:
        _ = translator(lang_from_locale(interaction.locale.value))
        text = _("Sorry, something went wrong on my side. Please try again.")
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException:
            log.warning("discord: could not apologise for interaction %s", interaction.id)

    async def _answer(self, interaction: discord.Interaction, incoming: Incoming, *, public: bool) -> None:
        """Run the core; if it is slow, defer first (Discord wants an answer within 3 s), then send."""
        ephemeral_default = interaction.guild_id is not None and not public
        handling = asyncio.ensure_future(self.core.handle(incoming))
        done, _pending = await asyncio.wait({handling}, timeout=self.defer_after)
        deferred = False
        if not done:
            await interaction.response.defer(ephemeral=ephemeral_default, thinking=True)
            deferred = True
        replies = await handling
        await self._send(interaction, replies, ephemeral_default=ephemeral_default, deferred=deferred)

    async def _slot(self, priority: Priority = Priority.REPLY) -> None:
        if self.send_budget is not None:
            await self.send_budget.acquire(priority)

    async def _send(
        self, interaction: discord.Interaction, replies: Sequence[Reply], *, ephemeral_default: bool, deferred: bool
    ) -> None:
        if replies and replies[0].edit and await self._edit(interaction, replies[0]):
            replies = replies[1:]
            if not replies:
                return
        messages = render_replies(replies, ephemeral_default=ephemeral_default)
        if not messages:
            if interaction.type is discord.InteractionType.component and not interaction.response.is_done():
                await interaction.response.defer()  # a button with nothing to say: just acknowledge
                return
            await self._apologise(interaction)
            return
        first, rest = messages[0], messages[1:]
        await self._slot()
        if not interaction.response.is_done():
            await interaction.response.send_message(**first.send_kwargs(), ephemeral=first.ephemeral)
        elif deferred and first.ephemeral == ephemeral_default:
            await interaction.edit_original_response(**first.edit_kwargs())
        else:
            if deferred:  # the placeholder has the wrong visibility: replace it
                with contextlib.suppress(discord.HTTPException):
                    await interaction.delete_original_response()
            rest = [first, *rest]
        for message in rest:
            await self._slot()
            await interaction.followup.send(**message.send_kwargs(), ephemeral=message.ephemeral)

    async def _edit(self, interaction: discord.Interaction, reply: Reply) -> bool:
        """A button's answer that redraws its message: the interaction's update-message response. False when
        it can't (not a button, already answered, more than one message), so it is sent as a new one."""
        if interaction.type is not discord.InteractionType.component or interaction.response.is_done():
            return False
        rendered = render_reply(reply, ephemeral=False)
        if len(rendered) != 1:
            return False
        await self._slot()
        await interaction.response.edit_message(**rendered[0].edit_kwargs())
        return True

    # ------------------------------------------------------------------ outgoing pushes

    async def deliver(self, target: Target, replies: Sequence[Reply], skip: int = 0) -> DeliveryResult:
        """Push to a user's DM (by user id) or a channel (by id); classify failures, never raise.

        The first `skip` messages went out in an earlier attempt and are left out; the result counts the
        messages sent in this one."""
        client = self.client
        if client is None or client.is_closed():
            return DeliveryResult("retry", "discord client not running", retry_after=30.0)
        if not target.external_id.isdigit():
            return DeliveryResult("gone", "not a Discord id")
        delivered = 0
        try:
            channel: discord.abc.Messageable
            if target.kind == "user":
                channel = await client.create_dm(discord.Object(id=int(target.external_id)))
            else:
                channel = client.get_partial_messageable(int(target.external_id))
            for message in render_replies(replies, ephemeral_default=False)[skip:]:  # opening a DM is
                await self._slot(Priority.PUSH)  # not counted: 40/s of Discord's 50 leaves room for it
                await channel.send(**message.send_kwargs())
                delivered += 1
        except discord.RateLimited as error:
            self._pause(error.retry_after)
            return DeliveryResult("retry", "rate limited", retry_after=error.retry_after, delivered=delivered)
        except (discord.Forbidden, discord.NotFound) as error:
            return DeliveryResult("gone", f"{error.status} {error.code}: {error.text[:200]}", delivered=delivered)
        except discord.HTTPException as error:
            if error.status == 429:
                self._pause(_retry_after(error))
                return DeliveryResult("retry", "rate limited", retry_after=_retry_after(error), delivered=delivered)
            return DeliveryResult("failed", f"{error.status} {error.code}: {error.text[:200]}", delivered=delivered)
        except Exception as error:
            log.exception("discord: delivery to %s %s failed", target.kind, target.external_id)
            return DeliveryResult("failed", type(error).__name__, delivered=delivered)
        return DeliveryResult.sent(delivered)

    def _pause(self, seconds: float) -> None:
        """A 429 that reached us (discord.py waits out the short ones itself): hold every send."""
        if self.send_budget is not None:
            self.send_budget.pause(seconds)


def _data_text(interaction: discord.Interaction, key: str) -> str:
    """One top-level field of the interaction payload as text; the payload's shape depends on its type."""
    data: Mapping[str, object] = interaction.data or {}
    return str(data.get(key, ""))


def _report_client_exit(task: asyncio.Task[None]) -> None:
    """discord.py reconnects by itself; if its task still ends with an error, say so instead of going quiet."""
    if not task.cancelled() and task.exception() is not None:
        log.error("discord: the client stopped: %r", task.exception())


def _retry_after(error: discord.HTTPException) -> float:
    headers: Any = getattr(error.response, "headers", None) or {}
    try:
        return float(headers.get("Retry-After", 5.0))
    except (TypeError, ValueError):
        return 5.0
