"""The terminal adapter: the same core, no token.

At a terminal it is a real line editor (prompt_toolkit: editing, history, Ctrl-C clears the line, a second
Ctrl-C at an empty prompt or Ctrl-D quits); on a pipe it reads one command per line, so it can be scripted,
and stops quietly when the reader goes away (`... | head -3`).
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path
from typing import BinaryIO, TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.application import run_in_terminal
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

from bot.adapters.render import to_terminal
from bot.core.dispatcher import Core
from bot.core.types import ChatRef, Incoming, Lang, Reply, UserRef
from bot.i18n import translator

PLATFORM = "console"
_UNSAFE_IN_NAME = re.compile(r"[^\w.-]+")


def as_text(line: str | bytes) -> str:
    """Bytes that aren't UTF-8, and lone surrogates, become U+FFFD: the core then refuses them like any
    other bad input instead of failing on them later (a database won't store a surrogate)."""
    if isinstance(line, bytes):
        return line.decode("utf-8", "replace")
    return line.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def file_stem(user: str) -> str:
    """A user name safe in a file name, so each console user's /stats and /export files stay apart."""
    return _UNSAFE_IN_NAME.sub("_", as_text(user)).strip("._") or "user"


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
        history_file: Path | None = None,
        prompt: str = "studybuddy> ",
    ) -> None:
        self.core = core
        self.user = user
        self.lang = lang
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.files_dir = files_dir
        self.history_file = history_file
        self.prompt = prompt
        self.color = self.stdout.isatty()
        self._buttons: list[str] = []
        self._armed = False  # Ctrl-C was just pressed: one more at an empty prompt quits

    def incoming(self, line: str) -> Incoming:
        line = as_text(line)
        chat = ChatRef(PLATFORM, self.user, "private")
        user = UserRef(PLATFORM, self.user, self.user, self.lang)
        if line.startswith("@") and line[1:].strip().isdigit():
            index = int(line[1:]) - 1
            action = self._buttons[index] if 0 <= index < len(self._buttons) else "expired:"
            return Incoming(chat, user, action=action)
        return Incoming(chat, user, text=line)

    async def apply_language(self) -> None:
        """`--lang` (or `LANG`) is the language of a learner who hasn't chosen one: a choice made with /lang
        is stored as such and wins over both, so restarting the console never undoes it. Only /lang
        changes it again."""
        if self.lang is None:
            return
        user, _ = await self.core.resolve(self.incoming("/help"))
        if not user.lang_chosen and user.lang != self.lang:
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
                path = self.files_dir / f"{file_stem(self.user)}-{attachment.filename}"
                path.write_bytes(attachment.data)
                lines.append(f"[file] {path}")
        return "\n".join(line for line in lines if line)

    async def language(self) -> Lang:
        """The language the console speaks: --lang, else the one stored for this user (or the default)."""
        if self.lang is not None:
            return self.lang
        user, _chat = await self.core.resolve(self.incoming("/help"))
        return user.lang

    async def answer(self, line: str) -> None:
        line = line.rstrip("\r\n")
        if not line.strip():
            return
        for reply in await self.handle_line(line):
            self.stdout.write(self.render(reply) + "\n\n")
        self.stdout.flush()

    async def run(self) -> None:
        await self.apply_language()
        try:
            if self.stdin.isatty() and self.stdout.isatty():
                await self._run_terminal()
            else:
                await self._run_pipe()
        except BrokenPipeError:
            self._discard_output()  # the reader left (`| head -3`): stop quietly

    async def _run_pipe(self) -> None:
        raw: BinaryIO | None = getattr(self.stdin, "buffer", None)
        while True:
            line = await asyncio.to_thread(raw.readline if raw is not None else self.stdin.readline)
            if not line:
                break
            await self.answer(as_text(line))

    async def _run_terminal(self) -> None:
        _ = translator(await self.language())
        history: History = InMemoryHistory()
        if self.history_file is not None:
            self.history_file.parent.mkdir(parents=True, exist_ok=True)
            history = FileHistory(str(self.history_file))
        hint = _("Press Ctrl-C again (or Ctrl-D) to quit.")
        session: PromptSession[str] = PromptSession(history=history, key_bindings=self._keys(hint))
        session.default_buffer.on_text_changed += self._disarm
        self.stdout.write(
            _("StudyBuddy console — /help lists the commands; Ctrl-C clears the line, Ctrl-D quits.") + "\n"
        )
        while True:
            try:
                line = await session.prompt_async(self.prompt)
            except (EOFError, KeyboardInterrupt):  # Ctrl-D, or the second Ctrl-C at an empty prompt
                self.stdout.write("\n")
                break
            self._armed = False
            await self.answer(line)

    def _keys(self, hint: str) -> KeyBindings:
        keys = KeyBindings()

        @keys.add("c-c")
        def _ctrl_c(event: KeyPressEvent) -> None:
            """Clear the line; at an empty prompt, a second Ctrl-C in a row quits."""
            buffer = event.app.current_buffer
            if buffer.text:
                buffer.reset()
            elif self._armed:
                event.app.exit(exception=KeyboardInterrupt())
                return
            else:
                run_in_terminal(lambda: print(hint, file=self.stdout))
            self._armed = True

        return keys

    def _disarm(self, buffer: Buffer) -> None:
        """Typing something ends the Ctrl-C countdown: quitting takes two presses in a row."""
        if buffer.text:
            self._armed = False

    def _discard_output(self) -> None:
        """Point stdout at /dev/null, so the interpreter's last flush can't fail on the closed pipe."""
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stdout.fileno())
        except (OSError, ValueError):
            pass
