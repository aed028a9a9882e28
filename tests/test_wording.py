"""Numbers, counts, durations and windows as a person writes them."""

import pytest

from advisor.wording import Count, ago, count, duration, window_words


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
    ("hours", "calendar_days", "words"),
    [
        (0, None, "just now"),
        (0.01, 0, "just now"),
        (0.25, None, "15 minutes ago"),
        (2, 0, "two hours ago"),
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
        (0, 24, 0.5, "from now, within 24 hours"),
        (120, 288, 100, "in 20 hours, for seven days"),
        (24, 72, 30, "from now, within 42 hours"),
        (0, 168, 2, "from now, within six days"),
    ],
)
def test_window_words(start, end, now, words):
    assert window_words(start, end, now) == words
