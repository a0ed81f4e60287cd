"""The pure pairing rules: sizes, determinism, repeat avoidance over weeks, and mid-week changes."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations

import pytest

from bot.buddies.pairing import Group, draw, drop, rehome, repeats


def all_splits(people: list[int]) -> Iterator[list[Group]]:
    """Every way to split `people` into pairs with one trio for an odd count (for brute-force checks)."""
    if not people:
        yield []
        return
    first, rest = people[0], people[1:]
    if len(people) % 2 == 1:
        for a, b in combinations(rest, 2):
            left = [p for p in rest if p not in (a, b)]
            for split in _pairings(left):
                yield [(first, a, b), *split]
        for other in rest:  # `first` in a pair, the trio elsewhere
            left = [p for p in rest if p != other]
            for split in all_splits(left):
                yield [(first, other), *split]
        return
    yield from _pairings(people)


def _pairings(people: list[int]) -> Iterator[list[Group]]:
    if not people:
        yield []
        return
    first, rest = people[0], people[1:]
    for other in rest:
        for split in _pairings([p for p in rest if p != other]):
            yield [(first, other), *split]


@pytest.mark.parametrize("count", [2, 3, 5, 8])
def test_everyone_is_placed_once_in_pairs_and_one_trio_for_an_odd_count(count: int) -> None:
    members = list(range(10, 10 + count))
    split = draw(members, "seed")
    assert sorted(m for g in split for m in g) == members
    assert sorted(len(g) for g in split) == [2] * (count // 2 - 1) + [3 if count % 2 else 2]


@pytest.mark.parametrize("count", [0, 1])
def test_fewer_than_two_are_not_paired(count: int) -> None:
    assert draw(range(count), "seed") == []


def test_a_draw_is_deterministic_for_its_seed() -> None:
    members = list(range(12))
    assert draw(members, "7:2026-11-30:1") == draw(reversed(members), "7:2026-11-30:1")
    assert len({tuple(draw(members, f"7:2026-11-30:{n}")) for n in range(1, 6)}) > 1  # seeds differ


@pytest.mark.parametrize("count", [4, 5, 6, 7, 8])
def test_no_avoidable_repeat_from_the_last_three_weeks_over_six_weeks(count: int) -> None:
    members = list(range(1, count + 1))
    history: list[list[Group]] = []
    for week in range(6):
        recent = list(reversed(history[-3:]))  # last week first
        split = draw(members, f"1:week{week}", recent)
        fewest = min(repeats(s, recent) for s in all_splits(members))
        assert repeats(split, recent) == fewest, (week, split, recent)
        history.append(split)
    if count >= 6:  # enough people: the first three weeks never repeat a pair at all
        pairs = [frozenset(p) for split in history[:3] for g in split for p in combinations(g, 2)]
        assert len(pairs) == len(set(pairs))


def test_a_repeat_that_cannot_be_avoided_is_the_oldest_one() -> None:
    members = [1, 2, 3, 4]
    last, before, oldest = [(1, 2), (3, 4)], [(1, 3), (2, 4)], [(1, 4), (2, 3)]
    assert sorted(draw(members, "s", [last, before, oldest])) == oldest


def test_a_redraw_prefers_new_pairs() -> None:
    members = [1, 2, 3, 4]
    current = draw(members, "s:1")
    assert sorted(draw(members, "s:2", (), current)) != sorted(current)


def test_dropping_a_member_rehomes_the_partner_left_behind() -> None:
    assert drop([(1, 2), (3, 4)], 1).groups == [(2, 3, 4)]  # a pair becomes a trio
    dropped = drop([(1, 2), (3, 4, 5)], 1)  # only a trio: one of it pairs with the partner
    assert sorted(dropped.groups) == [(2, 5), (3, 4)] and dropped.joined == (2, 5)
    assert drop([(1, 2, 3), (4, 5)], 1).groups == [(4, 5), (2, 3)]  # a trio just shrinks
    alone = drop([(1, 2)], 1)
    assert alone.groups == [(2,)] and alone.alone == 2  # nobody else: the group is told
    assert drop([(1, 2)], 9).groups == [(1, 2)]


def test_a_newcomer_pairs_with_whoever_is_alone_first() -> None:
    assert rehome([(1, 2), (3,)], 4) == ([(1, 2), (3, 4)], (3, 4))
    assert rehome([(1, 2)], 4) == ([(1, 2, 4)], (1, 2, 4))
    assert rehome([], 4) == ([(4,)], (4,))
