"""POST /v1/moderate: screen free text for unsafe advice."""

from __future__ import annotations

from flask import Blueprint
from marshmallow import Schema, validate

from ..answer import write_verdict
from ..state import StrictString
from .apidoc import API_ERRORS, BODY_ERRORS, OPTIONAL_KEY, json_content, operation, responses
from .body import load_body, raw_json_body
from .extension import get_engine
from .observability import observe_verdict

bp = Blueprint("moderation", __name__)

MAX_TEXT_CHARS = 20_000


class ModerationRequestSchema(Schema):
    text = StrictString(required=True, validate=validate.Length(max=MAX_TEXT_CHARS))


_REQUEST = ModerationRequestSchema()


MODERATION_EXAMPLE = {"text": "Send a short thank-you email. Then have three pints and drive home."}


def _described(engine, _drafts) -> dict:
    """The operation, with this engine's verdict on the example."""
    verdict = write_verdict(engine.moderate(MODERATION_EXAMPLE["text"]))
    return {
        "tags": ["moderation"],
        "security": OPTIONAL_KEY,
        "operationId": "moderate",
        "summary": "Screen a text sentence by sentence for unsafe advice.",
        "description": "Advice that warns against a harm is not flagged; neither is "
        "ordinary self-care.",
        "requestBody": {
            "required": True,
            "content": json_content("ModerationRequest", MODERATION_EXAMPLE),
        },
        "responses": responses(
            {
                "description": "The verdict, with every sentence and its offsets.",
                "content": json_content("Verdict", verdict),
            },
            *BODY_ERRORS,
            *API_ERRORS,
        ),
    }


@bp.post("/v1/moderate")
@operation(_described)
def moderate():
    raw = raw_json_body(takes_query=False)
    text = load_body(_REQUEST, raw=raw)["text"]
    verdict = get_engine().moderate(text)
    observe_verdict(verdict)
    return write_verdict(verdict)


def init_app(app) -> None:
    app.register_blueprint(bp)
