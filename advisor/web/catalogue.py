"""GET catalogue endpoints: guidance, rejected advice and sources.

A 200 carries a strong ETag from the ruleset digest and may be cached; a
matching If-None-Match gives 304; anything else is no-store (`advisor.web.caching`).
"""

from __future__ import annotations

from flask import Blueprint
from werkzeug.exceptions import NotFound

from ..schemas import (
    GuidanceListSchema,
    GuidanceSchema,
    RejectedListSchema,
    RejectedSchema,
    SourceDetailSchema,
    SourceListSchema,
    dump_source,
)
from .apidoc import API_ERRORS, CACHED, NOT_MODIFIED, OPTIONAL_KEY, errors, json_content, operation
from .caching import cache_by_digest
from .extension import get_engine

bp = Blueprint("catalogue", __name__)
bp.after_request(cache_by_digest)


def _catalogue():
    return get_engine().catalogue


def _one(items: dict, item_id: str, kind: str):
    if item_id not in items:
        raise NotFound(f"No {kind} has the id {item_id!r}.")
    return items[item_id]


#: Each kind: its noun, list and item schemas, and the summaries of list and item.
KINDS = {
    "guidance": (
        "recommended action",
        GuidanceListSchema,
        GuidanceSchema,
        "All recommended actions, each with its sources (contract order).",
        "One recommended action with its sources.",
    ),
    "rejected": (
        "rejected advice",
        RejectedListSchema,
        RejectedSchema,
        "All rejected advice with category, reason, safe alternatives and sources.",
        "One piece of rejected advice.",
    ),
    "sources": (
        "source",
        SourceListSchema,
        SourceDetailSchema,
        "The five articles of the corpus.",
        "One article: title, publisher, nature and the quotes cited from it (not its text, "
        "which belongs to its publisher).",
    ),
}


def _items(catalogue, kind: str) -> list:
    items = {"guidance": catalogue.actions, "rejected": catalogue.rejected}
    return list(items.get(kind, catalogue.sources).values())


def _list_operation(kind: str):
    """The list operation of `kind`, its example the first two items of this catalogue."""
    noun, list_schema, _item_schema, summary, _ = KINDS[kind]

    def described(engine, _drafts) -> dict:
        listed = list_schema().dump({kind: _items(engine.catalogue, kind)[:2]})
        return {
            "tags": ["catalogue"],
            "security": OPTIONAL_KEY,
            "operationId": f"list_{kind}",
            "summary": summary,
            "parameters": ["IfNoneMatch"],
            "responses": {
                "200": {
                    "description": f"Every {noun} (the example shows two at most).",
                    "headers": CACHED,
                    "content": json_content(list_schema, listed),
                },
                "304": NOT_MODIFIED,
                **errors(*API_ERRORS),
            },
        }

    return operation(described)


def _item_operation(kind: str):
    """The item operation of `kind`, its example the first item of this catalogue."""
    noun, _list_schema, item_schema, _, summary = KINDS[kind]

    def described(engine, _drafts) -> dict:
        catalogue = engine.catalogue
        first = _items(catalogue, kind)[0]
        one = dump_source(first, catalogue) if kind == "sources" else item_schema().dump(first)
        return {
            "tags": ["catalogue"],
            "security": OPTIONAL_KEY,
            "operationId": f"get_{kind}",
            "summary": summary,
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
                    "content": json_content(item_schema, one),
                },
                "304": NOT_MODIFIED,
                **errors("NotFound", *API_ERRORS),
            },
        }

    return operation(described)


@bp.get("/v1/guidance")
@_list_operation("guidance")
def guidance_list():
    return GuidanceListSchema().dump({"guidance": _catalogue().actions.values()})


@bp.get("/v1/guidance/<item_id>")
@_item_operation("guidance")
def guidance_item(item_id):
    return GuidanceSchema().dump(_one(_catalogue().actions, item_id, "guidance"))


@bp.get("/v1/rejected")
@_list_operation("rejected")
def rejected_list():
    return RejectedListSchema().dump({"rejected": _catalogue().rejected.values()})


@bp.get("/v1/rejected/<item_id>")
@_item_operation("rejected")
def rejected_item(item_id):
    return RejectedSchema().dump(_one(_catalogue().rejected, item_id, "rejected advice"))


@bp.get("/v1/sources")
@_list_operation("sources")
def source_list():
    return SourceListSchema().dump({"sources": _catalogue().sources.values()})


@bp.get("/v1/sources/<item_id>")
@_item_operation("sources")
def source_item(item_id):
    catalogue = _catalogue()
    return dump_source(_one(catalogue.sources, item_id, "source"), catalogue)


def init_app(app) -> None:
    app.register_blueprint(bp)
