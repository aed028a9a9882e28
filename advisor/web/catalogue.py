"""GET catalogue endpoints: guidance, rejected advice and sources.

A 200 carries a strong ETag from the ruleset digest and may be cached; a
matching If-None-Match gives 304; anything else is no-store (`advisor.web.caching`).

The answers depend on the loaded ruleset and content alone (no query parameter
or header selects another), so each is built once per app, when it is created,
in its final bytes: a request is answered with those bytes, and only what differs
per request (request id, CORS, rate-limit headers, 304) is added to it. Setting
``CATALOGUE_PREPARED`` to false in the app's config builds every answer with the
schemas on each request instead, as they were before (the tests compare the two).
"""

from __future__ import annotations

import orjson
from flask import Blueprint, Flask, Response, current_app
from werkzeug.exceptions import NotFound

from .._data import did_you_mean
from ..schemas import (
    GuidanceListSchema,
    GuidanceSchema,
    RejectedListSchema,
    RejectedSchema,
    SourceDetailSchema,
    SourceListSchema,
    dump_source,
)
from .apidoc import (
    API_ERRORS,
    CACHED,
    CONDITIONS,
    OPTIONAL_KEY,
    conditional_responses,
    json_content,
    operation,
)
from .caching import cache_by_digest
from .errors import shortened
from .extension import get_engine

bp = Blueprint("catalogue", __name__)
bp.after_request(cache_by_digest)

#: The app's prepared answers: request path -> JSON body.
_PREPARED = "advisor_catalogue"


def _catalogue():
    return get_engine().catalogue


def _one(items: dict, item_id: str, kind: str, listed: str):
    if item_id not in items:
        raise NotFound(
            f"No {kind} has the id {shortened(item_id)!r}{did_you_mean(item_id, items)}: "
            f"GET {listed} lists every id."
        )
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
            "parameters": list(CONDITIONS),
            "responses": {
                "200": {
                    "description": f"Every {noun} (the example shows two at most).",
                    "headers": CACHED,
                    "content": json_content(list_schema, listed),
                },
                **conditional_responses(*API_ERRORS),
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
                *CONDITIONS,
            ],
            "responses": {
                "200": {
                    "description": f"The {noun}.",
                    "headers": CACHED,
                    "content": json_content(item_schema, one),
                },
                **conditional_responses("NotFound", *API_ERRORS),
            },
        }

    return operation(described)


def _guidance_list(catalogue) -> dict:
    return GuidanceListSchema().dump({"guidance": catalogue.actions.values()})


def _guidance_item(catalogue, item_id: str) -> dict:
    return GuidanceSchema().dump(_one(catalogue.actions, item_id, "guidance", "/v1/guidance"))


def _rejected_list(catalogue) -> dict:
    return RejectedListSchema().dump({"rejected": catalogue.rejected.values()})


def _rejected_item(catalogue, item_id: str) -> dict:
    return RejectedSchema().dump(
        _one(catalogue.rejected, item_id, "rejected advice", "/v1/rejected")
    )


def _source_list(catalogue) -> dict:
    return SourceListSchema().dump({"sources": catalogue.sources.values()})


def _source_item(catalogue, item_id: str) -> dict:
    return dump_source(_one(catalogue.sources, item_id, "source", "/v1/sources"), catalogue)


#: Each kind: its URL prefix, its list, its item and the ids of its items.
_BUILDERS = (
    ("/v1/guidance", _guidance_list, _guidance_item, lambda c: c.actions),
    ("/v1/rejected", _rejected_list, _rejected_item, lambda c: c.rejected),
    ("/v1/sources", _source_list, _source_item, lambda c: c.sources),
)


def prepared_answers(catalogue) -> dict[str, bytes]:
    """Every 200 body of the catalogue routes, by request path, as the app's JSON
    provider writes it (compact, keys in schema order, UTF-8, a final newline)."""
    answers = {}
    for prefix, listed, one, items in _BUILDERS:
        answers[prefix] = _json_bytes(listed(catalogue))
        for item_id in items(catalogue):
            answers[f"{prefix}/{item_id}"] = _json_bytes(one(catalogue, item_id))
    return answers


def _json_bytes(body: dict) -> bytes:
    return orjson.dumps(body) + b"\n"


def _answer(path: str, build, *args):
    """The prepared answer of `path`, else the one `build` makes (404 for an unknown id)."""
    prepared = current_app.extensions.get(_PREPARED)
    if prepared is None:
        return build(_catalogue(), *args)
    body = prepared.get(path)
    if body is None:  # an id the catalogue lacks: its 404 problem
        return build(_catalogue(), *args)
    return Response(body, mimetype="application/json")


@bp.get("/v1/guidance")
@_list_operation("guidance")
def guidance_list():
    return _answer("/v1/guidance", _guidance_list)


@bp.get("/v1/guidance/<item_id>")
@_item_operation("guidance")
def guidance_item(item_id):
    return _answer(f"/v1/guidance/{item_id}", _guidance_item, item_id)


@bp.get("/v1/rejected")
@_list_operation("rejected")
def rejected_list():
    return _answer("/v1/rejected", _rejected_list)


@bp.get("/v1/rejected/<item_id>")
@_item_operation("rejected")
def rejected_item(item_id):
    return _answer(f"/v1/rejected/{item_id}", _rejected_item, item_id)


@bp.get("/v1/sources")
@_list_operation("sources")
def source_list():
    return _answer("/v1/sources", _source_list)


@bp.get("/v1/sources/<item_id>")
@_item_operation("sources")
def source_item(item_id):
    return _answer(f"/v1/sources/{item_id}", _source_item, item_id)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    if app.config.get("CATALOGUE_PREPARED", True):
        app.extensions[_PREPARED] = prepared_answers(get_engine(app).catalogue)
