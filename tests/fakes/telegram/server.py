"""Loopback fake of the Telegram Bot API that the real python-telegram-bot can talk to.

Why a fake server instead of mocking PTB: it exercises PTB's real HTTP encoding, error mapping
(``Forbidden``, ``ChatMigrated``, ``RetryAfter``), long polling and offset confirmation, so the
adapter is tested the way it runs in production, with no network beyond 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import itertools
import json
import math
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from .formatting import EntityParseError, parse_text, utf16_len

__all__ = [
    "CHAOS_KINDS",
    "ApiCall",
    "ApiError",
    "Chaos",
    "FakeTelegramServer",
    "UploadedFile",
    "post_webhook",
]

JSON = dict[str, Any]
ChatId = int | str

# Form/multipart values are strings (PTB json-dumps every non-str value); these keys are kept as text.
_STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "url",
        "secret_token",
        "language_code",
        "title",
        "description",
        "short_description",
        "ip_address",
        "inline_message_id",
        "business_connection_id",
        "message_effect_id",
        "action",
        "emoji",
        "name",
        "first_name",
        "last_name",
        "username",
        "photo",
        "document",
        "file_id",
    }
)
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "commands",
        "scope",
        "allowed_updates",
        "entities",
        "caption_entities",
        "reply_parameters",
        "link_preview_options",
        "media",
        "message_ids",
    }
)
_INT_RE = re.compile(r"-?\d+")
_FLOAT_RE = re.compile(r"-?\d+\.\d*(?:[eE][-+]?\d+)?")

_UPDATE_TYPES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)
# Telegram's default when allowed_updates is [] or never set.
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_MAX_TEXT = 4096
_MAX_CAPTION = 1024


@dataclass(slots=True)
class UploadedFile:
    """A multipart file part as the server received it."""

    field: str
    file_name: str | None
    content_type: str
    size: int
    data: bytes = field(repr=False)
    file_id: str = ""


@dataclass(slots=True)
class ApiCall:
    """One request to the fake, recorded after it was answered (``at`` is arrival time)."""

    method: str
    params: JSON
    files: dict[str, UploadedFile]
    token: str
    at: float
    http_method: str = "POST"
    status: int = 200
    ok: bool = True
    error_code: int | None = None
    description: str | None = None
    result: Any = None
    chaos: str | None = None  # the fault the fake injected into this call, if any


class ApiError(Exception):
    """Raised by handlers to answer ``{"ok": false, ...}`` with the matching HTTP status."""

    def __init__(
        self, error_code: int, description: str, parameters: JSON | None = None, chaos: str | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters
        self.chaos = chaos


def _bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass(slots=True)
class _FailRule:
    method: str
    error_code: int
    description: str
    parameters: JSON | None
    remaining: int
    chat_id: ChatId | None
    after: int = 0  # matching calls to let through before failing


CHAOS_KINDS = ("500", "timeout", "drop", "429")
# Calls that put a message in a chat: what Telegram's flood limit counts, and what chaos hits.
_MESSAGE_PREFIXES = ("send", "edit", "copy", "forward")


def _is_message_call(method: str) -> bool:
    return method.startswith(_MESSAGE_PREFIXES) and method != "sendChatAction"


@dataclass(slots=True)
class Chaos:
    """Seeded faults for a share of the calls that send or edit messages (and answerCallbackQuery).

    Each call's fate is a hash of (seed, method, chat, how many such calls came before for that chat),
    so a run is reproducible whatever order concurrent calls arrive in. The faults:
    - ``500``: answered ``Internal Server Error``, nothing applied;
    - ``drop``: the connection is closed before anything is applied;
    - ``429``: answered ``Too Many Requests`` with a (fractional, to keep tests quick) ``retry_after``;
    - ``timeout``: *applied* (the message is recorded and would reach the chat), then the answer is held
      ``stall`` seconds, past the client's timeout: the client can't know that it went through.
    """

    rate: float
    seed: int = 0
    kinds: tuple[str, ...] = CHAOS_KINDS
    retry_after: float = 0.05
    stall: float = 2.0
    seen: dict[tuple[str, ChatId | None], int] = field(default_factory=dict)

    def fault(self, method: str, chat_id: ChatId | None) -> str | None:
        if not (_is_message_call(method) or method == "answerCallbackQuery"):
            return None
        key = (method, chat_id)
        nth = self.seen.get(key, 0)
        self.seen[key] = nth + 1
        digest = hashlib.sha256(f"{self.seed}:{method}:{chat_id}:{nth}".encode()).digest()
        draw = int.from_bytes(digest[:8], "big") / 2**64
        if draw >= self.rate:
            return None
        return self.kinds[int(draw / self.rate * len(self.kinds)) % len(self.kinds)]


@dataclass(slots=True, eq=False)
class _Poller:
    event: asyncio.Event = field(default_factory=asyncio.Event)
    superseded: bool = False


def _normalize_chat_id(value: Any) -> ChatId:
    if isinstance(value, bool):
        raise _bad_request("chat not found")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if _INT_RE.fullmatch(text):
            return int(text)
        if text.startswith("@") and len(text) > 1:
            return text
    raise _bad_request("chat not found")


def _coerce_form_value(key: str, value: str) -> Any:
    """Undo PTB's ``json.dumps`` of non-string values, keeping free-text fields as text."""
    if key in _STRING_FIELDS:
        return value
    stripped = value.strip()
    if key in _JSON_FIELDS or stripped[:1] in ("{", "["):
        try:
            return json.loads(stripped)
        except ValueError:
            return value
    if _INT_RE.fullmatch(stripped):
        return int(stripped)
    if stripped in ("true", "false"):
        return stripped == "true"
    if _FLOAT_RE.fullmatch(stripped):
        return float(stripped)
    return value


