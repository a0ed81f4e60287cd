"""Builders for realistic Discord API v10 payloads (users, guilds, messages, INTERACTION_CREATE).

Shapes follow the Discord docs and what discord.py 2.7 actually reads (e.g. ``attachment_size_limit`` is a
required key of an interaction for discord.py, ``member.permissions`` is a string).  All ids are snowflake
strings, unique per process, so tests never collide.
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000
DEFAULT_ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024

# Permission bits (Discord developer docs, "Permissions").
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
USE_EXTERNAL_EMOJIS = 1 << 18
USE_APPLICATION_COMMANDS = 1 << 31
SEND_MESSAGES_IN_THREADS = 1 << 38
ADMINISTRATOR = 1 << 3

DEFAULT_EVERYONE_PERMISSIONS = (
    ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_EXTERNAL_EMOJIS
    | USE_APPLICATION_COMMANDS
    | SEND_MESSAGES_IN_THREADS
)

# Interaction types / context types (Discord developer docs, "Receiving and Responding").
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
CONTEXT_GUILD, CONTEXT_BOT_DM, CONTEXT_PRIVATE_CHANNEL = 0, 1, 2
CHANNEL_GUILD_TEXT, CHANNEL_DM = 0, 1

_counter = itertools.count()


def snowflake() -> str:
    """A fresh, strictly increasing snowflake (timestamp + process-wide counter)."""
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return str((ms << 22) | (1 << 17) | (next(_counter) & 0x1FFFF))


def iso_now() -> str:
    """Discord-style ISO-8601 timestamp."""
    return datetime.now(UTC).isoformat()


def interaction_token() -> str:
    """Interaction tokens are long opaque url-safe strings."""
    return "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)


def user(
    *,
    user_id: str | None = None,
    username: str = "learner",
    global_name: str | None = "Learner",
    bot: bool = False,
) -> JSON:
    """A user object (new username system: discriminator ``"0"``)."""
    data: JSON = {
        "id": user_id or snowflake(),
        "username": username,
        "discriminator": "0",
        "global_name": global_name,
        "avatar": None,
        "public_flags": 0,
        "flags": 0,
        "banner": None,
        "accent_color": None,
        "avatar_decoration_data": None,
        "primary_guild": None,
    }
    if bot:
        data["bot"] = True
    return data


def bot_user(*, user_id: str | None = None, username: str = "StudyBuddy") -> JSON:
    """The bot's own user; bots still report a 4-digit discriminator and ``global_name`` null."""
    data = user(user_id=user_id, username=username, global_name=None, bot=True)
    data["discriminator"] = "0001"
    return data


def role(
    *,
    role_id: str | None = None,
    name: str = "member",
    permissions: int = 0,
    position: int = 1,
    managed: bool = False,
    bot_id: str | None = None,
) -> JSON:
    """A guild role; the @everyone role has the guild's id and position 0."""
    data: JSON = {
        "id": role_id or snowflake(),
        "name": name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": position,
        "permissions": str(permissions),
        "managed": managed,
        "mentionable": False,
        "flags": 0,
    }
    if bot_id is not None:
        data["tags"] = {"bot_id": bot_id}
    return data


def text_channel(
    *,
    guild_id: str,
    channel_id: str | None = None,
    name: str = "general",
    position: int = 0,
    parent_id: str | None = None,
    topic: str | None = None,
) -> JSON:
    """A guild text channel (type 0)."""
    return {
        "id": channel_id or snowflake(),
        "type": CHANNEL_GUILD_TEXT,
        "guild_id": guild_id,
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "parent_id": parent_id,
        "topic": topic,
        "nsfw": False,
        "rate_limit_per_user": 0,
        "last_message_id": None,
        "flags": 0,
    }


def dm_channel(*, recipient: JSON, channel_id: str | None = None) -> JSON:
    """A DM channel (type 1) with one recipient."""
    return {
        "id": channel_id or snowflake(),
        "type": CHANNEL_DM,
        "last_message_id": None,
        "flags": 0,
        "recipients": [recipient],
    }


def member(
    *,
    member_user: JSON,
    roles: Iterable[str] = (),
    permissions: int | None = None,
    nick: str | None = None,
    joined_at: str | None = None,
) -> JSON:
    """A guild member; ``permissions`` (a string) is only present on interaction members."""
    data: JSON = {
        "user": member_user,
        "nick": nick,
        "avatar": None,
        "banner": None,
        "roles": list(roles),
        "joined_at": joined_at or iso_now(),
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "communication_disabled_until": None,
        "unusual_dm_activity_until": None,
    }
    if permissions is not None:
        data["permissions"] = str(permissions)
    return data


