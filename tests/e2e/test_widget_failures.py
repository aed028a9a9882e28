"""What <interview-advice> does when no advice comes, in a real browser.

Each failure (the server stopped, the site's origin refused by CORS, a 429
with Retry-After, a 500, no answer in time, a proxy's page that is not JSON)
is said in the widget's own words in its alert region, which is in the page
and empty before it, with nothing stale left in the status line; the form
keeps what was typed and can be sent again.
"""

from __future__ import annotations

import json
import math

import pytest
from playwright.sync_api import expect

from ..live import gunicorn
from .conftest import careers_site

pytestmark = [pytest.mark.server, pytest.mark.browser]

UNREACHABLE = "The advice service could not be reached. Check your connection, then try again."
UNREADABLE = "The answer from the advice service could not be read. Please try again in a moment."
TIMED_OUT = "The advice service took too long to answer. Please try again."
PROBLEM = {
    "type": "about:blank",
    "title": "Internal Server Error",
    "status": 500,
    "detail": "Traceback (most recent call last): …",
    "instance": "/v1/advice",
}
PROXY_PAGE = "<!doctype html><title>Bad gateway</title><h1>502 Bad Gateway</h1><hr>nginx"


def ask(page, hours: str = "2") -> None:
    """Fill the form and send it, once the alert region is in place and silent."""
    widget = page.locator("interview-advice")
    alert = widget.locator("[role=alert]")
    expect(alert).to_be_attached()
    expect(alert).to_have_attribute("aria-live", "assertive")
    widget.locator("#ia-hours_since").fill(hours)
    widget.locator("#ia-plans").fill("Send a thank-you tonight")
    widget.get_by_role("button", name="Get advice").click()


def expect_failure(page, message: str) -> None:
    """The widget says `message`, and only that, and the form is as it was and usable."""
    widget = page.locator("interview-advice")
    alert = widget.locator("[role=alert]")
    expect(alert).to_have_text(message)
    expect(alert.locator("p")).to_have_count(1)
    assert "null" not in alert.text_content()
    expect(alert).to_be_visible()
    expect(widget.locator("[role=status]")).to_have_text("")
    expect(widget.locator("section.results")).to_be_hidden()
    expect(widget.get_by_role("button", name="Get advice")).to_be_enabled()
    expect(widget.locator("#ia-hours_since")).to_have_value("2")
    expect(widget.locator("#ia-plans")).to_have_value("Send a thank-you tonight")


def expect_recovered(page) -> None:
    """Sent again once the cause is gone, the advice comes and the failure is cleared."""
    widget = page.locator("interview-advice")
    widget.get_by_role("button", name="Get advice").click()
    expect(widget.locator("section.results")).to_be_visible()
    expect(widget.locator("[role=alert]")).to_be_empty()
    expect(widget.locator("[role=status]")).to_contain_text("Advice ready:")


def retry_words(seconds: int) -> str:
    """How the widget says a Retry-After of `seconds` (under an hour)."""
    if seconds < 60:
        return f"in {seconds} second{'' if seconds == 1 else 's'}"
    minutes = math.ceil(seconds / 60)
    return f"in {minutes} minute{'' if minutes == 1 else 's'}"


def test_a_stopped_server_is_reported_and_the_form_kept(tmp_path, open_page, shot):
    with gunicorn(workers=1, log=tmp_path / "gunicorn.log") as server:
        tab = open_page(f"{server.base}/embed", width=560)
        expect(tab.page.locator("interview-advice form")).to_be_visible()
    ask(tab.page)
    expect_failure(tab.page, UNREACHABLE)
    shot(tab.page, "12-failure-server-stopped")
    # Sent again, it fails again and says so again: nothing is stuck.
    tab.page.locator("interview-advice").get_by_role("button", name="Get advice").click()
    expect_failure(tab.page, UNREACHABLE)
    assert tab.errors == []
    assert tab.csp_violations() == []


def test_an_origin_refused_by_cors_is_reported(tmp_path, open_page):
    env = {"ADVISOR_CORS_ORIGINS": "https://jobs.example.org"}
    with (
        gunicorn(workers=1, env=env, log=tmp_path / "gunicorn.log") as server,
        careers_site(server.base) as site,
    ):
        tab = open_page(f"{site}/careers.html")
        ask(tab.page)
        expect_failure(tab.page, UNREACHABLE)
    refusals = [text for kind, text in tab.console if kind == "error" and "CORS" in text]
    assert refusals, tab.console  # the browser itself says why
    assert tab.errors == []
    assert tab.csp_violations() == []


