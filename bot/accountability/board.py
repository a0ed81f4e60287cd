"""Group accountability shared by commands and scheduled pushes: leaderboard, nudge and weekly recap.

Group rules (what `/top` and the recap explain):
- The roster is the group's active members: who sent `/join` there or checked in there; `/leave` ends it.
  Only roster members of *this* group are ever read, so one group never shows another's members.
- A member's streak is their own (their timezone, their pauses); "tasks this week" counts their check-ins
  for the dates Monday..today of the group's local week.
- The group's day D counts when at least `share` percent (default 50) of the members who had joined by D
  checked in for their own local date D. The group streak is the run of counted group days ending today,
  or yesterday while today is still open.
- The nudge names the roster members (not opted out with `/nudge off`) without a check-in for the
  group's local today; the recap covers the 7 group-local days ending on the recap's Sunday.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot.accountability.ports import AccountabilityRepo, Member
from bot.accountability.streaks import NOON, Standing, group_day_counts, group_streak, standing, task_count
from bot.buddies.lines import nudge_lines, recap_lines
from bot.buddies.ports import BuddyRepo
from bot.core.clock import Clock, local_now
from bot.core.markup import Rich, bold, join, plain
from bot.core.types import Chat, User
from bot.delivery.kinds import Skip
from bot.i18n import Translator
from bot.papers.lines import reading_lines
from bot.papers.ports import PaperRepo

GROUP_STREAK_SHORT_WINDOW = 14  # read further back only when the group streak reaches back this far
WEEK = 7


def learner_day(clock: Clock, user: User) -> tuple[date, bool]:
    """The learner's local today and whether yesterday is still open (before noon local time)."""
    now = local_now(clock, user.timezone)
    return now.date(), now.hour < NOON


def member_standing(clock: Clock, member: Member) -> Standing:
    today, grace = learner_day(clock, member.user)
    return standing(member.latest, today, member.pauses, grace)


@dataclass(frozen=True, slots=True)
class BoardRow:
    member: Member
    streak: Standing
    tasks: int


@dataclass(frozen=True, slots=True)
class Board:
    today: date
    rows: list[BoardRow]
    share: int
    group_streak: int
    counted_days: list[date]  # counted group days among the board's `days`
    checked: dict[date, int]


async def build_board(repo: AccountabilityRepo, clock: Clock, chat: Chat, since: date | None = None) -> Board:
    """Everything `/top` and the recap show, in a handful of bounded queries (none per member)."""
    today = local_now(clock, chat.timezone).date()
    start = since or today - timedelta(days=today.weekday())
    members = await repo.roster(chat.id)
    ids = [m.user.id for m in members]
    share = await repo.share(chat.id)
    joined = {m.user.id: m.joined_on for m in members}
    ordered_joins = sorted(joined.values())

    def eligible(day: date) -> int:
        return bisect_right(ordered_joins, day)  # members who had joined by `day`

    # The week's tasks and the per-day group counts come back aggregated by the database (a few rows, not
    # one per member-day); only a group streak that reaches back past the short window reads further.
    tasks: dict[int, int] = dict.fromkeys(ids, 0)
    for uid, mask, times in await repo.mask_counts(ids, start, today):
        tasks[uid] += task_count(mask) * times
    recent = min(start, today - timedelta(days=GROUP_STREAK_SHORT_WINDOW))
    checked = await repo.group_checked_per_day(chat.id, recent, today)
    streak = group_streak(share, checked, eligible, today, (today - recent).days)
    first_join = ordered_joins[0] if ordered_joins else today
    if streak >= (today - recent).days - 1 and first_join < recent:
        # The run reaches back past the short window: read the rest of the group's life (no day before
        # anyone joined can count, so that is where any group streak ends).
        checked |= await repo.group_checked_per_day(chat.id, first_join, recent - timedelta(days=1))
        streak = group_streak(share, checked, eligible, today, (today - first_join).days + 1)
    rows = [BoardRow(m, member_standing(clock, m), tasks[m.user.id]) for m in members]
    rows.sort(key=lambda r: (-r.streak.current, -r.tasks, r.member.user.display_name.lower()))
    days = [start + timedelta(days=i) for i in range((today - start).days + 1)]
    counted = [d for d in days if group_day_counts(share, checked, eligible, d)]
    return Board(today, rows, share, streak, counted, checked)


