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

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from werkzeug.exceptions import NotFound

from .._logs import JsonFormatter
from ..config import listener_matches
from .apidoc import operation
from .extension import get_engine, get_settings

REQUEST_ID = "X-Request-ID"
_ACCESS_LOG = logging.getLogger("advisor.access")
_DECISION_LOG = logging.getLogger("advisor.decision")
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

REQUESTS = Counter(
    "advisor_http_requests_total", "HTTP requests answered", ["route", "method", "status"]
)
LATENCY = Histogram(
    "advisor_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["route", "method", "status"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
RULES_FIRED = Counter("advisor_rules_fired_total", "Rules fired in advice", ["rule"])
FLAGS = Counter(
    "advisor_moderation_flags_total", "Sentences flagged by moderation", ["category", "source"]
)
RULESET = Gauge(
    "advisor_ruleset_info",
    "The loaded ruleset (value 1), by version and digest",
    ["version", "digest"],
    multiprocess_mode="max",
)


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


def request_id() -> str:
    """This request's id (set before the view runs)."""
    return g.get("request_id", "-")


def _start() -> None:
    given = request.headers.get(REQUEST_ID, "")
    g.request_id = given if _SANE_ID.match(given) else uuid.uuid4().hex
    g.started = time.perf_counter()


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
    REQUESTS.labels(route, method, status).inc()
    LATENCY.labels(route, method, status).observe(seconds)
    response.headers[REQUEST_ID] = request_id()
    _ACCESS_LOG.info(
        "request",
        extra={
            "fields": {
                "request_id": request_id(),
                "method": request.method,
                "path": request.path,
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
        decided = _decided(
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
            counters += _flag_counters(plan.verdict, "plan")
        return cls(decided.fields, tuple(counters))


@functools.lru_cache(maxsize=4096)
def _decided(version, digest, fired, actions, plans_rejected) -> Decision:
    """What a decision without plans adds: the same for every advice of one region
    whose actions come in one order."""
    fields = {
        "ruleset_version": version,
        "ruleset_digest": digest,
        "fired": list(fired),
        "actions": list(actions),
        "plans_rejected": plans_rejected,
    }
    counters = tuple(_rule_counter(rule_id) for rule_id in fired)
    return Decision(MappingProxyType(fields), counters)


@functools.lru_cache(maxsize=1024)
def _rule_counter(rule_id: str):
    """The counter of one rule (a look-up by label costs more than the count)."""
    return RULES_FIRED.labels(rule_id)


def observe_advice(decision: Decision, seconds: float) -> None:
    """Count fired rules and plan flags, and write the decision-log line."""
    for counter in decision.counters:
        counter.inc()
    fields = {"request_id": request_id(), "duration_ms": round(seconds * 1000, 3)}
    _DECISION_LOG.info("advice", extra={"fields": {**fields, **decision.fields}})


def _flag_counters(verdict, source: str) -> list:
    return [
        FLAGS.labels(category, source)
        for sentence in verdict.sentences
        for category in sentence.categories
    ]


def observe_verdict(verdict) -> None:
    """Count each flagged sentence of a moderated text under each of its categories."""
    for counter in _flag_counters(verdict, "text"):
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
    connection = request.environ.get("gunicorn.socket")  # absent in process (tests)
    bind = get_settings().metrics_bind
    if connection is not None and not (bind and listener_matches(bind, connection.getsockname())):
        raise NotFound()
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    # content_type, not mimetype: the type already names its charset, once.
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    engine = get_engine(app)
    RULESET.labels(engine.version, engine.digest).set(1)
    app.before_request(_start)
    app.after_request(_finish)
    app.add_url_rule("/metrics", "metrics", _metrics, methods=["GET"])
