"""Numbers, counts, durations and windows as a person writes them."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from advisor.wording import DOWN, JUST_NOW_HOURS, UP, Count, ago, count, duration, window_words


@pytest.mark.parametrize(
    ("hours", "words"),
    [
        (0.0, "a minute"),
        (0.2, "12 minutes"),
        (0.25, "15 minutes"),
        (1, "an hour"),
        (1.5, "an hour and a half"),
        (2.5, "two and a half hours"),
        (23.4, "23 hours"),
        (30, "30 hours"),
        (48, "two days"),
        (100, "four days"),
        (340, "two weeks"),
        (2000, "11 weeks"),
    ],
)
def test_duration(hours, words):
    assert duration(hours) == words


@pytest.mark.parametrize(
    ("hours", "rounding", "words"),
    [
        (0.999, DOWN, "59 minutes"),
        (0.99, UP, "an hour"),
        (1.9, DOWN, "an hour and a half"),
        (2.2, UP, "two and a half hours"),
        (2.6, UP, "three hours"),
        (5.75, DOWN, "five hours"),
        (23.6, DOWN, "23 hours"),
        (23.6, UP, "24 hours"),
        (47.5, DOWN, "47 hours"),
        (47.5, UP, "two days"),
        (24 * 13.5, UP, "two weeks"),
        (24 * 13.5, DOWN, "13 days"),
        (0.1, UP, "six minutes"),  # 0.1 * 60 is a hair over six in floating point
    ],
)
def test_duration_rounded_one_way(hours, rounding, words):
    assert duration(hours, rounding) == words


_UNITS = {"minute": 1 / 60, "hour": 1.0, "day": 24.0, "week": 168.0}
_NUMBERS = {w: n for n, w in enumerate("zero one two three four five six seven eight nine".split())}


def _hours_in(words: str) -> float:
    """The hours a phrase of `duration` states: 'two and a half hours' -> 2.5."""
    if words == "an hour and a half":
        return 1.5
    found = re.fullmatch(r"(an?|\w+)( and a half)? (minute|hour|day|week)s?", words)
    amount, half, unit = found.groups()
    value = 1 if amount in ("a", "an") else _NUMBERS.get(amount) or int(amount.replace(",", ""))
    return (value + (0.5 if half else 0)) * _UNITS[unit]


@given(st.floats(min_value=0, max_value=24 * 400, allow_nan=False))
def test_rounded_down_never_states_more_and_up_never_less(hours):
    # At least a minute is always stated.
    assert _hours_in(duration(hours, DOWN)) <= max(hours, 1 / 60) + 1e-9
    assert _hours_in(duration(hours, UP)) >= hours - 1e-9


@given(st.floats(min_value=JUST_NOW_HOURS, max_value=23.999, allow_nan=False))
def test_ago_never_states_more_time_than_has_passed(hours):
    words = ago(hours)
    assert words.endswith(" ago")
    assert _hours_in(words.removesuffix(" ago")) <= hours + 1e-9


@pytest.mark.parametrize(
    ("hours", "calendar_days", "words"),
    [
        (0, None, "just now"),
        (0.01, 0, "just now"),
        (0.25, None, "15 minutes ago"),
        (2, 0, "two hours ago"),
        (5.5, None, "five hours ago"),  # within the first six hours: never "six hours ago"
        (0.999, None, "59 minutes ago"),
        (23.9, 0, "23 hours ago"),
        (17, 1, "yesterday"),
        (30, None, "a day ago"),
        (50, None, "two days ago"),
        (50, 3, "three days ago"),
        (400, 17, "two weeks ago"),
        (2000, None, "11 weeks ago"),
    ],
)
def test_ago(hours, calendar_days, words):
    assert ago(hours, calendar_days) == words


@pytest.mark.parametrize(
    ("value", "noun", "words"),
    [
        (0, "offer", "no offers"),
        (1, "other offer", "one other offer"),
        (2, "follow-up", "two follow-ups"),
        (12, "day", "12 days"),
        (1200, "day", "1,200 days"),
        (3, "person|people", "three people"),
        (1, "person|people", "one person"),
    ],
)
def test_count(value, noun, words):
    assert count(value, noun) == words
    assert f"{Count(value):{noun}}" == words


@pytest.mark.parametrize(
    ("start", "end", "now", "words"),
    [
        (0, None, 5, "from now, no end"),
        (0, 0, 0, "now"),
        (0, 24, 2, "from now, within 22 hours"),
        (0, 24, 0.5, "from now, within 23 hours"),  # 23.5 left: never more than there is
        (26.4, None, 24, "in two and a half hours, no end"),  # never sooner than it opens
        (120, 288, 100, "in 20 hours, for seven days"),
        (24, 72, 30, "from now, within 42 hours"),
        (0, 168, 2, "from now, within six days"),
    ],
)
def test_window_words(start, end, now, words):
    assert window_words(start, end, now) == words
