"""Browser tests: Debian's headless Chromium, driven by Playwright, against live servers.

- ``api``: the app under gunicorn (``advisor/gunicorn.conf.py``) on a loopback port.
- ``site``: a careers site on another loopback port, so another origin. It
  serves ``pages/`` under a strict Content-Security-Policy that allows the
  API's origin for scripts, requests and frames, and nothing inline;
  ``?hostile`` adds ``pages/hostile.css`` to a page. A page that loads the
  pinned release gets its URL and ``integrity``, hashed here from what the API
  serves (``?tampered``: the hash of something else). Each page holds its own
  ``<head>`` lines and ``<main>`` content; ``pages/layout.html`` puts them in the
  site's frame (head, stylesheet, header). ``careers_site(api)`` serves the same
  site for another API server.
- ``open_page(url, ...)``: a fresh browser context and page that records
  console messages, uncaught errors, dialogs and CSP violations (``Tab``).
- ``shot(target, name)``: a screenshot in ``test-artifacts/screenshots/`` for
  a person to look at.

No browser is downloaded: Chromium must be installed (``make test-all`` installs
it from system-packages.txt); without it every test here fails, saying so.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.server
import os
import re
import shutil
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, sync_playwright

from advisor.web.widget import RELEASE

from ..live import ROOT, gunicorn, http_server

PAGES = Path(__file__).resolve().parent / "pages"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SITE_CSP = (
    "default-src 'none'; script-src 'self' {api}; style-src 'self'; connect-src {api}; "
    "frame-src {api}; img-src 'self'; base-uri 'none'; form-action 'none'"
)
# Runs in every frame before the page's own scripts: CSP violations are kept.
RECORD_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


@dataclass
class Tab:
    """A page and what it reported: console messages, errors, dialogs."""

    page: Page
    console: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def csp_violations(self) -> list[str]:
        found = []
        for frame in self.page.frames:
            found += frame.evaluate("window.__cspViolations || []")
        return found

    def problems(self) -> list[str]:
        """Everything that should not happen on a page: errors, warnings, CSP violations."""
        noisy = [f"console {kind}: {text}" for kind, text in self.console if kind != "log"]
        return self.errors + noisy + [f"CSP: {v}" for v in self.csp_violations()]


def _chromium() -> str:
    path = os.environ.get("ADVISOR_CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.fail(
            "Chromium is not installed, so the browser tests cannot run. `make test-all` installs "
            "Debian's chromium (system-packages.txt) with scripts/system-packages; or set "
            "ADVISOR_CHROMIUM to a Chromium binary.",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def api(tmp_path_factory):
    """The app under gunicorn; its base URL, e.g. http://127.0.0.1:41234."""
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    with gunicorn(workers=2, log=log) as server:
        yield server.base


def _in_layout(page: str) -> str:
    """A page of the site: its ``<head>`` lines and ``<main>`` content in pages/layout.html."""
    head, main = re.fullmatch(r"<head>\n(.*)</head>\n<main>\n(.*)</main>\n", page, re.S).groups()
    layout = (PAGES / "layout.html").read_text(encoding="utf-8")
    return layout.replace("{{HEAD}}", head).replace("{{MAIN}}", main)


class _SiteHandler(http.server.SimpleHTTPRequestHandler):
    api = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(PAGES), **kwargs)

    def do_GET(self):
        url = urlsplit(self.path)
        path = PAGES / url.path.lstrip("/")
        if path.suffix != ".html" or not path.is_file():
            return super().do_GET()
        html = _in_layout(path.read_text(encoding="utf-8")).replace("{{API}}", self.api)
        if "{{INTEGRITY}}" in html:
            pinned = urllib.request.urlopen(f"{self.api}/widget-{RELEASE}.js", timeout=10).read()
            if "tampered" in url.query:
                pinned += b"\n"
            digest = base64.b64encode(hashlib.sha384(pinned).digest()).decode()
            html = html.replace("{{RELEASE}}", RELEASE).replace("{{INTEGRITY}}", f"sha384-{digest}")
        if "hostile" in url.query:
            html = html.replace("<!--HOSTILE-->", '<link rel="stylesheet" href="hostile.css">')
        body = html.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def end_headers(self):
        self.send_header("Content-Security-Policy", SITE_CSP.format(api=self.api))
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format, *args):  # quiet: the tests report what matters
        pass


@contextlib.contextmanager
def careers_site(api: str):
    """Serve pages/ on another port as a site that uses the API at `api`; yield its base URL."""
    with http_server(type("SiteHandler", (_SiteHandler,), {"api": api})) as base:
        yield base


@pytest.fixture(scope="session")
def site(api):
    """The careers site serving pages/ on another port; its base URL."""
    with careers_site(api) as base:
        yield base


@pytest.fixture(scope="session")
def browser():
    executable = _chromium()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser):
    """open_page(url, width=1280, height=900, scale=1): a Tab in a fresh context."""
    contexts = []

    def open_(url: str, width: int = 1280, height: int = 900, scale: float = 1) -> Tab:
        context = browser.new_context(
            viewport={"width": width, "height": height},
            device_scale_factor=scale,
            locale="en-GB",
            timezone_id="Europe/London",
            reduced_motion="reduce",
        )
        contexts.append(context)
        context.add_init_script(RECORD_CSP)
        tab = Tab(context.new_page())
        tab.page.on("console", lambda m: tab.console.append((m.type, m.text)))
        tab.page.on("pageerror", lambda e: tab.errors.append(f"uncaught: {e}"))
        tab.page.on("dialog", lambda d: (tab.errors.append(f"dialog: {d.message}"), d.dismiss()))
        tab.page.goto(url)
        return tab

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def screenshots():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def shot(screenshots):
    """shot(page or locator, name): save a PNG screenshot as a test artifact."""

    def take(target, name: str) -> Path:
        path = screenshots / f"{name}.png"
        if isinstance(target, Page):
            target.screenshot(path=path, full_page=True)
        else:
            target.screenshot(path=path)
        return path

    return take
