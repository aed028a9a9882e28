"""Hypothesis strategies for interview states."""

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import strategies as st

from advisor.state import FLAGS, INTEREST, MAX_COUNT, MAX_DAYS, MAX_HOURS, STAGES


@st.composite
def states(draw):
    """Valid request bodies for POST /v1/advice, thresholds well covered."""
    state = {"stage": draw(st.sampled_from(STAGES))}
    hours = st.one_of(
        st.sampled_from(
            [0, 1, 5.9, 6, 23, 23.99, 24, 25, 48, 72, 96, 119.9, 120, 144, 168, 200, 287.9, 288]
        ),
        st.floats(min_value=0, max_value=MAX_HOURS, allow_nan=False),
        st.integers(min_value=0, max_value=MAX_HOURS),
    )
    if state["stage"] == "closing":
        # Still in the room: any time since the interview ended is refused.
        if draw(st.booleans()):
            state["hours_since"] = 0
    elif draw(st.booleans()):
        state["hours_since"] = draw(hours)
    for flag in FLAGS:
        if draw(st.booleans()):
            state[flag] = draw(st.booleans())
    if draw(st.booleans()):
        state["decision_expected_in_days"] = draw(
            st.one_of(st.none(), st.integers(min_value=0, max_value=MAX_DAYS))
        )
    for count in ("follow_ups_sent", "competing_offers"):
        if draw(st.booleans()):
            state[count] = draw(st.integers(min_value=0, max_value=MAX_COUNT))
    if draw(st.booleans()):
        state["still_interested"] = draw(st.sampled_from(INTEREST))
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
