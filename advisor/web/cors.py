"""CORS for browser callers of ``/v1/`` and ``/openapi.json`` (flask-cors).

``ADVISOR_CORS_ORIGINS`` lists the origins allowed, comma-separated, each
exactly as a browser sends it (``https://jobs.example.org``); ``*`` (the
default) allows any and answers ``Access-Control-Allow-Origin: *``; an empty
value turns CORS off. No credentials: the API has no cookies or sessions.

flask-cors answers every request, preflights included, through its documented
``CORS(app, ...)`` extension; nothing of its internals is used.

With an allow-list the answer depends on the request's ``Origin``, so every
response of those paths says ``Vary: Origin``, refused origins and requests
without one included (flask-cors says it only when it allows the origin), and
a request without ``Origin`` gets no ``Access-Control-Allow-Origin``.
"""

from __future__ import annotations

from flask import Flask, request
from flask_cors import CORS

from ..config import allowed_origins
from .extension import get_settings

__all__ = ["EXPOSED_HEADERS", "allowed_origins", "cors_options", "init_app"]

#: Response headers a browser script may read besides the CORS-safelisted ones.
EXPOSED_HEADERS = ("ETag", "Retry-After", "X-Request-ID", "Content-Disposition")


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
