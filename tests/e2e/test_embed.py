"""The iframe embed (/embed resizing its frame) and the /demo page, in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from advisor.web.widget import STATIC

from .test_docs_page import LAYOUT

pytestmark = [pytest.mark.server, pytest.mark.browser]


def fitted(page, embedded) -> float:
    """Wait until the iframe is exactly as tall as its page's body; that height."""
    height = embedded.evaluate("Math.ceil(document.body.getBoundingClientRect().height)")
    page.wait_for_function(
        "h => document.querySelector('iframe').getBoundingClientRect().height === h", arg=height
    )
    assert embedded.evaluate("innerHeight") == height  # nothing scrolls inside
    return height


def test_the_iframe_resizes_to_its_content(api, site, open_page, shot):
    tab = open_page(f"{site}/framed.html")
    page = tab.page
    widget = page.frame_locator("iframe[data-interview-advice]").locator("interview-advice")
    expect(widget.locator("form")).to_be_visible()
    embedded = next(f for f in page.frames if f.url.startswith(f"{api}/embed"))
    assert embedded.title() == "Interview advice · Interview Advisor"

    form_height = fitted(page, embedded)  # the page starts the frame at 150 px
    assert form_height > 500

    widget.locator("#ia-hours_since").fill("2")
    widget.get_by_role("button", name="Get advice").click()
    expect(widget.locator("section.results")).to_be_visible()
    assert fitted(page, embedded) > form_height + 400
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


def test_the_embed_page_sends_its_presets_to_no_one_as_a_referer(api, open_page):
    """The candidate's plans in /embed's address went, as `Referer`, with each request
    the page made: its stylesheet, script, icon and the advice."""
    tab = open_page("about:blank")
    sent = []
    tab.page.on("request", lambda request: sent.append(request.headers.get("referer")))
    tab.page.goto(f"{api}/embed?stage=after&hours-since=3&plans=my%20own%20plan")
    expect(tab.page.locator("interview-advice section.results")).to_be_visible()
    assert len(sent) >= 4
    assert not any(sent)  # none, or empty
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


def test_a_state_the_api_refuses_is_explained(api, open_page, shot):
    tab = open_page(f"{api}/embed?stage=soon&hours-since=lots", width=560)
    alert = tab.page.locator("interview-advice [role=alert]")
    expect(alert).to_be_visible()
    # The page gave the state, not the candidate: no answers of theirs to check, nothing to retry.
    expect(alert).to_contain_text("The advice service could not take the details this page gave:")
    expect(alert.locator("li")).to_have_count(2)
    expect(tab.page.locator("interview-advice").get_by_role("button")).to_have_count(0)
    expect(alert).to_contain_text("Where are you now?")
    expect(alert).to_contain_text("Hours since it ended")
    shot(tab.page, "11-embed-refused-state")
    errors = [text for kind, text in tab.console if kind == "error"]
    assert all("422" in text for text in errors)  # the browser logs the refusal itself


def test_without_constructable_stylesheets_it_links_widget_css(api, open_page):
    tab = open_page(f"{api}/embed")
    page = tab.page
    # The script as stored (no stylesheet built in), in a browser without adoptedStyleSheets.
    page.add_init_script("delete ShadowRoot.prototype.adoptedStyleSheets")
    page.route(
        "**/widget.js",
        lambda route: route.fulfill(path=STATIC / "widget.js", content_type="text/javascript"),
    )
    page.reload()
    link = page.locator("interview-advice link[rel=stylesheet]")
    expect(link).to_have_attribute("href", f"{api}/widget.css")
    button = page.get_by_role("button", name="Get advice")
    expect(button).to_be_visible()
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(36, 81, 199)"
    assert tab.problems() == []


@pytest.mark.parametrize("width", [320, 390])
def test_the_demo_page_fits_a_phone(api, open_page, width):
    tab = open_page(f"{api}/demo", width=width, height=800)
    page = tab.page
    expect(page.locator("interview-advice[stage] section.results").first).to_be_visible()
    expect(page.locator("table.releases code.hash")).to_have_count(3)
    assert page.evaluate(LAYOUT) == {"scroll": 0, "wide": [], "broken": []}
    assert tab.problems() == []


def test_an_iframe_below_the_fold_fits_its_answer_before_it_is_scrolled_to(api, site, open_page):
    """A browser may hold back rendering, and so resize observers, in a frame from
    another origin that is out of sight: the frame still reports its answer's
    height as it arrives, so nothing below it jumps when the reader scrolls."""
    tab = open_page(f"{site}/framed-below.html", width=900, height=700)
    page = tab.page
    frame = page.locator("iframe[data-interview-advice]")
    assert frame.bounding_box()["y"] > 700 * 2  # far below the fold
    embedded = page.frame_locator("iframe[data-interview-advice]").locator("interview-advice")
    expect(embedded.locator("section.results")).to_be_attached()
    inner = next(f for f in page.frames if f.url.startswith(f"{api}/embed"))
    height = inner.evaluate("Math.ceil(document.body.getBoundingClientRect().height)")
    assert height > 600  # the answer, not the loading state
    page.wait_for_function(
        "h => document.querySelector('iframe').getBoundingClientRect().height === h",
        arg=height,
        timeout=5000,
    )
    assert page.evaluate("scrollY") == 0  # nobody scrolled
    assert tab.problems() == []
