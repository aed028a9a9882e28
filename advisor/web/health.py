"""Liveness and readiness probes.

``/health/live`` answers while the process serves requests. ``/health/ready``
also proves the ruleset and content are loaded and work: it evaluates a fixed
state and moderates a fixed sentence, and answers 503 when either goes wrong.
It also asks the rate-limit storage, when it is Redis, and says how limits are
counted (``rate_limit_storage``); a Redis that does not answer leaves the
instance ready, counting limits per worker (`limits` says why).
"""

from __future__ import annotations

from flask import Blueprint, current_app

from ..state import InterviewState
from .apidoc import json_content, operation
from .errors import problem
from .extension import get_engine
from .limits import storage_state

bp = Blueprint("health", __name__)

_SELF_TEST_STATE = InterviewState(stage="after", hours_since=1, via_agency=True)
_SELF_TEST_TEXT = "Have three pints and then drive home."


def _self_test(engine) -> list[str]:
    problems = []
    advice = engine.evaluate(_SELF_TEST_STATE)
    actions = {a.action.id for a in advice.actions}
    if not {"call-recruiter", "send-thank-you"} <= actions:
        problems.append(f"self-test advice lacks expected actions (got {sorted(actions)})")
    if not all(a.sources and a.because for a in advice.actions):
        problems.append("self-test advice has an action without sources or reasons")
    if "impaired_driving" not in engine.moderate(_SELF_TEST_TEXT).categories:
        problems.append("self-test moderation missed drink-driving")
    return problems


@bp.get("/health/live")
@operation(
    {
        "tags": ["operations"],
        "operationId": "live",
        "summary": "The process answers requests.",
        "responses": {
            "200": {"description": "Alive.", "content": json_content("Live", {"status": "live"})}
        },
    }
)
def live():
    return {"status": "live"}


def _ready_described(engine, _drafts) -> dict:
    ready = {
        "status": "ready",
        "ruleset": {"version": engine.version, "digest": engine.digest},
        "rules": len(engine.rulebook.rules),
        "rate_limit_storage": "shared",
    }
    return {
        "tags": ["operations"],
        "operationId": "ready",
        "summary": "The ruleset and content are loaded and pass a self-test (one advice, "
        "one moderation).",
        "responses": {
            "200": {"description": "Ready to serve.", "content": json_content("Ready", ready)},
            "503": "ServiceUnavailable",
        },
    }


@bp.get("/health/ready")
@operation(_ready_described)
def ready():
    engine = get_engine()
    try:
        problems = _self_test(engine)
    except Exception as error:  # any failure means not ready, and says why
        current_app.logger.exception("readiness self-test failed")
        problems = [f"self-test raised {type(error).__name__}"]
    if problems:
        return problem(503, "Service Unavailable", "; ".join(problems))
    return {
        "status": "ready",
        "ruleset": {"version": engine.version, "digest": engine.digest},
        "rules": len(engine.rulebook.rules),
        "rate_limit_storage": storage_state(),
    }


def init_app(app) -> None:
    app.register_blueprint(bp)
