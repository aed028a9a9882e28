"""The WSGI entry point: ``advisor.wsgi:app``.

Start-up in one place: the settings are read from the environment once, logging
is set up for the process, and the app is created with those settings.
"""

from .config import Settings
from .web import create_app
from .web.observability import configure_logging

settings = Settings.from_env()
configure_logging(settings.log_level)
app = create_app({"SETTINGS": settings})
