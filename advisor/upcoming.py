"""What comes next: the actions that will become due later, and when.

An answer's ``upcoming`` assumes three things: the candidate does what is due
now (`DONE`: the thank-you is sent, the notes are written, the follow-up goes
out…), nothing else about the state changes, and no answer arrives from the
employer (the stage stays as it is).

Time changes what the rules decide only where a condition on a field that
grows with time changes its truth: ``hours_since``, ``day`` and
``hours_past_grace`` (`TIME_FIELDS`). `Forecast` collects the thresholds the
rules test those fields against, turns them into moments for one state (a
day's threshold is the midnight that starts it, by the calendar when the clock
is known; a grace threshold counts from the end of the grace period), and
evaluates the rules at each moment ahead, up to the last one. An action is
upcoming from the first moment it is recommended; an action due now is never
upcoming.

At stage ``closing`` the interview has not ended: nothing is upcoming.
"""

from __future__ import annotations

import bisect
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from .rules import RuleBook, template_values
from .state import InterviewState, assembled

__all__ = ["DONE", "TIME_FIELDS", "Forecast", "Upcoming", "UpcomingRule", "after_doing"]

#: What doing each action changes in the state: a flag set, or a count raised by one.
#: Asking for feedback is not getting it: `feedback_received` is the employer's answer.
DONE: dict[str, dict[str, bool | int]] = {
    "ask-next-steps": {"asked_next_steps": True},
    "write-notes": {"notes_written": True},
    "send-thank-you": {"thank_you_sent": True},
    "brief-referees": {"referees_briefed": True},
    "connect-on-linkedin": {"linkedin_connected": True},
    "follow-up": {"follow_ups_sent": 1},
    "follow-up-via-recruiter": {"follow_ups_sent": 1},
}

#: A condition strictly above a threshold (``gt``, or ``lte`` turning false) changes
#: just after it: the moment it does, to the second.
JUST_AFTER = 1 / 3600


def _hours_marks(value: float, op: str) -> tuple[float, ...]:
    """Where a test of hours against `value` can change: at it, or just after it."""
    if op in ("eq", "not"):
        return (value, value + JUST_AFTER)
    return (value + JUST_AFTER,) if op in ("gt", "lte") else (value,)


def _day_marks(value: float, op: str) -> tuple[int, ...]:
    # Days are whole: whatever the operator, a test of `day` against `value` can
    # change only where the day reaches ceil(value) or floor(value) + 1.
    return tuple(d for d in {math.ceil(value), math.floor(value) + 1} if d >= 0)


def _grace_hours(state: InterviewState, marks) -> list[float]:
    grace = state.grace_hours()
    return [] if grace is None else [grace + m for m in marks]


#: The fact fields that grow with time. For each: where a test `field op value`
#: can change its truth (marks, read from the rules once), and those marks as
#: hours after the interview ended for one state.
TIME_FIELDS: dict[str, tuple[Callable, Callable[[InterviewState, list], list[float]]]] = {
    "hours_since": (_hours_marks, lambda state, marks: marks),
    "day": (_day_marks, lambda state, marks: [state.day_start(d) for d in marks]),
    "hours_past_grace": (_hours_marks, _grace_hours),
}


def after_doing(state: InterviewState, action_ids) -> dict:
    """What changes in `state` once the actions `action_ids` are done (`DONE`), for
    `dataclasses.replace`; the plans are left out."""
    changes: dict = {"plans": ()}
    for action_id in action_ids:
        for name, value in DONE.get(action_id, {}).items():
            if isinstance(value, bool):
                changes[name] = value
            else:
                changes[name] = changes.get(name, getattr(state, name)) + value
    return changes


@dataclass(frozen=True)
class UpcomingRule:
    """One rule that will recommend an upcoming action, and why it will."""

    rule: str
    description: str
    because: str


@dataclass(frozen=True)
class Upcoming:
    """An action that will become due: the advice as it will read, and when it starts.

    `item` is the action as the answer at `starts_hours` gives it (`ActionAdvice`);
    `starts_in_hours` counts from the request's time, and `starts` is the same
    moment as a date-time in the interview's offset, rounded up to the second,
    when the interview's end was given.
    """

    item: object
    starts_hours: float
    starts_in_hours: float
    starts: datetime | None
    fired: tuple[UpcomingRule, ...]

    def __getattr__(self, name):
        # Otherwise read as the action it will be (action, title, window, sources…).
        if name == "item" or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.item, name)


#: The state's fields that time leaves alone (all but the clock and the plans).
_STEADY = operator.attrgetter(
    *(
        f.name
        for f in fields(InterviewState)
        if f.name not in ("hours_since", "interview_ended_at", "plans")
    )
)


