"""A careers site that pins one release of the widget with Subresource Integrity.

The page (``pages/pinned.html``, under the site's strict CSP) loads
``/widget-<release>.js`` with its ``integrity`` hash and ``crossorigin``; the
browser runs it only if the bytes match, and it works as ``/widget.js`` does.
A hash of anything else and the browser refuses the script.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from advisor.web.widget import RELEASE

from .test_widget import advise, results

pytestmark = [pytest.mark.server, pytest.mark.browser]


def test_the_pinned_release_runs_under_the_strict_csp(api, site, open_page, shot):
    tab = open_page(f"{site}/pinned.html")
    page = tab.page
    script = page.locator("script[integrity]")
    expect(script).to_have_attribute("src", f"{api}/widget-{RELEASE}.js")
    expect(script).to_have_attribute("integrity", re.compile(r"^sha384-[A-Za-z0-9+/]{64}$"))
    policy = page.reload().headers["content-security-policy"]
    assert f"script-src 'self' {api};" in policy
    assert "unsafe" not in policy
    loaded = page.evaluate("performance.getEntriesByType('resource').map((e) => e.name)")
    assert f"{api}/widget-{RELEASE}.js" in loaded
    assert f"{api}/widget.js" not in loaded

    page.select_option("#ia-stage", "rejected")
    page.fill("#ia-hours_since", "48")
    page.get_by_role("button", name="Get advice").click()
    section = results(page)
    expected = advise(api, {"stage": "rejected", "hours_since": 48})
    expect(section.locator(".step-title")).to_have_text([a["title"] for a in expected["actions"]])
    button = page.locator("interview-advice").get_by_role("button", name="Get advice")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(36, 81, 199)"
    shot(page, "17-pinned-release-with-integrity")
    assert tab.problems() == []


def test_a_script_that_does_not_match_its_hash_is_refused(site, open_page):
    tab = open_page(f"{site}/pinned.html?tampered")
    page = tab.page
    page.wait_for_load_state("load")
    assert page.evaluate("customElements.get('interview-advice') === undefined")
    refusals = [text for kind, text in tab.console if kind == "error" and "integrity" in text]
    assert refusals, tab.console
