"""POST /v1/drafts: a ready-to-edit message for one recommended action.

The candidate's details are screened by moderation and never logged.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app
from marshmallow import Schema, ValidationError, fields, validate

from ..drafts import (
    DETAIL_FIELDS,
    DRAFT_ACTIONS,
    DraftDetailsSchema,
    Drafts,
    dump_draft,
    load_drafts,
)
from ..state import InterviewState, InterviewStateSchema, StrictString
from .apidoc import (
    API_ERRORS,
    BODY_ERRORS,
    OPTIONAL_KEY,
    PROBLEMS,
    json_content,
    operation,
    responses,
)
from .body import load_body, raw_json_body
from .errors import PROBLEM, validation_problem
from .extension import get_engine, get_settings

bp = Blueprint("drafts", __name__)


class DraftRequestSchema(Schema):
    """The request body of ``POST /v1/drafts``; unknown fields are errors."""

    state = fields.Nested(
        InterviewStateSchema,
        required=True,
        metadata={"description": "The interview state, exactly as for `POST /v1/advice`."},
    )
    action = StrictString(
        required=True,
        validate=validate.OneOf(
            DRAFT_ACTIONS, error=f"No draft for this action: use one of {', '.join(DRAFT_ACTIONS)}."
        ),
        metadata={"description": "The action to draft: one that is a message, or a call."},
    )
    details = fields.Nested(
        DraftDetailsSchema,
        load_default=dict,
        metadata={"description": "The candidate's own words for the draft; all optional."},
    )


_REQUEST = DraftRequestSchema()


def get_drafts() -> Drafts:
    """The app's draft templates."""
    return current_app.extensions["advisor_drafts"]


def parse_state(data: dict, now: datetime) -> InterviewState:
    """The state of a loaded request; a clock error is named under ``state``."""
    try:
        return InterviewState.from_request(data, now)
    except ValidationError as error:
        raise ValidationError({"state": error.messages}) from None


def answer(drafts: Drafts, data: dict, now: datetime) -> dict:
    """The JSON answer to a request loaded through `DraftRequestSchema`."""
    state = parse_state(data["state"], now)
    return dump_draft(drafts.draft(data["action"], state, data["details"]))


#: Request examples: (name, summary, body).
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
#: The body of the 422 example: an action with no draft and a detail too long.
INVALID_DRAFT = {
    "state": {"stage": "after"},
    "action": "reflect",
    "details": {"role": "x" * 201},
}


def _described(_engine, drafts: Drafts) -> dict:
    """The operation, with the request examples and the answers of `drafts` to them."""
    now = datetime.now(UTC)
    requests, answers = {}, {}
    for name, summary, body in DRAFT_EXAMPLES:
        requests[name] = {"summary": summary, "value": body}
        answers[name] = {"summary": summary, "value": answer(drafts, _REQUEST.load(body), now)}
    try:
        _REQUEST.load(INVALID_DRAFT)
    except ValidationError as error:
        refused = validation_problem(error, "/v1/drafts")
    else:
        raise AssertionError("the 422 example body must be invalid")
    return {
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
            "content": json_content("DraftRequest", examples=requests),
        },
        "responses": responses(
            {"description": "The draft.", "content": json_content("Draft", examples=answers)},
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


@bp.post("/v1/drafts")
@operation(_described)
def draft():
    raw = raw_json_body(takes_query=False)
    return answer(get_drafts(), load_body(_REQUEST, raw=raw), datetime.now(UTC))


def init_app(app) -> None:
    if "advisor_drafts" not in app.extensions:  # an engine given by the caller (tests)
        engine = get_engine(app)
        content_dir = get_settings(app).content_dir
        drafts = load_drafts(content_dir, engine.catalogue, engine.moderator)
        app.extensions["advisor_drafts"] = drafts
    app.register_blueprint(bp)
