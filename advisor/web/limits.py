"""Per-client rate limits on the API (Flask-Limiter).

Who is counted: a caller with an API key (`keys`) under the key's name, with
``ADVISOR_API_KEY_RATE_LIMITS``; anyone else by IP address, with
``ADVISOR_RATE_LIMITS``. Only ``/v1/`` is limited (``/v1/moderate`` also by
``ADVISOR_MODERATE_RATE_LIMITS``), and never a CORS preflight: a browser
reports a refused preflight as a network failure, not a 429. A client over its
limit gets 429 problem+json with ``Retry-After`` (at least 1 second; no other
answer carries it) and the CORS headers, so a page's script can read both.
Behind proxies, ``ADVISOR_PROXY_COUNT`` says how many X-Forwarded-For hops to
trust, so clients are told apart; a forwarded value that is not an IP address
is ignored (`TrustedProxies`).

Counts live in ``ADVISOR_RATE_LIMIT_STORAGE``: ``memory://`` keeps them per
process, ``redis://host:port/db`` shares them between workers and machines.

When Redis fails, the API fails open, with limits: each worker goes on counting
on its own, in memory, with the same limits (so a client gets at most the limit
times the number of workers) until Redis answers again, which Flask-Limiter
tries after 1, 2, 4… up to 32 seconds. Giving up on Redis takes at most
``ADVISOR_RATE_LIMIT_TIMEOUT`` (0.25 s) per attempt, with no retries, whether
Redis is down or holds the connection without answering. Each worker logs one
warning a minute while it counts alone, says when Redis answers again, and
counts in ``advisor_rate_limit_storage_up`` (0 while it counts alone) and
``advisor_rate_limit_fallback_requests_total``. ``/health/ready`` says
``rate_limit_storage: unreachable`` but stays 200: the instance answers
correctly, and a shared Redis failing must not take every instance out of the
load balancer at once.
"""

from __future__ import annotations

import ipaddress
import logging
import time

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from redis.backoff import NoBackoff
from redis.retry import Retry

from . import keys, moderation
from .extension import get_settings
from .observability import Metrics, get_metrics


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


__all__ = ["init_app", "storage_state"]

_LOG = logging.getLogger("advisor.limits")
#: Seconds between two warnings of one worker while the storage does not answer.
WARN_EVERY = 60


def _exempt() -> bool:
    """Not the API, or a CORS preflight."""
    return not request.path.startswith("/v1/") or (
        request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers
    )


def _client() -> str:
    name = keys.caller()
    return f"key:{name}" if name else f"ip:{get_remote_address()}"


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


class _StorageWatch:
    """Notices, after each request, whether the limiter has left the shared storage
    for its in-memory fallback or come back; logs and counts it."""

    def __init__(self, limiter: Limiter, metrics: Metrics):
        self.limiter = limiter
        self.metrics = metrics
        self.clock = time.monotonic
        self.alone = False
        self.warned_at = -float("inf")
        self.since_warning = 0
        metrics.storage_up.set(1)

    def after_request(self, response):
        # The limiter's strategy works on another storage than the configured one
        # exactly while Flask-Limiter counts in memory.
        alone = self.limiter.limiter.storage is not self.limiter.storage
        if alone:
            self.metrics.fallback_requests.inc()
            self.since_warning += 1
            now = self.clock()
            if now - self.warned_at >= WARN_EVERY:
                _LOG.warning(
                    "rate-limit storage unreachable: this worker counts limits alone",
                    extra={"fields": {"requests_counted_alone": self.since_warning}},
                )
                self.warned_at, self.since_warning = now, 0
        elif self.alone:
            _LOG.info("rate-limit storage answers again: limits are shared")
            self.warned_at, self.since_warning = -float("inf"), 0
        if alone != self.alone:
            self.metrics.storage_up.set(0 if alone else 1)
            self.alone = alone
        return response


def storage_state() -> str:
    """``shared`` when the configured Redis answers now, ``unreachable`` when it does
    not, ``per-process`` when counts are kept in memory by design, ``off`` without
    limits."""
    limiter = current_app.extensions["advisor_limiter"]
    if not limiter.enabled:
        return "off"
    if get_settings().rate_limit_storage.startswith("memory://"):
        return "per-process"
    return "shared" if limiter.storage.check() else "unreachable"


def _split(limits: str) -> list[str]:
    return [part.strip() for part in limits.split(";") if part.strip()]


def init_app(app: Flask) -> None:
    settings = get_settings(app)
    # Registered before Flask-Limiter's hook, so it runs after it (Flask runs
    # after-request hooks last registered first).
    app.after_request(_retry_after_only_on_429)
    if settings.proxy_count:
        app.wsgi_app = TrustedProxies(app.wsgi_app, settings.proxy_count)
    anonymous = ";".join(_split(settings.rate_limits))
    keyed = ";".join(_split(settings.api_key_rate_limits))

    def limits_of_client() -> str:
        return keyed if keys.caller() else anonymous

    shared = not settings.rate_limit_storage.startswith("memory://")
    timeout = settings.rate_limit_timeout
    limiter = Limiter(
        _client,
        app=app,
        default_limits=[limits_of_client],
        storage_uri=settings.rate_limit_storage,
        # Give up on Redis quickly and once; counting goes on per worker meanwhile.
        storage_options=(
            {
                "socket_connect_timeout": timeout,
                "socket_timeout": timeout,
                "retry": Retry(NoBackoff(), 0),
            }
            if shared
            else {}
        ),
        in_memory_fallback_enabled=shared,
        in_memory_fallback=[limits_of_client] if shared else None,
        # Requests in flight on one worker when Redis fails: the first moves the worker to
        # the fallback, the others may still meet the error (counting, or the headers);
        # they are answered without the limit rather than with a 500.
        swallow_errors=shared,
        headers_enabled=True,
        enabled=bool(anonymous or (keyed and (settings.api_keys or settings.api_keys_file))),
        key_prefix="advisor",
    )
    limiter.request_filter(_exempt)
    if shared and limiter.enabled:
        app.after_request(_StorageWatch(limiter, get_metrics(app)).after_request)
    if settings.moderate_rate_limits.strip():
        # On top of the limits above: a long text costs far more than an advice.
        limiter.limit(settings.moderate_rate_limits, override_defaults=False)(moderation.bp)
    app.extensions["advisor_limiter"] = limiter
