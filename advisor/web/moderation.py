"""POST /v1/moderate: screen free text for unsafe advice."""

from __future__ import annotations

from flask import Blueprint, current_app
from marshmallow import Schema, validate

from ..schemas import dump_verdict
from ..state import StrictString
from .body import load_body
from .observability import observe_verdict

bp = Blueprint("moderation", __name__)

MAX_TEXT_CHARS = 20_000


class ModerationRequestSchema(Schema):
    text = StrictString(required=True, validate=validate.Length(max=MAX_TEXT_CHARS))


_REQUEST = ModerationRequestSchema()


@bp.post("/v1/moderate")
def moderate():
    text = load_body(_REQUEST)["text"]
    verdict = current_app.extensions["advisor"].moderate(text)
    observe_verdict(verdict)
    return dump_verdict(verdict)


def init_app(app) -> None:
    app.register_blueprint(bp)
