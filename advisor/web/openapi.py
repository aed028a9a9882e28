"""The OpenAPI 3.1 document at ``GET /openapi.json``, generated from the marshmallow schemas.

Bodies come from the schemas the views load and dump with (`advisor.state`,
`advisor.schemas`, `advisor.drafts`, `advisor.web.moderation`,
`advisor.web.drafts`); this module adds what a schema
cannot say: paths, status codes, headers, cross-field rules and examples.
Examples are computed from the loaded engine when the document is first
asked for, so they are real answers of this ruleset. The document is cached
like the catalogue (ETag from the ruleset digest).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from importlib.metadata import version

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter
from apispec.ext.marshmallow.common import resolve_schema_instance
from flask import Blueprint, Flask, current_app
from marshmallow import Schema, ValidationError, fields

from .._data import describe_errors, flatten_errors
from ..drafts import DETAIL_FIELDS, DRAFT_ACTIONS, DraftDetailsSchema, DraftSchema
from ..schemas import (
    AdviceSchema,
    GuidanceListSchema,
    GuidanceSchema,
    RejectedListSchema,
    RejectedSchema,
    RulesetSchema,
    SourceDetailSchema,
    SourceListSchema,
    VerdictSchema,
    dump_advice,
    dump_source,
    dump_trace,
    dump_upcoming_trace,
    dump_verdict,
)
from ..state import MAX_PLAN_CHARS, MAX_PLANS, InterviewState, InterviewStateSchema
from .advice import AdviceQuerySchema
from .caching import cache_by_digest
from .calendar import CALENDAR, plan
from .drafts import DraftRequestSchema, answer, get_drafts
from .errors import MAX_ERRORS, MAX_NAME_CHARS, PROBLEM
from .moderation import MAX_TEXT_CHARS, ModerationRequestSchema

__all__ = ["build_document", "init_app"]

bp = Blueprint("openapi", __name__)
bp.after_request(cache_by_digest)

JSON = "application/json"
TITLE = "Interview Advisor API"
#: info.version: the package's semantic version (generated clients need one); the
#: ruleset's version is x-ruleset-version beside it.
API_VERSION = version("interview-advisor")


class ProblemSchema(Schema):
    """An RFC 9457 problem: every error the API returns."""

    type = fields.String(required=True, metadata={"description": "Always `about:blank`."})
    title = fields.String(required=True, metadata={"description": "The HTTP status phrase."})
    status = fields.Integer(required=True, metadata={"description": "The HTTP status code."})
    detail = fields.String(required=True, metadata={"description": "What went wrong, in words."})
    instance = fields.String(required=True, metadata={"description": "The request's path."})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={
            "description": "422 only: each failing field (`plans.3`; `$` for the whole body) "
            f"with its messages; at most {MAX_ERRORS} fields, names cut to {MAX_NAME_CHARS} "
            "characters."
        },
    )
    unlisted_errors = fields.Integer(
        metadata={
            "description": f"422 only, when more than {MAX_ERRORS} fields fail: how many "
            "more fail than `errors` lists."
        },
    )


class LiveSchema(Schema):
    status = fields.String(required=True, metadata={"description": "`live`."})


class ReadySchema(Schema):
    status = fields.String(required=True, metadata={"description": "`ready`."})
    ruleset = fields.Nested(
        RulesetSchema,
        required=True,
        metadata={"description": "The version and digest of the ruleset loaded."},
    )
    rules = fields.Integer(required=True, metadata={"description": "Rules loaded."})
    rate_limit_storage = fields.String(
        metadata={
            "description": "How rate limits are counted: `shared` (Redis answers), "
            "`unreachable` (Redis does not answer: each worker counts alone meanwhile), "
            "`per-process` (`memory://`) or `off`."
        }
    )


#: What the request schema cannot say about its fields (the contract's words).
STATE_FIELDS = {
    "stage": "`closing`: still in the room; `after`: over, no decision yet; `offer`: job "
    "offered; `rejected`: not successful; `next_round`: invited to a further stage.",
    "hours_since": "Hours since the interview ended (default 0). Not with `interview_ended_at`. "
    "With `closing` the interview has not ended: more than 0 is refused (422).",
    "interview_ended_at": "RFC 3339 date-time with offset, instead of `hours_since`: actions "
    "then carry absolute `due` times in the same offset, and days are calendar days in that "
    "offset (working days Monday to Friday). Needed for `text/calendar`. With `closing` it "
    "must equal `now` (422 otherwise).",
    "now": "Reference time for `interview_ended_at` (default: the server clock); not after it "
    "by more than five years, not before it.",
    "via_agency": "A recruitment consultant or agency arranged the interview.",
    "decision_expected_in_days": "When the employer said they would decide, in days after "
    "the interview. A follow-up is advised once the first working day after that date has "
    "ended without news.",
    "asked_next_steps": "The candidate already asked about next steps and the timeline.",
    "thank_you_sent": "A thank-you was sent.",
    "follow_ups_sent": "Polite follow-ups already sent.",
    "notes_written": "Notes on the interview are written.",
    "feedback_received": "Feedback was received.",
    "final_round": "This was (or is near) the final round.",
    "referees_briefed": "The referees know they may be contacted.",
    "linkedin_connected": "Connected with the interviewers on LinkedIn.",
    "still_interested": "Does the candidate still want the job.",
    "competing_offers": "Genuine offers in hand from elsewhere.",
    "plans": f"What the candidate is thinking of doing, in their words (at most {MAX_PLANS}, "
    f"each at most {MAX_PLAN_CHARS} characters); each gets a verdict in `plans`.",
}
#: `AwareDateTime` refuses longer strings before parsing them.
MAX_DATE_TIME_CHARS = 40

#: Request examples for POST /v1/advice: (name, summary, body).
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
#: The body of the 422 example: one field out of its enum, one out of range, one unknown.
INVALID_STATE = {"stage": "lunch", "hours_since": -3, "colour": "red"}
MODERATION_EXAMPLE = {"text": "Send a short thank-you email. Then have three pints and drive home."}

#: The problem responses: component name -> (status, title, when, example detail, path).
PROBLEMS = {
    "BadRequest": (
        400,
        "Bad Request",
        "Malformed JSON, invalid UTF-8, a key given twice, "
        "`NaN`/`Infinity`, an integer of more than 30 digits or nesting too deep.",
        "The body is not valid JSON: Expecting value at character 0.",
        "/v1/advice",
    ),
    "Unauthorized": (
        401,
        "Unauthorized",
        "An `Authorization` header that is not a valid API key (only when the operator "
        "lists keys). Send a valid key, or no `Authorization` to call anonymously.",
        "The API key is not valid: send `Authorization: Bearer` with a key issued for this "
        "service, or no Authorization header to call anonymously.",
        "/v1/advice",
    ),
    "NotFound": (
        404,
        "Not Found",
        "No item has this id.",
        "No guidance has the id 'nope'.",
        "/v1/guidance/nope",
    ),
    "NotAcceptable": (
        406,
        "Not Acceptable",
        f"The Accept header allows neither `{JSON}` nor `{CALENDAR}`.",
        f"This endpoint answers in {JSON} or "
        f"{CALENDAR}; the Accept header allows neither (image/png).",
        "/v1/advice",
    ),
    "RequestTimeout": (
        408,
        "Request Timeout",
        "The body did not arrive within `ADVISOR_CLIENT_TIMEOUT` seconds (10 by default) "
        "of the headers; the connection is closed.",
        "The body did not arrive in time: 120 bytes came before the deadline.",
        "/v1/advice",
    ),
    "ContentTooLarge": (
        413,
        "Request Entity Too Large",
        "The body is larger than `ADVISOR_MAX_BODY_BYTES` (256 KiB by default).",
        "The body is larger than the limit of 262144 bytes.",
        "/v1/advice",
    ),
    "UnsupportedMediaType": (
        415,
        "Unsupported Media Type",
        "The body is not `application/json` in UTF-8.",
        "Send the body as application/json (got text/plain).",
        "/v1/advice",
    ),
    "UnprocessableContent": (
        422,
        "Unprocessable Content",
        "Validation failed: `errors` names each field (unknown fields too).",
        None,
        "/v1/advice",
    ),
    "TooManyRequests": (
        429,
        "Too Many Requests",
        "This client (its API key, or else its IP address) is over its rate limit "
        "(`ADVISOR_API_KEY_RATE_LIMITS` or `ADVISOR_RATE_LIMITS`); `Retry-After` says "
        "when to retry.",
        "60 per 1 second",
        "/v1/advice",
    ),
    "InternalServerError": (
        500,
        "Internal Server Error",
        "An unexpected error; it was logged.",
        "The server failed to answer; the error was logged.",
        "/v1/advice",
    ),
    "ServiceUnavailable": (
        503,
        "Service Unavailable",
        "The self-test failed: the ruleset or content does not work.",
        "self-test moderation missed drink-driving",
        "/health/ready",
    ),
}
#: Error responses every /v1/ operation may give, and those with a body.
API_ERRORS = ("Unauthorized", "TooManyRequests", "InternalServerError")
BODY_ERRORS = (
    "BadRequest",
    "RequestTimeout",
    "ContentTooLarge",
    "UnsupportedMediaType",
    "UnprocessableContent",
)

DESCRIPTION = f"""\
Tells a job candidate what to do after an interview, cites the evidence for every
piece of advice (verbatim quotes from five articles), and refuses unsafe advice.
Ids and field names of v1 are fixed; fields and endpoints may be added.

