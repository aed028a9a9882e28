"""A preset <interview-advice> (attributes, no form) recovers from a failure.

The page is `/embed` with a preset state, served through a small proxy in
front of the real API that answers the first requests for advice as each
test scripts them (a 429 with Retry-After, a 503, a 400…) and passes the rest
to gunicorn. After a failure worth retrying (no answer, 408, 429, 5xx) the
widget shows "Try again", which a mouse or the keyboard presses to ask
again; after a 429 with Retry-After it asks again by itself, once, when that
time has passed (the page's clock is Playwright's, moved on by the test);
after a refusal of the request itself (400, 413, 422) it offers nothing.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import expect

from ..live import gunicorn, http_server
from .test_widget import advise

pytestmark = [pytest.mark.server, pytest.mark.browser]

PRESET = {"stage": "after", "hours_since": 30, "via_agency": True}
QUERY = "stage=after&hours-since=30&via-agency"
UNREACHABLE = "The advice service could not be reached. Check your connection, then try again."
# Counts the page's requests for advice as it makes them (before any answer).
COUNT_REQUESTS = """
window.__adviceRequests = 0;
const fetchFirst = window.fetch;
window.fetch = function (resource, options) {
  if (String(resource).endsWith("/v1/advice")) window.__adviceRequests += 1;
  return fetchFirst.call(this, resource, options);
};
"""
#: Headers of the API's answers that the proxy passes on.
PASSED_ON = ("Content-Type", "Content-Security-Policy", "Retry-After", "X-Content-Type-Options")
#: Answers the proxy gives instead of the API's: drop the connection unanswered, or
#: hold it (until the test lets it go) and then drop it.
DROP = "drop"
STALL = "stall"


def problem(status: int, title: str, **more) -> dict:
    return {"type": "about:blank", "title": title, "status": status, "detail": title, **more}


@dataclass
class Proxy:
    """The API behind a proxy at `base` whose next answers for advice are `script`."""

    base: str = ""
    script: list = field(default_factory=list)
    asked: int = 0  # requests for advice the proxy received
    lock: threading.Lock = field(default_factory=threading.Lock)
    released: threading.Event = field(default_factory=threading.Event)

    def next_answer(self):
        with self.lock:
            self.asked += 1
            return self.script.pop(0) if self.script else None


@contextlib.contextmanager
def proxy_to(api: str):
    proxy = Proxy()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            self._forward(None)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            scripted = proxy.next_answer() if self.path == "/v1/advice" else None
            if scripted == STALL:
                proxy.released.wait(timeout=60)
            if scripted in (DROP, STALL):
                self.close_connection = True
                self.connection.close()
                return
            if scripted is not None:
                status, headers, answer = scripted
                data = json.dumps(answer).encode()
                self._answer(status, {"Content-Type": "application/problem+json", **headers}, data)
                return
            self._forward(body)

        def _forward(self, body):
            request = urllib.request.Request(f"{api}{self.path}", data=body, method=self.command)
            if body is not None:
                request.add_header("Content-Type", self.headers["Content-Type"])
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    status, headers, data = response.status, response.headers, response.read()
            except urllib.error.HTTPError as error:
                status, headers, data = error.code, error.headers, error.read()
            self._answer(status, {n: headers[n] for n in PASSED_ON if n in headers}, data)

        def _answer(self, status, headers, data):
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format, *args):  # quiet: the tests report what matters
            pass

    with http_server(Handler) as base:
        proxy.base = base
        try:
            yield proxy
        finally:
            proxy.released.set()


@pytest.fixture
def proxy(api):
    with proxy_to(api) as running:
        yield running


def open_preset(open_page, proxy, *answers, width=560, clock=True):
    """The preset widget through `proxy`, whose first answers for advice are `answers`;
    with `clock`, the page's timers are Playwright's, moved on only by the test."""
    proxy.script[:] = answers
    tab = open_page("about:blank", width=width)
    tab.page.context.add_init_script(COUNT_REQUESTS)
    if clock:
        tab.page.clock.install()
    tab.page.goto(f"{proxy.base}/embed?{QUERY}")
    return tab


def requests_made(page) -> int:
    return page.evaluate("window.__adviceRequests")


def widget_parts(page):
    widget = page.locator("interview-advice")
    return (
        widget.locator("[role=alert]"),
        widget.locator("[role=status]"),
        widget.get_by_role("button", name="Try again"),
        widget.locator("section.results"),
    )


def expect_advice(page, api) -> None:
    alert, status, again, section = widget_parts(page)
    expect(section).to_be_visible()
    expected = advise(api, PRESET)
    expect(section.locator("ol.steps .step-title")).to_have_text(
        [a["title"] for a in expected["actions"]]
    )
    expect(alert).to_be_empty()
    expect(status).to_contain_text("Advice ready:")
    expect(again).to_have_count(0)  # hidden: out of the accessibility tree


def test_a_429_is_asked_again_once_retry_after_has_passed(api, proxy, open_page, shot):
    refused = (429, {"Retry-After": "7"}, problem(429, "Too Many Requests"))
    tab = open_preset(open_page, proxy, refused)
    page = tab.page
    alert, status, again, section = widget_parts(page)
    expect(alert).to_have_text(
        "Too many requests for advice have come from here just now. "
        "Asking again by itself in 7 seconds."
    )
    expect(again).to_be_visible()
    expect(section).to_be_hidden()
    shot(page, "30-preset-429-asking-again")
    page.clock.run_for(6_000)  # not yet
    assert requests_made(page) == 1
    page.clock.run_for(2_000)  # the 7 seconds and a moment have passed
    expect_advice(page, api)
    assert requests_made(page) == 2
    assert proxy.asked == 2
    assert tab.errors == []
    assert tab.csp_violations() == []


def test_the_automatic_retry_is_one_only(proxy, open_page):
    refused = (429, {"Retry-After": "2"}, problem(429, "Too Many Requests"))
    tab = open_preset(open_page, proxy, *[refused] * 5)
    page = tab.page
    alert, status, again, _ = widget_parts(page)
    expect(alert).to_contain_text("Asking again by itself in 2 seconds.")
    page.clock.run_for(3_000)
    # Refused again: said so, with the button, and no promise of another try.
    expect(alert).to_have_text(
        "Too many requests for advice have come from here just now. Please try again in 2 seconds."
    )
    expect(again).to_be_visible()
    expect(again).to_be_enabled()
    page.clock.run_for(30 * 60_000)  # half an hour on: nothing more by itself
    assert requests_made(page) == 2
    assert proxy.asked == 2
    expect(alert).to_contain_text("Please try again in 2 seconds.")
    # Pressed, it asks again, and that may be followed by one retry by itself: bounded.
    again.click()
    expect(alert).to_contain_text("Asking again by itself in 2 seconds.")
    assert requests_made(page) == 3
    page.clock.run_for(3_000)
    expect(alert).to_contain_text("Please try again in 2 seconds.")
    page.clock.run_for(30 * 60_000)
    assert requests_made(page) == 4
    assert proxy.asked == 4


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            (503, {}, problem(503, "Service Unavailable")),
            "The advice service is having trouble (error 503). Please try again in a moment.",
        ),
        (
            (502, {}, "Bad Gateway"),
            "The advice service is having trouble (error 502). Please try again in a moment.",
        ),
        (
            (504, {}, problem(504, "Gateway Timeout")),
            "The advice service is having trouble (error 504). Please try again in a moment.",
        ),
        (
            (408, {}, problem(408, "Request Timeout")),
            "The advice service could not take this request (error 408). Please try again.",
        ),
        (
            (503, {"Retry-After": "30"}, problem(503, "Service Unavailable")),
            "The advice service is having trouble (error 503). Please try again in 30 seconds.",
        ),
        (
            (429, {"Retry-After": "3600"}, problem(429, "Too Many Requests")),
            "Too many requests for advice have come from here just now. Please try again after",
        ),
        (DROP, UNREACHABLE),
    ],
    ids=["503", "502", "504", "408", "503-retry-after", "429-an-hour", "no-answer"],
)
def test_a_failure_worth_retrying_offers_try_again_and_waits(
    api, proxy, open_page, answer, message
):
    tab = open_preset(open_page, proxy, answer)
    page = tab.page
    alert, status, again, section = widget_parts(page)
    expect(alert).to_contain_text(message)
    expect(again).to_be_visible()
    expect(status).to_have_text("")
    expect(section).to_be_hidden()
    # Nothing by itself but after a 429 that says when (and within five minutes).
    page.clock.run_for(10 * 60_000)
    assert requests_made(page) == 1
    again.click()
    expect_advice(page, api)
    assert requests_made(page) == 2
    assert proxy.asked == 2
    # The candidate who pressed it is taken to the advice.
    assert page.locator("interview-advice").evaluate(
        "h => h.shadowRoot.activeElement?.matches('section.results')"
    )


def test_try_again_from_the_keyboard(api, proxy, open_page, shot):
    unavailable = (503, {}, problem(503, "Service Unavailable"))
    tab = open_preset(open_page, proxy, unavailable, unavailable, width=375, clock=False)
    page = tab.page
    alert, status, again, _ = widget_parts(page)
    expect(again).to_be_visible()
    page.keyboard.press("Tab")  # the first thing to reach on the page
    expect(again).to_be_focused()
    assert again.evaluate("b => getComputedStyle(b).outlineStyle") == "solid"
    shot(page, "32-preset-try-again-focused-375")
    page.keyboard.press("Enter")  # refused again: said again, and the button keeps the focus
    expect(alert).to_have_text(
        "The advice service is having trouble (error 503). Please try again in a moment."
    )
    expect(again).to_be_focused()
    assert proxy.asked == 2
    page.keyboard.press("Space")
    expect_advice(page, api)
    assert proxy.asked == 3
    assert tab.errors == []
    assert tab.csp_violations() == []


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            (400, {}, problem(400, "Bad Request")),
            "The advice service could not take this request (error 400).",
        ),
        (
            (413, {}, problem(413, "Content Too Large")),
            "The advice service could not take this request (error 413).",
        ),
        (
            (422, {}, problem(422, "Unprocessable Content", errors={"hours_since": ["Too big."]})),
            "The advice service could not take the details this page gave:"
            "Hours since it ended – Too big.",
        ),
    ],
    ids=["400", "413", "422"],
)
def test_a_refused_request_offers_no_retry(proxy, open_page, answer, message):
    tab = open_preset(open_page, proxy, answer)
    page = tab.page
    alert, status, again, section = widget_parts(page)
    expect(alert).to_have_text(message)
    expect(again).to_have_count(0)
    page.clock.run_for(10 * 60_000)
    assert requests_made(page) == 1
    assert proxy.asked == 1
    assert tab.errors == []


def test_a_real_rate_limit_is_waited_out(tmp_path, open_page):
    """Against gunicorn's own limit: its Retry-After is long enough for the retry to pass."""
    env = {"ADVISOR_RATE_LIMITS": "1 per 4 seconds"}
    with gunicorn(workers=1, env=env, log=tmp_path / "gunicorn.log") as server:
        tab = open_page("about:blank", width=560)
        tab.page.context.add_init_script(COUNT_REQUESTS)
        # The limit is spent just before the page asks: it is refused, then waits.
        advise(server.base, PRESET)
        tab.page.goto(f"{server.base}/embed?{QUERY}")
        page = tab.page
        alert, status, again, section = widget_parts(page)
        expect(section).to_be_visible(timeout=15_000)
        expect(status).to_contain_text("Advice ready:")
        expect(alert).to_be_empty()
        assert requests_made(page) == 2  # refused, then asked again by itself
    assert tab.errors == []


