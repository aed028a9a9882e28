"""The embeddable widget and its pages.

- ``/widget.js``: the ``<interview-advice>`` custom element. ``static/widget/widget.css``
  is built into it as a string (a constructable stylesheet), so a host page's
  ``style-src`` need not name us; ``/widget.css`` serves the same sheet to
  browsers without constructable stylesheets.
- ``/embed``: the widget alone on a page, for an iframe. Query parameters
  named like the widget's attributes preset the state. It posts its height to
  the parent, where ``/embed-resize.js`` resizes the iframe.
- ``/demo``: both ways to embed, live, with snippets to copy, each way of
  showing the "Not that" warnings (``avoid``), and the pinned release.

Releases: ``/widget.js``, ``/widget.css`` and ``/embed-resize.js`` are the
moving latest (revalidated after ``ADVISOR_CACHE_MAX_AGE``). Each is also
served at a versioned URL (``/widget-1.0.0.js``, ``/widget-1.0.0.css``,
``/embed-resize-1.0.0.js``, the package's version) that never changes: cached
for a year, ``immutable``, and pinned by sites with its Subresource Integrity
hash (``integrity``), which /demo publishes. Earlier releases are kept, built
as they were served, in ``static/widget/releases/<version>/``.

The pages send a strict Content-Security-Policy (no inline script or style).
Their other assets come from Flask's ``/static/`` route (``static/widget/``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import cache
from importlib.metadata import version
from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import NotFound

from .._data import did_you_mean
from ..state import STATE_FIELDS
from .caching import conditional
from .errors import problem, shortened

__all__ = [
    "AVOID_MODES",
    "DEMO_CSP",
    "EMBED_CSP",
    "PRESET_ATTRIBUTES",
    "RELEASE",
    "WIDGET_ATTRIBUTES",
    "init_app",
    "integrity",
    "release_files",
    "releases",
]

STATIC = Path(__file__).resolve().parent / "static" / "widget"
#: Earlier releases, each file as its versioned URL served it.
RELEASES = STATIC / "releases"
CSS_MARKER = "/*WIDGET_CSS*/ null"
CSS_FILE_MARKER = '/*WIDGET_CSS_FILE*/ "widget.css"'

#: The release this server serves at the versioned URLs: the package's version.
RELEASE = version("interview-advisor")
#: Versioned assets stay the same for ever: a year is the longest max-age that counts.
IMMUTABLE_MAX_AGE = 365 * 24 * 3600

_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'"
)
#: /embed may be framed by any site; /demo frames /embed and is framed by no one else.
EMBED_CSP = f"{_POLICY}; frame-ancestors *"
DEMO_CSP = f"{_POLICY}; frame-src 'self'; frame-ancestors 'self'"

#: Attributes of <interview-advice> that are the widget's own, not the state's.
WIDGET_ATTRIBUTES = ("heading", "avoid")
#: Attributes of <interview-advice> that /embed takes from its query string: the
#: widget's own, then each field of the interview state in kebab-case.
PRESET_ATTRIBUTES = (*WIDGET_ATTRIBUTES, *(f.attribute for f in STATE_FIELDS))

#: Values of the `avoid` attribute (how the "Not that" warnings are shown), the default first.
AVOID_MODES = ("collapsed", "open", "hidden")

bp = Blueprint("widget", __name__)


@cache
def _script(stylesheet: str = "widget.css") -> bytes:
    """widget.js with widget.css written into it, linking `stylesheet` where it must."""
    source = (STATIC / "widget.js").read_text(encoding="utf-8")
    for marker in (CSS_MARKER, CSS_FILE_MARKER):
        if source.count(marker) != 1:
            raise RuntimeError(f"{STATIC / 'widget.js'}: expected {marker!r} exactly once")
    css = (STATIC / "widget.css").read_text(encoding="utf-8")
    built = source.replace(CSS_MARKER, json.dumps(css))
    return built.replace(CSS_FILE_MARKER, json.dumps(stylesheet)).encode()


_MIMETYPES = {".js": "text/javascript", ".css": "text/css"}


@cache
def release_files() -> dict[str, bytes]:
    """The files of this release by versioned name, as served: widget-1.0.0.js, …"""
    return {
        f"widget-{RELEASE}.js": _script(f"widget-{RELEASE}.css"),
        f"widget-{RELEASE}.css": (STATIC / "widget.css").read_bytes(),
        f"embed-resize-{RELEASE}.js": (STATIC / "embed-resize.js").read_bytes(),
    }


def integrity(body: bytes) -> str:
    """The Subresource Integrity hash of `body` (sha384), for an ``integrity`` attribute."""
    return "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode()


def _asset(body: bytes, mimetype: str, immutable: bool = False) -> Response:
    """A public asset that any site may load: revalidated by its ETag, or kept for ever."""
    response = Response(body, mimetype=mimetype)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.public = True
    if immutable:
        response.cache_control.max_age = IMMUTABLE_MAX_AGE
        response.cache_control.immutable = True
    else:
        response.cache_control.max_age = current_app.config["SETTINGS"].cache_max_age
    response.add_etag()
    return conditional(response)


def _released(name: str, release: str) -> Response:
    """`name` of `release`: this one's as built, an earlier one's as kept."""
    if release == RELEASE:
        body = release_files().get(name)
    else:
        kept = RELEASES / release / name
        # The route's converter allows no "/", and ".." is no release.
        body = kept.read_bytes() if release not in ("", ".", "..") and kept.is_file() else None
    if body is None:
        raise NotFound(
            f"No release {shortened(release)!r} of this file is served: the releases are "
            f"{', '.join(releases())}; /demo gives the latest's integrity hashes."
        )
    return _asset(body, _MIMETYPES[Path(name).suffix], immutable=True)


def releases() -> list[str]:
    """Every release served at its versioned URLs, oldest first: the kept ones, then this."""
    kept = (path.name for path in RELEASES.iterdir() if path.is_dir())
    return sorted(
        {*kept, RELEASE},
        key=lambda name: tuple(int(p) if p.isdigit() else 0 for p in name.split(".")),
    )


def _page(html: str, policy: str, referrer: str = "strict-origin-when-cross-origin") -> Response:
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = policy
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = referrer
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


@bp.get("/widget-<release>.js")
def released_script(release: str):
    return _released(f"widget-{release}.js", release)


@bp.get("/widget-<release>.css")
def released_stylesheet(release: str):
    return _released(f"widget-{release}.css", release)


@bp.get("/embed-resize-<release>.js")
def released_resize_script(release: str):
    return _released(f"embed-resize-{release}.js", release)


#: Characters an HTML attribute cannot carry: the C0 and C1 controls but tab and line breaks.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@bp.get("/embed")
def embed():
    refused = _misspelt_preset() or _unreadable_preset()
    if refused:
        return _refused_embed(refused)
    preset = [(name, request.args[name]) for name in PRESET_ATTRIBUTES if name in request.args]
    # Its address holds the presets, `plans` a candidate's own text: each request the
    # page makes (its script, stylesheet, icon, the advice) would carry it as Referer,
    # to every log and proxy that keeps that header.
    html = render_template("widget/embed.html", preset=preset)
    return _page(html, EMBED_CSP, referrer="no-referrer")


def _refused_embed(detail: str) -> Response:
    """The 400 of an /embed address with a preset it cannot take: a page saying so to
    a browser that loads it (in the site's frame, where a problem's JSON would be
    shown as it is), the problem to any other client."""
    offered = ["application/problem+json", "application/json", "text/html"]
    if request.accept_mimetypes.best_match(offered) != "text/html":
        return problem(400, "Bad Request", detail)
    html = render_template("widget/embed-problem.html", title="Bad Request", detail=detail)
    response = _page(html, EMBED_CSP, referrer="no-referrer")
    response.status_code = 400
    return response


def _unreadable_preset() -> str | None:
    """The problem with a preset of /embed that no attribute can carry: one given more
    than once (an attribute holds one value: the others would be dropped unseen), or
    one holding a control character."""
    for name in PRESET_ATTRIBUTES:
        values = request.args.getlist(name)
        if len(values) > 1:
            return (
                f"The query parameter {name!r} is given {len(values)} times: give each "
                "preset once, as the widget's attribute takes one value."
            )
        if values and _CONTROL.search(values[0]):
            return f"The query parameter {name!r} holds a control character."
    return None


#: How close a parameter must be to a preset to be taken for a misspelling of it: closer
#: than a site's own short parameters come by chance (`lang` is 0.67 of `plans`).
_PRESET_CLOSENESS = 0.8


def _misspelt_preset() -> str | None:
    """The problem with a query parameter of /embed that is no preset but close to one
    (`hours_since`, the API's name, for `hours-since`): dropped, it would leave the
    frame's advice for another situation without a word. A parameter like no preset
    (a site's own, a cache-buster) is the page's business, and ignored."""
    for name in request.args:
        if name not in PRESET_ATTRIBUTES:
            hint = did_you_mean(name, PRESET_ATTRIBUTES, cutoff=_PRESET_CLOSENESS)
            if hint:
                return (
                    f"The query parameter {shortened(name)!r} is no preset of /embed{hint}: "
                    "presets are named as the widget's attributes, in kebab-case."
                )
    return None


@bp.get("/")
def home():
    """The service's address, opened in a browser: the widget live, with the links on."""
    return redirect(url_for("widget.demo"))


@bp.get("/demo")
def demo():
    base = _public_base()
    pinned = [
        {"name": name, "url": f"{base}/{name}", "integrity": integrity(body)}
        for name, body in release_files().items()
    ]
    html = render_template(
        "widget/demo.html",
        snippets=_snippets(base),
        avoid_modes=AVOID_MODES,
        release=RELEASE,
        pinned=pinned,
    )
    return _page(html, DEMO_CSP)


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
        "avoid": (
            '<interview-advice avoid="open"></interview-advice>\n'
            '<interview-advice avoid="hidden"></interview-advice>\n'
            f'<iframe src="{base}/embed?avoid=hidden" title="Interview advice"\n'
            '  data-interview-advice allow="clipboard-write" width="100%" height="480"\n'
            '  frameborder="0"></iframe>'
        ),
        "pinned": (
            f'<script src="{base}/widget-{RELEASE}.js"\n'
            f'  integrity="{integrity(release_files()[f"widget-{RELEASE}.js"])}"\n'
            '  crossorigin="anonymous" defer></script>\n'
            "<interview-advice></interview-advice>"
        ),
        # The script comes first and is not async: it listens before the frame
        # first reports its height, which it does only when the height changes.
        "iframe": (
            f'<script src="{base}/embed-resize.js"></script>\n'
            f'<iframe src="{base}/embed" title="Interview advice"\n'
            '  data-interview-advice allow="clipboard-write" width="100%" height="480"\n'
            '  frameborder="0"></iframe>'
        ),
        "resize": (STATIC / "embed-resize.js").read_text(encoding="utf-8"),
    }


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
