"""POST /v1/advice with Accept: text/calendar: the plan as iCalendar, parsed with icalendar."""

import re
from datetime import datetime, timedelta

import pytest
from icalendar import Calendar

from .apps import make_app

PROBLEM = "application/problem+json"
ENDED = "2026-11-20T16:30:00+01:00"
STATE = {"stage": "after", "interview_ended_at": ENDED, "now": "2026-11-20T18:00:00+01:00"}
CALENDAR = {"Accept": "text/calendar"}


@pytest.fixture(scope="module")
def app(engine):
    return make_app(engine)


def _plan(client, state=STATE):
    """The calendar answered for `state`, parsed by icalendar, which found nothing wrong in it."""
    response = client.post("/v1/advice", json=state, headers=CALENDAR)
    assert response.status_code == 200, response.get_data(as_text=True)
    calendar = Calendar.from_ical(response.data)
    assert [(c.name, c.errors) for c in calendar.walk() if c.errors] == []
    return response, calendar


def _unfolded(raw: bytes) -> list[str]:
    """The content lines of an iCalendar text, unfolded (RFC 5545, 3.1)."""
    return raw.decode().replace("\r\n ", "").split("\r\n")


def _events(calendar):
    return [c for c in calendar.walk("VEVENT")]


def test_the_plan_is_a_calendar_download(client):
    response, calendar = _plan(client)
    assert response.mimetype == "text/calendar"
    assert response.mimetype_params["charset"] == "utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    assert ".ics" in response.headers["Content-Disposition"]
    assert "Accept" in response.headers["Vary"]
    assert str(calendar["VERSION"]) == "2.0"
    assert "Interview Advisor" in str(calendar["PRODID"])


def _expected_events(advice, state) -> list[tuple[str, datetime, datetime]]:
    """(title, start, end) of each event the calendar should have, from the JSON answer:
    each window from `now` on (an upcoming action's from its `starts`), closed windows
    left out, open or empty ones an hour long; the actions due now, then the upcoming."""
    ended, now = (datetime.fromisoformat(state[k]) for k in ("interview_ended_at", "now"))
    events = []
    for action in advice["actions"] + advice["upcoming"]:
        window = action["window"]
        start = ended + timedelta(hours=window["start_hours"])
        end = None if window["end_hours"] is None else ended + timedelta(hours=window["end_hours"])
        if end is not None and (end < now or (end == now and start < end)):
            continue
        start = max(start, now, datetime.fromisoformat(action.get("starts", state["now"])))
        if end is None or end <= start:
            end = start + timedelta(hours=1)
        events.append((action["title"], start, end))
    return events


def _check_events(client, state) -> list:
    advice = client.post("/v1/advice", json=state).get_json()
    _, calendar = _plan(client, state)
    events = _events(calendar)
    expected = _expected_events(advice, state)
    found = [(str(e["SUMMARY"]), e["DTSTART"].dt, e["DTEND"].dt) for e in events]
    assert found == expected
    now = datetime.fromisoformat(state["now"])
    for event in events:
        assert event["DTSTART"].dt.utcoffset() == timedelta(0)
        assert event["DTSTART"].dt >= now
        assert event["DTSTAMP"].dt == now
        assert str(event["TRANSP"]) == "TRANSPARENT"
    return expected


def test_one_event_per_action_in_order_with_its_window_from_now(client):
    expected = _check_events(client, STATE)
    advice = client.post("/v1/advice", json=STATE).get_json()
    now = datetime.fromisoformat(STATE["now"])
    due, later = expected[: len(advice["actions"])], expected[len(advice["actions"]) :]
    # An hour and a half on, every action listed is due already: each starts now.
    assert due
    assert all(start == now for _, start, _ in due)
    # The upcoming ones start when they become due, in that order.
    assert [title for title, _, _ in later] == [a["title"] for a in advice["upcoming"]]
    assert [start for _, start, _ in later] == [
        datetime.fromisoformat(a["starts"]) for a in advice["upcoming"]
    ]
    assert later
    assert all(start > now for _, start, _ in later)


@pytest.mark.parametrize(
    "changes",
    [
        {"decision_expected_in_days": 3},
        {"via_agency": True},
        {"final_round": True, "stage": "next_round"},
        {"decision_expected_in_days": 0, "interview_ended_at": "2026-11-20T10:00:00-05:00"},
    ],
)
def test_upcoming_events_match_the_answer_for_other_states(client, changes):
    state = {**STATE, **changes}
    if "interview_ended_at" in changes:
        state["now"] = "2026-11-21T09:00:00-05:00"
    advice = client.post("/v1/advice", json=state).get_json()
    assert advice["upcoming"], "each of these states has something coming"
    _check_events(client, state)


def test_importing_again_once_an_upcoming_action_is_due_updates_its_event(client):
    _, before = _plan(client)
    advice = client.post("/v1/advice", json=STATE).get_json()
    # Two days on, having done what was due then.
    done = {"thank_you_sent": True, "notes_written": True, "linkedin_connected": True}
    later = {**STATE, **done, "now": "2026-11-22T10:00:00+01:00"}
    now_due = {a["title"] for a in client.post("/v1/advice", json=later).get_json()["actions"]}
    became_due = [a["title"] for a in advice["upcoming"] if a["title"] in now_due]
    assert became_due, "something upcoming then is due two days on"
    _, after = _plan(client, later)
    uid_before = {str(e["SUMMARY"]): str(e["UID"]) for e in _events(before)}
    uid_after = {str(e["SUMMARY"]): str(e["UID"]) for e in _events(after)}
    for title in became_due:
        assert uid_after[title] == uid_before[title]


