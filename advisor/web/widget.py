"""The embeddable widget and its pages.

- ``/widget.js``: the ``<interview-advice>`` custom element. ``static/widget/widget.css``
  is built into it as a string (a constructable stylesheet), so a host page's
  ``style-src`` need not name us; ``/widget.css`` serves the same sheet to
  browsers without constructable stylesheets.
- ``/embed``: the widget alone on a page, for an iframe. Query parameters
  named like the widget's attributes preset the state. It posts its height to
  the parent, where ``/embed-resize.js`` resizes the iframe.
- ``/demo``: both ways to embed, live, with snippets to copy.

The pages send a strict Content-Security-Policy (no inline script or style).
Their other assets come from Flask's ``/static/`` route (``static/widget/``).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, render_template, request

__all__ = ["DEMO_CSP", "EMBED_CSP", "PRESET_ATTRIBUTES", "init_app"]

STATIC = Path(__file__).resolve().parent / "static" / "widget"
CSS_MARKER = "/*WIDGET_CSS*/ null"

_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'"
)
#: /embed may be framed by any site; /demo frames /embed and is framed by no one else.
EMBED_CSP = f"{_POLICY}; frame-ancestors *"
DEMO_CSP = f"{_POLICY}; frame-src 'self'; frame-ancestors 'self'"

#: Attributes of <interview-advice> that /embed takes from its query string.
PRESET_ATTRIBUTES = (
    "heading",
    "stage",
    "hours-since",
    "interview-ended-at",
    "now",
    "via-agency",
    "decision-expected-in-days",
    "asked-next-steps",
    "thank-you-sent",
    "follow-ups-sent",
    "notes-written",
    "feedback-received",
    "final-round",
    "referees-briefed",
    "linkedin-connected",
    "still-interested",
    "competing-offers",
    "plans",
)

bp = Blueprint("widget", __name__)


@cache
def _script() -> bytes:
    """widget.js with widget.css written into it."""
    source = (STATIC / "widget.js").read_text(encoding="utf-8")
    if source.count(CSS_MARKER) != 1:
        raise RuntimeError(f"{STATIC / 'widget.js'}: expected {CSS_MARKER!r} exactly once")
    css = (STATIC / "widget.css").read_text(encoding="utf-8")
    return source.replace(CSS_MARKER, json.dumps(css)).encode()


def _asset(body: bytes, mimetype: str) -> Response:
    """A public asset that any site may load, revalidated by its ETag."""
    response = Response(body, mimetype=mimetype)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.public = True
    response.cache_control.max_age = current_app.config["SETTINGS"].cache_max_age
    response.add_etag()
    return response.make_conditional(request)


def _page(html: str, policy: str) -> Response:
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = policy
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    return response


@bp.get("/widget.js")
def script():
    return _asset(_script(), "text/javascript")


@bp.get("/widget.css")
def stylesheet():
    return _asset((STATIC / "widget.css").read_bytes(), "text/css")


@bp.get("/embed-resize.js")
def resize_script():
    return _asset((STATIC / "embed-resize.js").read_bytes(), "text/javascript")


@bp.get("/embed")
def embed():
    preset = [(name, request.args[name]) for name in PRESET_ATTRIBUTES if name in request.args]
    return _page(render_template("widget/embed.html", preset=preset), EMBED_CSP)


@bp.get("/demo")
def demo():
    return _page(render_template("widget/demo.html", snippets=_snippets(_public_base())), DEMO_CSP)


#: Hosts a developer's own browser sends: the only ones /demo takes from a request.
_LOOPBACK = re.compile(r"^(localhost|127\.[0-9.]+|\[::1\])(:[0-9]{1,5})?$")


def _public_base() -> str:
    """Where this service is reached: ``ADVISOR_PUBLIC_URL``; without it, the
    request's own origin when it is a loopback one (development), else none (the
    snippets' paths are then from the root). A request's Host never reaches the
    snippets or their CSP otherwise."""
    configured = current_app.config["SETTINGS"].public_url
    if configured:
        return configured.rstrip("/")
    if _LOOPBACK.match(request.host):
        return request.host_url.rstrip("/")
    return ""


def _snippets(base: str) -> dict[str, str]:
    """The copy-paste snippets of /demo, for a server at `base` ("": this origin)."""
    sources = f"'self' {base}".rstrip()
    return {
        "script": (
            f'<script src="{base}/widget.js" defer></script>\n<interview-advice></interview-advice>'
        ),
        "theme": (
            "interview-advice {\n"
            "  --ia-accent: #0b6e4f;\n"
            "  --ia-surface: #eef6f2;\n"
            "  --ia-border: #cfe3d9;\n"
            "  --ia-radius: 4px;\n"
            '  --ia-font: "Source Sans 3", system-ui, sans-serif;\n'
            "}"
        ),
        "csp": f"Content-Security-Policy: script-src {sources}; connect-src {sources}",
        "preset": (
            f'<script src="{base}/widget.js" defer></script>\n'
            '<interview-advice stage="after" hours-since="50" via-agency\n'
            '  thank-you-sent notes-written heading="Waiting to hear back?">\n'
            "</interview-advice>"
        ),
        "iframe": (
            f'<iframe src="{base}/embed" title="Interview advice"\n'
            '  data-interview-advice width="100%" height="480" frameborder="0"></iframe>\n'
            f'<script src="{base}/embed-resize.js" async></script>'
        ),
        "resize": (STATIC / "embed-resize.js").read_text(encoding="utf-8"),
    }


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
