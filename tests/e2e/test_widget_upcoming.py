"""'What's next' in <interview-advice>, in a real browser under /embed's strict CSP.

Under the actions due now, the answer's `upcoming` actions are listed in the
order they start: at a date and time in the reader's time zone when the end of
the interview was given (the browser's is Europe/London), else as a wait
("in 5 days").
"""

from __future__ import annotations

import math
from datetime import datetime
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from .test_widget import LONDON, advise, overflow, results

pytestmark = [pytest.mark.server, pytest.mark.browser]

# Each way of giving the time: the state, and the same state as /embed's presets.
SITUATIONS = {
    "hours": (
        {"stage": "after", "hours_since": 2, "thank_you_sent": True},
        {"stage": "after", "hours-since": "2", "thank-you-sent": ""},
    ),
    "date": (
        {
            "stage": "after",
            "interview_ended_at": "2026-11-20T16:30:00+01:00",
            "now": "2026-11-20T18:00:00+01:00",
            "via_agency": True,
        },
        {
            "stage": "after",
            "interview-ended-at": "2026-11-20T16:30:00+01:00",
            "now": "2026-11-20T18:00:00+01:00",
            "via-agency": "",
        },
    ),
}


def wait_words(hours: float) -> str:
    """How the widget says a wait of `hours` (rounding halves up, as JavaScript does)."""
    if hours < 1:
        return f"in {max(1, math.floor(hours * 60 + 0.5))} min"
    if hours < 48:
        n = math.floor(hours + 0.5)
        return f"in {n} hour{'' if n == 1 else 's'}"
    return f"in {math.floor(hours / 24 + 0.5)} days"


def date_words(starts: str) -> str:
    """How the widget says a start time, in the browser's time zone."""
    at = datetime.fromisoformat(starts).astimezone(LONDON)
    return f"{at:%a} {at.day} {at:%b}, {at.hour}:{at:%M}"


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("clock", sorted(SITUATIONS))
def test_whats_next_lists_what_starts_later_and_when(api, open_page, shot, clock, width):
    state, preset = SITUATIONS[clock]
    expected = advise(api, state)
    upcoming = expected["upcoming"]
    assert upcoming  # something is always still to come this early
    tab = open_page(f"{api}/embed?{urlencode(preset)}", width=width)
    page = tab.page
    section = results(page)

    labels = section.locator(":scope > section").evaluate_all(
        "sections => sections.map((s) => s.getAttribute('aria-label'))"
    )
    assert labels[:2] == ["Do this next", "What's next"]  # right under the actions
    items = section.locator('section[aria-label="What\'s next"] ol > li')
    expect(items.locator(".next-title")).to_have_text([u["title"] for u in upcoming])
    if clock == "date":
        expect(items.locator(".when")).to_have_text([date_words(u["starts"]) for u in upcoming])
        expect(items.locator(".when time")).to_have_count(len(upcoming))
        for index, action in enumerate(upcoming):
            expect(items.nth(index).locator("time")).to_have_attribute("datetime", action["starts"])
    else:
        assert all(action.get("starts") is None for action in upcoming)
        expect(items.locator(".when")).to_have_text(
            [wait_words(u["starts_in_hours"]) for u in upcoming]
        )
    later = len(upcoming)
    expect(page.locator("interview-advice [role=status]")).to_contain_text(
        f"{len(expected['actions'])} step{'' if len(expected['actions']) == 1 else 's'} to take, "
        f"{later} more coming later"
    )
    assert overflow(page) == {"page": 0, "wide": []}
    shot(page, f"25-whats-next-{clock}-{width}px")
    assert tab.problems() == []


@pytest.mark.parametrize(
    ("hours", "words"),
    [(0.25, "in 15 min"), (1, "in 1 hour"), (30.5, "in 31 hours"), (72, "in 3 days")],
)
def test_a_wait_is_said_in_minutes_hours_or_days(api, open_page, hours, words):
    """Waits the rules may not produce today, on an answer the page is given."""
    advice = advise(api, SITUATIONS["hours"][0])
    upcoming = advice["upcoming"][0]
    advice["upcoming"] = [{**upcoming, "starts_in_hours": hours}]
    tab = open_page(f"{api}/embed?{urlencode(SITUATIONS['hours'][1])}", width=390)
    tab.page.route(
        "**/v1/advice",
        lambda route: route.fulfill(status=200, json=advice),
    )
    tab.page.reload()
    section = results(tab.page)
    expect(section.locator('section[aria-label="What\'s next"] .when')).to_have_text([words])
    assert tab.problems() == []


def test_an_answer_without_upcoming_shows_no_whats_next(api, open_page):
    """A server from before `upcoming` still gives advice the widget shows."""
    advice = advise(api, SITUATIONS["hours"][0])
    del advice["upcoming"]
    tab = open_page(f"{api}/embed?{urlencode(SITUATIONS['hours'][1])}", width=390)
    tab.page.route("**/v1/advice", lambda route: route.fulfill(status=200, json=advice))
    tab.page.reload()
    section = results(tab.page)
    expect(section.locator(".step-title")).to_have_text([a["title"] for a in advice["actions"]])
    expect(section.locator('section[aria-label="What\'s next"]')).to_have_count(0)
    assert tab.problems() == []
