"""CORS for browser callers of ``/v1/`` and ``/openapi.json`` (flask-cors).

``ADVISOR_CORS_ORIGINS`` lists the origins allowed, comma-separated, each
exactly as a browser sends it (``https://jobs.example.org``); ``*`` (the
default) allows any and answers ``Access-Control-Allow-Origin: *``; an empty
value turns CORS off. No credentials: the API has no cookies or sessions.
"""

from __future__ import annotations

import re

from flask import Flask
from flask_cors import CORS

__all__ = ["EXPOSED_HEADERS", "allowed_origins", "init_app"]

#: Response headers a browser script may read besides the CORS-safelisted ones.
EXPOSED_HEADERS = ("ETag", "Retry-After", "X-Request-ID", "Content-Disposition")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def allowed_origins(setting: str) -> list[str]:
    """The origins in `setting`; a value that is not ``*`` or an origin is an error."""
    origins = [part.strip() for part in setting.split(",") if part.strip()]
    bad = [o for o in origins if o != "*" and not _ORIGIN.match(o)]
    if bad:
        raise ValueError(
            f"ADVISOR_CORS_ORIGINS: not an origin (scheme://host[:port]) or *: {', '.join(bad)}"
        )
    return ["*"] if "*" in origins else origins


def init_app(app: Flask) -> None:
    origins = allowed_origins(app.config["SETTINGS"].cors_origins)
    if not origins:
        return
    CORS(
        app,
        resources={r"/v1/.*": {}, "/openapi.json": {}},
        origins=origins,
        send_wildcard=True,
        supports_credentials=False,
        methods=["GET", "HEAD", "POST", "OPTIONS"],
        allow_headers=["Accept", "Content-Type", "If-None-Match", "X-Request-ID"],
        expose_headers=list(EXPOSED_HEADERS),
        max_age=600,
    )
