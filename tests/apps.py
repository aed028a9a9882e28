"""Apps for tests that send many requests or change settings."""

from advisor.config import Settings
from advisor.web import create_app


def make_app(engine, **settings):
    """An app on `engine` with rate limits off and `settings` over the defaults."""
    chosen = Settings(**{"rate_limits": "", **settings})
    return create_app({"TESTING": True, "ENGINE": engine, "SETTINGS": chosen})