def test_a_plan_asked_for_a_week_later_starts_now_and_leaves_closed_windows_out(client):
    state = {**STATE, "now": "2026-11-27T16:30:00+01:00"}
    advice = client.post("/v1/advice", json=state).get_json()
    ended = datetime.fromisoformat(ENDED)
    now = datetime.fromisoformat(state["now"])
    closed = [
        a["title"]
        for a in advice["actions"]
        if a["window"]["end_hours"] is not None
        and ended + timedelta(hours=a["window"]["end_hours"]) <= now
    ]
    expected = _check_events(client, state)
    assert expected, "a week on, some advice still belongs on the calendar"
    assert not {title for title, _, _ in expected} & set(closed)
    assert all(start >= now for _, start, _ in expected)


def test_an_open_window_is_a_one_hour_event_at_its_start(client):
    advice = client.post("/v1/advice", json=STATE).get_json()
    open_ids = [a["title"] for a in advice["actions"] if a["window"]["end_hours"] is None]
    assert open_ids, "the example state should have an open-ended action"
    _, calendar = _plan(client)
    for event in _events(calendar):
        if str(event["SUMMARY"]) in open_ids:
            assert event["DTEND"].dt - event["DTSTART"].dt == timedelta(hours=1)


def test_a_window_that_ends_where_it_starts_lasts_an_hour(client):
    # Still in the room: the interview ends now.
    state = {"stage": "closing", "interview_ended_at": ENDED, "now": ENDED}
    _, calendar = _plan(client, state)
    for event in _events(calendar):
        assert event["DTEND"].dt - event["DTSTART"].dt == timedelta(hours=1)


def test_description_has_detail_reason_and_every_source(client):
    advice = client.post("/v1/advice", json=STATE).get_json()
    _, calendar = _plan(client)
    actions = advice["actions"] + advice["upcoming"]
    for event, action in zip(_events(calendar), actions, strict=True):
        description = str(event["DESCRIPTION"])
        assert action["detail"] in description
        assert action["because"] in description
        for source in action["sources"]:
            assert f"{source['publisher']}: “{source['quote']}”" in description


def test_uids_are_unique_and_stable_per_interview_end(client):
    _, first = _plan(client)
    _, again = _plan(client, {**STATE, "now": "2026-11-20T19:00:00+01:00"})
    uids = [str(e["UID"]) for e in _events(first)]
    assert len(set(uids)) == len(uids)
    assert uids == [str(e["UID"]) for e in _events(again)]
    later = {**STATE, "interview_ended_at": "2026-11-20T17:30:00+01:00"}
    _, moved = _plan(client, later)
    assert not set(uids) & {str(e["UID"]) for e in _events(moved)}


def test_lines_are_folded_and_end_in_crlf(client):
    response, _ = _plan(client)
    lines = response.data.split(b"\r\n")
    assert lines[-1] == b""
    assert all(len(line) <= 75 for line in lines)
    assert all(b"\n" not in line for line in lines)


def test_text_is_escaped_and_folded_and_reads_back_exactly(client):
    advice = client.post("/v1/advice", json=STATE).get_json()
    response, calendar = _plan(client)
    actions = advice["actions"] + advice["upcoming"]
    for event, action in zip(_events(calendar), actions, strict=True):
        sources = "\n".join(f"- {c['publisher']}: “{c['quote']}”" for c in action["sources"])
        assert str(event["DESCRIPTION"]) == (
            f"{action['detail']}\n\nWhy: {action['because']}\n\nSources:\n{sources}"
        )
        assert str(event["SUMMARY"]) == action["title"]
    raw = response.data
    for escaped in (rb"\,", rb"\;", rb"\n"):  # the plan has each to escape
        assert escaped in raw
    assert any(line.startswith(b" ") for line in raw.split(b"\r\n"))  # and long lines
    for line in _unfolded(raw):
        name, _, value = line.partition(":")
        if name in ("SUMMARY", "DESCRIPTION"):
            assert not re.search(r"(?<!\\)[,;]", value), line  # every , and ; escaped
    # Folding never splits a UTF-8 character: each folded line decodes on its own.
    for line in raw.split(b"\r\n"):
        line.decode()


def test_without_the_interview_end_is_a_422_naming_it(client):
    response = client.post(
        "/v1/advice", json={"stage": "after", "hours_since": 2}, headers=CALENDAR
    )
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert "interview_ended_at" in response.get_json()["errors"]


def test_times_that_do_not_exist_in_utc_are_a_422(client):
    state = {
        "stage": "after",
        "interview_ended_at": "0001-01-01T00:00:00+05:00",
        "now": "0001-01-01T01:00:00+05:00",
    }
    response = client.post("/v1/advice", json=state, headers=CALENDAR)
    assert response.status_code == 422
    assert "interview_ended_at" in response.get_json()["errors"]


def test_an_invalid_state_is_still_a_422_problem(client):
    response = client.post("/v1/advice", json={"stage": "lunch"}, headers=CALENDAR)
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert "stage" in response.get_json()["errors"]


@pytest.mark.parametrize(
    ("accept", "mimetype"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        ("application/*", "application/json"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", "application/json"),
        ("text/calendar", "text/calendar"),
        ("text/*", "text/calendar"),
        ("application/json;q=0.5, text/calendar", "text/calendar"),
    ],
)
def test_accept_chooses_json_or_calendar(client, accept, mimetype):
    headers = {"Accept": accept} if accept else {}
    response = client.post("/v1/advice", json=STATE, headers=headers)
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert "Accept" in response.headers["Vary"]


@pytest.mark.parametrize("accept", ["image/png", "text/html", "application/xml;q=1, */*;q=0"])
def test_an_unsupported_accept_is_a_406_problem(client, accept):
    response = client.post("/v1/advice", json=STATE, headers={"Accept": accept})
    assert response.status_code == 406
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == 406
    assert "text/calendar" in body["detail"]
