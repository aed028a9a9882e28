"""The WSGI entry point: ``advisor.wsgi:app``.

Start-up in one place: the settings are read from the environment once, logging
is set up for the process, and the app is created with those settings, then
warmed and its objects frozen before the first request comes.
"""

import gc

from .config import Settings
from .web import create_app, warm_up
from .web.observability import configure_logging

settings = Settings.from_env()
configure_logging(settings.log_level)
app = create_app({"SETTINGS": settings})
# What the app builds on first use is built now, not while a caller waits.
warm_up(app)
# The objects left after start-up (the rules' prepared outcomes, the catalogue,
# the app) live as long as the process: frozen, the garbage collector never
# walks them again, so that a full collection under traffic walks only what was
# made since (docs/performance.md: a pause of a request's whole worker).
gc.collect()
gc.freeze()
