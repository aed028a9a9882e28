"""POST /v1/advice: the next actions for an interview state."""

from __future__ import annotations

import copy
import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime

import orjson
from flask import Blueprint, current_app, request
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

from ..answer import AdviceWriter
from ..schemas import dump_advice, dump_trace, dump_upcoming_trace
from ..state import InterviewState, InterviewStateSchema, load_state
from .apidoc import API_ERRORS, BODY_ERRORS, OPTIONAL_KEY, json_content, operation, responses
from .body import UNKNOWN_PARAMETER, load_body, load_query, raw_json_body
from .calendar import (
    CALENDAR,
    calendar_response,
    negotiate,
    plan,
    refuse_json_only,
    require_interview_end,
)
from .extension import get_engine, get_settings
from .observability import Decision, observe_advice

bp = Blueprint("advice", __name__)


class QueryBoolean(fields.Boolean):
    """A boolean query parameter: true or false in any case (Python's `requests` sends
    ``True`` for True), or 1 or 0; anything else is refused, never guessed."""

    truthy = {"true", "1"}
    falsy = {"false", "0"}
    default_error_messages = {"invalid": "Not a boolean: use true or false (or 1 or 0)."}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.lower()
        return super()._deserialize(value, attr, data, **kwargs)


class AdviceQuerySchema(Schema):
    error_messages = {"unknown": UNKNOWN_PARAMETER}

    explain = QueryBoolean(
        load_default=False,
        metadata={
            "description": "Add `explain`: every rule, fired or not, and why; and "
            "`explain_upcoming`: which rule will recommend each upcoming action, when "
            "(JSON only). `true` or `false` in any case, or `1` or `0`."
        },
    )


_QUERY = AdviceQuerySchema()
#: What the query schema loads from an empty query string.
_NO_QUERY = _QUERY.load({})
_STATE = InterviewStateSchema()


#: Larger bodies (long plans) are answered afresh rather than kept.
CACHED_BODY_BYTES = 4096


class AnswerCache:
    """The last `size` JSON answers to valid requests asked for more than once, keyed
    by the request itself.

    The key is the engine's digest, the query string and the body's bytes: the
    same bytes always parse and validate to the same state, so a hit is exactly
    the answer a fresh evaluation would give. Answers that depend on the server's
    clock (an interview end without `now`) are never kept.

    An answer is kept when its request comes a second time while the first is
    still remembered, by a hash of its key, among the requests answered afresh
    (the last `RECENT_PER_ANSWER` × `size` of them at least, twice that at most):
    an answer asked for once is never kept, so it neither evicts answers that
    are asked for again nor stays in memory after its request only to be
    dropped unread.
    """

    #: How many requests answered afresh, per answer kept, are remembered at least.
    RECENT_PER_ANSWER = 8

    def __init__(self, size: int):
        self.size = size
        self._answers: OrderedDict[tuple, tuple] = OrderedDict()
        # Hashes of the keys answered afresh: the latest ones, and those before them.
        self._asked: set[int] = set()
        self._asked_before: set[int] = set()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many answers are kept."""
        return len(self._answers)

    def get(self, key: tuple):
        with self._lock:
            answer = self._answers.get(key)
            if answer is not None:
                self._answers.move_to_end(key)
            return answer

    def put(self, key: tuple, answer: tuple) -> None:
        """Keep `answer` to the request `key` if that request was answered afresh before."""
        if not self.size:
            return
        asked = hash(key)
        with self._lock:
            if asked not in self._asked and asked not in self._asked_before:
                self._asked.add(asked)
                if len(self._asked) >= self.RECENT_PER_ANSWER * self.size:
                    self._asked_before, self._asked = self._asked, set()
                return
            self._answers[key] = answer
            if len(self._answers) > self.size:
                self._answers.popitem(last=False)


#: Request examples: (name, summary, body).
ADVICE_EXAMPLES = (
    (
        "agency",
        "Two hours after an agency interview, with an unsafe plan",
        {
            "stage": "after",
            "hours_since": 2,
            "via_agency": True,
            "plans": ["Three pints, then drive home", "Send a short thank-you email tonight."],
        },
    ),
    (
        "waiting",
        "A week later, no news, thank-you sent",
        {
            "stage": "after",
            "hours_since": 170,
            "thank_you_sent": True,
            "decision_expected_in_days": 5,
        },
    ),
    (
        "clock",
        "With the time the interview ended (actions get `due` times; works as text/calendar)",
        {
            "stage": "after",
            "interview_ended_at": "2026-11-20T16:30:00+01:00",
            "now": "2026-11-20T18:00:00+01:00",
        },
    ),
)


def _described(engine, _drafts) -> dict:
    """The operation, with the request examples and this engine's answers to them."""
    requests, answers, calendar = {}, {}, ""
    states = {}
    for name, summary, body in ADVICE_EXAMPLES:
        state = states[name] = InterviewState.parse(body)
        advice = engine.evaluate(state)
        requests[name] = {"summary": summary, "value": body}
        answers[name] = {"summary": summary, "value": dump_advice(advice, state.hours_since)}
        if state.interview_ended_at is not None:
            calendar = plan(advice, state).decode()
    name, summary, _body = ADVICE_EXAMPLES[0]
    explained = copy.deepcopy(answers[name]["value"])
    explained["explain"] = dump_trace(engine.trace(states[name]))[:3]
    explained["explain_upcoming"] = dump_upcoming_trace(engine.evaluate(states[name]).upcoming)
    answers["explain"] = {
        "summary": f"{summary}, with ?explain=true (the first rows of `explain`, and "
        "`explain_upcoming`)",
        "value": explained,
    }
    return {
        "tags": ["advice"],
        "security": OPTIONAL_KEY,
        "operationId": "advise",
        "summary": "Next actions for an interview state, what to avoid, and a verdict on each plan.",
        "description": "`actions` are the ones due now, most urgent first; `upcoming` "
        "the ones that will become due later, in the order they start, if the "
        "candidate does what is due now, nothing else changes and no news comes "
        "(worked out at the moments the rules' thresholds on time define); `avoid` "
        "pairs rejected advice with its recommended counterpart. With "
        f"`Accept: {CALENDAR}` (and `interview_ended_at`) the answer is an "
        "iCalendar plan: one event per action over its window in UTC, from `now` "
        "on (an action already due starts at `now`; a closed window is no event; "
        "an open window: one hour at its start), then one per upcoming action from "
        "its `starts`, with the detail, the reason and the sources; the UID is stable "
        "per ruleset digest, action and interview end, so an upcoming action's event "
        "is updated when it becomes due.",
        "parameters": [{"in": "query", "schema": AdviceQuerySchema}],
        "requestBody": {
            "required": True,
            "content": json_content("InterviewState", examples=requests),
        },
        "responses": responses(
            {
                "description": "The advice, as JSON or as an iCalendar plan.",
                "content": {
                    **json_content("Advice", examples=answers),
                    CALENDAR: {"schema": {"type": "string"}, "example": calendar},
                },
            },
            *BODY_ERRORS,
            "NotAcceptable",
            *API_ERRORS,
        ),
    }


