"""The engine and settings an app answers with, reached through accessors (as the
Flask tutorial reaches its database with ``get_db()``) rather than by string keys.

`create_app` calls `init_app` once, before any other module plugs itself in; views
call `get_engine()` and `get_settings()`, set-up code passes its app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, current_app

if TYPE_CHECKING:
    from ..config import Settings
    from ..engine import Engine

__all__ = ["get_engine", "get_settings", "init_app"]

_ENGINE = "advisor"


def init_app(app: Flask, engine: Engine) -> None:
    """Make `engine` the one `app` answers with."""
    app.extensions[_ENGINE] = engine


def get_engine(app: Flask | None = None) -> Engine:
    """The engine of `app` (by default the app handling this request)."""
    return (app or current_app).extensions[_ENGINE]


def get_settings(app: Flask | None = None) -> Settings:
    """The settings of `app` (by default the app handling this request)."""
    return (app or current_app).config["SETTINGS"]
