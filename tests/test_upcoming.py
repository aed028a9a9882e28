"""What comes next: every upcoming action is due when its time comes, and nothing
that becomes due later is missing from the list.

Both properties run over any valid state, with hours alone or with the
interview's end in several offsets, and take the answer's own word for what
the candidate does now (the actions due now, done as `advisor.upcoming.DONE`
says) and for when each upcoming action starts.
"""

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.schemas import dump_advice
from advisor.state import FLAGS, MAX_HOURS, InterviewState
from advisor.upcoming import DONE

from .strategies import any_state, examples

COUNTS = ("follow_ups_sent", "competing_offers")
PROPERTY = settings(
    max_examples=examples(300),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _answer(engine, body: dict) -> dict:
    state = InterviewState.parse(body)
    return dump_advice(engine.evaluate(state), state.hours_since)


def _done(body: dict, answer: dict) -> dict:
    """`body` once the candidate has done what `answer` says is due now."""
    body = {k: v for k, v in body.items() if k != "plans"}
    for action in answer["actions"]:
        for name, value in DONE.get(action["id"], {}).items():
            body[name] = value if isinstance(value, bool) else body.get(name, 0) + value
    return body


def _at(body: dict, answer: dict, hours_ahead: float, starts: str | None) -> dict:
    """`body` asked again `hours_ahead` later (at `starts`, when the clock is known)."""
    if "interview_ended_at" in body:
        return {**body, "now": starts}
    return {**body, "hours_since": answer["hours_since"] + hours_ahead}


@PROPERTY
@given(body=any_state)
def test_each_upcoming_action_is_due_when_asked_again_at_its_start(engine, body):
    answer = _answer(engine, body)
    due_now = {a["id"] for a in answer["actions"]}
    starts = [a["starts_in_hours"] for a in answer["upcoming"]]
    assert starts == sorted(starts)
    assert all(hours > 0 for hours in starts)
    done = _done(body, answer)
    for action in answer["upcoming"]:
        assert action["id"] not in due_now
        assert ("starts" in action) == ("interview_ended_at" in body)
        later = _at(done, answer, action["starts_in_hours"], action.get("starts"))
        then = _answer(engine, later)
        assert action["id"] in {a["id"] for a in then["actions"]}, (later, action["id"])
        # As the answer then will give it.
        [same] = [a for a in then["actions"] if a["id"] == action["id"]]
        assert action["rules"] == same["rules"]
        assert action["title"] == same["title"]


@PROPERTY
@given(body=any_state, ahead=st.floats(min_value=0.001, max_value=24 * 400))
def test_an_action_due_later_was_in_upcoming_by_then(engine, body, ahead):
    answer = _answer(engine, body)
    if answer["hours_since"] + ahead > MAX_HOURS or body["stage"] == "closing":
        return
    done = _done(body, answer)
    later_time = None
    if "interview_ended_at" in body:
        now = datetime.fromisoformat(body["now"]) + timedelta(hours=ahead)
        later_time = now.isoformat()
    then = _answer(engine, _at(done, answer, ahead, later_time))
    upcoming = {a["id"]: a["starts_in_hours"] for a in answer["upcoming"]}
    due_now = {a["id"] for a in answer["actions"]}
    for action in then["actions"]:
        if action["id"] not in due_now:
            assert action["id"] in upcoming, action["id"]
            assert upcoming[action["id"]] <= ahead + 1 / 3600


@pytest.mark.parametrize(
    "body",
    [
        {"stage": "closing"},
        {
            "stage": "closing",
            "interview_ended_at": "2026-11-20T16:00:00Z",
            "now": "2026-11-20T16:00:00Z",
        },
    ],
)
def test_nothing_is_upcoming_before_the_interview_ends(engine, body):
    assert _answer(engine, body)["upcoming"] == []


def test_explain_says_which_rule_fires_later_and_when(client):
    body = {
        "stage": "after",
        "via_agency": True,
        "decision_expected_in_days": 3,
        "interview_ended_at": "2026-11-20T16:30:00+01:00",
        "now": "2026-11-20T18:00:00+01:00",
    }
    answer = client.post("/v1/advice?explain=true", json=body).get_json()
    rows = answer["explain_upcoming"]
    assert [r["action"] for r in rows] == [a["id"] for a in answer["upcoming"] for _ in a["rules"]]
    for row in rows:
        [action] = [a for a in answer["upcoming"] if a["id"] == row["action"]]
        assert row["rule"] in action["rules"]
        assert row["because"] in action["because"]
        assert (row["starts"], row["starts_in_hours"]) == (
            action["starts"],
            action["starts_in_hours"],
        )
    plain = client.post("/v1/advice", json=body).get_json()
    assert "explain_upcoming" not in plain
    assert plain["upcoming"] == answer["upcoming"]


def test_an_action_once_done_is_not_recommended_again(engine):
    """Each rule of an action in `DONE` tests what doing it changes, and no longer holds."""
    assert set(DONE) <= set(engine.catalogue.actions)
    for action, changes in DONE.items():
        assert set(changes) <= set(FLAGS + COUNTS), action
        rules = [r for r in engine.rulebook.rules.values() if r.target == action]
        assert rules, action
        for rule in rules:
            assert any(c.field in changes and not c.holds(changes) for c in rule.conditions), (
                rule.id
            )