@bp.post("/v1/advice")
@operation(_described)
def advise():
    media_type = negotiate()
    engine = get_engine()
    started = time.perf_counter()
    if media_type == CALENDAR:
        query = load_query(_QUERY)
        data = load_body(_STATE, load_state)
        refuse_json_only(query["explain"], data.get("plans"))
        state = InterviewState.from_request(data, datetime.now(UTC))
        require_interview_end(state)
        advice = engine.evaluate(state)
        response = calendar_response(advice, state)
        decision = Decision.of(advice)
    else:
        body, decision = _json_answer(engine)
        response = current_app.response_class(body, mimetype="application/json")
    observe_advice(decision, time.perf_counter() - started)
    return response


def _json_answer(engine) -> tuple[bytes, Decision]:
    """The JSON answer to this request and its decision, from the answer cache when it
    holds them."""
    extensions = current_app.extensions
    cache, writer = extensions["advisor_answers"], extensions["advisor_writer"]
    raw, query_string = raw_json_body(), request.query_string
    key = (engine.digest, query_string, raw) if len(raw) <= CACHED_BODY_BYTES else None
    answer = cache.get(key) if key else None
    if answer is None:
        query = load_query(_QUERY) if query_string else _NO_QUERY
        data = load_body(_STATE, load_state, raw)
        state = InterviewState.from_request(data, datetime.now(UTC))
        advice = engine.evaluate(state)
        body = writer.encodable(advice, state.hours_since)
        if query["explain"]:
            body["explain"] = dump_trace(engine.trace(state))
            body["explain_upcoming"] = dump_upcoming_trace(advice.upcoming)
        answer = (orjson.dumps(body), Decision.of(advice))
        # An answer that read the server's clock is only good for this request.
        if key and ("interview_ended_at" not in data or "now" in data):
            cache.put(key, answer)
    return answer


def warm(app) -> None:
    """Take each request example through every step of a JSON answer, as a request
    would, but answering no one: what is built on first use (the route map, the
    readers' and writers' parts, moderation's, the decision's counters) is built
    before the first caller waits for it. Nothing is logged or counted."""
    engine, writer = get_engine(app), app.extensions["advisor_writer"]
    for _name, _summary, body in ADVICE_EXAMPLES:
        with app.test_request_context("/v1/advice", method="POST", json=body):
            try:
                data = load_body(_STATE, load_state, raw_json_body())
            except HTTPException:  # a body limit below the example's size: not warmed
                continue
            state = InterviewState.from_request(data, datetime.now(UTC))
            advice = engine.evaluate(state)
            orjson.dumps(writer.encodable(advice, state.hours_since))
            Decision.of(advice)


@bp.after_request
def _vary_on_accept(response):
    # One request may be answered as JSON or as iCalendar, by its Accept header.
    # Added as a field of its own: a list header may come in several fields
    # (RFC 9110, 5.3), so this joins any Vary set elsewhere without reading it.
    response.headers.add("Vary", "Accept")
    return response


def init_app(app) -> None:
    app.extensions["advisor_answers"] = AnswerCache(get_settings(app).answer_cache)
    app.extensions["advisor_writer"] = AdviceWriter(get_engine(app).catalogue)
    app.register_blueprint(bp)
