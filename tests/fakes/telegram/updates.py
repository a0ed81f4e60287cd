"""Builders for realistic Bot API ``Update`` dicts, shaped as Telegram sends them.

Every builder returns a plain JSON-able dict that ``telegram.Update.de_json`` accepts, so the same
object can be pushed into :class:`FakeTelegramServer` (long polling) or POSTed to a webhook.
``update_id``/``message_id`` come from process-wide counters so they only ever increase, like
Telegram's; the fake server keeps a given ``update_id`` if it is newer than the last one.
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = [
    "DEFAULT_BOT_ID",
    "DEFAULT_BOT_USERNAME",
    "callback_query",
    "channel_post",
    "chat",
    "command_entities",
    "edited_message",
    "group_message",
    "my_chat_member",
    "new_chat_members",
    "photo_message",
    "private_message",
    "sticker_message",
    "user",
]

JSON = dict[str, Any]

DEFAULT_BOT_ID = 123
DEFAULT_BOT_USERNAME = "studybuddy_test_bot"

_update_ids: Iterator[int] = itertools.count(100_000)
_callback_ids: Iterator[int] = itertools.count(1)
_file_ids: Iterator[int] = itertools.count(1)
_message_ids: defaultdict[int, Iterator[int]] = defaultdict(lambda: itertools.count(1))


def _now() -> int:
    return int(time.time())


def _next_message_id(chat_id: int) -> int:
    return next(_message_ids[chat_id])


def user(
    user_id: int,
    first_name: str = "Ann",
    *,
    username: str | None = None,
    language_code: str | None = "en",
    is_bot: bool = False,
    last_name: str | None = None,
) -> JSON:
    """A ``User`` object; optional keys are omitted when ``None`` like Telegram does."""
    result: JSON = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
    if last_name:
        result["last_name"] = last_name
    if username:
        result["username"] = username
    if language_code and not is_bot:
        result["language_code"] = language_code
    return result


def chat(
    chat_id: int,
    chat_type: str = "private",
    *,
    title: str | None = None,
    first_name: str | None = None,
    username: str | None = None,
) -> JSON:
    """A ``Chat`` object (private chats carry the user's names, groups/channels a title)."""
    result: JSON = {"id": chat_id, "type": chat_type}
    if chat_type == "private":
        result["first_name"] = first_name or "Ann"
    else:
        result["title"] = title or ("Study Channel" if chat_type == "channel" else "Study Group")
    if username:
        result["username"] = username
    return result


def command_entities(text: str) -> list[JSON]:
    """``bot_command`` entity for a leading ``/cmd[@bot]`` so PTB's ``CommandHandler`` matches it."""
    if not text.startswith("/"):
        return []
    token = text.split(maxsplit=1)[0] if text.strip() else text
    return [{"type": "bot_command", "offset": 0, "length": len(token.encode("utf-16-le")) // 2}]


def _message(
    text: str | None,
    from_user: JSON | None,
    chat_obj: JSON,
    message_id: int | None = None,
    **extra: Any,
) -> JSON:
    msg: JSON = {
        "message_id": message_id if message_id is not None else _next_message_id(chat_obj["id"]),
        "date": _now(),
        "chat": chat_obj,
    }
    if from_user is not None:
        msg["from"] = from_user
    if text is not None:
        msg["text"] = text
        entities = command_entities(text)
        if entities:
            msg["entities"] = entities
    msg.update({k: v for k, v in extra.items() if v is not None})
    return msg


def _update(key: str, payload: JSON, update_id: int | None) -> JSON:
    return {"update_id": update_id if update_id is not None else next(_update_ids), key: payload}


def private_message(
    text: str,
    user_id: int,
    first_name: str = "Ann",
    username: str | None = None,
    language_code: str | None = "en",
    chat_id: int | None = None,
    *,
    message_id: int | None = None,
    update_id: int | None = None,
) -> JSON:
    """A text message in a private chat (``chat.id == user_id`` unless overridden)."""
    sender = user(user_id, first_name, username=username, language_code=language_code)
    chat_obj = chat(chat_id if chat_id is not None else user_id, "private", first_name=first_name, username=username)
    return _update("message", _message(text, sender, chat_obj, message_id), update_id)


def group_message(
    text: str,
    chat_id: int,
    user_id: int,
    first_name: str = "Ann",
    username: str | None = None,
    language_code: str | None = "en",
    chat_type: str = "group",
    title: str = "Study Group",
    *,
    message_thread_id: int | None = None,
    message_id: int | None = None,
    update_id: int | None = None,
) -> JSON:
    """A text message in a group/supergroup; use ``/cmd@botname`` texts to address the bot."""
    if chat_type not in ("group", "supergroup"):
        raise ValueError("chat_type must be 'group' or 'supergroup'")
    sender = user(user_id, first_name, username=username, language_code=language_code)
    chat_obj = chat(chat_id, chat_type, title=title)
    extra: JSON = {}
    if message_thread_id is not None:
        extra = {"message_thread_id": message_thread_id, "is_topic_message": True}
    return _update("message", _message(text, sender, chat_obj, message_id, **extra), update_id)


def callback_query(
    data: str,
    user_id: int,
    chat_id: int | None = None,
    message_id: int | None = None,
    message_text: str = "Pick one:",
    *,
    message: JSON | None = None,
    first_name: str = "Ann",
    inline_keyboard: list[list[JSON]] | None = None,
    bot_id: int = DEFAULT_BOT_ID,
    bot_username: str = DEFAULT_BOT_USERNAME,
    update_id: int | None = None,
) -> JSON:
    """A button press on a bot message; pass ``message=`` a ``sendMessage`` result to reuse it."""
    if message is None:
        chat_ref = chat_id if chat_id is not None else user_id
        chat_obj = chat(chat_ref, "private" if chat_ref > 0 else "group", first_name=first_name)
        keyboard = inline_keyboard or [[{"text": data, "callback_data": data}]]
        message = _message(
            message_text,
            user(bot_id, "StudyBuddy", username=bot_username, is_bot=True),
            chat_obj,
            message_id,
            reply_markup={"inline_keyboard": keyboard},
        )
    query: JSON = {
        "id": str(next(_callback_ids)),
        "from": user(user_id, first_name),
        "message": message,
        "chat_instance": f"ci{message['chat']['id']}",
        "data": data,
    }
    return _update("callback_query", query, update_id)


def edited_message(
    text: str,
    user_id: int,
    chat_id: int | None = None,
    message_id: int = 1,
    first_name: str = "Ann",
    *,
    chat_type: str = "private",
    update_id: int | None = None,
) -> JSON:
    """An ``edited_message`` update for an earlier message (``edit_date`` set)."""
    chat_obj = chat(chat_id if chat_id is not None else user_id, chat_type, first_name=first_name)
    msg = _message(text, user(user_id, first_name), chat_obj, message_id, edit_date=_now())
    return _update("edited_message", msg, update_id)


def channel_post(
    text: str,
    chat_id: int = -1001000000001,
    title: str = "Study Channel",
    username: str | None = None,
    *,
    update_id: int | None = None,
) -> JSON:
    """A channel post: no ``from``, ``sender_chat`` is the channel itself."""
    chat_obj = chat(chat_id, "channel", title=title, username=username)
    msg = _message(text, None, chat_obj, sender_chat=chat_obj)
    return _update("channel_post", msg, update_id)


def sticker_message(
    user_id: int,
    emoji: str = "👍",
    chat_id: int | None = None,
    first_name: str = "Ann",
    *,
    update_id: int | None = None,
) -> JSON:
    """A private sticker message (non-text content the bot must tolerate)."""
    n = next(_file_ids)
    sticker = {
        "file_id": f"CAACAgStk{n}",
        "file_unique_id": f"AgADstk{n}",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": emoji,
        "file_size": 20480,
    }
    chat_obj = chat(chat_id if chat_id is not None else user_id, "private", first_name=first_name)
    return _update("message", _message(None, user(user_id, first_name), chat_obj, sticker=sticker), update_id)


def photo_message(
    user_id: int,
    caption: str | None = None,
    chat_id: int | None = None,
    first_name: str = "Ann",
    *,
    update_id: int | None = None,
) -> JSON:
    """A private photo message with the usual three ``PhotoSize`` variants."""
    n = next(_file_ids)
    sizes = [
        {
            "file_id": f"AgACAgPhoto{n}_{w}",
            "file_unique_id": f"AQADph{n}{w}",
            "width": w,
            "height": w * 3 // 4,
            "file_size": w * 40,
        }
        for w in (90, 320, 1280)
    ]
    chat_obj = chat(chat_id if chat_id is not None else user_id, "private", first_name=first_name)
    msg = _message(None, user(user_id, first_name), chat_obj, photo=sizes, caption=caption)
    if caption and caption.startswith("/"):
        msg["caption_entities"] = command_entities(caption)
    return _update("message", msg, update_id)


def location_message(
    user_id: int,
    latitude: float,
    longitude: float,
    chat_id: int | None = None,
    first_name: str = "Ann",
    language_code: str | None = "en",
    *,
    update_id: int | None = None,
) -> JSON:
    """A private message sharing a location (the attachment menu's "Location"), as the Bot API sends it."""
    chat_obj = chat(chat_id if chat_id is not None else user_id, "private", first_name=first_name)
    sender = user(user_id, first_name, language_code=language_code)
    location = {"latitude": latitude, "longitude": longitude}
    return _update("message", _message(None, sender, chat_obj, location=location), update_id)


def new_chat_members(
    chat_id: int,
    members: Iterable[JSON | int],
    from_user_id: int | None = None,
    *,
    chat_type: str = "group",
    title: str = "Study Group",
    update_id: int | None = None,
) -> JSON:
    """Members joined/added to a group; ints become plain users, dicts are used as-is (e.g. the bot)."""
    users = [m if isinstance(m, dict) else user(m, f"User{m}") for m in members]
    actor = user(from_user_id) if from_user_id is not None else users[0]
    msg = _message(None, actor, chat(chat_id, chat_type, title=title), new_chat_members=users)
    return _update("message", msg, update_id)


def my_chat_member(
    chat_id: int,
    user_id: int,
    old_status: str = "member",
    new_status: str = "kicked",
    *,
    bot_id: int = DEFAULT_BOT_ID,
    bot_username: str = DEFAULT_BOT_USERNAME,
    chat_type: str | None = None,
    update_id: int | None = None,
) -> JSON:
    """The bot's own membership changed, e.g. a user blocked (``kicked``) or unblocked it."""
    kind = chat_type or ("private" if chat_id > 0 else "group")
    bot_user = user(bot_id, "StudyBuddy", username=bot_username, is_bot=True)

    def member(status: str) -> JSON:
        result: JSON = {"status": status, "user": bot_user}
        if status == "kicked":
            result["until_date"] = 0
        return result

    payload = {
        "chat": chat(chat_id, kind),
        "from": user(user_id),
        "date": _now(),
        "old_chat_member": member(old_status),
        "new_chat_member": member(new_status),
    }
    return _update("my_chat_member", payload, update_id)
