"""CORS for browser callers of ``/v1/`` and ``/openapi.json`` (flask-cors).

``ADVISOR_CORS_ORIGINS`` lists the origins allowed, comma-separated, each
exactly as a browser sends it (``https://jobs.example.org``); ``*`` (the
default) allows any and answers ``Access-Control-Allow-Origin: *``; an empty
value turns CORS off. No credentials: the API has no cookies or sessions.

Under ``*``, flask-cors gives every request that is not a preflight the same
headers, whatever its origin. Those are asked of flask-cors once, at start-up,
and added by the hook that stands in for flask-cors's own, so the hot path
skips flask-cors's per-request matching. Preflights, allow-lists and every
other path go through flask-cors's hook unchanged.

With an allow-list the answer depends on the request's ``Origin``, so every
response of those paths says ``Vary: Origin``, refused origins and requests
without one included (flask-cors says it only when it allows the origin), and
a request without ``Origin`` gets no ``Access-Control-Allow-Origin``.
"""

from __future__ import annotations

from flask import Flask, request
from flask_cors import CORS
from flask_cors.core import get_cors_headers, get_cors_options
from werkzeug.datastructures import Headers

from ..config import allowed_origins
from .extension import get_settings

__all__ = ["EXPOSED_HEADERS", "allowed_origins", "cors_options", "init_app"]

#: Response headers a browser script may read besides the CORS-safelisted ones.
EXPOSED_HEADERS = ("ETag", "Retry-After", "X-Request-ID", "Content-Disposition")
#: The request header (as a WSGI key) that makes flask-cors answer differently even
#: to a simple request.
_PRIVATE_NETWORK = "HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK"


def cors_options(origins: list[str]) -> dict:
    """The flask-cors settings for `origins`, resources included."""
    return {
        "resources": {r"/v1/.*": {}, "/openapi.json": {}},
        "origins": origins,
        "send_wildcard": True,
        "supports_credentials": False,
        "methods": ["GET", "HEAD", "POST", "OPTIONS"],
        "allow_headers": ["Accept", "Content-Type", "If-None-Match", "X-Request-ID"],
        "expose_headers": list(EXPOSED_HEADERS),
        "max_age": 600,
        # Under an allow-list, a request without Origin would get the list's origins.
        "always_send": origins == ["*"],
    }


def _cors_hook(app: Flask, options: dict, flask_cors_hook):
    """The after-request hook: flask-cors's answer to a simple request under ``*``,
    worked out once; flask-cors's own hook for everything else."""
    settings = {k: v for k, v in options.items() if k != "resources"}
    answer = tuple(get_cors_headers(get_cors_options(app, settings), Headers(), "GET").items())

    def add_cors_headers(response):
        environ = request.environ
        if (
            _on_cors_path(environ)
            and environ.get("REQUEST_METHOD") != "OPTIONS"
            and _PRIVATE_NETWORK not in environ
        ):
            response.headers.extend(answer)
            return response
        return flask_cors_hook(response)

    return add_cors_headers


def _on_cors_path(environ) -> bool:
    """Whether the request is for a path CORS covers (`cors_options`' resources)."""
    # The raw WSGI value: flask-cors matches request.path, which is PATH_INFO
    # decoded, and a decoded path starts "/v1/" exactly when PATH_INFO does.
    path = environ.get("PATH_INFO", "")
    return path.startswith("/v1/") or path == "/openapi.json"


def _vary_on_origin(response):
    """Say ``Vary: Origin`` on every answer of a CORS path, unless flask-cors did."""
    said = {
        part.strip().lower()
        for field in response.headers.getlist("Vary")
        for part in field.split(",")
    }
    if _on_cors_path(request.environ) and "origin" not in said:
        response.headers.add("Vary", "Origin")
    return response


def init_app(app: Flask) -> None:
    origins = allowed_origins(get_settings(app).cors_origins)
    if not origins:
        return
    options = cors_options(origins)
    if origins != ["*"]:
        # Before flask-cors's hook, so it runs after it and sees its Vary.
        app.after_request(_vary_on_origin)
    # Every response, errors included, passes through the after-request hooks
    # once, so flask-cors need not also wrap the error handlers.
    CORS(app, intercept_exceptions=False, **options)
    if origins == ["*"]:
        hooks = app.after_request_funcs[None]
        if hooks[-1].__name__ != "cors_after_request":
            raise RuntimeError("flask-cors did not register its after-request hook last")
        hooks[-1] = _cors_hook(app, options, hooks[-1])
