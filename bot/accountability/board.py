"""Group accountability shared by commands and scheduled pushes: leaderboard, nudge and weekly recap.

Group rules (what `/top` and the recap explain):
- The roster is the group's active members: who sent `/join` there or checked in there; `/leave` ends it.
  Only roster members of *this* group are ever read, so one group never shows another's members.
- A member's streak is their own (their timezone, their pauses); "tasks this week" counts their check-ins
  for the dates Monday..today of the group's local week.
- The group's day D counts when at least `share` percent (default 50) of the members who had joined by D
  checked in for their own local date D. The group streak is the run of counted group days ending today,
  or yesterday while today is still open.
- `/top` ranks every member (streak, then tasks this week, then name; equal streak and tasks share a place)
  but lists the top ten, the caller's own place below them and how many more there are; the group's
  dashboard page lists everyone.
- The nudge names the roster members (not opted out with `/nudge off`) without a check-in for the
  group's local today; the recap covers the 7 group-local days ending on the recap's Sunday.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from unicodedata import east_asian_width

from bot.accountability.ports import AccountabilityRepo, Contender, Member
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

# The kept group days read at once: the group's whole life up to a year (one short row per day costs less
# than a second round trip); only a longer run reads further back.
GROUP_STREAK_READ_DAYS = 366
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
    """Every member's line, as the recap and the dashboard page show them, in a handful of bounded queries
    (none per member); `/top`, which shows only a few lines, uses `build_top`."""
    today = local_now(clock, chat.timezone).date()
    start = since or today - timedelta(days=today.weekday())
    members = await repo.roster(chat.id)
    ids = [m.user.id for m in members]
    share = await repo.share(chat.id)
    ordered_joins = sorted(m.joined_on for m in members)

    def eligible(day: date) -> int:
        return bisect_right(ordered_joins, day)  # members who had joined by `day`

    # The week's tasks come back aggregated by the database (a few rows, not one per member-day).
    tasks: dict[int, int] = dict.fromkeys(ids, 0)
    for uid, mask, times in await repo.mask_counts(ids, start, today):
        tasks[uid] += task_count(mask) * times
    streak, checked = await read_group_streak(repo, chat.id, share, ordered_joins, start, today)
    rows = [BoardRow(m, member_standing(clock, m), tasks[m.user.id]) for m in members]
    rows.sort(key=lambda r: (-r.streak.current, -r.tasks, r.member.user.display_name.lower()))
    days = [start + timedelta(days=i) for i in range((today - start).days + 1)]
    counted = [d for d in days if group_day_counts(share, checked, eligible, d)]
    return Board(today, rows, share, streak, counted, checked)


async def read_group_streak(
    repo: AccountabilityRepo,
    chat_id: int,
    share: int,
    ordered_joins: Sequence[date],
    start: date,
    today: date,
    read: dict[date, int] | None = None,
) -> tuple[int, dict[date, int]]:
    """The group streak and the kept per-day counts read for it (from `start` at least).

    No day before anyone joined can count, so that is where any group streak ends: one read of the kept
    days from the first join (at most GROUP_STREAK_READ_DAYS back); only a run that reaches past that
    reads the rest of the group's life. `read`: those kept days, when they came with the standings."""

    def eligible(day: date) -> int:
        return bisect_right(ordered_joins, day)  # members who had joined by `day`

    first_join = ordered_joins[0] if ordered_joins else today
    recent = max(first_join, read_from(today))
    if read is None:
        recent = min(start, recent)
        checked = await repo.group_checked_per_day(chat_id, recent, today)
    else:
        checked = dict(read)
    streak = group_streak(share, checked, eligible, today, (today - recent).days + 1)
    if streak >= (today - recent).days - 1 and first_join < recent:
        checked |= await repo.group_checked_per_day(chat_id, first_join, recent - timedelta(days=1))
        streak = group_streak(share, checked, eligible, today, (today - first_join).days + 1)
    return streak, checked


def read_from(today: date) -> date:
    """The earliest kept group day read at once (none before the first join is read either)."""
    return today - timedelta(days=GROUP_STREAK_READ_DAYS)


# `/top` -----------------------------------------------------------------------------------------------
TOP_PLACES = 10  # lines ranked at the top of `/top`; the dashboard page lists everyone
NAME_WIDTH = 32  # columns (a CJK character takes two): a longer name is cut with "…", so lines stay short


@dataclass(frozen=True, slots=True)
class Placed:
    """One line of `/top`: a place shared by everyone with the same streak and tasks (1, 2, 2, 4)."""

    place: int
    name: str
    streak: int
    tasks: int
    caller: bool


