"""The HTTP layer: a Flask application factory over the advice engine."""

from __future__ import annotations

from flask import Flask

from ..config import Settings
from ..snapshot import load_service
from . import (
    advice,
    caching,
    catalogue,
    cors,
    docs,
    drafts,
    errors,
    extension,
    health,
    hosts,
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
    hosts,
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
    caching,
)


class _App(Flask):
    """Flask, answering its own ``OPTIONS`` without a content type."""

    def make_default_options_response(self):
        # The answer has no content, so no type to claim: Flask's says text/html.
        response = super().make_default_options_response()
        del response.headers["Content-Type"]
        return response


def create_app(test_config: dict | None = None) -> Flask:
    """Create the app: its settings (``SETTINGS`` in `test_config`, else the ``ADVISOR_*``
    environment, read here once), its engine (``ENGINE``, else loaded from the folders
    the settings name), then any other test overrides.

    Every module reads the settings from the app (`get_settings`), never from the
    environment. Logging is the process's to set up (`configure_logging`), not the app's.
    """
    config = dict(test_config or {})
    settings = config.pop("SETTINGS", None) or Settings.from_env()
    engine, drafts = config.pop("ENGINE", None), None
    if engine is None:  # the settings of the snapshot that loaded, which may be an earlier one
        engine, drafts, settings = load_service(settings)
    app = _App(__name__)
    # A path with doubled slashes is a 404, not a redirect: Werkzeug would redirect it
    # to an absolute URL built from the client's Host header, which a shared cache
    # may then hand to everyone.
    app.url_map.merge_slashes = False
    app.config.from_mapping(MAX_CONTENT_LENGTH=settings.max_body_bytes, SETTINGS=settings)
    app.config.from_mapping(config)
    app.json.sort_keys = False
    app.json.ensure_ascii = False  # UTF-8 bodies: the quotes' curly apostrophes stay one character
    extension.init_app(app, engine)
    if drafts is not None:
        app.extensions["advisor_drafts"] = drafts
    for module in MODULES:
        module.init_app(app)
    app.after_request(_no_sniffing)
    return app


def warm_up(app: Flask) -> None:
    """Build what the app builds on first use before it takes its first request (the
    process's choice, made where it starts: `advisor.wsgi`)."""
    advice.warm(app)


def _no_sniffing(response):
    # Browsers take every response as the type it is labelled with, never a guess.
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
