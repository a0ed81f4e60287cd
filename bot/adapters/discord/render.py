"""Turns core replies into Discord messages: Markdown content, embeds for lists, buttons, attachments.

The embed rule is deliberately simple and deterministic: a reply whose first line is all bold and that
has at least EMBED_MIN_LINES further lines (the plan, a week, a day, paper lists, /help) becomes an embed
titled by that line; everything else is plain Markdown content split at 2000 characters.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.adapters.render import chunk_lines, escape_markdown, to_markdown
from bot.core.markup import Rich, join
from bot.core.types import Attachment, Button, Reply

log = logging.getLogger(__name__)

CONTENT_LIMIT = 2000
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_TITLE_LIMIT = 256
EMBED_MIN_LINES = 4
EMBED_COLOUR = 0x5865F2
BUTTON_LABEL_LIMIT = 80
CUSTOM_ID_LIMIT = 100
MAX_BUTTONS = 25
CUSTOM_ID_PREFIX = "sb:"
BUTTON_TEMPLATE = re.compile(r"sb:(?P<action>.+)", re.S)


class ActionButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=BUTTON_TEMPLATE):
    """A core button (`sb:<action>`); registered as a dynamic item, so presses route after a restart too."""

    def __init__(self, action: str, label: str = "…") -> None:
        super().__init__(
            discord.ui.Button(
                label=label[:BUTTON_LABEL_LIMIT] or "…",
                custom_id=CUSTOM_ID_PREFIX + action,
                style=discord.ButtonStyle.secondary,
            )
        )
        self.action = action

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ActionButton:
        return cls(match["action"], getattr(item, "label", None) or "…")

    async def callback(self, interaction: discord.Interaction) -> None:
        adapter = getattr(interaction.client, "adapter", None)
        if adapter is not None:
            await adapter.on_action(interaction, self.action)


def build_view(buttons: Sequence[Button]) -> discord.ui.View | None:
    """A persistent view (no timeout, stable custom ids); buttons whose id can't fit are left out."""
    view = discord.ui.View(timeout=None)
    for button in buttons[:MAX_BUTTONS]:
        if len(CUSTOM_ID_PREFIX + button.action) > CUSTOM_ID_LIMIT:
            log.warning("button action too long for a Discord custom_id; dropped: %.40s…", button.action)
            continue
        view.add_item(ActionButton(button.action, button.label))
    return view if view.children else None


@dataclass
class Outgoing:
    """One Discord message to send; files are turned into discord.File late because those are single-use."""

    content: str | None = None
    embeds: list[discord.Embed] = field(default_factory=list)
    files: list[Attachment] = field(default_factory=list)
    buttons: tuple[Button, ...] = ()
    ephemeral: bool = False

    def send_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `send_message`, `followup.send` and `Messageable.send` (unset ones omitted)."""
        kwargs: dict[str, Any] = {}
        if self.content:
            kwargs["content"] = self.content
        if self.embeds:
            kwargs["embeds"] = self.embeds
        if self.files:
            kwargs["files"] = self.discord_files()
        view = build_view(self.buttons)
        if view is not None:
            kwargs["view"] = view
        return kwargs

    def edit_kwargs(self) -> dict[str, Any]:
        """For `edit_original_response` after a deferral: every field set, so the placeholder is replaced."""
        return {
            "content": self.content or None,
            "embeds": self.embeds,
            "attachments": self.discord_files(),
            "view": build_view(self.buttons),
        }

    def discord_files(self) -> list[discord.File]:
        return [discord.File(io.BytesIO(a.data), filename=a.filename) for a in self.files]


def _is_heading(line: Rich) -> bool:
    spans = [s for s in line.spans if s.text.strip()]
    return bool(spans) and all(s.style == "bold" for s in spans)


def render_reply(reply: Reply, *, ephemeral: bool) -> list[Outgoing]:
    lines = list(reply.text.lines())
    body = lines[1:]
    while body and not body[0]:
        body.pop(0)
    out: list[Outgoing] = []
    if lines and _is_heading(lines[0]) and sum(1 for line in body if line) >= EMBED_MIN_LINES:
        title = escape_markdown(lines[0].to_plain().strip())[:EMBED_TITLE_LIMIT]
        for i, description in enumerate(chunk_lines(join(body), to_markdown, EMBED_DESCRIPTION_LIMIT)):
            embed = discord.Embed(title=title if i == 0 else None, description=description, colour=EMBED_COLOUR)
            out.append(Outgoing(embeds=[embed]))
    elif reply.text:
        out = [Outgoing(content=part) for part in chunk_lines(reply.text, to_markdown, CONTENT_LIMIT) if part.strip()]
    attachments = [a for a in (reply.image, reply.file) if a is not None]
    if not out and (attachments or reply.buttons):
        out = [Outgoing()]
    if out:
        out[-1].files = attachments
        out[-1].buttons = reply.buttons
    for message in out:
        message.ephemeral = ephemeral
    return out


def render_replies(replies: Sequence[Reply], *, ephemeral_default: bool) -> list[Outgoing]:
    """`Reply.ephemeral` always wins; otherwise the caller's default (personal answers in guilds)."""
    return [m for reply in replies for m in render_reply(reply, ephemeral=reply.ephemeral or ephemeral_default)]
