"""Two <interview-advice> on one page of a single-page app, in a real browser.

The site's router replaces its view on each route change, so the widgets are
taken off the page and made anew; a preset node may also be moved. Each
widget keeps to its own shadow root (its labels and regions name its own
controls), shows advice with its quotes every time it is shown, and the page
reports no error and no breach of its strict CSP.
"""

from __future__ import annotations

import pytest
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
