"""The terminal adapter: the same core, no token. On a pipe it reads one command per line (scriptable)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from bot.adapters.render import to_terminal
from bot.core.dispatcher import Core
from bot.core.types import ChatRef, Incoming, Lang, Reply, UserRef

PLATFORM = "console"


class ConsoleAdapter:
    def __init__(
        self,
        core: Core,
        user: str,
        lang: Lang | None,
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        files_dir: Path,
        prompt: str = "studybuddy> ",
    ) -> None:
        self.core = core
        self.user = user
        self.lang = lang
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.files_dir = files_dir
        self.prompt = prompt
        self.color = self.stdout.isatty()
        self._buttons: list[str] = []

    def incoming(self, line: str) -> Incoming:
        chat = ChatRef(PLATFORM, self.user, "private")
        user = UserRef(PLATFORM, self.user, self.user, self.lang)
        if line.startswith("@") and line[1:].strip().isdigit():
            index = int(line[1:]) - 1
            action = self._buttons[index] if 0 <= index < len(self._buttons) else "expired:"
            return Incoming(chat, user, action=action)
        return Incoming(chat, user, text=line)

    async def apply_language(self) -> None:
        """An explicit --lang is a preference: store it, so pushes speak it too."""
        if self.lang is None:
            return
        user, _ = await self.core.resolve(self.incoming("/help"))
        if user.lang != self.lang:
            await self.core.services.store.update_user(user.id, lang=self.lang)

    async def handle_line(self, line: str) -> list[Reply]:
        return await self.core.handle(self.incoming(line))

    def render(self, reply: Reply) -> str:
        lines = [to_terminal(reply.text, self.color)]
        if reply.buttons:
            self._buttons = [button.action for button in reply.buttons]
            lines.append("  ".join(f"[@{i}] {b.label}" for i, b in enumerate(reply.buttons, start=1)))
        for attachment in (reply.image, reply.file):
            if attachment is not None:
                self.files_dir.mkdir(parents=True, exist_ok=True)
                path = self.files_dir / attachment.filename
                path.write_bytes(attachment.data)
                lines.append(f"[file] {path}")
        return "\n".join(line for line in lines if line)

    async def run(self, read_line: Callable[[], str] | None = None) -> None:
        interactive = self.stdin.isatty()
        await self.apply_language()
        if interactive:
            self.stdout.write("StudyBuddy console — /help lists the commands, Ctrl-D quits.\n")
        while True:
            if interactive:
                try:
                    line = await asyncio.to_thread(input, self.prompt)
                except EOFError:
                    self.stdout.write("\n")
                    break
            else:
                line = await asyncio.to_thread(self.stdin.readline)
                if not line:
                    break
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            for reply in await self.handle_line(line):
                self.stdout.write(self.render(reply) + "\n\n")
            self.stdout.flush()
