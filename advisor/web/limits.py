"""Per-client rate limits on the API (Flask-Limiter).

Limits come from ``ADVISOR_RATE_LIMITS`` and count in
``ADVISOR_RATE_LIMIT_STORAGE``: ``memory://`` keeps counts per process,
``redis://host:port/db`` shares them between workers and machines. Only
``/v1/`` is limited, and ``/v1/moderate`` also by ``ADVISOR_MODERATE_RATE_LIMITS``. A client over its limit gets 429 problem+json with
``Retry-After`` (at least 1 second; no other answer carries it). Behind
proxies, ``ADVISOR_PROXY_COUNT`` says how many X-Forwarded-For hops to trust,
so clients are told apart; a forwarded value that is not an IP address is
ignored (`TrustedProxies`).
"""

from __future__ import annotations

import ipaddress

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from . import moderation


class TrustedProxies:
    """WSGI middleware: the client's address is the one the `count`-th proxy from us
    put in X-Forwarded-For, when that is an IP address; otherwise (fewer hops, a
    host name, a port, anything else) the peer's address stays. Values further
    left were written by the client and are never read."""

    def __init__(self, app, count: int):
        self.app, self.count = app, count

    def __call__(self, environ, start_response):
        hops = environ.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if len(hops) >= self.count:
            try:
                environ["REMOTE_ADDR"] = str(ipaddress.ip_address(hops[-self.count].strip()))
            except ValueError:
                pass
        return self.app(environ, start_response)


def _not_api() -> bool:
    return not request.path.startswith("/v1/")


def _retry_after_only_on_429(response):
    """Keep Flask-Limiter's Retry-After on a 429 only, and never 0 there: it counts
    the seconds left in the window, rounded down."""
    value = response.headers.get("Retry-After")
    if value is None:
        return response
    if response.status_code != 429:
        del response.headers["Retry-After"]
    elif value.lstrip("-").isdigit() and int(value) < 1:
        response.headers["Retry-After"] = "1"
    return response


def init_app(app: Flask) -> None:
    settings = app.config["SETTINGS"]
    # Registered before Flask-Limiter's hook, so it runs after it (Flask runs
    # after-request hooks last registered first).
    app.after_request(_retry_after_only_on_429)
    if settings.proxy_count:
        app.wsgi_app = TrustedProxies(app.wsgi_app, settings.proxy_count)
    limits = [part.strip() for part in settings.rate_limits.split(";") if part.strip()]
    limiter = Limiter(
        get_remote_address,
        app=app,
        default_limits=limits,
        default_limits_exempt_when=_not_api,
        storage_uri=settings.rate_limit_storage,
        headers_enabled=True,
        enabled=bool(limits),
        key_prefix="advisor",
    )
    if settings.moderate_rate_limits.strip():
        # On top of the limits above: a long text costs far more than an advice.
        limiter.limit(settings.moderate_rate_limits, override_defaults=False)(moderation.bp)
    app.extensions["advisor_limiter"] = limiter
