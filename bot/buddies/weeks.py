"""A group's week of buddies as commands and posts share it: drawn on first need, then only read.

The week is the group's local ISO week (Monday 00:00 in the group's timezone). Whoever needs the split
first (the Monday post, `/buddies`, `/buddy`) draws it from a seed of group, week and draw count, so a
re-render after a restart reads or re-derives the same pairs.
"""

from __future__ import annotations

from datetime import date, timedelta

from bot.buddies.pairing import RECENT_WEEKS, Dropped, draw
from bot.buddies.ports import BUDDIES, BuddyRepo, Week
from bot.core.context import Context
from bot.core.markup import Rich, plain
from bot.core.types import Reply, User
from bot.i18n import Translator


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def seed(chat_id: int, monday: date, draws: int) -> str:
    return f"{chat_id}:{monday.isoformat()}:{draws}"


async def current_week(repo: BuddyRepo, chat_id: int, today: date) -> Week | None:
    """The week's split, drawn now when it hasn't been and two or more members have opted in."""
    monday = monday_of(today)
    week = await repo.week(chat_id, monday)
    if week is not None:
        return week
    members = [u.id for u in await repo.opted_in(chat_id)]
    if len(members) < 2:
        return None
    recent = await repo.recent(chat_id, monday, RECENT_WEEKS)
    return await repo.save_week(chat_id, monday, draw(members, seed(chat_id, monday, 1), recent), 1, replace=False)


async def redraw(repo: BuddyRepo, chat_id: int, today: date) -> Week:
    """An admin's `/buddies shuffle`: a fresh draw of the week, preferring pairs other than the current ones."""
    monday = monday_of(today)
    old = await repo.week(chat_id, monday)
    draws = (old.draws if old is not None else 0) + 1
    members = [u.id for u in await repo.opted_in(chat_id)]
    recent = await repo.recent(chat_id, monday, RECENT_WEEKS)
    groups = draw(members, seed(chat_id, monday, draws), recent, old.ids if old is not None else ())
    return await repo.save_week(chat_id, monday, groups, draws, replace=True)


def names(users: tuple[User, ...] | list[User]) -> str:
    return ", ".join(u.display_name for u in users)


def split_line(_: Translator, week: Week) -> Rich:
    """ "This week's study buddies: Ada ↔ Bob, Cyd ↔ Dee ↔ Eve" (and who is still waiting for one)."""
    pairs = [g for g in week.groups if len(g) > 1]
    waiting = [g[0] for g in week.groups if len(g) == 1]
    text = _(
        "This week's study buddies: {pairs}",
        pairs=", ".join(" ↔ ".join(u.display_name for u in g) for g in pairs) if pairs else _("nobody yet"),
    )
    if waiting:
        text += "\n" + _("Waiting for a buddy: {names}", names=names(waiting))
    return plain(text)


async def dropped_note(ctx: Context, dropped: Dropped | None) -> str | None:
    """What the group is told when a member leaves the week's split and their partner is left behind."""
    if dropped is None or (dropped.alone is None and dropped.joined is None):
        return None
    users = await ctx.store.get_users({dropped.alone} if dropped.alone is not None else set(dropped.joined or ()))
    if dropped.alone is not None:
        return ctx._(
            "{name} has no study buddy for the rest of this week; the next member to send /buddy on is paired "
            "with them.",
            name=users[dropped.alone].display_name,
        )
    group = [users[uid] for uid in dropped.joined or () if uid in users]
    return ctx._("For the rest of this week: {group}.", group=" ↔ ".join(u.display_name for u in group))


async def leave_buddies(ctx: Context) -> list[Reply]:
    """A member left the group: opt them out and take them out of this week's split (telling the group
    about a partner left behind)."""
    assert ctx.chat is not None
    repo = ctx.port(BUDDIES)
    await repo.set_opt_in(ctx.chat.id, ctx.user.id, False, ctx.services.clock.now())
    note = await dropped_note(ctx, await repo.drop(ctx.chat.id, monday_of(ctx.today()), ctx.user.id))
    return [Reply(plain(note))] if note else []