Errors are RFC 9457 `application/problem+json` with `type`, `title`, `status`,
`detail` and `instance`; a 422 adds `errors`, field by field (the first {MAX_ERRORS},
with `unlisted_errors` counting the rest). Request bodies are strict: unknown
fields, wrong types and out-of-range values are errors.

Browsers may call `/v1/` and `/openapi.json` from the origins in
`ADVISOR_CORS_ORIGINS` (default any; no credentials). Catalogue answers carry a
strong `ETag` from the ruleset digest and `Cache-Control: public`; send it back in
`If-None-Match` to get `304 Not Modified`. Every response carries `X-Request-ID`.
`/v1/` is rate-limited per client (429 with `Retry-After`): per API key for
callers that send one (`Authorization: Bearer`, optional, issued by the operator
for server-to-server calls), else per IP address.
"""

#: The optional API key of every /v1/ operation: anonymous calls stay allowed.
API_KEY = "apiKey"
OPTIONAL_KEY = [{}, {API_KEY: []}]


#: Request bodies refuse unknown fields; every other object may gain fields within v1.
CLOSED_SCHEMAS = (
    InterviewStateSchema,
    ModerationRequestSchema,
    DraftRequestSchema,
    DraftDetailsSchema,
)


class _Converter(OpenAPIConverter):
    """Closes only the request bodies, and describes each schema by its own docstring."""

    def schema2jsonschema(self, schema):
        jsonschema = super().schema2jsonschema(schema)
        cls = type(resolve_schema_instance(schema))
        if cls in CLOSED_SCHEMAS:
            jsonschema["additionalProperties"] = False
        else:
            jsonschema.pop("additionalProperties", None)
        if cls.__doc__:
            jsonschema.setdefault("description", " ".join(cls.__doc__.split("\n\n")[0].split()))
        return jsonschema


class _Plugin(MarshmallowPlugin):
    Converter = _Converter


def _problem(status: int, title: str, detail: str, instance: str, **extensions) -> dict:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return {**body, "instance": instance, **extensions}


def _unprocessable() -> dict:
    try:
        InterviewStateSchema().load(INVALID_STATE)
    except ValidationError as error:
        return _problem(
            422,
            "Unprocessable Content",
            describe_errors(error),
            "/v1/advice",
            errors=flatten_errors(error.messages),
        )
    raise AssertionError("the 422 example body must be invalid")


def _problem_responses() -> dict:
    responses = {}
    for name, (status, title, when, detail, path) in PROBLEMS.items():
        example = _problem(status, title, detail, path) if detail else _unprocessable()
        responses[name] = {
            "description": when,
            "content": {PROBLEM: {"schema": "Problem", "example": example}},
        }
    responses["TooManyRequests"]["headers"] = {"Retry-After": "RetryAfter"}
    responses["Unauthorized"]["headers"] = {"WWW-Authenticate": "WWWAuthenticate"}
    return responses


def _advice_examples(engine) -> tuple[dict, dict, str]:
    """Request examples, their JSON answers, and the calendar for the one with a clock."""
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
    return requests, answers, calendar


def _json(schema, example=None, examples=None) -> dict:
    content = {"schema": schema}
    if example is not None:
        content["example"] = example
    if examples is not None:
        content["examples"] = examples
    return {JSON: content}


def _errors(*names: str) -> dict:
    """The named problem responses, by status."""
    return {str(PROBLEMS[name][0]): name for name in names}


def _responses(ok: dict, *errors: str) -> dict:
    """A 200 and the named problem responses."""
    return {"200": ok, **_errors(*errors)}


#: The catalogue: path, noun, list and item schemas, and the summaries of list and item.
CATALOGUE = (
    (
        "guidance",
        "recommended action",
        GuidanceListSchema,
        GuidanceSchema,
        "All recommended actions, each with its sources (contract order).",
        "One recommended action with its sources.",
    ),
    (
        "rejected",
        "rejected advice",
        RejectedListSchema,
        RejectedSchema,
        "All rejected advice with category, reason, safe alternatives and sources.",
        "One piece of rejected advice.",
    ),
    (
        "sources",
        "source",
        SourceListSchema,
        SourceDetailSchema,
        "The five articles of the corpus.",
        "One article: title, publisher, nature and the quotes cited from it (not its text, "
        "which belongs to its publisher).",
    ),
)
NOT_MODIFIED = {
    "description": "Not modified: the `If-None-Match` ETag is current. No body.",
    "headers": {"ETag": "ETag"},
}
CACHED = {"ETag": "ETag", "Cache-Control": "CacheControl"}


def _catalogue_paths(spec: APISpec, catalogue) -> None:
    """List and item operations for guidance, rejected advice and sources."""
    items = {
        "guidance": list(catalogue.actions.values()),
        "rejected": list(catalogue.rejected.values()),
        "sources": list(catalogue.sources.values()),
    }
    for path, noun, list_schema, item_schema, list_summary, item_summary in CATALOGUE:
        listed = list_schema().dump({path: items[path][:2]})
        first = items[path][0]
        one = dump_source(first, catalogue) if path == "sources" else item_schema().dump(first)
        spec.path(
            path=f"/v1/{path}",
            operations={
                "get": {
                    "tags": ["catalogue"],
                    "security": OPTIONAL_KEY,
                    "operationId": f"list_{path}",
                    "summary": list_summary,
                    "parameters": ["IfNoneMatch"],
                    "responses": {
                        "200": {
                            "description": f"Every {noun} (the example shows two at most).",
                            "headers": CACHED,
                            "content": _json(list_schema, listed),
                        },
                        "304": NOT_MODIFIED,
                        **_errors(*API_ERRORS),
                    },
                }
            },
        )
        spec.path(
            path=f"/v1/{path}/{{item_id}}",
            operations={
                "get": {
                    "tags": ["catalogue"],
                    "security": OPTIONAL_KEY,
                    "operationId": f"get_{path}",
                    "summary": item_summary,
                    "parameters": [
                        {
                            "name": "item_id",
                            "in": "path",
                            "required": True,
                            "description": f"The {noun}'s id.",
                            "schema": {"type": "string", "minLength": 1},
                            "example": one["id"],
                        },
                        "IfNoneMatch",
                    ],
                    "responses": {
                        "200": {
                            "description": f"The {noun}.",
                            "headers": CACHED,
                            "content": _json(item_schema, one),
                        },
                        "304": NOT_MODIFIED,
                        **_errors("NotFound", *API_ERRORS),
                    },
                }
            },
        )


def _components(spec: APISpec) -> None:
    state = {
        "dependentRequired": {"now": ["interview_ended_at"]},
        "not": {
            "required": ["hours_since", "interview_ended_at"],
            "description": "Give either hours_since or interview_ended_at, not both.",
        },
        "if": {"properties": {"stage": {"const": "closing"}}, "required": ["stage"]},
        "then": {
            "properties": {"hours_since": {"maximum": 0}},
            "description": "At stage closing the interview has not ended: hours_since is 0.",
        },
    }
    spec.components.schema("InterviewState", state, schema=InterviewStateSchema)
    properties = spec.components.schemas["InterviewState"]["properties"]
    for name, description in STATE_FIELDS.items():
        properties[name]["description"] = description
        if properties[name].get("format") == "date-time":
            properties[name]["maxLength"] = MAX_DATE_TIME_CHARS
    spec.components.schema("ModerationRequest", schema=ModerationRequestSchema)
    spec.components.schemas["ModerationRequest"]["properties"]["text"]["description"] = (
        f"The text to screen, at most {MAX_TEXT_CHARS} characters."
    )
    spec.components.schema("DraftDetails", schema=DraftDetailsSchema)
    spec.components.schema("DraftRequest", schema=DraftRequestSchema)
    for name, schema in (
        ("Draft", DraftSchema),
        ("Problem", ProblemSchema),
        ("Advice", AdviceSchema),
        ("Verdict", VerdictSchema),
        ("Live", LiveSchema),
        ("Ready", ReadySchema),
    ):
        spec.components.schema(name, schema=schema)
    spec.components.header(
        "ETag",
        {
            "description": "Strong tag of the ruleset digest and path.",
            "required": True,
            "schema": {"type": "string"},
        },
    )
    spec.components.header(
        "CacheControl",
        {
            "description": "`public, max-age=300` (the seconds of `ADVISOR_CACHE_MAX_AGE`).",
            "required": True,
            "schema": {"type": "string"},
        },
    )
    spec.components.header(
        "RetryAfter",
        {"description": "Seconds to wait before retrying.", "schema": {"type": "string"}},
    )
    spec.components.header(
        "WWWAuthenticate",
        {
            "description": "The Bearer challenge: scheme `Bearer` with "
            '`realm="interview-advisor"` and `error="invalid_token"`.',
            "required": True,
            "schema": {"type": "string"},
        },
    )
    spec.components.security_scheme(
        API_KEY,
        {
            "type": "http",
            "scheme": "bearer",
            "description": "Optional. A key the operator issued to a program calling from "
            "its server: its calls are counted under the key, with the key's own limits, "
            "instead of by IP address. Browsers call without one.",
        },
    )
    spec.components.parameter(
        "IfNoneMatch",
        "header",
        {
            "name": "If-None-Match",
            "required": False,
            "description": "An ETag from an earlier answer: 304 with no body if it is current.",
            "schema": {"type": "string"},
        },
    )
    for name, response in _problem_responses().items():
        spec.components.response(name, response)


def build_document(engine, drafts) -> dict:
    """The OpenAPI 3.1 document for `engine`'s ruleset and its `drafts`, as a JSON-ready
    dict."""
    spec = APISpec(
        title=TITLE,
        version=API_VERSION,
        openapi_version="3.1.0",
        plugins=[_Plugin()],
        info={"description": DESCRIPTION},
        tags=[
            {"name": "advice", "description": "What to do next, and what not to."},
            {"name": "moderation", "description": "Screening free text for unsafe advice."},
            {"name": "drafts", "description": "Ready-to-edit messages for the actions."},
            {"name": "catalogue", "description": "The actions, rejected advice and sources."},
            {"name": "operations", "description": "Health probes and metrics."},
            {"name": "documentation", "description": "This document and its page."},
        ],
        # Relative: the server that serves this document (it is cached whatever the host).
        servers=[{"url": "/", "description": "The server that serves this document."}],
        **{
            "x-ruleset-version": engine.version,
            "x-ruleset": {"version": engine.version, "digest": engine.digest},
        },
    )
    _components(spec)
    requests, answers, calendar = _advice_examples(engine)
    spec.path(
        path="/v1/advice",
        operations={
            "post": {
                "tags": ["advice"],
                "security": OPTIONAL_KEY,
                "operationId": "advise",
                "summary": "Next actions for an interview state, what to avoid, and a verdict "
                "on each plan.",
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
                    "content": _json("InterviewState", examples=requests),
                },
                "responses": _responses(
                    {
                        "description": "The advice, as JSON or as an iCalendar plan.",
                        "content": {
                            **_json("Advice", examples=answers),
                            CALENDAR: {"schema": {"type": "string"}, "example": calendar},
                        },
                    },
                    *BODY_ERRORS,
                    "NotAcceptable",
                    *API_ERRORS,
                ),
            }
        },
    )
    spec.path(
        path="/v1/moderate",
        operations={
            "post": {
                "tags": ["moderation"],
                "security": OPTIONAL_KEY,
                "operationId": "moderate",
                "summary": "Screen a text sentence by sentence for unsafe advice.",
                "description": "Advice that warns against a harm is not flagged; neither is "
                "ordinary self-care.",
                "requestBody": {
                    "required": True,
                    "content": _json("ModerationRequest", MODERATION_EXAMPLE),
                },
                "responses": _responses(
                    {
                        "description": "The verdict, with every sentence and its offsets.",
                        "content": _json(
                            "Verdict", dump_verdict(engine.moderate(MODERATION_EXAMPLE["text"]))
                        ),
                    },
                    *BODY_ERRORS,
                    *API_ERRORS,
                ),
            }
        },
    )
    _drafts_path(spec, drafts)
    _catalogue_paths(spec, engine.catalogue)
    _operations_paths(spec, engine)
    return spec.to_dict()


#: Request examples for POST /v1/drafts: (name, summary, body).
DRAFT_EXAMPLES = (
    (
        "thank-you",
        "A thank-you the evening of the interview, every detail given",
        {
            "state": {"stage": "after", "hours_since": 3},
            "action": "send-thank-you",
            "details": {
                "candidate_name": "Alex Morgan",
                "recipient_name": "Sam Patel",
                "role": "Data Analyst",
                "company": "Northwind",
                "highlight": "my experience of building reports for a small team",
            },
        },
    ),
    (
        "decline-offer",
        "Declining an offer, with placeholders for the details left out",
        {"state": {"stage": "offer"}, "action": "withdraw-politely", "details": {"role": "Tester"}},
    ),
    (
        "linkedin",
        "A LinkedIn connection note (at most 300 characters)",
        {
            "state": {"stage": "after", "hours_since": 20},
            "action": "connect-on-linkedin",
            "details": {"recipient_name": "Sam", "role": "Data Analyst", "company": "Northwind"},
        },
    ),
    (
        "call-recruiter",
        "Talking points for the call to the consultant",
        {
            "state": {"stage": "after", "hours_since": 1, "via_agency": True},
            "action": "call-recruiter",
        },
    ),
)
#: The body of the drafts' 422 example: an action with no draft and a detail too long.
INVALID_DRAFT = {
    "state": {"stage": "after"},
    "action": "reflect",
    "details": {"role": "x" * 201},
}


def _drafts_path(spec: APISpec, drafts) -> None:
    """POST /v1/drafts, with request examples and the engine's answers to them."""
    now = datetime.now(UTC)
    requests, answers = {}, {}
    for name, summary, body in DRAFT_EXAMPLES:
        requests[name] = {"summary": summary, "value": body}
        answers[name] = {"summary": summary, "value": answer(drafts, _DRAFT.load(body), now)}
    try:
        _DRAFT.load(INVALID_DRAFT)
    except ValidationError as error:
        refused = _problem(
            422,
            "Unprocessable Content",
            describe_errors(error),
            "/v1/drafts",
            errors=flatten_errors(error.messages),
        )
    spec.path(
        path="/v1/drafts",
        operations={
            "post": {
                "tags": ["drafts"],
                "operationId": "draft",
                "security": OPTIONAL_KEY,
                "summary": "A ready-to-edit message for an action, or talking points for a call.",
                "description": f"Drafts exist for {', '.join(f'`{a}`' for a in DRAFT_ACTIONS)}; "
                "another action is a 422 naming `action`. The state chooses the variant (on the "
                "agency route the consultant is the recipient; an offer is declined rather than "
                "withdrawn from; a follow-up after a stated date or after a week of silence). "
                f"Each of `details` ({', '.join(f'`{d}`' for d in DETAIL_FIELDS)}) is plain "
                "text of one line, screened by moderation: a flagged one is a 422 naming "
                "`details.<field>`; one left out shows a placeholder in square brackets. "
                "`guidance` quotes the article advice the draft follows, verbatim.",
                "requestBody": {
                    "required": True,
                    "content": _json("DraftRequest", examples=requests),
                },
                "responses": _responses(
                    {
                        "description": "The draft.",
                        "content": _json("Draft", examples=answers),
                    },
                    *BODY_ERRORS,
                    *API_ERRORS,
                )
                | {
                    "422": {
                        "description": PROBLEMS["UnprocessableContent"][2],
                        "content": {PROBLEM: {"schema": "Problem", "example": refused}},
                    }
                },
            }
        },
    )


