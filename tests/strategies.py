"""Hypothesis strategies for interview states, generated from the state's declaration.

Each field of `advisor.state.STATE_FIELDS` gets values from its kind and
bounds, so a field added there is drawn here without a change. Two things
stay written out because they are about the rules, not the fields: the hours
the rules' thresholds lie around, and how the clock is given (hours, or the
interview's end and now as date-times, never both; none at stage closing).
"""

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import settings
from hypothesis import strategies as st

from advisor.state import (
    MAX_YEAR,
    MIN_YEAR,
    STATE_FIELDS,
    Choice,
    DateTime,
    Flag,
    Integer,
    Number,
    Texts,
)

FIELDS = {f.name: f for f in STATE_FIELDS}


def examples(full: int) -> int:
    """How many examples a property draws: `full` in the full tier; in the fast one
    (the hypothesis profile "fast", see conftest.py) a third of it, but never fewer
    than Hypothesis' own default of 100."""
    if settings.get_current_profile_name() == "fast":
        return min(full, max(100, full // 3))
    return full


#: Hours around the rules' thresholds (a day, the working week, the grace periods).
THRESHOLD_HOURS = [0, 1, 5.9, 6, 23, 23.99, 24, 25, 48, 72, 96, 119.9, 120, 144, 168, 200, 287.9]


def values(kind) -> st.SearchStrategy:
    """Valid values of a field of `kind`, its bounds included."""
    if isinstance(kind, Flag):
        return st.booleans()
    if isinstance(kind, Choice):
        return st.sampled_from(kind.choices)
    if isinstance(kind, Number):
        return st.one_of(
            st.sampled_from([kind.minimum, kind.maximum]),
            st.floats(min_value=kind.minimum, max_value=kind.maximum, allow_nan=False),
            st.integers(min_value=int(kind.minimum), max_value=int(kind.maximum)),
        )
    if isinstance(kind, Integer):
        numbers = st.integers(min_value=kind.minimum, max_value=kind.maximum)
        return st.one_of(st.none(), numbers) if kind.nullable else numbers
    if isinstance(kind, Texts):
        return st.lists(st.text(max_size=kind.max_chars), max_size=kind.max_items)
    raise TypeError(f"no strategy for {kind!r}")


def edges(kind) -> list:
    """Values at and just past the edges of what a field of `kind` accepts, and values
    of the wrong kind."""
    if isinstance(kind, Flag):
        return [True, False, 0, 1, "true"]
    if isinstance(kind, Choice):
        return [*kind.choices, "", kind.choices[0].upper()]
    if isinstance(kind, Number):
        low, high = kind.minimum, kind.maximum
        return [low, -0.0, low - 1, 0.5, high, float(high), high + 0.0001, f"{low}", True]
    if isinstance(kind, Integer):
        low, high = kind.minimum, kind.maximum
        return [low, low - 1, high, high + 1, float(low), 1.0, 0.5, None, True]
    if isinstance(kind, DateTime):
        return [
            "2026-11-20T16:30:00Z",
            "2026-11-20T16:30:00.123456789+05:30",
            "2026-11-25T09:30:00+00:00",
            "2026-11-20T16:30:00",
            "2026-02-30T10:00:00Z",
            f"{MIN_YEAR}-01-01T00:00:00Z",
            f"{MIN_YEAR - 1}-12-31T23:59:59Z",
            f"{MAX_YEAR}-12-31T23:59:59Z",
            f"{MAX_YEAR + 1}-01-01T00:00:00Z",
            "2026-11-20T16:30:00.1234567890+00:00",
        ]
    if isinstance(kind, Texts):
        longest, most = kind.max_chars, kind.max_items
        return [[], ["x" * longest], ["x" * (longest + 1)], ["ok"] * most, ["ok"] * (most + 1)]
    raise TypeError(f"no edges for {kind!r}")


#: Every field's edges, with values no field takes.
edge_values = st.sampled_from(
    [value for f in STATE_FIELDS for value in edges(f.kind)] + [None, "", [], [1], {}]
)


@st.composite
def states(draw):
    """Valid request bodies for POST /v1/advice, thresholds well covered: any of the
    fields that are not the clock or free text, and the time in hours."""
    state = {"stage": draw(values(FIELDS["stage"].kind))}
    hours = FIELDS["hours_since"].kind
    if state["stage"] == "closing":
        # Still in the room: any time since the interview ended is refused.
        if draw(st.booleans()):
            state["hours_since"] = 0
    elif draw(st.booleans()):
        state["hours_since"] = draw(st.sampled_from(THRESHOLD_HOURS) | values(hours))
    for f in STATE_FIELDS:
        if f.required or f.clock or isinstance(f.kind, Texts):
            continue
        if draw(st.booleans()):
            state[f.name] = draw(values(f.kind))
    return state


#: The moment the timed states are asked at.
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


@st.composite
def timed_states(draw):
    """Valid bodies with the interview's end and now as date-times, in several offsets."""
    state = draw(states())
    state.pop("hours_since", None)
    zone = timezone(timedelta(minutes=draw(st.sampled_from([0, 60, -300, 330, 840]))))
    hours = 0 if state["stage"] == "closing" else draw(st.floats(min_value=0, max_value=2000))
    state["interview_ended_at"] = (NOW - timedelta(hours=hours)).astimezone(zone).isoformat()
    state["now"] = NOW.astimezone(zone).isoformat()
    return state


#: States given in hours or by the clock.
any_state = st.one_of(states(), timed_states())