def _update_type(update: JSON) -> str | None:
    return next((key for key in update if key != "update_id"), None)


def _is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


Handler = Callable[[JSON, dict[str, UploadedFile]], Awaitable[Any]]


class FakeTelegramServer:
    """In-process Bot API server; use ``async with FakeTelegramServer() as server``.

    All control methods (``push_update``, ``fail_next`` ...) are plain sync calls and must run on
    the event loop thread that started the server.
    """

    def __init__(
        self,
        token: str = "123:ABC",
        *,
        username: str = "studybuddy_test_bot",
        first_name: str = "StudyBuddy",
        can_join_groups: bool = True,
        can_read_all_group_messages: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        default_member_status: str = "member",
        webhook_retry_delay: float = 0.05,
    ) -> None:
        if not token or "/" in token:
            raise ValueError("token must be non-empty and contain no '/'")
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the fake only binds to loopback")
        self.token = token
        prefix = token.split(":", 1)[0]
        # Real tokens are "<bot_id>:<secret>"; anything else still works with a stable fake id.
        self.bot_id = int(prefix) if prefix.isdigit() else 123
        self.username = username
        self.first_name = first_name
        self.can_join_groups = can_join_groups
        self.can_read_all_group_messages = can_read_all_group_messages
        self.host = host
        self.port = port
        self.default_member_status = default_member_status
        self.webhook_retry_delay = webhook_retry_delay

        self.calls: list[ApiCall] = []
        self.pending_updates: list[JSON] = []
        self.delivered_update_ids: list[int] = []
        self.messages: dict[tuple[ChatId, int], JSON] = {}
        self.chats: dict[ChatId, JSON] = {}
        self.members: dict[tuple[ChatId, int], JSON] = {}
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.uploaded_files: dict[str, UploadedFile] = {}
        self.callback_answers: list[JSON] = []
        self.webhook: JSON = {"url": ""}
        self.allowed_updates: list[str] | None = None
        self.blocked: set[ChatId] = set()
        self.migrated: dict[ChatId, int] = {}
        self.missing_chats: set[ChatId] = set()
        self.rejected_429 = 0
        self.chaos: Chaos | None = None
        self.listeners: list[Callable[[ApiCall], None]] = []  # told of every call as it is recorded

        self._fail_rules: list[_FailRule] = []
        self._rate_per_second: float | None = None
        self._rate_window: deque[float] = deque()
        self._next_update_id = 1
        self._message_counters: dict[ChatId, int] = {}
        self._file_counter = itertools.count(1)
        self._pollers: set[_Poller] = set()
        self._call_waiters: set[asyncio.Event] = set()
        self._update_event = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._handlers: dict[str, tuple[str, Handler]] = {}
        for name in (
            "getMe",
            "getUpdates",
            "setMyCommands",
            "getMyCommands",
            "deleteMyCommands",
            "sendMessage",
            "editMessageText",
            "editMessageReplyMarkup",
            "deleteMessage",
            "answerCallbackQuery",
            "sendPhoto",
            "sendDocument",
            "sendChatAction",
            "getChat",
            "getChatMember",
            "getChatAdministrators",
            "setWebhook",
            "deleteWebhook",
            "getWebhookInfo",
            "getFile",
            "logOut",
            "close",
        ):
            self._handlers[name.lower()] = (name, getattr(self, f"_m_{name.lower()}"))

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> FakeTelegramServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Bind to a free loopback port (or ``port``) and start serving."""
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_post("/_fake/updates", self._handle_control_push)
        app.router.add_get("/_fake/calls", self._handle_control_calls)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._closing = False

    async def stop(self) -> None:
        """Release long polls and the webhook task, then close the listener."""
        self._closing = True
        self._wake_pollers()
        await self._stop_webhook_task()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_url(self) -> str:
        """Root URL; clients call ``{api_url}/bot{token}/{method}``."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """Value for PTB's ``ApplicationBuilder().base_url(...)`` (PTB appends the token)."""
        return f"{self.api_url}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for PTB's ``ApplicationBuilder().base_file_url(...)``."""
        return f"{self.api_url}/file/bot"

    @property
    def supported_methods(self) -> list[str]:
        """Canonical names of the Bot API methods this fake implements."""
        return [name for name, _ in self._handlers.values()]

    @property
    def bot_user(self) -> JSON:
        """The ``User`` object of the bot (``from`` of every sent message)."""
        return {"id": self.bot_id, "is_bot": True, "first_name": self.first_name, "username": self.username}

    # ------------------------------------------------------------------ inspection helpers
    def calls_of(self, method: str) -> list[ApiCall]:
        """Recorded calls of one method (case-insensitive), including failed ones."""
        wanted = method.lower()
        return [c for c in self.calls if c.method.lower() == wanted]

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[ApiCall], bool] | None = None,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - the test-facing API is specified with an explicit timeout
    ) -> ApiCall:
        """Wait until ``count`` matching calls were recorded (counting from server start); return the last.

        Event-driven: woken on each recorded call, so no polling sleeps.
        """
        event = asyncio.Event()
        self._call_waiters.add(event)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                matches = [c for c in self.calls_of(method) if predicate is None or predicate(c)]
                if len(matches) >= count:
                    return matches[count - 1]
                remaining = deadline - loop.time()
                if remaining <= 0:
                    seen = [c.method for c in self.calls[-20:]]
                    summary = f"{len(matches)}/{count} matching calls after {timeout}s"
                    raise TimeoutError(f"{method}: {summary}; last calls: {seen}")
                event.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
        finally:
            self._call_waiters.discard(event)

    def sent_texts(self, chat_id: ChatId) -> list[str]:
        """Texts the bot successfully sent with ``sendMessage`` to ``chat_id`` (as given, pre-parse)."""
        target = _normalize_chat_id(chat_id)
        return [
            str(c.params.get("text"))
            for c in self.calls_of("sendMessage")
            if c.ok and _safe_chat_id(c.params.get("chat_id")) == target
        ]

    def get_commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON] | None:
        """Commands stored by ``setMyCommands`` for an exact scope + language (``None`` if unset)."""
        return self.commands.get((_scope_key(scope), language_code))

    def clear_calls(self) -> None:
        """Forget recorded calls (e.g. between benchmark phases)."""
        self.calls.clear()

    # ------------------------------------------------------------------ control API
    def push_update(self, update: JSON) -> JSON:
        """Queue an update for getUpdates/webhook delivery; returns the stored copy.

        A missing or non-increasing ``update_id`` is (re)assigned so offsets stay monotonic.
        """
        stored = json.loads(json.dumps(update))
        given = stored.get("update_id")
        if not isinstance(given, int) or given < self._next_update_id:
            stored["update_id"] = self._next_update_id
        self._next_update_id = stored["update_id"] + 1
        stored = {"update_id": stored.pop("update_id"), **stored}
        self._register_update(stored)
        self.pending_updates.append(stored)
        self._wake_pollers()
        return stored

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        parameters: JSON | None = None,
        times: int = 1,
        chat_id: ChatId | None = None,
        after: int = 0,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (optionally only for ``chat_id``) with an error,
        after letting ``after`` of them succeed (a failure in the middle of a multi-message send)."""
        self._fail_rules.append(
            _FailRule(
                method=method.lower(),
                error_code=error_code,
                description=description,
                parameters=parameters,
                remaining=times,
                chat_id=None if chat_id is None else _normalize_chat_id(chat_id),
                after=after,
            )
        )

    def block_user(self, chat_id: ChatId) -> None:
        """Sends to this chat answer 403 ``Forbidden: bot was blocked by the user``."""
        self.blocked.add(_normalize_chat_id(chat_id))

    def unblock_user(self, chat_id: ChatId) -> None:
        """Undo :meth:`block_user`."""
        self.blocked.discard(_normalize_chat_id(chat_id))

    def migrate_group(self, old_id: ChatId, new_id: int) -> None:
        """Calls targeting ``old_id`` answer 400 with ``parameters.migrate_to_chat_id``."""
        old = _normalize_chat_id(old_id)
        self.migrated[old] = new_id
        old_chat = self.chats.get(old, {})
        self.chats[new_id] = {
            "id": new_id,
            "type": "supergroup",
            "title": old_chat.get("title", "Study Group"),
        }

    def chat_not_found(self, chat_id: ChatId) -> None:
        """Calls targeting this chat answer 400 ``Bad Request: chat not found``."""
        self.missing_chats.add(_normalize_chat_id(chat_id))

    def set_member(
        self,
        chat_id: ChatId,
        user_id: int,
        status: str,
        *,
        first_name: str = "Ann",
        username: str | None = None,
        is_bot: bool = False,
    ) -> None:
        """Set a row of the member table used by getChatMember/getChatAdministrators."""
        if status not in ("creator", "administrator", "member", "left", "kicked", "restricted"):
            raise ValueError(f"unsupported status {status!r}")
        user: JSON = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
        if username:
            user["username"] = username
        self.members[(_normalize_chat_id(chat_id), user_id)] = _member_json(status, user)

    def set_chat(self, chat: JSON) -> None:
        """Register a chat object (type/title) so sent messages and getChat report it."""
        self.chats[_normalize_chat_id(chat["id"])] = dict(chat)

    def rate_limit(self, per_second: float | None = 30) -> None:
        """Global sliding 1 s window over message calls (``send*``, ``edit*``, ``copy*``, ``forward*`` but
        ``sendChatAction``); excess answers 429 with ``retry_after``.

        ``None`` disables it. ``retry_after`` is whole seconds like Telegram's (at least 1).
        """
        self._rate_per_second = per_second
        self._rate_window.clear()

    def set_chaos(self, chaos: Chaos | None) -> None:
        """Inject seeded faults (see :class:`Chaos`); ``None`` turns them off."""
        self.chaos = chaos

    def chaos_calls(self, kind: str | None = None) -> list[ApiCall]:
        """Calls the fake injected a fault into (of one kind, or any)."""
        return [c for c in self.calls if c.chaos is not None and (kind is None or c.chaos == kind)]

    # ------------------------------------------------------------------ HTTP plumbing
    async def _handle_api(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        token = request.match_info["token"]
        raw_method = request.match_info["method"]
        try:
            params, files = await self._read_params(request)
        except ApiError as exc:
            params, files = {}, {}
            return self._finish(request, raw_method, params, files, token, arrived, error=exc)
        if token != self.token:
            return self._finish(request, raw_method, params, files, token, arrived, error=ApiError(401, "Unauthorized"))
        entry = self._handlers.get(raw_method.lower())
        if entry is None:
            return self._finish(request, raw_method, params, files, token, arrived, error=ApiError(404, "Not Found"))
        method, handler = entry
        fault = self.chaos.fault(method, _safe_chat_id(params.get("chat_id"))) if self.chaos else None
        try:
            self._check_injected(method, params)
            self._check_chaos(request, fault)
            self._check_rate_limit(method)
            self._check_chat(method, params)
            result = await handler(params, files)
        except ApiError as exc:
            return self._finish(request, method, params, files, token, arrived, error=exc, chaos=exc.chaos)
        if fault == "timeout" and self.chaos is not None:
            response = self._finish(request, method, params, files, token, arrived, result=result, chaos=fault)
            await asyncio.sleep(self.chaos.stall)  # applied, but the client has given up by now
            return response
        return self._finish(request, method, params, files, token, arrived, result=result)

    def _finish(
        self,
        request: web.Request,
        method: str,
        params: JSON,
        files: dict[str, UploadedFile],
        token: str,
        arrived: float,
        *,
        result: Any = None,
        error: ApiError | None = None,
        chaos: str | None = None,
    ) -> web.Response:
        call = ApiCall(
            method=method, params=params, files=files, token=token, at=arrived, http_method=request.method, chaos=chaos
        )
        if error is None:
            call.result = result
            body: JSON = {"ok": True, "result": result}
        else:
            call.ok, call.status = False, error.error_code
            call.error_code, call.description = error.error_code, error.description
            body = {"ok": False, "error_code": error.error_code, "description": error.description}
            if error.parameters:
                body["parameters"] = error.parameters
        self.calls.append(call)
        for event in self._call_waiters:
            event.set()
        for listener in self.listeners:
            listener(call)
        return web.json_response(body, status=call.status)

    async def _read_params(self, request: web.Request) -> tuple[JSON, dict[str, UploadedFile]]:
        params: JSON = {k: _coerce_form_value(k, v) for k, v in request.query.items()}
        files: dict[str, UploadedFile] = {}
        if request.method != "POST" or not request.body_exists:
            return params, files
        ctype = request.content_type
        if ctype == "application/json":
            try:
                body = await request.json()
            except ValueError as exc:
                raise _bad_request("can't parse JSON body") from exc
            if not isinstance(body, dict):
                raise _bad_request("JSON body must be an object")
            for key, value in body.items():
                if key in _JSON_FIELDS and isinstance(value, str):
                    with contextlib.suppress(ValueError):
                        value = json.loads(value)
                params[key] = value
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    data = value.file.read()
                    files[key] = UploadedFile(
                        field=key,
                        file_name=value.filename,
                        content_type=value.content_type,
                        size=len(data),
                        data=data,
                    )
                else:
                    params[key] = _coerce_form_value(key, str(value))
        return params, files

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        file_id = request.match_info["path"].rsplit("/", 1)[-1].split(".", 1)[0]
        stored = self.uploaded_files.get(file_id)
        if stored is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.Response(body=stored.data, content_type=stored.content_type)

    async def _handle_control_push(self, request: web.Request) -> web.Response:
        """Cross-process helper: POST an update (or a list of them) to queue it."""
        body = await request.json()
        stored = [self.push_update(u) for u in (body if isinstance(body, list) else [body])]
        return web.json_response({"ok": True, "result": [u["update_id"] for u in stored]})

    async def _handle_control_calls(self, request: web.Request) -> web.Response:
        """Cross-process helper: recorded calls without file bytes."""
        method = request.query.get("method")
        calls = self.calls_of(method) if method else self.calls
        result = [
            {"method": c.method, "params": c.params, "ok": c.ok, "error_code": c.error_code, "at": c.at}
            | {"chaos": c.chaos}
            for c in calls
        ]
        return web.json_response({"ok": True, "result": result, "rejected_429": self.rejected_429})

    # ------------------------------------------------------------------ checks
    def _check_injected(self, method: str, params: JSON) -> None:
        chat_id = _safe_chat_id(params.get("chat_id"))
        for rule in self._fail_rules:
            if rule.method != method.lower() or rule.remaining <= 0:
                continue
            if rule.chat_id is not None and rule.chat_id != chat_id:
                continue
            if rule.after > 0:
                rule.after -= 1
                return
            rule.remaining -= 1
            if rule.error_code == 429:
                self.rejected_429 += 1
            self._fail_rules = [r for r in self._fail_rules if r.remaining > 0]
            raise ApiError(rule.error_code, rule.description, rule.parameters)

    def _check_chaos(self, request: web.Request, fault: str | None) -> None:
        if fault is None or self.chaos is None:
            return
        if fault == "500":
            raise ApiError(500, "Internal Server Error", chaos=fault)
        if fault == "429":
            retry_after = self.chaos.retry_after
            description = f"Too Many Requests: retry after {retry_after}"
            raise ApiError(429, description, {"retry_after": retry_after}, chaos=fault)
        if fault == "drop":
            if request.transport is not None:
                request.transport.abort()  # the client sees the connection die without an answer
            raise ApiError(599, "connection dropped by the fake", chaos=fault)

    def _check_rate_limit(self, method: str) -> None:
        if self._rate_per_second is None or not _is_message_call(method):
            return
        now = time.monotonic()
        window = self._rate_window
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= self._rate_per_second:
            self.rejected_429 += 1
            retry_after = max(1, math.ceil(window[0] + 1.0 - now))
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
        window.append(now)

    def _check_chat(self, method: str, params: JSON) -> None:
        if "chat_id" not in params:
            return
        chat_id = _normalize_chat_id(params["chat_id"])
        if chat_id in self.missing_chats:
            raise _bad_request("chat not found")
        if chat_id in self.migrated:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self.migrated[chat_id]},
            )
        is_write = method.startswith(("send", "edit", "copy", "forward")) and method != "sendChatAction"
        if chat_id in self.blocked and (is_write or method == "sendChatAction"):
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    # ------------------------------------------------------------------ state helpers
    def _wake_pollers(self) -> None:
        for poller in self._pollers:
            poller.event.set()
        self._update_event.set()

    def _register_update(self, update: JSON) -> None:
        """Learn chats and messages from pushed updates so later edits/getChat see them."""
        for key in ("message", "edited_message", "channel_post", "edited_channel_post"):
            if isinstance(update.get(key), dict):
                self._remember_message(update[key])
        query = update.get("callback_query")
        if isinstance(query, dict) and isinstance(query.get("message"), dict):
            self._remember_message(query["message"])
        member = update.get("my_chat_member")
        if isinstance(member, dict) and isinstance(member.get("chat"), dict):
            self.chats.setdefault(member["chat"]["id"], member["chat"])

    def _remember_message(self, message: JSON) -> None:
        chat = message.get("chat")
        if not isinstance(chat, dict) or "id" not in chat or "message_id" not in message:
            return
        chat_id = chat["id"]
        self.chats.setdefault(chat_id, chat)
        self.messages[(chat_id, message["message_id"])] = message
        self._message_counters[chat_id] = max(self._message_counters.get(chat_id, 0), message["message_id"])

    def _chat_obj(self, chat_id: ChatId) -> JSON:
        known = self.chats.get(chat_id)
        if known is not None:
            return dict(known)
        if isinstance(chat_id, str):
            chat: JSON = {"id": -1001000000000 - len(self.chats), "type": "channel", "title": chat_id[1:]}
            chat["username"] = chat_id[1:]
        elif chat_id > 0:
            chat = {"id": chat_id, "type": "private", "first_name": "Ann"}
        elif chat_id <= -1_000_000_000_000:
            chat = {"id": chat_id, "type": "supergroup", "title": "Study Group"}
        else:
            chat = {"id": chat_id, "type": "group", "title": "Study Group"}
        self.chats[chat_id] = chat
        return dict(chat)

    def _new_message(self, params: JSON, **content: Any) -> JSON:
        chat_id = _normalize_chat_id(params["chat_id"])
        chat = self._chat_obj(chat_id)
        message_id = self._message_counters.get(chat_id, 0) + 1
        self._message_counters[chat_id] = message_id
        message: JSON = {"message_id": message_id}
        if chat["type"] == "channel":
            message["sender_chat"] = chat
        else:
            message["from"] = self.bot_user
        message.update({"date": int(time.time()), "chat": chat})
        if "message_thread_id" in params:
            message["message_thread_id"] = params["message_thread_id"]
        reply = params.get("reply_parameters") or (
            {"message_id": params["reply_to_message_id"]} if "reply_to_message_id" in params else None
        )
        if isinstance(reply, dict) and (chat_id, reply.get("message_id")) in self.messages:
            replied = dict(self.messages[(chat_id, reply["message_id"])])
            replied.pop("reply_to_message", None)
            message["reply_to_message"] = replied
        message.update({k: v for k, v in content.items() if v not in (None, [])})
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self.messages[(chat_id, message_id)] = message
        return message

    def _store_upload(self, field_name: str, params: JSON, files: dict[str, UploadedFile]) -> UploadedFile | None:
        """Resolve a file param: a direct multipart part, an ``attach://`` part, or None for file_id/URL."""
        value = params.get(field_name)
        upload = files.get(field_name)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
        if upload is None:
            return None
        if not upload.file_id:
            upload.file_id = f"BQACAgFake{next(self._file_counter)}"
            self.uploaded_files[upload.file_id] = upload
        return upload

    @staticmethod
    def _formatted(params: JSON, key: str, limit: int, *, required: bool) -> tuple[str | None, list[JSON]]:
        raw = params.get(key)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if required:
                raise _bad_request("message text is empty")
            return None, []
        try:
            text, entities = parse_text(str(raw), params.get("parse_mode"))
        except EntityParseError as exc:
            raise _bad_request(f"can't parse entities: {exc}") from exc
        if not text.strip() and required:
            raise _bad_request("message text is empty")
        if utf16_len(text) > limit:
            raise _bad_request("message is too long" if key == "text" else "message caption is too long")
        given = params.get("entities" if key == "text" else "caption_entities")
        if isinstance(given, list):
            entities = given
        elif text.startswith("/"):
            token = text.split(maxsplit=1)[0]
            entities = [{"type": "bot_command", "offset": 0, "length": utf16_len(token)}, *entities]
        return text, entities

    def _find_message(self, params: JSON, verb: str) -> tuple[ChatId, int, JSON]:
        if "chat_id" not in params or "message_id" not in params:
            raise _bad_request(f"message to {verb} not found")
        chat_id = _normalize_chat_id(params["chat_id"])
        message_id = params["message_id"]
        message = self.messages.get((chat_id, message_id)) if isinstance(message_id, int) else None
        if message is None:
            raise _bad_request(f"message to {verb} not found")
        return chat_id, message_id, message

    # ------------------------------------------------------------------ Bot API methods
    async def _m_getme(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": self.can_join_groups,
            "can_read_all_group_messages": self.can_read_all_group_messages,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _m_getupdates(self, params: JSON, files: dict[str, UploadedFile]) -> list[JSON]:
        if self.webhook.get("url"):
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
                "the webhook first",
            )
        offset = params.get("offset")
        if isinstance(offset, int) and offset > 0:
            self.pending_updates = [u for u in self.pending_updates if u["update_id"] >= offset]
        elif isinstance(offset, int) and offset < 0:
            self.pending_updates = self.pending_updates[offset:]
        limit = params.get("limit", 100)
        limit = min(max(limit if isinstance(limit, int) else 100, 1), 100)
        timeout = params.get("timeout", 0)
        timeout = float(timeout) if isinstance(timeout, int | float) else 0.0
        if "allowed_updates" in params and isinstance(params["allowed_updates"], list):
            self.allowed_updates = params["allowed_updates"] or None

        # A newer getUpdates terminates an older long poll with 409, exactly like Telegram.
        for other in self._pollers:
            other.superseded = True
            other.event.set()
        poller = _Poller()
        self._pollers.add(poller)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0.0)
        try:
            while True:
                poller.event.clear()
                ready = self._deliverable()[:limit]
                if ready or self._closing:
                    break
                if poller.superseded:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only one bot "
                        "instance is running",
                    )
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(poller.event.wait(), remaining)
        finally:
            self._pollers.discard(poller)
        self.delivered_update_ids.extend(u["update_id"] for u in ready)
        return ready

    def _deliverable(self) -> list[JSON]:
        """Pending updates of allowed types; disallowed ones are dropped like Telegram does."""
        allowed = set(self.allowed_updates) if self.allowed_updates else set(_UPDATE_TYPES) - _DEFAULT_EXCLUDED_UPDATES
        kept = [u for u in self.pending_updates if _update_type(u) in allowed]
        self.pending_updates = kept
        return kept

    async def _m_setmycommands(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request('parameter "commands" is required')
        if len(commands) > 100:
            raise _bad_request("too many commands")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(str(command.get("command", ""))):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("command description must be non-empty")
        language = str(params.get("language_code") or "")
        self.commands[(_scope_key(params.get("scope")), language)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _m_getmycommands(self, params: JSON, files: dict[str, UploadedFile]) -> list[JSON]:
        key = (_scope_key(params.get("scope")), str(params.get("language_code") or ""))
        return list(self.commands.get(key, []))

    async def _m_deletemycommands(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        self.commands.pop((_scope_key(params.get("scope")), str(params.get("language_code") or "")), None)
        return True

    async def _m_sendmessage(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        if "chat_id" not in params:
            raise _bad_request("chat_id is empty")
        text, entities = self._formatted(params, "text", _MAX_TEXT, required=True)
        return self._new_message(params, text=text, entities=entities)

    async def _m_editmessagetext(self, params: JSON, files: dict[str, UploadedFile]) -> JSON | bool:
        text, entities = self._formatted(params, "text", _MAX_TEXT, required=True)
        if "inline_message_id" in params:
            return True
        _, _, message = self._find_message(params, "edit")
        markup = params.get("reply_markup")
        new_markup = markup if isinstance(markup, dict) and "inline_keyboard" in markup else None
        if message.get("text") == text and message.get("reply_markup") == new_markup:
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are exactly the "
                "same as a content and reply markup of the current message"
            )
        message["text"] = text
        message["edit_date"] = int(time.time())
        if entities:
            message["entities"] = entities
        else:
            message.pop("entities", None)
        if new_markup is not None:
            message["reply_markup"] = new_markup
        else:
            message.pop("reply_markup", None)
        return dict(message)

    async def _m_editmessagereplymarkup(self, params: JSON, files: dict[str, UploadedFile]) -> JSON | bool:
        if "inline_message_id" in params:
            return True
        _, _, message = self._find_message(params, "edit")
        markup = params.get("reply_markup")
        new_markup = markup if isinstance(markup, dict) and markup.get("inline_keyboard") else None
        if message.get("reply_markup") == new_markup:
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are exactly the "
                "same as a content and reply markup of the current message"
            )
        if new_markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = new_markup
        message["edit_date"] = int(time.time())
        return dict(message)

    async def _m_deletemessage(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        chat_id, message_id, _ = self._find_message(params, "delete")
        del self.messages[(chat_id, message_id)]
        return True

    async def _m_answercallbackquery(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        if not params.get("callback_query_id"):
            raise _bad_request("query is too old and response timeout expired or query ID is invalid")
        if len(str(params.get("text") or "")) > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        self.callback_answers.append(dict(params))
        return True

    async def _m_sendphoto(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        if "chat_id" not in params:
            raise _bad_request("chat_id is empty")
        upload = self._store_upload("photo", params, files)
        if upload is None and not params.get("photo"):
            raise _bad_request("there is no photo in the request")
        file_id = upload.file_id if upload else str(params["photo"])
        size = upload.size if upload else 0
        photo = [
            {
                "file_id": f"{file_id}_{w}",
                "file_unique_id": f"u{file_id}{w}",
                "width": w,
                "height": w * 3 // 4,
                "file_size": max(1, size * w // 1280),
            }
            for w in (90, 320, 1280)
        ]
        photo[-1]["file_id"] = file_id
        caption, caption_entities = self._formatted(params, "caption", _MAX_CAPTION, required=False)
        return self._new_message(params, photo=photo, caption=caption, caption_entities=caption_entities)

    async def _m_senddocument(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        if "chat_id" not in params:
            raise _bad_request("chat_id is empty")
        upload = self._store_upload("document", params, files)
        if upload is None and not params.get("document"):
            raise _bad_request("there is no document in the request")
        if upload is not None:
            document: JSON = {
                "file_id": upload.file_id,
                "file_unique_id": f"u{upload.file_id}",
                "file_name": upload.file_name,
                "mime_type": upload.content_type,
                "file_size": upload.size,
            }
        else:
            document = {"file_id": str(params["document"]), "file_unique_id": f"u{params['document']}"}
        caption, caption_entities = self._formatted(params, "caption", _MAX_CAPTION, required=False)
        return self._new_message(params, document=document, caption=caption, caption_entities=caption_entities)

    async def _m_sendchataction(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    async def _m_getchat(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self._chat_obj(_normalize_chat_id(params.get("chat_id")))
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def _m_getchatmember(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat_id = _normalize_chat_id(params.get("chat_id"))
        user_id = params.get("user_id")
        if not isinstance(user_id, int):
            raise _bad_request("invalid user_id specified")
        row = self.members.get((chat_id, user_id))
        if row is not None:
            return row
        if user_id == self.bot_id:
            return _member_json("member", self.bot_user)
        if isinstance(chat_id, int) and chat_id > 0 and chat_id != user_id:
            raise _bad_request("user not found")
        return _member_json(self.default_member_status, {"id": user_id, "is_bot": False, "first_name": "Ann"})

    async def _m_getchatadministrators(self, params: JSON, files: dict[str, UploadedFile]) -> list[JSON]:
        chat_id = _normalize_chat_id(params.get("chat_id"))
        if self._chat_obj(chat_id)["type"] == "private":
            raise _bad_request("there are no administrators in the private chat")
        return [
            row
            for (cid, _), row in self.members.items()
            if cid == chat_id and row["status"] in ("creator", "administrator")
        ]

    async def _m_setwebhook(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        url = str(params.get("url") or "")
        if url and not _is_loopback_url(url):
            raise _bad_request("bad webhook: the fake server only delivers to loopback addresses")
        if params.get("drop_pending_updates"):
            self.pending_updates.clear()
        if isinstance(params.get("allowed_updates"), list):
            self.allowed_updates = params["allowed_updates"] or None
        await self._stop_webhook_task()
        self.webhook = {
            "url": url,
            "secret_token": params.get("secret_token"),
            "max_connections": params.get("max_connections", 40),
            "ip_address": params.get("ip_address"),
            "has_custom_certificate": "certificate" in files,
        }
        if url:
            self._webhook_task = asyncio.create_task(self._deliver_webhooks(), name="fake-telegram-webhook")
        self._wake_pollers()
        return True

    async def _m_deletewebhook(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        if params.get("drop_pending_updates"):
            self.pending_updates.clear()
        await self._stop_webhook_task()
        self.webhook = {"url": ""}
        return True

    async def _m_getwebhookinfo(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        info: JSON = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": bool(self.webhook.get("has_custom_certificate")),
            "pending_update_count": len(self.pending_updates),
        }
        for key in ("max_connections", "ip_address", "last_error_date", "last_error_message"):
            if self.webhook.get(key) is not None and info["url"]:
                info[key] = self.webhook[key]
        if self.allowed_updates:
            info["allowed_updates"] = list(self.allowed_updates)
        return info

    async def _m_getfile(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        file_id = str(params.get("file_id") or "")
        stored = self.uploaded_files.get(file_id)
        if stored is None:
            raise _bad_request("invalid file_id")
        suffix = ""
        if stored.file_name and "." in stored.file_name:
            suffix = "." + stored.file_name.rsplit(".", 1)[-1]
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": stored.size,
            "file_path": f"documents/{file_id}{suffix}",
        }

    async def _m_logout(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        return True

    async def _m_close(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        return True

    # ------------------------------------------------------------------ webhook delivery
    async def _stop_webhook_task(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _deliver_webhooks(self) -> None:
        """Push pending updates to the webhook one by one; keep them until the receiver answers 2xx."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            while not self._closing:
                pending = self._deliverable()
                if not pending:
                    self._update_event.clear()
                    await self._update_event.wait()
                    continue
                update = pending[0]
                try:
                    status = await post_webhook(
                        self.webhook["url"], update, self.webhook.get("secret_token"), session=session
                    )
                    error = None if 200 <= status < 300 else f"Wrong response from the webhook: {status}"
                except (aiohttp.ClientError, TimeoutError) as exc:
                    error = f"Connection failed: {exc.__class__.__name__}"
                if error is None:
                    with contextlib.suppress(ValueError):
                        self.pending_updates.remove(update)
                    self.delivered_update_ids.append(update["update_id"])
                    continue
                self.webhook["last_error_date"] = int(time.time())
                self.webhook["last_error_message"] = error
                self._update_event.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._update_event.wait(), self.webhook_retry_delay)


def _safe_chat_id(value: Any) -> ChatId | None:
    try:
        return _normalize_chat_id(value)
    except ApiError:
        return None


def _scope_key(scope: Any) -> str:
    if not isinstance(scope, dict):
        scope = {"type": "default"}
    return json.dumps(scope, sort_keys=True)


def _member_json(status: str, user: JSON) -> JSON:
    """A ``ChatMember`` payload carrying every field PTB requires for that status."""
    row: JSON = {"status": status, "user": user}
    if status == "creator":
        row["is_anonymous"] = False
    elif status == "administrator":
        row.update(
            {
                key: key != "is_anonymous"
                for key in (
                    "can_be_edited",
                    "is_anonymous",
                    "can_manage_chat",
                    "can_delete_messages",
                    "can_manage_video_chats",
                    "can_restrict_members",
                    "can_promote_members",
                    "can_change_info",
                    "can_invite_users",
                    "can_post_stories",
                    "can_edit_stories",
                    "can_delete_stories",
                )
            }
        )
        row["can_be_edited"] = False
    elif status == "kicked":
        row["until_date"] = 0
    elif status == "restricted":
        row.update(
            {
                key: key == "is_member"
                for key in (
                    "is_member",
                    "can_send_messages",
                    "can_send_audios",
                    "can_send_documents",
                    "can_send_photos",
                    "can_send_videos",
                    "can_send_video_notes",
                    "can_send_voice_notes",
                    "can_send_polls",
                    "can_send_other_messages",
                    "can_add_web_page_previews",
                    "can_change_info",
                    "can_invite_users",
                    "can_pin_messages",
                    "can_manage_topics",
                )
            }
        )
        row["until_date"] = 0
    return row


async def post_webhook(
    url: str,
    update: JSON,
    secret_token: str | None = None,
    *,
    session: aiohttp.ClientSession | None = None,
) -> int:
    """POST ``update`` to a webhook the way Telegram does; returns the HTTP status.

    Only loopback URLs are allowed so tests can never reach the network.
    """
    if not _is_loopback_url(url):
        raise ValueError(f"refusing non-loopback webhook url {url!r}")
    headers = {"Content-Type": "application/json"}
    if secret_token:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
    body = json.dumps(update)
    if session is not None:
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            return response.status
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as own,
        own.post(url, data=body, headers=headers) as response,
    ):
        await response.read()
        return response.status