def test_too_many_requests_says_when_to_try_again(tmp_path, open_page, shot):
    env = {"ADVISOR_RATE_LIMITS": "1 per minute"}
    with gunicorn(workers=1, env=env, log=tmp_path / "gunicorn.log") as server:
        tab = open_page(f"{server.base}/embed", width=560)
        page = tab.page
        ask(page)
        expect(page.locator("interview-advice section.results")).to_be_visible()
        with page.expect_response(lambda r: r.url.endswith("/v1/advice")) as answer:
            page.locator("interview-advice").get_by_role("button", name="Get advice").click()
        assert answer.value.status == 429
        retry_after = int(answer.value.headers["retry-after"])
        assert 1 <= retry_after <= 60
        expect_failure(
            page,
            "Too many requests for advice have come from here just now. "
            f"Please try again {retry_words(retry_after)}.",
        )
        shot(page, "13-failure-too-many-requests")
    assert tab.errors == []


@pytest.mark.parametrize(
    ("retry_after", "when"),
    [("7", "in 7 seconds"), ("90", "in 2 minutes"), ("soon", "in a minute")],
)
def test_retry_after_is_read_in_seconds_or_not_at_all(api, open_page, retry_after, when):
    tab = open_page(f"{api}/embed", width=560)
    problem = {**PROBLEM, "title": "Too Many Requests", "status": 429}
    tab.page.route(
        "**/v1/advice",
        lambda route: route.fulfill(
            status=429,
            headers={"Retry-After": retry_after},
            content_type="application/problem+json",
            body=json.dumps(problem),
        ),
    )
    ask(tab.page)
    expect_failure(
        tab.page,
        f"Too many requests for advice have come from here just now. Please try again {when}.",
    )


def test_a_server_error_is_reported_in_the_widgets_words(api, open_page, shot):
    tab = open_page(f"{api}/embed", width=560)
    tab.page.route(
        "**/v1/advice",
        lambda route: route.fulfill(
            status=500, content_type="application/problem+json", body=json.dumps(PROBLEM)
        ),
    )
    ask(tab.page)
    expect_failure(
        tab.page,
        "The advice service is having trouble (error 500). Please try again in a moment.",
    )
    shot(tab.page, "14-failure-server-error")
    tab.page.unroute("**/v1/advice")
    expect_recovered(tab.page)
    assert tab.errors == []


def test_no_answer_in_time_is_a_timeout(api, open_page):
    tab = open_page(f"{api}/embed", width=560)
    page = tab.page
    page.clock.install()
    page.route("**/v1/advice", lambda route: None)  # never answered
    ask(page)
    expect(page.locator("interview-advice [role=status]")).to_have_text("Getting your advice…")
    page.clock.fast_forward(14_000)
    expect(page.locator("interview-advice [role=status]")).to_have_text("Getting your advice…")
    page.clock.fast_forward(1_500)  # past the widget's 15 seconds
    expect_failure(page, TIMED_OUT)
    page.unroute("**/v1/advice")
    expect_recovered(page)
    assert tab.errors == []


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (200, UNREADABLE),
        (502, "The advice service is having trouble (error 502). Please try again in a moment."),
    ],
)
def test_a_proxy_page_instead_of_json_is_reported(api, open_page, shot, status, message):
    tab = open_page(f"{api}/embed", width=560)
    tab.page.route(
        "**/v1/advice",
        lambda route: route.fulfill(status=status, content_type="text/html", body=PROXY_PAGE),
    )
    ask(tab.page)
    expect_failure(tab.page, message)
    shot(tab.page, f"15-failure-proxy-page-{status}")
    tab.page.unroute("**/v1/advice")
    expect_recovered(tab.page)
    assert tab.errors == []


def test_json_that_is_not_advice_is_unreadable(api, open_page):
    tab = open_page(f"{api}/embed", width=560)
    tab.page.route(
        "**/v1/advice",
        lambda route: route.fulfill(status=200, content_type="application/json", body="null"),
    )
    ask(tab.page)
    expect_failure(tab.page, UNREADABLE)
    assert tab.errors == []