@dataclass(frozen=True, slots=True)
class TopBoard:
    top: list[Placed]  # the first TOP_PLACES lines
    own: Placed | None  # the caller's line when they rank below those (None when shown, or not a member)
    gap: bool  # members between the top and the caller's own line
    more: int  # members without a line
    share: int
    group_streak: int


def _standing_key(
    clock: Clock, today_by_zone: dict[str, tuple[date, bool]], index: int, member: Contender
) -> tuple[int, int, str, int, int]:
    """Sort key (best first): longest streak, then most tasks this week, then name; ids break full ties
    (the last item finds the member again)."""
    day = today_by_zone.get(member.timezone)
    if day is None:
        now = local_now(clock, member.timezone)
        day = today_by_zone[member.timezone] = (now.date(), now.hour < NOON)
    current = standing(member.latest, day[0], member.pauses, day[1]).current
    return -current, -member.tasks, member.name.casefold(), member.user_id, index


def columns(text: str) -> int:
    """How wide `text` shows: wide and full-width characters (CJK) take two columns."""
    return sum(2 if east_asian_width(ch) in "WF" else 1 for ch in text)


def short_name(name: str) -> str:
    """The name cut to NAME_WIDTH columns, "…" included, so no reply can outgrow a platform's message."""
    if columns(name) <= NAME_WIDTH:
        return name
    kept, width = [], 0
    for ch in name:
        width += columns(ch)
        if width > NAME_WIDTH - 1:
            break
        kept.append(ch)
    return "".join(kept).rstrip() + "…"


async def build_top(repo: AccountabilityRepo, clock: Clock, chat: Chat, caller_id: int) -> TopBoard | None:
    """What `/top` shows (None for an empty roster): every member is ranked from plain sort keys, but only
    the lines shown are built, so a large group costs its reads and a sort, never a line per member."""
    today = local_now(clock, chat.timezone).date()
    start = today - timedelta(days=today.weekday())
    found = await repo.standings(chat.id, start, today, read_from(today))
    if not found.contenders:
        return None
    zones: dict[str, tuple[date, bool]] = {}
    keys = sorted(_standing_key(clock, zones, i, m) for i, m in enumerate(found.contenders))
    places = [1] * len(keys)
    for i in range(1, len(keys)):
        same = keys[i][:2] == keys[i - 1][:2]
        places[i] = places[i - 1] if same else i + 1

    def line(i: int) -> Placed:
        streak, tasks, _name, uid, index = keys[i]
        return Placed(places[i], short_name(found.contenders[index].name), -streak, -tasks, uid == caller_id)

    shown = min(TOP_PLACES, len(keys))
    mine = next((i for i, key in enumerate(keys) if key[3] == caller_id), None)
    own = line(mine) if mine is not None and mine >= shown else None
    joins = sorted(m.joined_on for m in found.contenders)
    streak, _checked = await read_group_streak(repo, chat.id, found.share, joins, start, today, found.days)
    return TopBoard(
        top=[line(i) for i in range(shown)],
        own=own,
        gap=mine is not None and mine > shown,
        more=len(keys) - shown - (own is not None),
        share=found.share,
        group_streak=streak,
    )


def streak_words(_: Translator, n: int) -> str:
    return _.plural("{n} day", "{n} days", n)


def group_line(_: Translator, board: Board | TopBoard) -> Rich:
    return plain(
        _(
            "Group streak: {days} (a day counts when {share}% of members check in).",
            days=streak_words(_, board.group_streak),
            share=board.share,
        )
    )


def placed_line(_: Translator, row: Placed) -> Rich:
    text = _(
        "{place}. {name} — streak {streak}, {tasks}",
        place=row.place,
        name=row.name,
        streak=streak_words(_, row.streak),
        tasks=_.plural("{n} task this week", "{n} tasks this week", row.tasks),
    )
    return bold(text) if row.caller else plain(text)


def leaderboard(_: Translator, chat: Chat, board: TopBoard) -> Rich:
    """The top lines, the caller's own place below them (in bold, as in the top), who else is on the
    roster (the dashboard lists everyone) and the group streak: a few lines for any size of group."""
    title = chat.title or _("this group")
    lines: list[Rich] = [bold(_("Leaderboard of {group}", group=title))]
    lines += [placed_line(_, row) for row in board.top]
    if board.own is not None:
        lines += [plain("…")] if board.gap else []
        lines.append(placed_line(_, board.own))
    if board.more:
        lines.append(
            plain(
                _.plural(
                    "…and {n} more member. An admin can send /dashboard for a page with everyone.",
                    "…and {n} more members. An admin can send /dashboard for a page with everyone.",
                    board.more,
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