class Forecast:
    """The thresholds the rules test time against, read once per rule book.

    Without the interview's end, the moments depend only on the stated
    decision date, and states that agree on everything but the hours, lie
    between the same two moments and get the same actions now get the same
    upcoming actions, told apart only by how far ahead they start: those are
    remembered (at most `memo_size` of them, at least half as many: the latest,
    and those before them, dropped a half at a time rather than one by one).
    """

    def __init__(self, rulebook: RuleBook, memo_size: int):
        self.rulebook = rulebook
        marks: dict[str, set] = {name: set() for name in TIME_FIELDS}
        for rule in rulebook.rules.values():
            if rule.kind != "action":
                continue
            for c in rule.conditions:
                if c.field in TIME_FIELDS:
                    for value in c.value if c.op == "in" else (c.value,):
                        marks[c.field].update(TIME_FIELDS[c.field][0](value, c.op))
        #: Per time field, the marks the rules' thresholds set on it.
        self.marks = {name: sorted(found) for name, found in marks.items() if found}
        self._points: dict[int | None, list[float]] = {}
        self._memo: dict[tuple, tuple] = {}
        self._memo_before: dict[tuple, tuple] = {}
        self._memo_size = memo_size

    def _all_moments(self, state: InterviewState) -> list[float]:
        """Every moment a rule's test of time can change at, for `state`'s clock, in order."""
        return sorted(
            {m for name, marks in self.marks.items() for m in TIME_FIELDS[name][1](state, marks)}
        )

    def moments(self, state: InterviewState) -> list[float]:
        """The moments after `state`'s time at which a rule's test of time can change, in order."""
        if state.stage == "closing":
            return []
        return [m for m in self._all_moments(state) if m > state.hours_since]

    def upcoming(
        self,
        state: InterviewState,
        seen: frozenset[str],
        outcome: Callable[[InterviewState], object],
        actions: Callable[[InterviewState, object, dict, set], list],
    ) -> tuple[Upcoming, ...]:
        """The actions that become due after `state`, whose actions now are those `seen`
        (their ids).

        `outcome(state)` is the rules' outcome for a state (cheap, memoised), whose
        `recommended` names the actions they recommend; `actions(state, outcome,
        values, known)` gives the advised actions (`ActionAdvice`) but those `known`,
        in the answer's order, called only at moments that bring a new action.
        """
        if state.stage == "closing":
            return ()
        now = state.hours_since
        if state.interview_ended_at is None:
            days = state.decision_expected_in_days
            points = self._points.get(days)
            if points is None:
                points = self._points[days] = self._all_moments(state)
            place = bisect.bisect_right(points, now)
            key = (_STEADY(state), seen, place)
            found = self._memo.get(key)
            if found is None:
                found = self._memo_before.get(key)
                if found is None:
                    found = self._find(state, points[place:], seen, outcome, actions)
                self._keep(key, found)
        else:
            found = self._find(state, self.moments(state), seen, outcome, actions)
        return tuple(
            assembled(
                Upcoming,
                {
                    "item": item,
                    "starts_hours": moment,
                    "starts_in_hours": _hours_ahead(now, moment),
                    "starts": _second_after(state.at(moment)),
                    "fired": why,
                },
            )
            for item, moment, why in found
        )

    def _keep(self, key: tuple, found: tuple) -> None:
        """Remember `found` by `key` among the latest; once they are half the memo, they
        become those before them, and those before are dropped."""
        if not self._memo_size:
            return
        self._memo[key] = found
        if len(self._memo) >= max(self._memo_size // 2, 1):
            self._memo_before, self._memo = self._memo, {}

    def _find(self, state, moments, seen, outcome, actions) -> tuple:
        """(action, moment, rules) for each action first recommended at one of `moments`."""
        seen = set(seen)
        done = after_doing(state, seen)
        found = []
        for moment in moments:
            if moment <= state.hours_since:
                continue
            future = state.with_hours(moment, **done)
            reached = outcome(future)
            if reached.recommended <= seen:
                continue
            values = template_values(future)
            for item in actions(future, reached, values, seen):
                seen.add(item.action.id)
                rules = tuple(
                    UpcomingRule(r, self.rulebook.rules[r].description, rule.explain(values))
                    for r, rule in ((r, self.rulebook.rules[r]) for r in item.rules)
                )
                found.append((item, moment, rules))
        return tuple(found)


def _hours_ahead(now: float, moment: float) -> float:
    """`moment - now`, nudged up so that `now` plus it reaches `moment`."""
    ahead = moment - now
    while now + ahead < moment:
        ahead = math.nextafter(ahead, math.inf)
    return ahead


def _second_after(when: datetime | None) -> datetime | None:
    """`when` rounded up to the whole second (answers write times to the second)."""
    if when is None or not when.microsecond:
        return when
    return when.replace(microsecond=0) + timedelta(seconds=1)
