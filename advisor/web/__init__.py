"""The HTTP layer: a Flask application factory over the advice engine."""

from __future__ import annotations

from flask import Flask

from ..config import Settings
from ..snapshot import load_service
from . import (
    advice,
    catalogue,
    cors,
    docs,
    drafts,
    errors,
    extension,
    health,
    keys,
    limits,
    moderation,
    observability,
    openapi,
    widget,
)

#: Each module plugs itself in with `init_app(app)`, in this order.
MODULES = (
    errors,
    observability,
    limits,
    keys,
    cors,
    health,
    advice,
    catalogue,
    moderation,
    drafts,
    openapi,
    docs,
    widget,
)


def create_app(test_config: dict | None = None) -> Flask:
    """Create the app: defaults, then ``ADVISOR_*`` settings, then test overrides."""
    app = Flask(__name__)
    settings = Settings.from_env()
    app.config.from_mapping(MAX_CONTENT_LENGTH=settings.max_body_bytes, SETTINGS=settings)
    if test_config:
        app.config.from_mapping(test_config)
    app.json.sort_keys = False
    app.json.ensure_ascii = False  # UTF-8 bodies: the quotes' curly apostrophes stay one character
    if app.config.get("ENGINE"):
        extension.init_app(app, app.config["ENGINE"])
    else:  # the settings of the snapshot that loaded, which may be an earlier one
        engine, drafts, app.config["SETTINGS"] = load_service(app.config["SETTINGS"])
        extension.init_app(app, engine)
        app.extensions["advisor_drafts"] = drafts
    for module in MODULES:
        module.init_app(app)
    app.after_request(_no_sniffing)
    return app


def _no_sniffing(response):
    # Browsers take every response as the type it is labelled with, never a guess.
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
