"""The WSGI entry point from a checkout (``wsgi:app``); the package's own is ``advisor.wsgi``."""

from advisor.wsgi import app

__all__ = ["app"]
