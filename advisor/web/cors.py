"""CORS for browser callers of ``/v1/`` and ``/openapi.json``.

``ADVISOR_CORS_ORIGINS`` lists the origins allowed, comma-separated, each
exactly as a browser sends it (``https://jobs.example.org``); ``*`` (the
default) allows any and answers ``Access-Control-Allow-Origin: *``; an empty
value turns CORS off. No credentials: the API has no cookies or sessions.

One after-request hook answers every request of those paths, preflights and
errors included, with the headers flask-cors gives for `ALLOWED` (the methods,
request headers, exposed headers and preflight lifetime below):
``tests/test_cors_cache.py`` holds them to flask-cors's own, request by
request. flask-cors itself cost some 30 µs a request, mostly in matching
paths and origins against patterns it must treat as regular expressions
(docs/performance.md).

With an allow-list the answer depends on the request's ``Origin``, so every
response of those paths says ``Vary: Origin``, refused origins and requests
without one included, and a request without ``Origin`` gets no
``Access-Control-Allow-Origin``.
"""

from __future__ import annotations

from urllib.parse import unquote

from flask import Flask, request

from ..config import allowed_origins
from .extension import get_settings

__all__ = ["ALLOWED", "EXPOSED_HEADERS", "Cors", "allowed_origins", "init_app"]

#: Response headers a browser script may read besides the CORS-safelisted ones: the
#: rate limit's too (`limits`), so that a page can pace itself as a server can.
EXPOSED_HEADERS = (
    "ETag",
    "Retry-After",
    "X-Request-ID",
    "Content-Disposition",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
)
#: What a preflight may ask for (the body's type, `Accept`, the conditions /openapi.json
#: offers and a request id; not the API key's `Authorization`, which is for servers:
#: browsers call anonymously), and how long a browser may keep the answer.
ALLOWED = {
    "methods": ("GET", "HEAD", "POST", "OPTIONS"),
    "headers": ("Accept", "Content-Type", "If-Match", "If-None-Match", "X-Request-ID"),
    "max_age": 600,
}


def on_cors_path() -> bool:
    """Whether this request is for a path CORS covers: under ``/v1/``, or the document."""
    path = unquote(request.path)  # as flask-cors matches paths
    return path.startswith("/v1/") or path == "/openapi.json"


class Cors:
    """The CORS headers of `origins` (``["*"]`` for any)."""

    def __init__(self, origins: list[str]):
        self.any = origins == ["*"]
        self.allowed = frozenset(origin.casefold() for origin in origins)
        # Lists as flask-cors writes them: sorted, comma-separated.
        self.exposed = ", ".join(sorted(EXPOSED_HEADERS))
        self.methods = ", ".join(sorted(ALLOWED["methods"]))
        self.request_headers = frozenset(name.casefold() for name in ALLOWED["headers"])
        self.max_age = str(ALLOWED["max_age"])

    def add_headers(self, response):
        if not on_cors_path():
            return response
        # The WSGI environment's names of the request's headers: read as they came.
        headers, asked = response.headers, request.environ
        origin = asked.get("HTTP_ORIGIN")
        if self.any:
            allow = "*"
        else:
            headers.add("Vary", "Origin")
            if not origin or origin.casefold() not in self.allowed:
                return response
            allow = origin
        headers.add("Access-Control-Allow-Origin", allow)
        headers.add("Access-Control-Expose-Headers", self.exposed)
        if asked.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK") == "true":
            headers.add("Access-Control-Allow-Private-Network", "false")
        if request.method == "OPTIONS":
            method = asked.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD", "").upper()
            # A part of the methods' text, as flask-cors tests it.
            if method and method in self.methods:
                names = asked.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
                if names:
                    matching = [
                        name
                        for name in (part.strip() for part in names.split(","))
                        if name.casefold() in self.request_headers
                    ]
                    if matching:
                        headers.add("Access-Control-Allow-Headers", ", ".join(sorted(matching)))
                headers.add("Access-Control-Max-Age", self.max_age)
                headers.add("Access-Control-Allow-Methods", self.methods)
        return response


def init_app(app: Flask) -> None:
    origins = allowed_origins(get_settings(app).cors_origins)
    if origins:
        # Every response, errors included, passes through the after-request hooks once.
        app.after_request(Cors(origins).add_headers)