def test_pressed_into_a_refusal_the_focus_goes_to_why(proxy, open_page):
    unavailable = (503, {}, problem(503, "Service Unavailable"))
    refused = (400, {}, problem(400, "Bad Request"))
    tab = open_preset(open_page, proxy, unavailable, refused, clock=False)
    page = tab.page
    alert, status, again, _ = widget_parts(page)
    again.click()
    expect(alert).to_have_text("The advice service could not take this request (error 400).")
    expect(again).to_have_count(0)
    # The button is gone: the focus is on the alert that says why, not lost to the page.
    assert (
        page.locator("interview-advice").evaluate(
            "h => h.shadowRoot.activeElement?.getAttribute('role')"
        )
        == "alert"
    )
    assert proxy.asked == 2
    assert tab.errors == []


def test_no_answer_in_time_offers_try_again(api, proxy, open_page):
    tab = open_preset(open_page, proxy, STALL)
    page = tab.page
    alert, status, again, _ = widget_parts(page)
    expect(status).to_have_text("Getting your advice…")
    page.clock.run_for(16_000)  # past the widget's 15 seconds
    expect(alert).to_have_text("The advice service took too long to answer. Please try again.")
    expect(again).to_be_visible()
    proxy.released.set()
    page.clock.run_for(10 * 60_000)  # a timeout is not retried by itself
    assert requests_made(page) == 1
    again.click()
    expect_advice(page, api)
    assert requests_made(page) == 2
    assert tab.errors == []


def test_while_asking_the_pressed_button_keeps_the_focus_and_asks_once(proxy, open_page):
    # Inert (aria-disabled) rather than disabled: a disabled button drops the focus, and a
    # screen reader its place, for as long as the request runs.
    proxy.script[:] = [STALL]
    tab = open_page("about:blank", width=560)
    page = tab.page
    page.context.add_init_script(COUNT_REQUESTS)
    page.goto(f"{proxy.base}/embed")
    widget = page.locator("interview-advice")
    widget.locator("#ia-hours_since").fill("2")
    button = widget.get_by_role("button", name="Get advice")
    button.focus()
    page.keyboard.press("Enter")
    expect(widget.locator("[role=status]")).to_have_text("Getting your advice…")
    expect(button).to_have_attribute("aria-disabled", "true")
    expect(button).to_be_focused()
    page.keyboard.press("Enter")  # pressed again while asking: nothing more is sent
    button.click(force=True)  # forced: Playwright itself waits for an aria-disabled button
    assert requests_made(page) == 1
    proxy.released.set()  # the connection closes unanswered
    expect(widget.locator("[role=alert]")).not_to_have_text("")
    expect(button).not_to_have_attribute("aria-disabled", "true")
    assert requests_made(page) == 1
