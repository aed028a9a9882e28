"""Per-client rate limits on the API, counted with the `limits` library.

Who is counted: a caller with an API key (`keys`) under the key's name, with
``ADVISOR_API_KEY_RATE_LIMITS``; anyone else by IP address, with
``ADVISOR_RATE_LIMITS``. Only the routes of ``/v1/`` are limited, each route
with a budget of its own (``/v1/moderate`` also by
``ADVISOR_MODERATE_RATE_LIMITS``), and never a CORS preflight: a browser
reports a refused preflight as a network failure, not a 429. Each limit is a
fixed window; the shortest is counted first, and a request over one limit is
not counted against the longer ones. A counted answer carries
``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` of
the limit it broke, else of the shortest. A long text costs its length to
screen, so each request's body past its first ``FREE_BODY_BYTES`` (1 KiB: an
advice without long plans never gets there) also counts, byte by byte, against
the client's text limits (``ADVISOR_TEXT_RATE_LIMITS``, per key
``ADVISOR_API_KEY_TEXT_RATE_LIMITS``), one budget for every route, counted once
the body is read (`RateLimits.charge_text`). A client over its limit gets 429
problem+json with ``Retry-After`` (at least 1 second; no other answer carries
it) and the CORS headers, so a page's script can read both.
Behind proxies, ``ADVISOR_PROXY_COUNT`` says how many X-Forwarded-For hops to
trust, so clients are told apart; a forwarded value that is not an IP address
is ignored (`TrustedProxies`). An IPv6 client is counted by its /64 network,
every address of which is its own to use, and an IPv4 address mapped into
IPv6 as the IPv4 address (`counted_address`).

Counts live in ``ADVISOR_RATE_LIMIT_STORAGE``: ``memory://`` keeps them per
process, ``redis://host:port/db`` shares them between workers and machines
(under the keys Flask-Limiter, which counted them before, used: instances of
either kind share one Redis's counts).

When Redis fails, the API fails open, with limits: each worker goes on counting
on its own, in memory, with the same limits (so a client gets at most the limit
times the number of workers) until Redis answers again, which is tried after
1, 2, 4… up to 32 seconds. Giving up on Redis takes at most
``ADVISOR_RATE_LIMIT_TIMEOUT`` (0.25 s) per attempt, with no retries, whether
Redis is down or holds the connection without answering. Each worker logs one
warning a minute while it counts alone, says when Redis answers again, and
counts in ``advisor_rate_limit_storage_up`` (0 while it counts alone) and
``advisor_rate_limit_fallback_requests_total``. ``/health/ready`` says
``rate_limit_storage: unreachable`` but stays 200: the instance answers
correctly, and a shared Redis failing must not take every instance out of
the load balancer at once.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import math
import threading
import time
from typing import NamedTuple

from flask import Flask, current_app, g, request
from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from redis.backoff import NoBackoff
from redis.retry import Retry
from werkzeug.exceptions import TooManyRequests

from . import keys, moderation
from .body import FREE_BODY_BYTES
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


__all__ = [
    "Counted",
    "RateLimits",
    "TrustedProxies",
    "WindowCounts",
    "counted_address",
    "init_app",
    "storage_state",
]

_LOG = logging.getLogger("advisor.limits")
#: Seconds between two warnings of one worker while the storage does not answer.
WARN_EVERY = 60
#: Seconds before the shared storage is tried again, doubled at each failure up to the last.
RETRY_AFTER_SECONDS = (1, 2, 4, 8, 16, 32)
#: The first part of every key in the storage.
KEY_PREFIX = "advisor"


def _exempt() -> bool:
    """Not a route of the API, or a CORS preflight."""
    return (
        request.endpoint is None
        or not request.path.startswith("/v1/")
        or (request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers)
    )


#: The length of the IPv6 prefix a client is counted by: a subscriber is given a /64 (or
#: more), so counting each address would let one client take 2**64 budgets.
IPV6_PREFIX = 64


@functools.lru_cache(maxsize=4096)
def _counted_ipv6(address: str) -> str:
    try:
        ip = ipaddress.IPv6Address(address)
    except ValueError:
        return address
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    network = int(ip) >> (128 - IPV6_PREFIX) << (128 - IPV6_PREFIX)  # any zone dropped
    return str(ipaddress.IPv6Network((network, IPV6_PREFIX)))


def counted_address(address: str) -> str:
    """Whom a request from `address` is counted as: an IPv4 address itself, an IPv4
    address mapped into IPv6 (``::ffff:192.0.2.1``) as that IPv4 address, any other
    IPv6 address as its /64 network, however it is spelt."""
    return _counted_ipv6(address) if ":" in address else address


def _limits(setting: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(setting)) if setting.strip() else ()


class WindowCounts:
    """Fixed-window counts in this process's memory, for ``memory://`` and for the
    fallback while Redis does not answer: the part of the `limits` library's storage
    interface the limits use (``incr``, ``get_expiry``, ``check``).

    The library's own MemoryStorage starts a thread every 10 ms of traffic to walk
    every key for expired windows (waiting for those threads to start was 7% of an
    advice request: docs/performance.md); here an expired window is replaced when its key comes
    again, and the keys are swept for expired windows only once their number has
    doubled since the last sweep, so memory stays bounded by the clients of the
    longest window.

    Windows are timed by the monotonic `clock`, so a step of the system clock
    (NTP, an operator's `date -s`) neither holds a client out for the length of a
    step back nor opens a fresh window on a step forward; `get_expiry` says when a
    window ends on the `wall` clock, as the library's storages do.
    """

    def __init__(self):
        self._windows: dict[str, list] = {}  # key: [count, when the window ends]
        self._sweep_at = 1024
        self._lock = threading.Lock()
        self.clock = time.monotonic
        self.wall = time.time

    def __len__(self) -> int:
        """How many windows are held, ended ones not yet swept included."""
        return len(self._windows)

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Add `amount` to `key`'s count in its window, opening a window of `expiry`
        seconds when none is open; the count."""
        now = self.clock()
        with self._lock:
            window = self._windows.get(key)
            if window is None or window[1] <= now:
                if len(self._windows) >= self._sweep_at:
                    self._sweep(now)
                window = self._windows[key] = [0, now + expiry]
            window[0] += amount
            return window[0]

    def get_expiry(self, key: str) -> float:
        """When `key`'s window ends, in seconds since the epoch (now, when none is open)."""
        window = self._windows.get(key)
        now = self.clock()
        return self.wall() + (max(window[1], now) - now if window is not None else 0)

    def check(self) -> bool:
        """Always answers: the storage's health check."""
        return True

    def _sweep(self, now: float) -> None:
        self._windows = {key: w for key, w in self._windows.items() if w[1] > now}
        self._sweep_at = max(1024, 2 * len(self._windows))


class Counted(NamedTuple):
    """What a request was counted against: the limit its answer reports (the one it
    broke, else the shortest), that limit's count with this request, and when its
    window ends (seconds since the epoch: `reset` rounded up for
    ``X-RateLimit-Reset``, `ends` as the storage says)."""

    limit: RateLimitItem
    count: int
    reset: int
    ends: float

    @property
    def broken(self) -> bool:
        return self.count > self.limit.amount


class RateLimits:
    """An app's limits and where they are counted: `check` before each request,
    `add_headers` after it.

    With `metrics`, the storage is shared and the limits fail open: while it does
    not answer, counting goes on in this process's memory (`fallback`), logged and
    counted in `metrics`.
    """

    def __init__(
        self,
        storage: Storage | WindowCounts,
        anonymous: tuple[RateLimitItem, ...],
        keyed: tuple[RateLimitItem, ...],
        extra: dict[str, tuple[RateLimitItem, ...]],
        metrics: Metrics | None = None,
        text: tuple[RateLimitItem, ...] = (),
        keyed_text: tuple[RateLimitItem, ...] = (),
    ):
        self.storage = storage
        self.enabled = bool(anonymous or keyed)
        self._text = tuple(sorted(text, key=lambda item: item.get_expiry()))
        self._keyed_text = tuple(sorted(keyed_text, key=lambda item: item.get_expiry()))
        self.fallback = WindowCounts() if metrics is not None else None
        self.metrics = metrics
        self._anonymous, self._keyed, self._extra = anonymous, keyed, extra
        self._by_route: dict[tuple[str, bool], tuple[RateLimitItem, ...]] = {}
        self.clock = time.monotonic
        self.alone = False
        self._retries = 0
        self._retry_at = 0.0
        self.warned_at = -float("inf")
        self.since_warning = 0
        if metrics is not None:
            metrics.storage_up.set(1)

    def limits_of(self, endpoint: str, keyed: bool) -> tuple[RateLimitItem, ...]:
        """The limits a request to the route `endpoint` counts against, shortest window
        first (the client's limits before the route's own among windows of one length)."""
        found = self._by_route.get((endpoint, keyed))
        if found is None:
            blueprint = endpoint.partition(".")[0]
            chosen = (self._keyed if keyed else self._anonymous) + self._extra.get(blueprint, ())
            found = tuple(sorted(chosen, key=lambda item: item.get_expiry()))
            self._by_route[(endpoint, keyed)] = found
        return found

    def check(self) -> None:
        """Count this request against its client's limits: 429 when one is broken, to be
        retried after the seconds until its window ends, rounded up (a client that waits
        as long as it says is let in), and never 0."""
        if _exempt():
            return
        name = keys.caller()
        endpoint = request.endpoint
        limits = self.limits_of(endpoint, name is not None)
        if not limits:
            return
        counted = self._count(limits, _client(name), endpoint)
        if counted is None:  # the storage failed mid-outage: answered without the limit
            return
        g.rate_limit = counted
        if counted.broken:
            _refuse(counted, over_limit)

    def charge_text(self, size: int) -> None:
        """Count the bytes of this request's body past its first `FREE_BODY_BYTES`
        against its client's text limits, one budget for every route: 429 when one is
        broken, as `check` answers, its headers then telling of that limit."""
        cost = size - FREE_BODY_BYTES
        if cost <= 0 or _exempt():
            return
        name = keys.caller()
        limits = self._keyed_text if name is not None else self._text
        if not limits:
            return
        counted = self._count(limits, _client(name), TEXT_BUDGET, cost)
        if counted is not None and counted.broken:
            g.rate_limit = counted
            _refuse(counted, over_text_limit)

    def _count(self, limits, client: str, endpoint: str, cost: int = 1) -> Counted | None:
        if self.alone:
            self._try_shared_again()
        storage = self.fallback if self.alone else self.storage
        try:
            counted = _hit(storage, limits, client, endpoint, cost)
        except Exception:
            if self.fallback is None:
                raise
            if storage is self.fallback:
                return None
            self._go_alone()
            counted = _hit(self.fallback, limits, client, endpoint, cost)
        if self.alone:
            self._counted_alone()
        return counted

    def _go_alone(self) -> None:
        self.alone = True
        self._retries = 0
        self._retry_at = self.clock() + RETRY_AFTER_SECONDS[0]
        self.metrics.storage_up.set(0)

    def _try_shared_again(self) -> None:
        now = self.clock()
        if now < self._retry_at:
            return
        if self.storage.check():
            self.alone = False
            self.metrics.storage_up.set(1)
            _LOG.info("rate-limit storage answers again: limits are shared")
            self.warned_at, self.since_warning = -float("inf"), 0
            return
        self._retries = min(self._retries + 1, len(RETRY_AFTER_SECONDS) - 1)
        self._retry_at = now + RETRY_AFTER_SECONDS[self._retries]

    def _counted_alone(self) -> None:
        self.metrics.fallback_requests.inc()
        self.since_warning += 1
        now = self.clock()
        if now - self.warned_at >= WARN_EVERY:
            _LOG.warning(
                "rate-limit storage unreachable: this worker counts limits alone",
                extra={"fields": {"requests_counted_alone": self.since_warning}},
            )
            self.warned_at, self.since_warning = now, 0

    @staticmethod
    def add_headers(response):
        """The counted limit's headers; ``Retry-After`` on a 429 only, and never 0."""
        counted = g.get("rate_limit")
        if counted is None:
            return response
        headers = response.headers
        headers["X-RateLimit-Limit"] = str(counted.limit.amount)
        headers["X-RateLimit-Remaining"] = str(max(0, counted.limit.amount - counted.count))
        headers["X-RateLimit-Reset"] = str(counted.reset)
        if response.status_code == 429:
            headers["Retry-After"] = str(g.retry_after)
        return response


def _refuse(counted: Counted, detail) -> None:
    """A 429 for the broken limit of `counted`, its `detail` and ``Retry-After`` saying
    the same number of seconds (worked out once, never 0)."""
    g.retry_after = max(1, math.ceil(counted.ends - time.time()))
    raise TooManyRequests(detail(counted.limit, g.retry_after))


#: The name the text limits are counted under: one budget for every route.
TEXT_BUDGET = "text"


def _client(name: str | None) -> str:
    """Whom this request is counted as: its API key's name, else its address."""
    if name:
        return f"key:{name}"
    return f"ip:{counted_address(request.remote_addr or '127.0.0.1')}"


def over_text_limit(limit, seconds: int) -> str:
    """The detail of a 429 for text: the limit broken, and when to ask again."""
    unit = "second" if seconds == 1 else "seconds"
    return (
        f"This client is over its limit of {limit} bytes of request bodies (past the first "
        f"{FREE_BODY_BYTES} bytes of each): ask again in {seconds} {unit} (Retry-After), "
        "or send shorter texts."
    )


def over_limit(limit, seconds: int) -> str:
    """The detail of a 429: the limit broken, and when to ask again."""
    unit = "second" if seconds == 1 else "seconds"
    return f"This client is over its limit of {limit}: ask again in {seconds} {unit} (Retry-After)."


def _hit(
    storage: Storage | WindowCounts, limits, client: str, endpoint: str, cost: int = 1
) -> Counted:
    """Count `cost` (one request, or a body's bytes) in `storage` against each of
    `limits` in turn, up to the first broken: a fixed window each, as the `limits`
    library's fixed-window strategy counts one (``incr`` of the limit's key with the
    window's length)."""
    reported = None
    for limit in limits:
        key = limit.key_for(KEY_PREFIX, client, endpoint)
        count = storage.incr(key, limit.get_expiry(), amount=cost)
        if reported is None or count > limit.amount:
            reported = (limit, key, count)
        if count > limit.amount:
            break
    limit, key, count = reported
    ends = storage.get_expiry(key)
    return Counted(limit, count, int(ends + 1), ends)


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


def init_app(app: Flask) -> None:
    settings = get_settings(app)
    if settings.proxy_count:
        app.wsgi_app = TrustedProxies(app.wsgi_app, settings.proxy_count)
    anonymous = _limits(settings.rate_limits)
    keyed = _limits(settings.api_key_rate_limits)
    if not (settings.api_keys or settings.api_keys_file):
        keyed = ()
    # On top of the limits above: a long text costs far more than an advice.
    extra = {moderation.bp.name: _limits(settings.moderate_rate_limits)}
    shared = not settings.rate_limit_storage.startswith("memory://")
    timeout = settings.rate_limit_timeout
    # Give up on Redis quickly and once; counting goes on per worker meanwhile.
    options = (
        {
            "socket_connect_timeout": timeout,
            "socket_timeout": timeout,
            "retry": Retry(NoBackoff(), 0),
        }
        if shared
        else {}
    )
    limiter = RateLimits(
        storage_from_string(settings.rate_limit_storage, **options) if shared else WindowCounts(),
        anonymous,
        keyed,
        extra,
        get_metrics(app) if shared and (anonymous or keyed) else None,
        # Where the requests are limited, so are the bytes of their texts.
        text=_limits(settings.text_rate_limits) if anonymous else (),
        keyed_text=_limits(settings.api_key_text_rate_limits) if keyed else (),
    )
    app.extensions["advisor_limiter"] = limiter
    if limiter.enabled:
        app.before_request(limiter.check)
        app.after_request(limiter.add_headers)
