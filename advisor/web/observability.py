"""Request ids, JSON logs and Prometheus metrics.

- Every response carries ``X-Request-ID``: the caller's, when it is a sane
  token, or a new one.
- One JSON access-log line per request (logger ``advisor.access``) and one
  decision-log line per advice (logger ``advisor.decision``): request id,
  ruleset version, fired rule ids and duration; never the candidate's text.
- ``/metrics`` in Prometheus text format. Under gunicorn the config sets
  ``PROMETHEUS_MULTIPROC_DIR`` so that every worker's counts are summed, and
  ``/metrics`` answers only on the listener ``ADVISOR_METRICS_BIND`` names
  (off the public port; 404 elsewhere, and everywhere when it is empty).
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from flask import Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
    multiprocess,
)
from werkzeug.exceptions import NotFound

from .._logs import JsonFormatter, logged_path
from ..config import listener_matches
from .apidoc import operation
from .errors import NO_ROUTE
from .extension import get_engine, get_settings

REQUEST_ID = "X-Request-ID"
_ACCESS_LOG = logging.getLogger("advisor.access")
_DECISION_LOG = logging.getLogger("advisor.decision")
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

#: Histogram buckets of request durations, in seconds.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)


class Metrics:
    """One app's Prometheus metrics, in a registry of its own rather than the process's
    global one. Under gunicorn, ``/metrics`` sums every worker's counts from the files
    of ``PROMETHEUS_MULTIPROC_DIR`` instead."""

    def __init__(self, engine):
        self.registry = registry = CollectorRegistry()
        if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
            # What prometheus_client's own registry says of the process.
            ProcessCollector(registry=registry)
            PlatformCollector(registry=registry)
            GCCollector(registry=registry)
        labels = ["route", "method", "status"]
        self.requests = Counter(
            "advisor_http_requests_total", "HTTP requests answered", labels, registry=registry
        )
        self.latency = Histogram(
            "advisor_http_request_duration_seconds",
            "Time to answer an HTTP request",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.rules_fired = Counter(
            "advisor_rules_fired_total", "Rules fired in advice", ["rule"], registry=registry
        )
        self.flags = Counter(
            "advisor_moderation_flags_total",
            "Sentences flagged by moderation",
            ["category", "source"],
            registry=registry,
        )
        self.ruleset = Gauge(
            "advisor_ruleset_info",
            "The loaded ruleset (value 1), by version and digest",
            ["version", "digest"],
            # Live workers only: after a reload the replaced ruleset leaves the scrape.
            multiprocess_mode="livemax",
            registry=registry,
        )
        self.ruleset.labels(engine.version, engine.digest).set(1)
        self.storage_up = Gauge(
            "advisor_rate_limit_storage_up",
            "1 while the shared rate-limit storage answers, 0 while limits are counted per worker",
            multiprocess_mode="livemin",
            registry=registry,
        )
        self.fallback_requests = Counter(
            "advisor_rate_limit_fallback_requests_total",
            "Requests counted by a worker alone because the shared rate-limit storage did "
            "not answer",
            registry=registry,
        )
        # The counter of one rule (a look-up by label costs more than the count), and
        # what a decision without plans adds: the same for every advice of one region
        # whose actions come in one order.
        self.rule_counter = functools.lru_cache(maxsize=1024)(self.rules_fired.labels)
        self.decided = functools.lru_cache(maxsize=4096)(self._decided)

    def _decided(self, version, digest, fired, actions, plans_rejected) -> Decision:
        fields = {
            "ruleset_version": version,
            "ruleset_digest": digest,
            "fired": list(fired),
            "actions": list(actions),
            "plans_rejected": plans_rejected,
        }
        counters = tuple(self.rule_counter(rule_id) for rule_id in fired)
        return Decision(MappingProxyType(fields), counters)

    def flag_counters(self, verdict, source: str) -> list:
        return [
            self.flags.labels(category, source)
            for sentence in verdict.sentences
            for category in sentence.categories
        ]


def get_metrics(app: Flask | None = None) -> Metrics:
    """The metrics of `app` (by default the app handling this request)."""
    return (app or current_app).extensions["advisor_metrics"]


def configure_logging(level: str) -> None:
    """Write the ``advisor`` loggers' lines as JSON to stderr, from `level` up: the
    process's choice, made once where it starts (`advisor.wsgi`), not by each app."""
    logger = logging.getLogger("advisor")
    if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.formatter = JsonFormatter()
        logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False
    # A line names no thread or process (`JsonFormatter`), so no record looks them up:
    # the logging module's documented switches, process-wide (two records a request).
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def request_id() -> str:
    """This request's id (set before the view runs)."""
    return g.get("request_id", "-")


