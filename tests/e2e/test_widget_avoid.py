"""How the "Not that" warnings are shown (`avoid`), in a real browser.

Collapsed behind a toggle that says how many (the default), open, or hidden,
chosen by the site with an attribute or ``?avoid=`` on /embed. A plan of the
candidate's own that is not advised is shown with its verdict whatever the
setting. The screenshots of /demo's three examples are the pictures in docs/widget.md.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from advisor.web.widget import AVOID_MODES

from .test_widget import advise, results

pytestmark = [pytest.mark.server, pytest.mark.browser]

PLAN = "Three pints, then drive home"
# As on /demo: five days on, thank-you sent and notes written; four steps, three warnings.
STATE = {
    "stage": "after",
    "hours_since": 130,
    "thank_you_sent": True,
    "notes_written": True,
    "plans": [PLAN],
}
PRESET = {
    "stage": "after",
    "hours-since": "130",
    "thank-you-sent": "",
    "notes-written": "",
    "plans": PLAN,
}


def things(n: int) -> str:
    return f"{n} thing{'' if n == 1 else 's'} to avoid"


def expect_own_plan_rejected(section) -> None:
    plans = section.locator("section[aria-label='Your plans'] li")
    expect(plans.locator(".plan-text")).to_have_text([PLAN])
    expect(plans.locator(".badge")).to_have_text(["Not advised"])
    expect(plans.locator(".reason")).to_be_visible()


def embed(api: str, **query: str) -> str:
    return f"{api}/embed?{urlencode({**PRESET, **query})}"


def test_collapsed_by_default_behind_a_toggle_that_counts(api, open_page):
    expected = advise(api, STATE)
    assert expected["avoid"]
    tab = open_page(embed(api), width=560)
    section = results(tab.page)
    warnings = section.locator("section[aria-label='Not that']")
    toggle = warnings.locator("details.avoid > summary")
    expect(toggle).to_have_text(things(len(expected["avoid"])))
    expect(warnings.locator("li.warning").first).to_be_hidden()
    expect_own_plan_rejected(section)
    status = tab.page.locator("interview-advice [role=status]")
    expect(status).to_contain_text(things(len(expected["avoid"])))

    toggle.click()
    expect(warnings.locator(".rejected-advice")).to_have_text(
        [a["advice"] for a in expected["avoid"]]
    )
    expect(warnings.locator("li.warning").first).to_be_visible()
    assert tab.problems() == []


def test_open_shows_every_warning_at_once(api, open_page):
    expected = advise(api, STATE)
    tab = open_page(embed(api, avoid="open"), width=560)
    section = results(tab.page)
    warnings = section.locator("section[aria-label='Not that']")
    expect(warnings.locator("details.avoid")).to_have_count(0)
    rejected = warnings.locator(".rejected-advice")
    expect(rejected).to_have_text([a["advice"] for a in expected["avoid"]])
    for index in range(len(expected["avoid"])):
        expect(rejected.nth(index)).to_be_visible()
    expect_own_plan_rejected(section)
    assert tab.problems() == []


def test_hidden_shows_no_warning_but_the_candidates_own_plan(api, open_page):
    tab = open_page(embed(api, avoid="hidden"), width=560)
    section = results(tab.page)
    expect(section.locator("section[aria-label='Not that']")).to_have_count(0)
    expect(section.locator("li.warning")).to_have_count(0)
    expect_own_plan_rejected(section)
    status = tab.page.locator("interview-advice [role=status]")
    expect(status).to_contain_text("your plan is not advised")
    expect(status).not_to_contain_text("avoid")
    assert tab.problems() == []


def test_the_attribute_on_a_site_switches_without_asking_again(site, open_page):
    tab = open_page(f"{site}/fixed.html")
    page = tab.page
    section = results(page)
    widget = page.locator("interview-advice")
    expect(section.locator("details.avoid")).to_have_count(1)
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    for mode, toggles, warnings in [("hidden", 0, 0), ("open", 0, None), ("bogus", 1, None)]:
        widget.evaluate("(el, mode) => el.setAttribute('avoid', mode)", mode)
        expect(section.locator("details.avoid")).to_have_count(toggles)
        if warnings is not None:
            expect(section.locator("li.warning")).to_have_count(warnings)
        else:
            expect(section.locator("li.warning").first).to_be_attached()
        expect(section.locator("section[aria-label='Your plans'] .badge").first).to_have_text(
            "Not advised"
        )
    assert [url for url in requests if "/v1/" in url] == []
    assert tab.problems() == []


def test_the_demo_shows_each_setting(api, open_page, shot, screenshots):
    tab = open_page(f"{api}/demo", height=1200)
    page = tab.page
    for index, mode in enumerate(AVOID_MODES, start=1):
        figure = page.locator("figure.mode").nth(index - 1)
        expect(figure.locator(":scope > figcaption")).to_contain_text(f'avoid="{mode}"')
        widget = figure.locator("interview-advice")
        expect(widget.locator("section.results")).to_be_visible()
        expect(widget.locator(".plan-text")).to_have_text([PLAN])
        if mode == "collapsed":
            widget.locator("details.avoid > summary").click()
            expect(widget.locator("li.warning").first).to_be_visible()
            widget.locator("details.avoid > summary").click()
        shot(widget, f"16-avoid-{index}-{mode}")
        # From the warnings (or, hidden, the plans) down: the pictures in docs/widget.md.
        first = widget.locator(".results > section").nth(1)
        top, bottom = first.bounding_box(), widget.bounding_box()
        scroll_x, scroll_y = page.evaluate("[scrollX, scrollY]")  # the boxes are in the viewport
        clip = {
            "x": bottom["x"] + scroll_x,
            "y": top["y"] + scroll_y - 12,
            "width": bottom["width"],
            "height": bottom["y"] + bottom["height"] - top["y"] + 12,
        }
        page.screenshot(
            path=screenshots / f"16-avoid-{index}-{mode}-end.png", clip=clip, full_page=True
        )
    assert tab.problems() == []
