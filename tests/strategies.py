"""Hypothesis strategies for interview states."""

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
