"""GET catalogue endpoints: guidance, rejected advice and sources.

A 200 carries a strong ETag from the ruleset digest and may be cached; a
matching If-None-Match gives 304; anything else is no-store (`advisor.web.caching`).
"""

from __future__ import annotations

from flask import Blueprint, current_app
from werkzeug.exceptions import NotFound

from ..schemas import (
    GuidanceListSchema,
    GuidanceSchema,
    RejectedListSchema,
    RejectedSchema,
    SourceListSchema,
    dump_source,
)
from .caching import cache_by_digest

bp = Blueprint("catalogue", __name__)
bp.after_request(cache_by_digest)


def _catalogue():
    return current_app.extensions["advisor"].catalogue


def _one(items: dict, item_id: str, kind: str):
    if item_id not in items:
        raise NotFound(f"No {kind} has the id {item_id!r}.")
    return items[item_id]


@bp.get("/v1/guidance")
def guidance_list():
    return GuidanceListSchema().dump({"guidance": _catalogue().actions.values()})


@bp.get("/v1/guidance/<item_id>")
def guidance_item(item_id):
    return GuidanceSchema().dump(_one(_catalogue().actions, item_id, "guidance"))


@bp.get("/v1/rejected")
def rejected_list():
    return RejectedListSchema().dump({"rejected": _catalogue().rejected.values()})


@bp.get("/v1/rejected/<item_id>")
def rejected_item(item_id):
    return RejectedSchema().dump(_one(_catalogue().rejected, item_id, "rejected advice"))


@bp.get("/v1/sources")
def source_list():
    return SourceListSchema().dump({"sources": _catalogue().sources.values()})


@bp.get("/v1/sources/<item_id>")
def source_item(item_id):
    catalogue = _catalogue()
    return dump_source(_one(catalogue.sources, item_id, "source"), catalogue)


def init_app(app) -> None:
    app.register_blueprint(bp)
