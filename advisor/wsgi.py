"""The WSGI entry point: ``advisor.wsgi:app``."""

from .web import create_app

app = create_app()