def guild(
    *,
    guild_id: str | None = None,
    name: str = "Study Hall",
    owner_id: str | None = None,
    channels: Sequence[JSON] | None = None,
    roles: Sequence[JSON] | None = None,
    members: Sequence[JSON] | None = None,
    everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
    preferred_locale: str = "en-US",
) -> JSON:
    """A full GUILD_CREATE payload; an @everyone role and a #general channel are added when missing.

    The fake server adds the bot's member (and a managed bot role) when it sends GUILD_CREATE.
    """
    gid = guild_id or snowflake()
    owner = owner_id or snowflake()
    all_roles = list(roles or [])
    if not any(r["id"] == gid for r in all_roles):
        all_roles.insert(0, role(role_id=gid, name="@everyone", permissions=everyone_permissions, position=0))
    all_channels = list(channels) if channels is not None else [text_channel(guild_id=gid)]
    all_members = list(members or [])
    return {
        "id": gid,
        "name": name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": owner,
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "features": [],
        "mfa_level": 0,
        "system_channel_id": all_channels[0]["id"] if all_channels else None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "vanity_url_code": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "premium_progress_bar_enabled": False,
        "preferred_locale": preferred_locale,
        "nsfw_level": 0,
        "max_members": 500000,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "roles": all_roles,
        "emojis": [],
        "stickers": [],
        "application_id": None,
        # GUILD_CREATE-only fields:
        "joined_at": iso_now(),
        "large": False,
        "unavailable": False,
        "member_count": max(len(all_members), 1),
        "voice_states": [],
        "members": all_members,
        "channels": all_channels,
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "incidents_data": None,
    }


def attachment(
    *,
    filename: str,
    size: int,
    url_base: str,
    content_type: str | None = None,
    attachment_id: str | None = None,
) -> JSON:
    """An attachment object as Discord returns it after an upload."""
    aid = attachment_id or snowflake()
    url = f"{url_base.rstrip('/')}/attachments/{aid}/{filename}"
    data: JSON = {
        "id": aid,
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": url,
    }
    if content_type:
        data["content_type"] = content_type
    return data


def message(
    *,
    channel_id: str,
    author: JSON,
    content: str = "",
    message_id: str | None = None,
    guild_id: str | None = None,
    embeds: Sequence[JSON] = (),
    components: Sequence[JSON] = (),
    attachments: Sequence[JSON] = (),
    flags: int = 0,
    message_type: int = 0,
    webhook_id: str | None = None,
    application_id: str | None = None,
    interaction_metadata: JSON | None = None,
    tts: bool = False,
) -> JSON:
    """A message object (type 0 default, 20 = chat-input command reply, 19 = reply)."""
    data: JSON = {
        "id": message_id or snowflake(),
        "type": message_type,
        "channel_id": channel_id,
        "author": author,
        "content": content,
        "timestamp": iso_now(),
        "edited_timestamp": None,
        "tts": tts,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "mention_channels": [],
        "attachments": list(attachments),
        "embeds": list(embeds),
        "components": list(components),
        "pinned": False,
        "flags": flags,
    }
    if guild_id is not None:
        data["guild_id"] = guild_id
    if webhook_id is not None:
        data["webhook_id"] = webhook_id
    if application_id is not None:
        data["application_id"] = application_id
    if interaction_metadata is not None:
        data["interaction_metadata"] = interaction_metadata
    return data


def button_row(*, custom_id: str, label: str = "Click", style: int = 1) -> JSON:
    """An action row (type 1) holding one button (type 2)."""
    return {
        "type": 1,
        "id": 1,
        "components": [{"type": 2, "id": 2, "style": style, "label": label, "custom_id": custom_id}],
    }


def _first_text_channel(guild_payload: JSON) -> JSON:
    for channel in guild_payload.get("channels", []):
        if channel.get("type") == CHANNEL_GUILD_TEXT:
            return dict(channel)
    raise ValueError(f"guild {guild_payload['id']} has no text channel")


