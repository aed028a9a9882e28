"""POST /v1/drafts: a ready-to-edit message for one recommended action.

The candidate's details are screened by moderation and never logged.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app
from marshmallow import Schema, ValidationError, fields, validate

from ..drafts import DRAFT_ACTIONS, DraftDetailsSchema, Drafts, dump_draft, load_drafts
from ..state import InterviewState, InterviewStateSchema, StrictString
from .body import load_body

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


@bp.post("/v1/drafts")
def draft():
    return answer(get_drafts(), load_body(_REQUEST), datetime.now(UTC))


def init_app(app) -> None:
    if "advisor_drafts" not in app.extensions:  # an engine given by the caller (tests)
        engine = app.extensions["advisor"]
        content_dir = app.config["SETTINGS"].content_dir
        drafts = load_drafts(content_dir, engine.catalogue, engine.moderator)
        app.extensions["advisor_drafts"] = drafts
    app.register_blueprint(bp)
