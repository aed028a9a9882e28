"""GET /docs: the OpenAPI document as a readable page, rendered on the server.

The page has no script and loads nothing from elsewhere: plain HTML and one
stylesheet served by the app (``static/docs/docs.css``), under a
Content-Security-Policy that allows nothing more, with ``Referrer-Policy:
no-referrer``. It is rendered once per loaded ruleset and carries its ETag.
"""

from __future__ import annotations

import json
import re

from flask import Blueprint, Flask, current_app, render_template
from markupsafe import Markup, escape

from .apidoc import CACHED, CONDITIONS, conditional_responses, operation
from .caching import cache_by_digest
from .openapi import document

__all__ = ["CSP", "init_app"]

bp = Blueprint("docs", __name__)
bp.after_request(cache_by_digest)  # the page changes only with the ruleset: ETag, 304

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
#: The page links to nothing elsewhere, so it need tell no one where a reader came from.
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
METHODS = ("get", "post", "put", "patch", "delete")
_CODE = re.compile(r"(``?)([^`]+)\1")


def inline(text: str | None) -> Markup:
    """Plain text with its `code` spans marked up."""
    return Markup(_CODE.sub(r"<code>\2</code>", str(escape(text or ""))))


def prose(text: str | None) -> Markup:
    """Paragraphs of plain text, with `code` spans."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text or "") if p.strip()]
    return Markup("").join(Markup("<p>{}</p>").format(inline(p)) for p in paragraphs)


def _ref(schema: dict) -> str | None:
    ref = schema.get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else None


def type_of(schema: dict) -> Markup:
    """A schema's type in words, with a link for each named schema."""
    name = _ref(schema)
    if name:
        return Markup('<a href="#schema-{0}">{0}</a>').format(name)
    kinds = schema.get("type", "any")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    words = []
    for kind in kinds:
        if kind == "array":
            words.append(Markup("array of {}").format(type_of(schema.get("items", {}))))
        elif kind == "object" and isinstance(schema.get("additionalProperties"), dict):
            words.append(Markup("object of {}").format(type_of(schema["additionalProperties"])))
        elif schema.get("format"):
            words.append(Markup("{} ({})").format(kind, schema["format"]))
        else:
            words.append(escape(kind))
    return Markup(" | ").join(words)


def constraints(schema: dict) -> list[str]:
    """The limits a value must keep, in words."""
    words = []
    if "enum" in schema:
        words.append("one of " + ", ".join(json.dumps(v) for v in schema["enum"]))
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        words.append(f"{low:g} to {high:g}")
    elif low is not None:
        words.append(f"at least {low:g}")
    elif high is not None:
        words.append(f"at most {high:g}")
    labels = {
        "minLength": "at least {} characters",
        "maxLength": "at most {} characters",
        "maxItems": "at most {} items",
        "pattern": "matches {}",
    }
    words.extend(label.format(schema[key]) for key, label in labels.items() if key in schema)
    items = schema.get("items", {})
    if "maxLength" in items:
        words.append(f"each at most {items['maxLength']} characters")
    if "default" in schema:
        words.append(f"default {json.dumps(schema['default'])}")
    return words


def _pretty(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)


def _examples(media: dict) -> list[dict]:
    if "example" in media:
        return [{"summary": "", "value": _pretty(media["example"])}]
    return [
        {"summary": example.get("summary", name), "value": _pretty(example["value"])}
        for name, example in media.get("examples", {}).items()
    ]


def _resolve(item, components: dict, kind: str) -> dict:
    if isinstance(item, dict) and "$ref" in item:
        return components[kind][_ref(item)]
    return item


def _media(content: dict) -> list[dict]:
    return [
        {"type": media_type, "schema": media.get("schema", {}), "examples": _examples(media)}
        for media_type, media in content.items()
    ]


def _operation(path: str, method: str, operation: dict, components: dict) -> dict:
    parameters = [_resolve(p, components, "parameters") for p in operation.get("parameters", [])]
    body = operation.get("requestBody")
    responses = []
    for status, response in sorted(operation["responses"].items()):
        response = _resolve(response, components, "responses")
        headers = {
            name: _resolve(header, components, "headers")
            for name, header in response.get("headers", {}).items()
        }
        responses.append(
            {
                "status": status,
                "description": response.get("description", ""),
                "headers": headers,
                "media": _media(response.get("content", {})),
            }
        )
    return {
        "id": operation["operationId"],
        "tags": operation.get("tags", []),
        "method": method.upper(),
        "path": path,
        "summary": operation.get("summary", ""),
        "description": operation.get("description", ""),
        "parameters": parameters,
        "body": _media(body["content"]) if body else [],
        "responses": responses,
    }


def _in_place(schema: dict, schemas: dict) -> dict:
    """`schema` with a reference to a named value that is not an object (an enum, a
    plan's text), and its items', replaced by what it names: a row then reads "string,
    one of …" rather than a link to a schema of one line."""
    named = schemas.get(_ref(schema) or "")
    if named is not None and "properties" not in named:
        schema = {**named, **{k: v for k, v in schema.items() if k != "$ref"}}
    if isinstance(schema.get("items"), dict):
        schema = {**schema, "items": _in_place(schema["items"], schemas)}
    return schema


def _schema_rows(schema: dict, schemas: dict) -> list[dict]:
    required = set(schema.get("required", ()))
    props = {name: _in_place(prop, schemas) for name, prop in schema.get("properties", {}).items()}
    return [
        {
            "name": name,
            "type": type_of(prop),
            "required": name in required,
            "constraints": constraints(prop),
            "description": prop.get("description", ""),
        }
        for name, prop in props.items()
    ]


def page_model(spec: dict) -> dict:
    """What the template shows: operations by tag, then every named schema."""
    components = spec.get("components", {})
    operations = [
        _operation(path, method, operation, components)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]
    tags = [
        {**tag, "operations": [op for op in operations if tag["name"] in op["tags"]]}
        for tag in spec.get("tags", [])
    ]
    schemas = [
        {
            "name": name,
            "description": schema.get("description", ""),
            "rows": _schema_rows(schema, components.get("schemas", {})),
            # A named value that is not an object: its type and limits in a line.
            "value": None
            if "properties" in schema
            else {"type": type_of(schema), "limits": constraints(schema)},
            "closed": schema.get("additionalProperties") is False,
            "dependent": schema.get("dependentRequired", {}),
            "exclusive": schema.get("not", {}),
        }
        for name, schema in sorted(components.get("schemas", {}).items())
    ]
    return {"info": spec["info"], "tags": tags, "schemas": schemas, "ruleset": spec["x-ruleset"]}


def _page() -> str:
    """The page, rendered once per document (which is built once per engine)."""
    spec = document()
    rendered = current_app.extensions.get("docs")
    if rendered is None or rendered[0] is not spec:
        helpers = {"prose": prose, "inline": inline, "type_of": type_of, "constraints": constraints}
        html = render_template("docs/index.html", **helpers, **page_model(spec))
        rendered = current_app.extensions["docs"] = (spec, html)
    return rendered[1]


@bp.get("/docs")
@operation(
    {
        "tags": ["documentation"],
        "operationId": "docs",
        "summary": "This document as a web page.",
        "parameters": list(CONDITIONS),
        "responses": {
            "200": {
                "description": "An HTML page with no script, rendered on the server; "
                "cached like the catalogue.",
                "headers": CACHED,
                "content": {"text/html": {"schema": {"type": "string"}}},
            },
            **conditional_responses(),
        },
    }
)
def docs_page():
    return _page(), 200, HEADERS


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