def _start() -> None:
    given = request.headers.get(REQUEST_ID, "")
    g.request_id = given if _SANE_ID.match(given) else uuid.uuid4().hex
    g.started = time.perf_counter()
    if (
        request.environ.get("PATH_INFO") == "/metrics"
    ):  # not a hook of its own: every request would call it
        _metrics_elsewhere()


#: The methods counted under their own name; any other token a client sends is
#: counted as ``other``, so that clients cannot add label values without bound.
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
#: The route label of every request that matches no route (its path is not a label).
UNMATCHED = "<unmatched>"


def _finish(response: Response) -> Response:
    seconds = time.perf_counter() - g.get("started", time.perf_counter())
    route = request.url_rule.rule if request.url_rule else UNMATCHED
    method = request.method if request.method in METHODS else "other"
    status = str(response.status_code)
    metrics = get_metrics()
    metrics.requests.labels(route, method, status).inc()
    metrics.latency.labels(route, method, status).observe(seconds)
    response.headers[REQUEST_ID] = request_id()
    _ACCESS_LOG.info(
        "request",
        extra={
            "fields": {
                "request_id": request_id(),
                "method": request.method,
                "path": logged_path(request.path),
                "route": route,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 3),
                "bytes": response.calculate_content_length(),
                "remote": request.remote_addr,
            }
        },
    )
    return response


@dataclass(frozen=True)
class Decision:
    """What one advice adds to the decision log and the counters, worked out once
    so that a cached answer costs only the writes."""

    #: The decision-log fields that the advice alone decides (read-only: shared by
    #: every answer of one region).
    fields: Mapping[str, object]
    #: The counters to add one to: a rule's for each rule fired, a category's for
    #: each flagged sentence of the plans.
    counters: tuple

    @classmethod
    def of(cls, advice) -> Decision:
        """The decision of `advice`, counted in this app's metrics."""
        metrics = get_metrics()
        decided = metrics.decided(
            advice.version,
            advice.digest,
            advice.fired,
            tuple(a.action.id for a in advice.actions),
            sum(p.verdict.flagged for p in advice.plans),
        )
        if not advice.plans:
            return decided
        counters = list(decided.counters)
        for plan in advice.plans:
            counters += metrics.flag_counters(plan.verdict, "plan")
        return cls(decided.fields, tuple(counters))


def observe_advice(decision: Decision, seconds: float) -> None:
    """Count fired rules and plan flags, and write the decision-log line."""
    for counter in decision.counters:
        counter.inc()
    fields = {"request_id": request_id(), "duration_ms": round(seconds * 1000, 3)}
    _DECISION_LOG.info("advice", extra={"fields": {**fields, **decision.fields}})


def observe_verdict(verdict) -> None:
    """Count each flagged sentence of a moderated text under each of its categories."""
    for counter in get_metrics().flag_counters(verdict, "text"):
        counter.inc()


@operation(
    {
        "tags": ["operations"],
        "operationId": "metrics",
        "summary": "Prometheus metrics (text format). Under gunicorn, only on the listener "
        "ADVISOR_METRICS_BIND names, apart from the API; a 404 elsewhere.",
        "responses": {
            "200": {
                "description": "Counters and histograms of requests, rules fired and flags.",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
            "404": "NotFound",
        },
    }
)
def _metrics() -> Response:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = get_metrics().registry
    # content_type, not mimetype: the type already names its charset, once.
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def _metrics_elsewhere() -> None:
    """A 404 for /metrics, whatever the method, on any listener but the one
    ADVISOR_METRICS_BIND names (before routing answers an OPTIONS or a 405, which
    would tell that it is there)."""
    connection = request.environ.get("gunicorn.socket")  # absent in process (tests)
    bind = get_settings().metrics_bind
    if connection is not None and not (bind and listener_matches(bind, connection.getsockname())):
        raise NotFound(NO_ROUTE)  # as a path no route has: nothing else says it is there


def init_app(app: Flask) -> None:
    app.extensions["advisor_metrics"] = Metrics(get_engine(app))
    app.before_request(_start)
    app.after_request(_finish)
    app.add_url_rule("/metrics", "metrics", _metrics, methods=["GET"])
