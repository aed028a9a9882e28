"""The widget snippets of README.md and docs/widget.md, pasted into a careers page as written.

Each ``html`` block that names the service (``https://ADVISOR``, or
``http://localhost:8000`` in the page to try on one's own machine) goes into a
page of a site on another loopback port, so another origin, with the service's
name replaced by the API's origin as a reader replaces it (a whole page as it
is). The site sends the Content-Security-Policy docs/widget.md gives
(``script-src`` and ``connect-src`` naming the service, ``frame-src`` too for a
frame) over ``default-src 'self'``. Every element must show the widget, every
frame the embedded one (fitted to its content where the snippet brings
``embed-resize.js``), and nothing may go wrong in the console or against the policy.
"""

from __future__ import annotations

import contextlib
import http.server
import re

import pytest
from playwright.sync_api import expect

from ..live import ROOT, http_server
from ..test_docs_examples import blocks

pytestmark = [pytest.mark.server, pytest.mark.browser]

SERVICE = "https://ADVISOR"
#: The service `make run` starts, as a page to try on one's own machine names it.
LOCAL = "http://localhost:8000"
PAGES = [ROOT / "README.md", ROOT / "docs" / "widget.md"]
SNIPPETS = [
    b
    for page in PAGES
    for b in blocks(page)
    if b.lang == "html" and (SERVICE in b.text or LOCAL in b.text)
]
(POLICY,) = {
    line.removeprefix("Content-Security-Policy: ")
    for b in blocks(ROOT / "docs" / "widget.md")
    for line in b.text.splitlines()
    if line.startswith("Content-Security-Policy: ")
}


def page_of(snippet: str, api: str) -> str:
    """A careers page holding `snippet`, with the service named as `api`."""
    html = snippet.replace(SERVICE, api).replace(LOCAL, api)
    if html.lower().startswith("<!doctype html>"):
        return html
    if "<interview-advice" in html and "<script" not in html:
        # A snippet of the element alone: the page loads the widget as the docs say first.
        html = f'<script src="{api}/widget.js" defer></script>\n{html}'
    return (
        '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8">'
        "<title>Careers · Northwind</title></head>\n"
        f"<body>\n<h1>After the interview</h1>\n{html}</body>\n</html>\n"
    )


@contextlib.contextmanager
def one_page_site(html: str, policy: str):
    """Serve `html` at / on another loopback port under `policy`; yield the page's URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = html.encode() if self.path == "/" else b""
            # The page has no icon: the browser's asking for one is no error of the snippet.
            self.send_response(200 if body else 204 if self.path == "/favicon.ico" else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Security-Policy", policy)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):
            pass

    with http_server(Handler) as base:
        yield f"{base}/"


def test_the_docs_show_snippets_of_every_kind():
    kinds = {("iframe" in b.text, "integrity=" in b.text) for b in SNIPPETS}
    assert kinds >= {(False, False), (False, True), (True, False)}
    assert any(b.text.startswith("<!doctype html>") for b in SNIPPETS)
    assert "script-src" in POLICY
    assert "connect-src" in POLICY


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[b.name for b in SNIPPETS])
def test_a_snippet_of_the_docs_works_on_a_careers_page(api, open_page, snippet):
    html = page_of(snippet.text, api)
    policy = f"default-src 'self'; {POLICY.replace(SERVICE, api)}; frame-src {api}"
    with one_page_site(html, policy) as url:
        tab = open_page(url)
        page = tab.page
        elements = page.locator("interview-advice")
        for index in range(elements.count()):
            widget = elements.nth(index)
            shown = widget.get_by_role("button", name="Get advice").or_(
                widget.get_by_text("Do this next")
            )
            expect(shown.first).to_be_visible()
        frames = page.locator("iframe")
        for index in range(frames.count()):
            embedded = page.frame_locator("iframe").nth(index)
            expect(embedded.get_by_role("button", name="Get advice")).to_be_visible()
            if "embed-resize" in html:
                expect(frames.nth(index)).to_have_attribute("style", re.compile(r"height: \d+px"))
        assert elements.count() + frames.count() > 0
        assert tab.problems() == []
