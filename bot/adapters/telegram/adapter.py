"""The Telegram adapter: python-telegram-bot updates in, the core's replies out as HTML.

It only translates. Each update becomes a neutral `Incoming`; each `Reply` becomes sendMessage /
sendPhoto / sendDocument calls; platform errors become the core's delivery outcomes. The Application
runs with PTB's manual lifecycle so it shares one event loop with the scheduler and Discord.
"""

from __future__ import annotations

import html
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
)
from telegram import Chat as TgChat
from telegram import User as TgUser
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, BaseRateLimiter, ContextTypes, TypeHandler, filters

from bot.adapters.render import chunk_lines, to_html, utf16_len
from bot.adapters.telegram.ptb import DEFAULT_API_URL, build_application, classify
from bot.adapters.telegram.ratelimit import BudgetRateLimiter
from bot.config import register_secret
from bot.core.adapter import DeliveryResult, RecipientEvents, Target
from bot.core.dispatcher import Core
from bot.core.ratelimit import Priority, SendBudget
from bot.core.registry import Registry
from bot.core.types import Attachment, ChatKind, ChatRef, Incoming, Lang, Reply, UserRef

log = logging.getLogger(__name__)

PLATFORM = "telegram"
MAX_TEXT = 4096
MAX_CALLBACK_TOAST = 200
MAX_CALLBACK_DATA = 64
MAX_COMMAND_DESCRIPTION = 256
BUTTONS_PER_ROW = 3
ADMIN_CACHE_SECONDS = 60.0
DEFAULT_PER_SECOND = 29  # Telegram's ~30 messages a second, with a little room for arrival jitter
DEFAULT_PER_GROUP_PER_MINUTE = 19  # and 20 a minute into one group
ADMIN_STATUSES = frozenset({ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR})
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,64})(?:@([A-Za-z0-9_]{1,64}))?(?=\s|$)")
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def menu_commands(registry: Registry, lang: Lang) -> list[BotCommand]:
    """The Telegram command menu for one language, from the same registry the dispatcher uses."""
    commands = []
    for spec in registry:
        if not spec.menu:
            continue
        description = spec.help[lang].strip() or spec.name
        commands.append(BotCommand(spec.name, description[:MAX_COMMAND_DESCRIPTION]))
    return commands


def chat_kind(chat: TgChat) -> ChatKind:
    if chat.type == TgChat.PRIVATE:
        return "private"
    if chat.type == TgChat.CHANNEL:
        return "channel"
    return "group"


def chat_ref(chat: TgChat) -> ChatRef:
    return ChatRef(PLATFORM, str(chat.id), chat_kind(chat), chat.title)


def user_ref(user: TgUser) -> UserRef:
    return UserRef(PLATFORM, str(user.id), user.full_name, user.language_code)


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """Buttons as one inline keyboard; an action too long for callback_data (64 bytes) is left out."""
    buttons = []
    for button in reply.buttons:
        if len(button.action.encode()) > MAX_CALLBACK_DATA:
            log.warning("button %r dropped: callback data over %d bytes", button.label, MAX_CALLBACK_DATA)
            continue
        buttons.append(InlineKeyboardButton(button.label, callback_data=button.action))
    if not buttons:
        return None
    rows = [buttons[i : i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)]
    return InlineKeyboardMarkup(rows)


