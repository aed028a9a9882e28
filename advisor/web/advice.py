"""POST /v1/advice: the next actions for an interview state."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from flask import Blueprint, current_app
from marshmallow import Schema, fields

from ..schemas import dump_advice, dump_trace
from ..state import InterviewState, InterviewStateSchema
from .body import load_body, load_query
from .calendar import CALENDAR, calendar_response, negotiate, require_interview_end
from .observability import observe_advice

bp = Blueprint("advice", __name__)


class AdviceQuerySchema(Schema):
    explain = fields.Boolean(
        load_default=False,
        truthy={"true", "1"},
        falsy={"false", "0"},
        metadata={"description": "Add `explain`: every rule, fired or not, and why (JSON only)."},
    )


_QUERY = AdviceQuerySchema()
_STATE = InterviewStateSchema()


@bp.post("/v1/advice")
def advise():
    media_type = negotiate()
    query = load_query(_QUERY)
    state = InterviewState.from_request(load_body(_STATE), datetime.now(UTC))
    if media_type == CALENDAR:
        require_interview_end(state)
    engine = current_app.extensions["advisor"]
    started = time.perf_counter()
    advice = engine.evaluate(state)
    observe_advice(advice, time.perf_counter() - started)
    if media_type == CALENDAR:
        return calendar_response(advice, state)
    body = dump_advice(advice, state.hours_since)
    if query["explain"]:
        body["explain"] = dump_trace(engine.trace(state))
    return body


@bp.after_request
def _vary_on_accept(response):
    # One request may be answered as JSON or as iCalendar, by its Accept header.
    response.vary.add("Accept")
    return response


def init_app(app) -> None:
    app.register_blueprint(bp)
