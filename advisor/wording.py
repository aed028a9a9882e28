"""Numbers, counts and durations as a person would write them.

The `because` sentences and the command's output read "just now", "two hours
ago", "yesterday", "one follow-up", "within 22 hours", never "0 h ago",
"offer(s)" or "0.2 h". Small numbers are spelled out (one to nine).
"""

from __future__ import annotations

import math

__all__ = ["DOWN", "NEAREST", "UP", "Count", "ago", "count", "duration", "number", "window_words"]

_SMALL = "zero one two three four five six seven eight nine".split()
#: Less than this many hours ago reads "just now" (three minutes).
JUST_NOW_HOURS = 0.05


def number(value: int) -> str:
    """0–9 in words, larger numbers in figures with thousands separated: 'two', '1,200'."""
    return _SMALL[value] if 0 <= value < len(_SMALL) else f"{value:,}"


def _plural(noun: str, value: int) -> str:
    """'offer' or 'offers'; an irregular plural is given as 'person|people'."""
    one, _, many = noun.partition("|")
    if value == 1:
        return one
    return many or f"{one}s"


def count(value: int, noun: str) -> str:
    """'one follow-up', 'two follow-ups', 'no offers'."""
    if value == 0:
        return f"no {_plural(noun, 0)}"
    return f"{number(value)} {_plural(noun, value)}"


class Count(int):
    """A count in a template: ``{follow_ups_sent:follow-up}`` reads 'two follow-ups'."""

    def __format__(self, spec: str) -> str:
        return count(int(self), spec) if spec else number(int(self))


def _unit(value: int, noun: str, article: str = "a") -> str:
    return f"{article} {noun}" if value == 1 else f"{number(value)} {noun}s"


#: How a length of time is rounded to the unit it is written in: to the nearest
#: (a window's length), down (time passed, time left before a deadline: never
#: more than there is) or up (time before something opens: never sooner).
NEAREST, DOWN, UP = "nearest", "down", "up"
_ROUND = {
    NEAREST: lambda x: math.floor(x + 0.5),
    DOWN: math.floor,
    # A hair over a whole number (float error: 0.1 * 60) is that number.
    UP: lambda x: math.ceil(x - 1e-9),
}


def duration(hours: float, rounding: str = NEAREST) -> str:
    """A length of time: '15 minutes', 'an hour and a half', '22 hours', 'two days',
    'three weeks', rounded to its unit as `rounding` says."""
    to_unit = _ROUND[rounding]
    hours = max(hours, 0.0)
    minutes = to_unit(hours * 60)
    if minutes < 60:
        return _unit(max(minutes, 1), "minute")
    halves = to_unit(hours * 2)
    if halves < 6 and halves % 2:
        return "an hour and a half" if halves == 3 else f"{number(halves // 2)} and a half hours"
    whole_hours = to_unit(hours)
    if whole_hours < 48:
        return _unit(whole_hours, "hour", "an")
    # Whole days, never rounded up but when asked to (a window's length in days too).
    return _days((_ROUND[UP] if rounding == UP else math.floor)(hours / 24), rounding == UP)


def _days(days: int, up: bool = False) -> str:
    """'two days' under two weeks, else weeks, rounded up with `up`, else down."""
    return _unit(days, "day") if days < 14 else _unit(-(-days // 7) if up else days // 7, "week")


def ago(hours: float, calendar_days: int | None = None) -> str:
    """How long ago something happened, `hours` before now.

    With `calendar_days` (the number of midnights in between, when the clock
    is known) a past day reads 'yesterday' or 'two days ago' by the calendar;
    without it days are whole 24-hour periods ('a day ago'). Rounded down: five
    hours and three quarters read 'five hours ago', never more time than has
    passed, so a rule for the first six hours never says 'six hours ago'.
    """
    if hours < JUST_NOW_HOURS:
        return "just now"
    if calendar_days is not None and calendar_days >= 1:
        return "yesterday" if calendar_days == 1 else f"{_days(calendar_days)} ago"
    if hours < 24:
        return f"{duration(hours, DOWN)} ago"
    return f"{_days(math.floor(hours / 24))} ago"


def window_words(start: float, end: float | None, now: float) -> str:
    """When to act, relative to `now` (all in hours after the interview): the time
    before a window opens rounded up, the time left in it rounded down."""
    if start > now:
        opens = f"in {duration(start - now, UP)}"
        return opens + (", no end" if end is None else f", for {duration(end - start)}")
    if end is None:
        return "from now, no end"
    if end <= now:
        return "now"
    return f"from now, within {duration(end - now, DOWN)}"