def streak_words(_: Translator, n: int) -> str:
    return _.plural("{n} day", "{n} days", n)


def group_line(_: Translator, board: Board) -> Rich:
    return plain(
        _(
            "Group streak: {days} (a day counts when {share}% of members check in).",
            days=streak_words(_, board.group_streak),
            share=board.share,
        )
    )


def leaderboard(_: Translator, chat: Chat, board: Board) -> Rich:
    title = chat.title or _("this group")
    lines: list[Rich] = [bold(_("Leaderboard of {group}", group=title))]
    for place, row in enumerate(board.rows, start=1):
        lines.append(
            plain(
                _(
                    "{place}. {name} — streak {streak}, {tasks}",
                    place=place,
                    name=row.member.user.display_name,
                    streak=streak_words(_, row.streak.current),
                    tasks=_.plural("{n} task this week", "{n} tasks this week", row.tasks),
                )
            )
        )
    lines += [plain(""), group_line(_, board)]
    return join(lines)


def missing_today(members: Sequence[Member], checked_ids: set[int]) -> list[Member]:
    """Who a nudge names: active roster members, not opted out, without a check-in for the group's today."""
    return [m for m in members if not m.user.nudge_opt_out and m.user.id not in checked_ids]


async def nudge_text(
    repo: AccountabilityRepo, clock: Clock, chat: Chat, _: Translator, buddies: BuddyRepo | None = None
) -> Rich | Skip:
    """The nudge, or why it is skipped."""
    today = local_now(clock, chat.timezone).date()
    members = await repo.roster(chat.id)
    if not members:
        return Skip("nobody on the roster")
    done = {uid for uid, _day, _mask in await repo.checkins([m.user.id for m in members], today, today)}
    missing = missing_today(members, done)
    if not missing:
        return Skip("everyone on the roster has checked in (or opted out)")
    names = ", ".join(m.user.display_name for m in missing)
    return join(
        [
            bold(_("Study check-in time!")),
            plain(_("Not checked in yet today: {names}", names=names)),
            *(await nudge_lines(buddies, repo, chat.id, today, [m.user for m in missing], _) if buddies else []),
            plain(_("Send /done when you have studied (or /nudge off to stop these mentions).")),
        ]
    )


async def recap_text(
    repo: AccountabilityRepo,
    clock: Clock,
    chat: Chat,
    _: Translator,
    reviews: BuddyRepo | None = None,
    papers: PaperRepo | None = None,
) -> Rich | Skip:
    """The weekly recap of the 7 group-local days ending today, or why it is skipped."""
    today = local_now(clock, chat.timezone).date()
    week_start = today - timedelta(days=WEEK - 1)
    board = await build_board(repo, clock, chat, since=week_start)
    if not board.rows:
        return Skip("nobody on the roster")
    kept = [r for r in board.rows if r.streak.alive and r.streak.run_start and r.streak.run_start <= week_start]
    total = sum(r.tasks for r in board.rows)
    lines: list[Rich] = [
        bold(_("Weekly recap: {first} to {last}", first=week_start.isoformat(), last=today.isoformat())),
        plain(""),
    ]
    if kept:
        names = ", ".join(f"{r.member.user.display_name} ({r.streak.current})" for r in kept)
        lines.append(plain(_("Kept their streak all week: {names}", names=names)))
    else:
        lines.append(plain(_("Nobody kept a streak all week; a fresh start is one /done away.")))
    lines.append(plain(_("Tasks done this week: {total}", total=total)))
    lines += [plain(f"• {r.member.user.display_name}: {r.tasks}") for r in board.rows]
    lines += await recap_lines(reviews, chat.id, week_start, today, _) if reviews is not None else []
    member_ids = [r.member.user.id for r in board.rows]
    lines += await reading_lines(papers, member_ids, week_start, today, _) if papers is not None else []
    lines += [
        plain(""),
        plain(_("Group days counted this week: {n} of 7", n=len(board.counted_days))),
        group_line(_, board),
    ]
    return join(lines)
