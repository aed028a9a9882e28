"""Two <interview-advice> on one page of a single-page app, in a real browser.

The site's router replaces its view on each route change, so the widgets are
taken off the page and made anew; a preset node may also be moved. Each
widget keeps to its own shadow root (its labels and regions name its own
controls), shows advice with its quotes every time it is shown, and the page
reports no error and no breach of its strict CSP. A form moved while it asks
(for advice, or for a draft) asks again, never claiming a timeout.
"""

from __future__ import annotations

import contextlib

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

pytestmark = [pytest.mark.server, pytest.mark.browser]


def shows_advice(widget) -> None:
    expect(widget.locator("[role=status]")).to_contain_text("Advice ready:")
    expect(widget.locator("[role=alert]")).to_have_text("")
    expect(widget.locator("section.results li").first).to_be_visible()
    assert widget.locator("section.results blockquote").count() > 0


def test_two_widgets_survive_route_changes(site, open_page, shot):
    tab = open_page(f"{site}/spa.html#/advice")
    page = tab.page
    asked, preset = page.locator("#asked"), page.locator("#preset")
    shows_advice(preset)
    expect(preset.get_by_role("heading", name="Five days on")).to_be_visible()
    expect(preset.get_by_text("Not advised", exact=True)).to_be_visible()
    # The form's labels name the form's own controls, not the preset's.
    asked.get_by_label("Hours since it ended").fill("2")
    asked.get_by_role("button", name="Get advice").click()
    shows_advice(asked)
    # Away and back: the widgets are made anew, the preset asks again by itself.
    routes = page.get_by_role("navigation", name="Your applications")
    routes.get_by_role("link", name="Jobs").click()
    expect(page.locator("interview-advice")).to_have_count(0)
    routes.get_by_role("link", name="Advice").click()
    shows_advice(page.locator("#preset"))
    expect(page.locator("#asked").get_by_role("button", name="Get advice")).to_be_visible()
    # The same preset node moved elsewhere on the page shows its advice again.
    page.evaluate("() => document.querySelector('main').append(document.querySelector('#preset'))")
    shows_advice(page.locator("#preset"))
    assert page.evaluate("document.querySelectorAll('interview-advice').length") == 2
    shot(page, "widget-spa")
    assert tab.problems() == []


# The app moves the form node, as a router that keeps a view's nodes for its next visit does.
MOVE_FORM = "() => document.querySelector('main').append(document.querySelector('#asked'))"


class HeldAnswers:
    """A route handler that keeps the widget's requests waiting until `release()`."""

    def __init__(self, page, pattern: str):
        self.page, self.pattern = page, pattern
        self.held, self.released = [], False
        page.route(pattern, self._hold)

    def _hold(self, route) -> None:
        if self.released:
            route.continue_()
        else:
            self.held.append(route)

    def release(self) -> None:
        """Answer every request: the one the move cancelled has nobody waiting for it."""
        self.released = True
        for route in self.held:
            with contextlib.suppress(PlaywrightError):
                route.continue_()


def test_a_form_moved_while_it_asks_asks_again_and_never_claims_a_timeout(site, open_page):
    tab = open_page(f"{site}/spa.html#/advice")
    page = tab.page
    asked = page.locator("#asked")
    status, alert = asked.locator("[role=status]").first, asked.locator("[role=alert]").first
    answers = HeldAnswers(page, "**/v1/advice")
    asked.get_by_label("Hours since it ended").fill("2")
    asked.get_by_role("button", name="Get advice").click()
    expect(status).to_have_text("Getting your advice…")
    with page.expect_request("**/v1/advice") as resent:
        page.evaluate(MOVE_FORM)
        # Moving it cancelled the request: no timeout it did not have, and it asks again.
        expect(alert).to_have_text("")
        expect(status).to_have_text("Getting your advice…")
    assert resent.value.post_data_json["hours_since"] == 2
    answers.release()
    shows_advice(asked)
    assert tab.problems() == []


def test_a_draft_moved_while_it_is_written_is_asked_for_again(site, open_page):
    tab = open_page(f"{site}/spa.html#/advice")
    page = tab.page
    asked = page.locator("#asked")
    asked.get_by_label("Hours since it ended").fill("2")
    asked.get_by_role("button", name="Get advice").click()
    shows_advice(asked)
    panel = asked.locator("details.draft").first
    panel.locator("summary").click()
    status, alert = panel.locator("[role=status]"), panel.locator("[role=alert]")
    drafts = HeldAnswers(page, "**/v1/drafts")
    panel.get_by_role("button", name="Write the draft").click()
    expect(status).to_have_text("Writing your draft…")
    with page.expect_request("**/v1/drafts"):
        page.evaluate(MOVE_FORM)
        expect(alert).to_have_text("")
        expect(status).to_have_text("Writing your draft…")
    drafts.release()
    expect(status).to_contain_text("Draft ready")
    expect(alert).to_have_text("")
    expect(panel.get_by_label("Message", exact=True)).not_to_have_value("")
    assert tab.problems() == []