def _interaction_base(
    *,
    interaction_type: int,
    application_id: str,
    data: JSON | None,
    guild: JSON | None,
    channel_id: str | None,
    invoker: JSON | None,
    member_permissions: int,
    member_roles: Sequence[str],
    app_permissions: int,
    locale: str,
) -> JSON:
    """Fields shared by all INTERACTION_CREATE payloads; guild context when ``guild`` is given, else a DM."""
    who = invoker or user()
    payload: JSON = {
        "id": snowflake(),
        "application_id": application_id,
        "type": interaction_type,
        "token": interaction_token(),
        "version": 1,
        "locale": locale,
        "app_permissions": str(app_permissions),
        "entitlements": [],
        "entitlement_sku_ids": [],
        "attachment_size_limit": DEFAULT_ATTACHMENT_SIZE_LIMIT,
    }
    if data is not None:
        payload["data"] = data
    if guild is not None:
        channel = _first_text_channel(guild)
        if channel_id is not None:
            channel = next((dict(c) for c in guild["channels"] if c["id"] == channel_id), channel)
        payload.update(
            {
                "guild_id": guild["id"],
                "guild": {
                    "id": guild["id"],
                    "locale": guild.get("preferred_locale", "en-US"),
                    "features": [],
                },
                "guild_locale": guild.get("preferred_locale", "en-US"),
                "channel_id": channel["id"],
                "channel": channel,
                "member": member(member_user=who, roles=member_roles, permissions=member_permissions),
                "authorizing_integration_owners": {"0": guild["id"]},
                "context": CONTEXT_GUILD,
            }
        )
    else:
        channel = dm_channel(recipient=who, channel_id=channel_id)
        payload.update(
            {
                "channel_id": channel["id"],
                "channel": channel,
                "user": who,
                # Guild-installed app used in the bot's DM: the GUILD_INSTALL owner is "0".
                "authorizing_integration_owners": {"0": "0"},
                "context": CONTEXT_BOT_DM,
            }
        )
    return payload


def application_command_interaction(
    *,
    application_id: str,
    name: str,
    options: Sequence[JSON] = (),
    guild: JSON | None = None,
    channel_id: str | None = None,
    invoker: JSON | None = None,
    command_id: str | None = None,
    command_guild_id: str | None = None,
    resolved: JSON | None = None,
    member_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
    member_roles: Sequence[str] = (),
    app_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
    locale: str = "en-US",
) -> JSON:
    """Slash command (type 2, data.type 1). ``guild`` = a :func:`guild` payload; omit it for a bot DM.

    ``options`` are ``{"name", "type", "value"}`` dicts; ``command_guild_id`` marks a guild-scoped command
    (discord.py looks it up among the tree's guild commands).
    """
    data: JSON = {"id": command_id or snowflake(), "name": name, "type": 1, "options": list(options)}
    if command_guild_id is not None:
        data["guild_id"] = command_guild_id
    if resolved is not None:
        data["resolved"] = resolved
    return _interaction_base(
        interaction_type=APPLICATION_COMMAND,
        application_id=application_id,
        data=data,
        guild=guild,
        channel_id=channel_id,
        invoker=invoker,
        member_permissions=member_permissions,
        member_roles=member_roles,
        app_permissions=app_permissions,
        locale=locale,
    )


def component_interaction(
    *,
    application_id: str,
    custom_id: str,
    guild: JSON | None = None,
    channel_id: str | None = None,
    invoker: JSON | None = None,
    message_payload: JSON | None = None,
    component_type: int = 2,
    values: Sequence[str] | None = None,
    member_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
    app_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
    locale: str = "en-US",
) -> JSON:
    """Component interaction (type 3): a button click (``component_type`` 2) or select (3, with ``values``).

    ``message_payload`` is the message the component sits on; by default a bot message in the same channel
    with one button carrying ``custom_id``.
    """
    data: JSON = {"custom_id": custom_id, "component_type": component_type, "id": 2}
    if values is not None:
        data["values"] = list(values)
    payload = _interaction_base(
        interaction_type=MESSAGE_COMPONENT,
        application_id=application_id,
        data=data,
        guild=guild,
        channel_id=channel_id,
        invoker=invoker,
        member_permissions=member_permissions,
        member_roles=(),
        app_permissions=app_permissions,
        locale=locale,
    )
    if message_payload is None:
        message_payload = message(
            channel_id=payload["channel_id"],
            author=bot_user(user_id=application_id),
            content="Ready to study?",
            components=[button_row(custom_id=custom_id)],
            application_id=application_id,
        )
    payload["message"] = message_payload
    return payload


def autocomplete_interaction(
    *,
    application_id: str,
    name: str,
    focused: str,
    value: str = "",
    option_type: int = 3,
    other_options: Sequence[JSON] = (),
    guild: JSON | None = None,
    channel_id: str | None = None,
    invoker: JSON | None = None,
    command_id: str | None = None,
    command_guild_id: str | None = None,
    locale: str = "en-US",
) -> JSON:
    """Autocomplete (type 4): like a command, with exactly one option marked ``focused``."""
    options = [*other_options, {"name": focused, "type": option_type, "value": value, "focused": True}]
    payload = application_command_interaction(
        application_id=application_id,
        name=name,
        options=options,
        guild=guild,
        channel_id=channel_id,
        invoker=invoker,
        command_id=command_id,
        command_guild_id=command_guild_id,
        locale=locale,
    )
    payload["type"] = AUTOCOMPLETE
    return payload