_DRAFT = DraftRequestSchema()


def _operations_paths(spec: APISpec, engine) -> None:
    """Health, metrics, and this document with its page."""
    ruleset = {"version": engine.version, "digest": engine.digest}
    ready = {
        "status": "ready",
        "ruleset": ruleset,
        "rules": len(engine.rulebook.rules),
        "rate_limit_storage": "shared",
    }
    operations = (
        (
            "/health/live",
            "live",
            "operations",
            "The process answers requests.",
            {
                "200": {"description": "Alive.", "content": _json("Live", {"status": "live"})},
            },
        ),
        (
            "/health/ready",
            "ready",
            "operations",
            "The ruleset and content are loaded and pass a self-test (one advice, one moderation).",
            {
                "200": {"description": "Ready to serve.", "content": _json("Ready", ready)},
                "503": "ServiceUnavailable",
            },
        ),
        (
            "/metrics",
            "metrics",
            "operations",
            "Prometheus metrics (text format). Under gunicorn, only on the listener "
            "ADVISOR_METRICS_BIND names, apart from the API; a 404 elsewhere.",
            {
                "200": {
                    "description": "Counters and histograms of requests, rules fired and flags.",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                },
                "404": "NotFound",
            },
        ),
        (
            "/openapi.json",
            "openapi",
            "documentation",
            "This OpenAPI 3.1 document.",
            {
                "200": {
                    "description": "The document; cached like the catalogue.",
                    "headers": CACHED,
                    "content": _json({"type": "object"}),
                },
                "304": NOT_MODIFIED,
            },
        ),
        (
            "/docs",
            "docs",
            "documentation",
            "This document as a web page.",
            {
                "200": {
                    "description": "An HTML page with no script, rendered on the server; "
                    "cached like the catalogue.",
                    "headers": CACHED,
                    "content": {"text/html": {"schema": {"type": "string"}}},
                },
                "304": NOT_MODIFIED,
            },
        ),
    )
    for path, operation_id, tag, summary, responses in operations:
        operation = {
            "tags": [tag],
            "operationId": operation_id,
            "summary": summary,
            "responses": responses,
        }
        if "304" in responses:
            operation["parameters"] = ["IfNoneMatch"]
        spec.path(path=path, operations={"get": operation})


def document() -> dict:
    """This app's document, built once per engine (its examples run the engine)."""
    engine = current_app.extensions["advisor"]
    built = current_app.extensions.get("openapi")
    if built is None or built[0] is not engine:
        document = build_document(engine, get_drafts())
        built = current_app.extensions["openapi"] = (engine, document)
    return built[1]


@bp.get("/openapi.json")
def openapi_json():
    return document()


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
