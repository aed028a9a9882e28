"""The iframe embed (/embed resizing its frame) and the /demo page, in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.server

def frame_height(page) -> float:
    return page.locator("iframe[data-interview-advice]").evaluate(
        "f => f.getBoundingClientRect().height"
    )


def test_the_iframe_resizes_to_its_content(api, site, open_page, shot):
    tab = open_page(f"{site}/framed.html")
    page = tab.page
    iframe = page.locator("iframe[data-interview-advice]")
    frame = page.frame_locator("iframe[data-interview-advice]")
    widget = frame.locator("interview-advice")
    expect(widget.locator("form")).to_be_visible()
    embedded = next(f for f in page.frames if f.url.startswith(f"{api}/embed"))
    assert embedded.title() == "Interview advice · Interview Advisor"

    def body_height() -> float:
        return embedded.evaluate("Math.ceil(document.body.getBoundingClientRect().height)")

    # The page starts the frame at 150 px; the form alone is taller.
    page.wait_for_function(
        "([h]) => document.querySelector('iframe').getBoundingClientRect().height === h",
        arg=[body_height()],
    )
    form_height = frame_height(page)
    assert form_height > 500

    widget.locator("#ia-stage").select_option("after")
    widget.locator("#ia-hours_since").fill("2")
    widget.get_by_role("button", name="Get advice").click()
    expect(widget.locator("section.results")).to_be_visible()
    page.wait_for_function(
        "([h]) => document.querySelector('iframe').getBoundingClientRect().height === h",
        arg=[body_height()],
    )
    assert frame_height(page) > form_height + 400
    assert embedded.evaluate("innerHeight") == body_height()  # no scrolling inside
    shot(page, "09-iframe-resized")
    assert tab.problems() == []


def test_the_embed_page_presets_from_its_query(api, open_page, shot):
    tab = open_page(f"{api}/embed?stage=rejected&hours-since=48&heading=Not+this+time", width=560)
    page = tab.page
    widget = page.locator("interview-advice")
    expect(widget.locator("section.results")).to_be_visible()
    expect(widget.locator("form")).to_have_count(0)
    expect(widget.locator("h2")).to_have_text("Not this time")
    shot(page, "10-embed-preset")
    assert tab.problems() == []


def test_the_demo_snippets_can_be_copied(api, open_page):
    tab = open_page(f"{api}/demo")
    page = tab.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=api)
    page.get_by_role("button", name="Copy: Paste where the widget should appear").first.click()
    expect(page.locator(".copied")).to_have_text("Copied to the clipboard.")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert (
        copied
        == f'<script src="{api}/widget.js" defer></script>\n<interview-advice></interview-advice>'
    )
    assert tab.problems() == []
