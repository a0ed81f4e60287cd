"""Turns one Incoming into replies: resolve who is talking, validate, run the handler, contain failures.

A failure inside one update is logged and answered politely; it never propagates into an adapter's
loop, so one bad message can't stop the bot or another chat's work.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.context import Context, Services
from bot.core.markup import plain
from bot.core.registry import ArgError, CommandSpec, Registry, parse_command
from bot.core.replies import expired_button, usage_reply
from bot.core.types import Chat, Incoming, Lang, Reply, User, lang_from_locale
from bot.i18n import Translator, translator

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 4096
MAX_NAME_CHARS = 64
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_BROKEN = re.compile("[\ud800-\udfff\ufffd]")  # lone surrogates, and what a decoder put for invalid bytes


def clean_name(name: str) -> str:
    """Display names come from strangers: drop control/bidi characters and cap the length."""
    cleaned = _CONTROL.sub("", name).strip()
    return cleaned[:MAX_NAME_CHARS] or "?"


@dataclass(frozen=True, slots=True)
class CommandLine:
    """A message split once into `/name@bot` and the rest."""

    text: str
    head: str
    rest: str
    name: str  # lowercase, without the slash or a bot mention

    @classmethod
    def of(cls, raw: str) -> CommandLine:
        text = raw.strip()
        head, _sep, rest = text.partition(" ")
        return cls(text, head, rest, head[1:].split("@", 1)[0].lower())

    @property
    def is_command(self) -> bool:
        return self.head.startswith("/")


def _before_resolve(incoming: Incoming) -> Translator:
    """The sender's language from their platform locale, for replies made before they are looked up."""
    return translator(lang_from_locale(incoming.user.locale))


def _as_list(result: Reply | Sequence[Reply]) -> list[Reply]:
    return [result] if isinstance(result, Reply) else list(result)


class Core:
    """The bot's brain: adapters call `handle` and render whatever comes back."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @property
    def registry(self) -> Registry:
        return self.services.registry

    async def handle(self, incoming: Incoming) -> list[Reply]:
        started = time.perf_counter()
        line = CommandLine.of(incoming.text)  # split once: the handler and the metric label both use it
        try:
            async with self.services.unit_of_work():  # one connection for the update's reads
                return await self._handle(incoming, line)
        except Exception:
            log.exception("handler failed for %s chat %s", incoming.chat.platform, incoming.chat.chat_id)
            lang: Lang = lang_from_locale(incoming.user.locale)
            return [Reply(plain(translator(lang)("Sorry, something went wrong on my side. Please try again.")))]
        finally:
            label = self._metric_label(incoming, line)
            if label is not None:
                self.services.metrics.command(label, incoming.chat.platform, time.perf_counter() - started)

    def _metric_label(self, incoming: Incoming, line: CommandLine) -> str | None:
        """A bounded label set: known command names, "button", or "unknown"; plain chatter isn't counted."""
        if incoming.action is not None:
            return "button"
        if not line.is_command:
            return None
        return line.name if self.registry.get(line.name) is not None else "unknown"

    async def resolve(self, incoming: Incoming) -> tuple[User, Chat | None]:
        """Find or create the user (and group chat); a user who writes again is reachable again."""
        store = self.services.store
        lang = lang_from_locale(incoming.user.locale)
        user, _created = await store.get_or_create_user(
            incoming.user.platform,
            incoming.user.user_id,
            clean_name(incoming.user.display_name),
            lang,
            self.services.default_timezone,
        )
        if not user.active:
            user = await store.update_user(user.id, active=True)
        chat = None
        if incoming.chat.is_group:
            chat = await store.get_or_create_chat(
                incoming.chat.platform,
                incoming.chat.chat_id,
                incoming.chat.kind,
                clean_name(incoming.chat.title or "") if incoming.chat.title else None,
                lang,
                self.services.default_timezone,
            )
            if not chat.active:
                chat = await store.update_chat(chat.id, active=True)
        return user, chat

    async def _handle(self, incoming: Incoming, line: CommandLine) -> list[Reply]:
        if incoming.action is None:
            if not line.is_command:
                if incoming.chat.is_group:
                    return []
                _ = _before_resolve(incoming)
                return [Reply(plain(_("I understand commands. Send /help to see them.")))]
            if len(line.text) > MAX_MESSAGE_CHARS:
                _ = _before_resolve(incoming)
                return [Reply(plain(_("That message is too long for a command. Send /help to see the commands.")))]
        user, chat = await self.resolve(incoming)
        ctx = Context(self.services, incoming, user, chat)
        _ = ctx._
        if incoming.action is not None:
            found = self.registry.action_for(incoming.action)
            if found is None:
                return [expired_button(ctx)]
            handler, payload = found
            return _as_list(await handler(ctx, payload))
        head, rest = line.head, line.rest
        spec = self.registry.get(line.name)
        if spec is None or _CONTROL.search(head):
            return [
                Reply(
                    plain(
                        _(
                            "Unknown command {command}. Send /help to see the commands.",
                            command=_CONTROL.sub("", head)[:40],
                        )
                    )
                )
            ]
        ctx.command = spec.name
        if _CONTROL.search(rest):
            return [usage_reply(ctx, _("Control characters are not allowed."))]
        if _BROKEN.search(rest):
            return [
                usage_reply(
                    ctx, _("Some characters didn't come through as text (invalid UTF-8); please type it again.")
                )
            ]
        refusal = await self._refuse(ctx, spec)
        if refusal is not None:
            return [refusal]
        try:
            parsed = parse_command(spec, rest)
        except ArgError as error:
            return [usage_reply(ctx, _(error.message, **error.values_in(ctx.lang)), error.command)]
        ctx.command, ctx.args = parsed.command, parsed.values
        return _as_list(await parsed.handler(ctx))

    async def _refuse(self, ctx: Context, spec: CommandSpec) -> Reply | None:
        _ = ctx._
        if spec.scope == "group" and not ctx.in_group:
            return Reply(plain(_("/{command} works in a group chat; add me to your study group.", command=spec.name)))
        if spec.scope == "private" and ctx.in_group:
            return Reply(plain(_("/{command} works in a private chat with me.", command=spec.name)), ephemeral=True)
        if spec.group_admin and ctx.in_group:
            check = ctx.incoming.admin_check
            if check is None or not await check():
                return Reply(
                    plain(_("Only group administrators can use /{command} here.", command=spec.name)),
                    ephemeral=True,
                )
        return None
