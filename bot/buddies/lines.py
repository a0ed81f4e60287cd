"""Lines the group's other posts borrow: the evening nudge names each missing member's buddy, and the
Sunday recap names who wrote a weekly review. Both read only this group's split and reviews."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.accountability.ports import AccountabilityRepo
from bot.buddies.ports import BuddyRepo
from bot.buddies.weeks import monday_of, names
from bot.core.markup import Rich, plain
from bot.core.types import User
from bot.i18n import Translator

FIRST_LINE_CHARS = 120


async def nudge_lines(
    buddies: BuddyRepo,
    checkins: AccountabilityRepo,
    chat_id: int,
    today: date,
    missing: Sequence[User],
    _: Translator,
) -> list[Rich]:
    """For each member not checked in yet: whether their buddy has (by name), or that both haven't."""
    week = await buddies.week(chat_id, monday_of(today))
    if week is None:
        return []
    pairs = {m.id: week.buddies_of(m.id) for m in missing}
    others = {b.id for group in pairs.values() for b in group}
    done = {uid for uid, _day, _mask in await checkins.checkins(others, today, today)} if others else set()
    lines: list[Rich] = []
    for member in missing:
        mates = pairs[member.id]
        if not mates:
            continue
        checked = [b for b in mates if b.id in done]
        if checked:
            text = _.plural(
                "{name}, your buddy {buddies} has checked in today.",
                "{name}, your buddies {buddies} have checked in today.",
                len(checked),
                name=member.display_name,
                buddies=names(checked),
            )
        else:
            text = _(
                "{name}, neither you nor your buddy {buddies} has checked in yet today.",
                name=member.display_name,
                buddies=names(mates),
            )
        lines.append(plain(text))
    return lines


async def recap_lines(reviews: BuddyRepo, chat_id: int, since: date, until: date, _: Translator) -> list[Rich]:
    """Who shared a weekly review here in the recap's days, with the first line of each."""
    shared = await reviews.shared_reviews(chat_id, since, until)
    if not shared:
        return []
    lines: list[Rich] = [plain(_.plural("{n} weekly review shared:", "{n} weekly reviews shared:", len(shared)))]
    for user, review in shared:
        first = review.text.strip().splitlines()[0] if review.text.strip() else ""
        if len(first) > FIRST_LINE_CHARS:
            first = first[: FIRST_LINE_CHARS - 1] + "…"
        lines.append(plain(f"• {user.display_name}: {first}"))
    return lines
