"""Drawing a week's study buddies: pure functions, so the rules are testable without a database.

A draw splits the opted-in members into pairs (one trio when the count is odd). It is deterministic for a
seed (group and week), so a re-render after a restart yields the same pairs, and it avoids pairs from the
last weeks: fewest repeats first, then the oldest ones; a bounded branch-and-bound search (in the seed's
random order) keeps the cheapest split. Small groups are searched exhaustively.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

Group = tuple[int, ...]
RECENT_WEEKS = 3
SEARCH_BUDGET = 50_000  # partial splits looked at; enough to search 10 members exhaustively
REPEAT_COST = 10_000  # fewest repeats first, whatever their age
RECENCY_COST = {1: 30, 2: 20, 3: 10}  # then a repeat from last week costs most; three weeks ago least
REDRAW_COST = 1  # a shuffle prefers pairs other than the ones it replaces, but never over the rule above


def pair_key(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def pairs_in(group: Iterable[int]) -> list[tuple[int, int]]:
    return [pair_key(a, b) for a, b in combinations(group, 2)]


def history_costs(recent: Sequence[Sequence[Group]], replacing: Sequence[Group] = ()) -> dict[tuple[int, int], int]:
    """What repeating each pair costs: `recent[0]` is last week's split, `recent[1]` the week before..."""
    costs: dict[tuple[int, int], int] = {}
    for pair in (p for group in replacing for p in pairs_in(group)):
        costs[pair] = costs.get(pair, 0) + REDRAW_COST
    seen: set[tuple[int, int]] = set()
    for age, week in enumerate(recent[:RECENT_WEEKS], start=1):
        for pair in (p for group in week for p in pairs_in(group)):
            costs[pair] = costs.get(pair, 0) + RECENCY_COST[age] + (REPEAT_COST if pair not in seen else 0)
            seen.add(pair)
    return costs


def split_cost(groups: Iterable[Group], costs: Mapping[tuple[int, int], int]) -> int:
    return sum(costs.get(pair, 0) for group in groups for pair in pairs_in(group))


def repeats(groups: Iterable[Group], recent: Sequence[Sequence[Group]]) -> int:
    """How many pairs of a split also met in the recent weeks."""
    seen = {p for week in recent[:RECENT_WEEKS] for group in week for p in pairs_in(group)}
    return sum(1 for group in groups for pair in pairs_in(group) if pair in seen)


@dataclass
class _Search:
    costs: Mapping[tuple[int, int], int]
    budget: int
    best: list[Group] | None = None
    best_cost: int = 0

    def run(self, rest: list[int], chosen: list[Group], cost: int, trio_left: bool) -> None:
        if self.budget <= 0 or (self.best is not None and cost >= self.best_cost):
            return
        self.budget -= 1
        if not rest:
            self.best, self.best_cost = list(chosen), cost
            return
        first, others = rest[0], rest[1:]
        if trio_left and len(rest) == 3:
            options: list[Group] = [(first, *others)]
        else:
            options = [(first, other) for other in others]
            if trio_left:
                options += [(first, a, b) for a, b in combinations(others, 2)]
        for group in options:
            if self.best is not None and self.best_cost == 0:
                return
            left = [m for m in others if m not in group]
            self.run(left, [*chosen, group], cost + split_cost([group], self.costs), trio_left and len(group) == 2)


def draw(
    members: Iterable[int], seed: str, recent: Sequence[Sequence[Group]] = (), replacing: Sequence[Group] = ()
) -> list[Group]:
    """The week's split of `members`: pairs plus one trio for an odd count; nobody for fewer than two."""
    people = sorted(set(members))
    if len(people) < 2:
        return []
    random.Random(seed).shuffle(people)
    search = _Search(history_costs(recent, replacing), SEARCH_BUDGET)
    search.run(people, [], 0, len(people) % 2 == 1)
    assert search.best is not None  # the first branch always reaches a full split
    return [tuple(sorted(group)) for group in search.best]


@dataclass(frozen=True, slots=True)
class Dropped:
    """A split without one member: who (if anyone) was left without a buddy, or whom they joined."""

    groups: list[Group]
    alone: int | None = None  # left alone: nobody to join, the group is told
    joined: Group | None = None  # the group the partner left behind joined


def rehome(groups: Sequence[Group], member: int) -> tuple[list[Group], Group]:
    """Give a member without a buddy (a newcomer, or a partner left behind) a group mid-week, so nobody is
    alone while two or more take part: someone else alone, else a pair (a trio now), else one of a trio."""
    for size in (1, 2):
        host = next((g for g in groups if len(g) == size), None)
        if host is not None:
            merged = tuple(sorted((*host, member)))
            return [merged if g == host else g for g in groups], merged
    trio = next((g for g in groups if len(g) > 2), None)
    if trio is None:
        return [*groups, (member,)], (member,)
    moved, kept = trio[-1], trio[:-1]
    pair = tuple(sorted((moved, member)))
    return [kept if g == trio else g for g in groups] + [pair], pair


def drop(groups: Sequence[Group], member: int) -> Dropped:
    """Take `member` out of the split; a partner left alone is rehomed, or told they have no buddy."""
    own = next((g for g in groups if member in g), None)
    if own is None:
        return Dropped(list(groups))
    rest = [g for g in groups if g != own]
    left = tuple(m for m in own if m != member)
    if len(left) != 1:
        return Dropped([*rest, left] if left else rest)
    if not rest:
        return Dropped([left], alone=left[0])
    regrouped, joined = rehome(rest, left[0])
    return Dropped(regrouped, joined=joined)


def buddies_of(groups: Iterable[Group], member: int) -> Group:
    """The member's buddies this week (empty when not paired)."""
    for group in groups:
        if member in group:
            return tuple(m for m in group if m != member)
    return ()