class AdminCache:
    """getChatMember answers per (chat, user), kept briefly: admin commands in a row cost one call."""

    def __init__(self, ttl: float = ADMIN_CACHE_SECONDS, now: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.now = now
        self._entries: dict[tuple[int, int], tuple[float, bool]] = {}

    def get(self, chat_id: int, user_id: int) -> bool | None:
        entry = self._entries.get((chat_id, user_id))
        if entry is None or entry[0] < self.now():
            return None
        return entry[1]

    def put(self, chat_id: int, user_id: int, is_admin: bool) -> None:
        if len(self._entries) > 10_000:  # bounded: drop what has expired
            now = self.now()
            self._entries = {k: v for k, v in self._entries.items() if v[0] >= now}
        self._entries[(chat_id, user_id)] = (self.now() + self.ttl, is_admin)


class TelegramAdapter:
    """The Telegram `Adapter`: updates in, replies and scheduled pushes out."""

    platform = PLATFORM

    def __init__(
        self,
        core: Core,
        token: str,
        *,
        api_url: str = DEFAULT_API_URL,
        recipients: RecipientEvents | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        webhook_listen: str = "127.0.0.1",
        webhook_port: int = 8443,
        budget: SendBudget | None = None,
        rate_limiter: BaseRateLimiter[Any] | None = None,
        poll_timeout: float = 30.0,
        send_timeout: float | None = None,
        admin_cache_seconds: float = ADMIN_CACHE_SECONDS,
        receive_updates: bool = True,
    ) -> None:
        if not token:
            raise ValueError("a Telegram bot token is required")
        self.core = core
        self.recipients = recipients
        self._token = token
        self.api_url = api_url
        self.webhook_url = webhook_url
        # Without a configured secret a random one still protects the webhook: we hand it to Telegram.
        self._webhook_secret = webhook_secret or secrets.token_urlsafe(32)
        register_secret(self._webhook_secret)  # PTB logs setWebhook's parameters at DEBUG
        self.webhook_listen = webhook_listen
        self.webhook_port = webhook_port
        self.poll_timeout = poll_timeout
        # False: a send-only worker. Telegram allows one getUpdates consumer per token, so extra workers
        # behind long polling only deliver scheduled pushes (TELEGRAM_UPDATES=off).
        self.receive_updates = receive_updates
        self.admins = AdminCache(admin_cache_seconds)
        # One budget for replies and pushes (delivery then leaves pacing to us); a limiter given instead
        # (tests) leaves `send_budget` None, and delivery paces pushes on its own.
        if rate_limiter is None:
            budget = budget or SendBudget(DEFAULT_PER_SECOND, per_group_per_minute=DEFAULT_PER_GROUP_PER_MINUTE)
            rate_limiter = BudgetRateLimiter(budget)
        self.send_budget = rate_limiter.budget if isinstance(rate_limiter, BudgetRateLimiter) else None
        self.application: AnyApplication = build_application(
            token, api_url, rate_limiter, poll_timeout=poll_timeout, send_timeout=send_timeout
        )
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)
        self.username = ""

    def __repr__(self) -> str:  # never show the token
        return f"TelegramAdapter(api_url={self.api_url!r}, webhook={bool(self.webhook_url)})"

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """getMe, publish the command menu, then long polling (or the webhook listener)."""
        app = self.application
        await app.initialize()
        self.username = app.bot.username or ""
        await app.start()
        await self.publish_commands()
        assert app.updater is not None
        if not self.receive_updates:
            log.info("telegram: send-only as @%s (updates are consumed by another worker)", self.username)
        elif self.webhook_url:
            path = urlsplit(self.webhook_url).path
            await app.updater.start_webhook(
                listen=self.webhook_listen,
                port=self.webhook_port,
                url_path=path,
                webhook_url=self.webhook_url,
                secret_token=self._webhook_secret,
            )
            log.info("telegram: webhook listening on %s:%d%s", self.webhook_listen, self.webhook_port, path)
        else:
            await app.updater.start_polling(poll_interval=0, timeout=int(self.poll_timeout))
            log.info("telegram: long polling as @%s", self.username)

    @property
    def connected(self) -> bool:
        """For /healthz: the Application is up and, unless send-only, polling or the webhook runs."""
        app = self.application
        receiving = not self.receive_updates or (app.updater is not None and app.updater.running)
        return bool(app.running) and receiving

    async def stop(self) -> None:
        """Stop fetching (confirming the last offset), finish updates in flight, then close the client."""
        app = self.application
        try:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
        finally:
            await app.shutdown()

    async def publish_commands(self) -> None:
        """setMyCommands in English (default, any language) and Chinese (`zh` clients)."""
        bot = self.application.bot
        try:
            await bot.set_my_commands(menu_commands(self.core.registry, "en"))
            await bot.set_my_commands(menu_commands(self.core.registry, "zh"), language_code="zh")
        except TelegramError as error:
            log.warning("telegram: could not publish the command menu: %s", classify(error, self._token).reason)

    # ------------------------------------------------------------------ delivery
    async def deliver(self, target: Target, replies: Sequence[Reply], skip: int = 0) -> DeliveryResult:
        """Push replies to a user's private chat or a group; never raises."""
        try:
            chat_id = int(target.external_id)
        except ValueError:
            return DeliveryResult("gone", reason=f"not a Telegram chat id: {target.external_id[:40]!r}")
        return await self._send_all(chat_id, replies, skip=skip, priority=Priority.PUSH)

    async def _send_all(
        self,
        chat_id: int,
        replies: Sequence[Reply],
        reply_to: int | None = None,
        skip: int = 0,
        priority: Priority = Priority.REPLY,
    ) -> DeliveryResult:
        """Send every message of `replies` after the first `skip`; the result counts what went out.

        `priority` rides along to the rate limiter: a push waits behind every reply that is waiting."""
        sends = [
            send
            for index, reply in enumerate(replies)
            for send in self._messages(chat_id, reply, reply_to if index == 0 else None, priority)  # quote once
        ]
        delivered = 0
        try:
            for send in sends[skip:]:
                await send()
                delivered += 1
        except Exception as error:
            result = replace(classify(error, self._token), delivered=delivered)
            level = logging.DEBUG if result.outcome in ("gone", "migrated") else logging.WARNING
            log.log(level, "telegram: send to %s -> %s (%s)", chat_id, result.outcome, result.reason)
            return result
        return DeliveryResult.sent(delivered)

    def _messages(
        self, chat_id: int, reply: Reply, reply_to: int | None, priority: Priority = Priority.REPLY
    ) -> list[Callable[[], Awaitable[object]]]:
        """One call per Telegram message the reply takes, in order: text parts, then the picture or file."""
        bot = self.application.bot
        markup = keyboard(reply)
        parts = chunk_lines(reply.text, to_html, MAX_TEXT, utf16_len) if reply.text else []
        attachments = [a for a in (reply.image, reply.file) if a is not None]
        quote = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None

        async def text(part: str, buttons: InlineKeyboardMarkup | None, quoted: ReplyParameters | None) -> None:
            try:
                await bot.send_message(
                    chat_id,
                    part,
                    parse_mode=ParseMode.HTML,
                    reply_markup=buttons,
                    link_preview_options=_NO_PREVIEW,
                    reply_parameters=quoted,
                    rate_limit_args=priority,
                )
            except BadRequest as error:
                if "can't parse entities" not in error.message.lower():
                    raise
                # A rendering bug must not lose the message: say it again without formatting.
                log.error("telegram: HTML refused (%s); resending as plain text", error.message)
                await bot.send_message(chat_id, _plain_fallback(part), reply_markup=buttons, rate_limit_args=priority)

        async def attach(attachment: Attachment, buttons: InlineKeyboardMarkup | None) -> None:
            upload = InputFile(attachment.data, filename=attachment.filename)
            if attachment is reply.image:
                await bot.send_photo(chat_id, upload, reply_markup=buttons, rate_limit_args=priority)
            else:
                await bot.send_document(chat_id, upload, reply_markup=buttons, rate_limit_args=priority)

        sends: list[Callable[[], Awaitable[object]]] = []
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            sends.append(partial(text, part, markup if last else None, quote if index == 0 else None))
        for index, attachment in enumerate(attachments):
            buttons = markup if not parts and index == len(attachments) - 1 else None
            sends.append(partial(attach, attachment, buttons))
        return sends

    async def _answer(self, target: Target, replies: Sequence[Reply], reply_to: int | None = None) -> None:
        """Reply to something a person did; a blocked user or a moved group is recorded like a push."""
        if not replies:
            return
        result = await self._send_all(int(target.external_id), replies, reply_to)
        if result.outcome in ("gone", "migrated") and self.recipients is not None:
            moved = await self.recipients.apply(target, result)
            if moved is not None:
                await self._send_all(int(moved.external_id), replies)
        elif result.outcome == "migrated" and result.new_external_id:
            await self._send_all(int(result.new_external_id), replies)

    # ------------------------------------------------------------------ updates
    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """One entry point for every update, so nothing falls between handlers; unknown kinds are ignored."""
        if update.callback_query is not None:
            await self._on_callback(update.callback_query)
        elif update.message is not None:
            await self._on_message(update.message)
        elif update.my_chat_member is not None:
            await self._on_membership(update)
        # edited messages, channel posts, polls, reactions, unparseable updates: nothing to do.

    async def _on_message(self, message: Message) -> None:
        if message.migrate_to_chat_id is not None:
            await self._migrated(message.chat.id, message.migrate_to_chat_id)
            return
        if message.migrate_from_chat_id is not None:
            await self._migrated(message.migrate_from_chat_id, message.chat.id)
            return
        sender, chat = message.from_user, message.chat
        anonymous_admin = message.sender_chat is not None and message.sender_chat.id == chat.id
        if sender is None or (sender.is_bot and not anonymous_admin) or chat.type == TgChat.CHANNEL:
            return
        text = message.text
        if message.location is not None and chat.type == TgChat.PRIVATE:
            # a shared location sets the timezone: the core looks the point up offline
            text = f"/timezone {message.location.latitude:.4f},{message.location.longitude:.4f}"
        elif text is None:
            if chat.type != TgChat.PRIVATE or filters.StatusUpdate.ALL.check_update(Update(0, message=message)):
                return
            text = ""  # a sticker or a photo in private: the core answers with a hint
        else:
            text = self._addressed(text, chat.type == TgChat.PRIVATE)
            if text is None:
                return
        incoming = Incoming(
            chat_ref(chat),
            user_ref(sender),
            text=text,
            admin_check=self._admin_check(chat, sender.id, anonymous_admin),
        )
        replies = await self.core.handle(incoming)
        group = chat.type != TgChat.PRIVATE
        target = Target(PLATFORM, "chat" if group else "user", str(chat.id))
        await self._answer(target, replies, reply_to=message.message_id if group else None)

    def _addressed(self, text: str, private: bool) -> str | None:
        """The command text with our `@botname` removed; None when it isn't for us.

        `/cmd@otherbot` belongs to another bot. In groups an unknown bare `/cmd` may too, so only our
        own commands are answered there; in private chats every command gets an answer.
        """
        match = _COMMAND.match(text)
        if match is None:
            return text
        name, mention = match.group(1), match.group(2)
        if mention is not None:
            if mention.lower() != self.username.lower():
                return None
            return f"/{name}{text[match.end() :]}"
        if not private and self.core.registry.get(name.lower()) is None:
            return None
        return text

    def _admin_check(self, chat: TgChat, user_id: int, anonymous_admin: bool) -> Callable[[], Awaitable[bool]]:
        async def is_admin() -> bool:
            if anonymous_admin:  # an admin posting as the group itself
                return True
            cached = self.admins.get(chat.id, user_id)
            if cached is not None:
                return cached
            try:
                member = await self.application.bot.get_chat_member(chat.id, user_id)
            except TelegramError as error:
                log.warning("telegram: getChatMember failed: %s", classify(error, self._token).reason)
                return False  # fail closed, and don't cache a failure
            answer = member.status in ADMIN_STATUSES
            self.admins.put(chat.id, user_id, answer)
            return answer

        return is_admin

    async def _on_callback(self, query: CallbackQuery) -> None:
        """A button press: the core handles the action; a short ephemeral answer becomes a toast."""
        if query.data is None:
            await self._answer_query(query, None)
            return
        message = query.message
        if message is not None:
            chat = message.chat
        else:  # a button on an inline message we can't see: answer in the presser's private chat
            chat = TgChat(query.from_user.id, TgChat.PRIVATE)
        incoming = Incoming(
            chat_ref(chat),
            user_ref(query.from_user),
            action=query.data,
            admin_check=self._admin_check(chat, query.from_user.id, False),
        )
        replies = await self.core.handle(incoming)
        toast = _toast(replies)
        await self._answer_query(query, toast)
        if toast is None:
            if replies and replies[0].edit and await self._edit(query, replies[0]):
                replies = replies[1:]
            group = chat.type != TgChat.PRIVATE
            await self._answer(Target(PLATFORM, "chat" if group else "user", str(chat.id)), replies)

    async def _edit(self, query: CallbackQuery, reply: Reply) -> bool:
        """Redraw the message the button sat on (editMessageText, or editMessageReplyMarkup when only the
        buttons changed); False when it can't be edited, so the reply is sent as a new message instead."""
        message = query.message
        parts = chunk_lines(reply.text, to_html, MAX_TEXT, utf16_len) if reply.text else []
        if not isinstance(message, Message) or len(parts) != 1 or reply.image or reply.file:
            return False
        markup = keyboard(reply)
        try:
            if message.text_html == parts[0]:
                await query.edit_message_reply_markup(reply_markup=markup)
            else:
                await query.edit_message_text(
                    parts[0], parse_mode=ParseMode.HTML, reply_markup=markup, link_preview_options=_NO_PREVIEW
                )
        except BadRequest as error:
            if "not modified" in error.message.lower():
                return True  # a double tap: the message already shows this state
            log.info("telegram: edit refused (%s); sending a new message", error.message)
            return False
        except TelegramError as error:
            log.warning("telegram: edit failed: %s", classify(error, self._token).reason)
            return False
        return True

    async def _answer_query(self, query: CallbackQuery, text: str | None) -> None:
        try:
            await query.answer(text=text, show_alert=False)
        except TelegramError as error:  # too old, or already answered: the press still counted
            log.debug("telegram: answerCallbackQuery failed: %s", error)

    async def _on_membership(self, update: Update) -> None:
        """The bot blocked in a private chat or removed from a group: stop pushing there at once."""
        change = update.my_chat_member
        if change is None or self.recipients is None:
            return
        status = change.new_chat_member.status
        if status not in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
            return
        if change.chat.type == TgChat.PRIVATE:
            target = Target(PLATFORM, "user", str(change.chat.id))
        else:
            target = Target(PLATFORM, "chat", str(change.chat.id))
        await self.recipients.apply(target, DeliveryResult("gone", reason=f"bot {status}"))

    async def _migrated(self, old_id: int, new_id: int) -> None:
        """A group became a supergroup: its settings and plan follow the new chat id."""
        log.info("telegram: chat %s migrated to %s", old_id, new_id)
        if self.recipients is not None:
            await self.recipients.migrate(PLATFORM, str(old_id), str(new_id))

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log and carry on: one failing update must never stop the polling loop."""
        update_id = update.update_id if isinstance(update, Update) else None
        error = context.error
        if error is None:
            return
        log.error(
            "telegram: update %s failed: %s",
            update_id,
            classify(error, self._token).reason,
            exc_info=(type(error), error, error.__traceback__),
        )


def _toast(replies: Sequence[Reply]) -> str | None:
    """A lone short ephemeral text (e.g. "This button no longer works") fits a callback answer."""
    if len(replies) != 1:
        return None
    reply = replies[0]
    text = reply.text.to_plain()
    if not reply.ephemeral or reply.buttons or reply.image or reply.file or len(text) > MAX_CALLBACK_TOAST:
        return None
    return text


def _plain_fallback(html_text: str) -> str:
    return html.unescape(re.sub(r"<[^>]*>", "", html_text))[:MAX_TEXT] or "…"
