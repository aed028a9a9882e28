"""The OpenAPI 3.1 document at ``GET /openapi.json``, built from the app's route map.

Each view declares its own operation (`advisor.web.apidoc.operation`, beside
the route); `build_document` walks ``app.url_map`` and documents every route
from its view, so a new route cannot go undocumented (a route that is not the
API, the widget's, is named in `NOT_API_BLUEPRINTS`) and a removed one
leaves nothing behind. Bodies come from the marshmallow schemas the views
load and dump with (their fields' descriptions too); this module adds the
shared components: schemas and what they cannot say (cross-field rules),
headers, the problem responses. Examples are computed from the loaded engine when the document is
first asked for, so they are real answers of this ruleset. The document is
cached like the catalogue (ETag from the ruleset digest).
"""

from __future__ import annotations

import re
from importlib.metadata import version

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter
from apispec.ext.marshmallow.common import resolve_schema_instance
from flask import Blueprint, Flask, Response, current_app
from marshmallow import Schema, ValidationError, fields

from ..drafts import DraftDetailsSchema, DraftSchema
from ..schemas import AdviceSchema, RulesetSchema, VerdictSchema
from ..state import InterviewStateSchema
from .apidoc import (
    API_KEY,
    CACHED,
    CONDITIONS,
    OPTIONAL_KEY,
    PROBLEMS,
    conditional_responses,
    describe,
    json_content,
    operation,
)
from .caching import cache_by_digest
from .drafts import DraftRequestSchema, get_drafts
from .errors import MAX_ERRORS, MAX_NAME_CHARS, PROBLEM, problem_body, validation_problem
from .extension import get_engine
from .moderation import MAX_TEXT_CHARS, ModerationRequestSchema

__all__ = ["build_document", "init_app", "operations"]

bp = Blueprint("openapi", __name__)
bp.after_request(cache_by_digest)

TITLE = "Interview Advisor API"
#: info.version: the package's semantic version (generated clients need one); the
#: ruleset's version is x-ruleset-version, at the document's top level.
API_VERSION = version("interview-advisor")


class ProblemSchema(Schema):
    """An RFC 9457 problem: every error the API returns."""

    type = fields.String(required=True, metadata={"description": "Always `about:blank`."})
    title = fields.String(required=True, metadata={"description": "The HTTP status phrase."})
    status = fields.Integer(required=True, metadata={"description": "The HTTP status code."})
    detail = fields.String(required=True, metadata={"description": "What went wrong, in words."})
    instance = fields.String(
        metadata={
            "description": "The request's path. Absent from the few errors the server answers "
            "before the application reads the request (a request line, header or framing it "
            "cannot take), which echo nothing the client sent."
        }
    )
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
        required=True,
        metadata={
            "description": "How rate limits are counted: `shared` (Redis answers), "
            "`unreachable` (Redis does not answer: each worker counts alone meanwhile), "
            "`per-process` (`memory://`) or `off`."
        },
    )


#: The body of the 422 example: one field out of its enum, one out of range, one unknown.
INVALID_STATE = {"stage": "lunch", "hours_since": -3, "colour": "red"}

DESCRIPTION = f"""\
Tells a job candidate what to do after an interview, cites the evidence for every
piece of advice (verbatim quotes from five articles), and refuses unsafe advice.
Ids and field names of v1 are fixed; fields and endpoints may be added.

Errors are RFC 9457 `application/problem+json` with `type`, `title`, `status`,
`detail` and `instance` (but for the few the server answers before the application
reads the request, which have no `instance`); a 422 adds `errors`, field by field
(the first {MAX_ERRORS}, with `unlisted_errors` counting the rest). Request bodies are strict: unknown
fields, wrong types and out-of-range values are errors.

Browsers may call `/v1/` and `/openapi.json` from the origins in
`ADVISOR_CORS_ORIGINS` (default any; no credentials). Catalogue answers carry a
strong `ETag` from the ruleset digest and `Cache-Control: public`; send it back in
`If-None-Match` to get `304 Not Modified`. Every response carries `X-Request-ID`.
`/v1/` is rate-limited per client (429 with `Retry-After`): per API key for
callers that send one (`Authorization: Bearer`, optional, issued by the operator
for server-to-server calls), else per IP address.
"""

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


def _unprocessable() -> dict:
    try:
        InterviewStateSchema().load(INVALID_STATE)
    except ValidationError as error:
        return validation_problem(error, "/v1/advice")
    raise AssertionError("the 422 example body must be invalid")


def _problem_responses(digest: str) -> dict:
    responses = {}
    for name, (status, title, when, detail, path) in PROBLEMS.items():
        if callable(detail):
            detail = detail(digest)
        example = problem_body(status, title, detail, path) if detail else _unprocessable()
        responses[name] = {
            "description": when,
            "content": {PROBLEM: {"schema": "Problem", "example": example}},
        }
    responses["TooManyRequests"]["headers"] = {"Retry-After": "RetryAfter"}
    responses["Unauthorized"]["headers"] = {"WWW-Authenticate": "WWWAuthenticate"}
    return responses


def _pascal(name: str) -> str:
    return "".join(word.capitalize() for word in re.split(r"[^0-9A-Za-z]+", name) if word)


def _name_inline_schemas(spec: APISpec) -> None:
    """Give the enums and constrained list items inside the component schemas names
    of their own (``InterviewStateStage``, ``PlanVerdict``, ``InterviewStatePlansItem``)
    and refer to them, keeping each property's description and default beside the
    reference (and the description, copied, on the component).

    Client generators name an inline schema after its property: one makes
    ``InterviewStateStage`` of ``InterviewState.stage``, another ``Stage``, and then
    ``Verdict`` of ``Plan.verdict`` and ``Plan`` of each plan's text, which collide
    with the answers' ``Verdict`` and ``Plan`` (renamed ``Verdict1`` and ``Plan1``).
    Named here as the first already named them, every generator agrees, and nothing
    is renumbered."""
    schemas = spec.components.schemas
    for parent, schema in list(schemas.items()):
        for prop, field in schema.get("properties", {}).items():
            if "enum" in field:
                target, name = field, f"{parent}{_pascal(prop)}"
            elif field.get("type") == "array" and {"enum", "maxLength"} & set(field["items"]):
                target, name = field["items"], f"{parent}{_pascal(prop)}Item"
            else:
                continue
            named = {key: target.pop(key) for key in NAMED_KEYS if key in target}
            named["description"] = target.get("description", f"One item of `{parent}.{prop}`.")
            spec.components.schema(name, named)
            target["$ref"] = f"#/components/schemas/{name}"


#: What moves from an inline schema to its named component; its description and
#: default stay with the property.
NAMED_KEYS = ("type", "enum", "minLength", "maxLength", "pattern")


def _components(spec: APISpec, digest: str) -> None:
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
    # Each field's description and bounds come from its declaration (`advisor.state`).
    spec.components.schema("InterviewState", state, schema=InterviewStateSchema)
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
    spec.components.parameter(
        "IfMatch",
        "header",
        {
            "name": "If-Match",
            "required": False,
            "description": "ETags from earlier answers (or `*`): the answer only if one of "
            "them is current, else a 412 problem giving the current one.",
            "schema": {"type": "string"},
        },
    )
    for name, response in _problem_responses(digest).items():
        spec.components.response(name, response)


#: The blueprints and endpoints that are not the API: the widget's pages and assets,
#: and static files. Every other route must describe its operation (`apidoc.operation`).
NOT_API_BLUEPRINTS = frozenset(("widget",))
NOT_API_ENDPOINTS = frozenset(("static",))
#: Methods that no route declares itself: Flask answers HEAD and OPTIONS for every route.
IMPLICIT_METHODS = frozenset(("HEAD", "OPTIONS"))
_CONVERTED = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")

TAGS = (
    {"name": "advice", "description": "What to do next, and what not to."},
    {"name": "moderation", "description": "Screening free text for unsafe advice."},
    {"name": "drafts", "description": "Ready-to-edit messages for the actions."},
    {"name": "catalogue", "description": "The actions, rejected advice and sources."},
    {"name": "operations", "description": "Health probes and metrics."},
    {"name": "documentation", "description": "This document and its page."},
)


def openapi_path(rule: str) -> str:
    """A Werkzeug rule as an OpenAPI path: ``/v1/guidance/<item_id>`` -> ``/v1/guidance/{item_id}``."""
    return _CONVERTED.sub(r"{\1}", rule)


def operations(app: Flask):
    """Every route of `app` that is the API: (OpenAPI path, method, view), in the order
    of the route map. A route that is neither described nor declared not to be the API
    is an error: it would be served undocumented."""
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.rpartition(".")[0]
        if rule.endpoint in NOT_API_ENDPOINTS or blueprint in NOT_API_BLUEPRINTS:
            continue
        view = app.view_functions[rule.endpoint]
        if getattr(view, "openapi", None) is None:
            raise LookupError(f"the route {rule.rule} ({rule.endpoint}) describes no operation")
        for method in sorted(rule.methods - IMPLICIT_METHODS):
            yield openapi_path(rule.rule), method.lower(), view


def _paths(app: Flask, engine, drafts) -> dict:
    """The path items of `app`'s routes, grouped by tag in the order of `TAGS`."""
    described = [
        (path, method, describe(view, engine, drafts)) for path, method, view in operations(app)
    ]
    order = [tag["name"] for tag in TAGS]
    described.sort(key=lambda item: order.index(item[2]["tags"][0]))
    paths = {}
    for path, method, operation_object in described:
        paths.setdefault(path, {})[method] = _key_said_once(operation_object)
    return paths


def _key_said_once(operation_object: dict) -> dict:
    """`operation_object` leaving the optional API key to the document's `security`, and
    saying `security: []` where it takes no key.

    The same in OpenAPI's terms as the optional key on each operation, but
    openapi-python-client reads any `security` of an operation as a key required, and
    would make its users build an `AuthenticatedClient` to call without one."""
    said = {key: value for key, value in operation_object.items() if key != "security"}
    security = operation_object.get("security", [])
    if security != OPTIONAL_KEY:
        said["security"] = security
    return said


def build_document(app: Flask, engine, drafts) -> dict:
    """The OpenAPI 3.1 document of `app`'s routes, for `engine`'s ruleset and its
    `drafts`, as a JSON-ready dict."""
    spec = APISpec(
        title=TITLE,
        version=API_VERSION,
        openapi_version="3.1.0",
        plugins=[_Plugin()],
        info={"description": DESCRIPTION},
        tags=[dict(tag) for tag in TAGS],
        # Relative: the server that serves this document (it is cached whatever the host).
        servers=[{"url": "/", "description": "The server that serves this document."}],
        # Optional: a key counts the calls under it; without one, by IP address.
        security=OPTIONAL_KEY,
        **{
            "x-ruleset-version": engine.version,
            "x-ruleset": {"version": engine.version, "digest": engine.digest},
        },
    )
    _components(spec, engine.digest)
    for path, operations in _paths(app, engine, drafts).items():
        spec.path(path=path, operations=operations)
    # After the paths: they register the catalogue's schemas (`Source`, `Rejected`…).
    _name_inline_schemas(spec)
    return spec.to_dict()


def document() -> dict:
    """This app's document, built once per engine (its examples run the engine)."""
    return _built()[1]


def _built() -> tuple:
    """The engine, its document, and the document as the app's JSON provider writes
    it: built once per engine, so that each request for ``/openapi.json`` (150 KB,
    counted by no rate limit) is answered with those bytes, not written again (×0.2
    of the time)."""
    engine = get_engine()
    built = current_app.extensions.get("openapi")
    if built is None or built[0] is not engine:
        document = build_document(current_app, engine, get_drafts())
        body = current_app.json.response(document).get_data()
        built = current_app.extensions["openapi"] = (engine, document, body)
    return built


@bp.get("/openapi.json")
@operation(
    {
        "tags": ["documentation"],
        "operationId": "openapi",
        "summary": "This OpenAPI 3.1 document.",
        "parameters": list(CONDITIONS),
        "responses": {
            "200": {
                "description": "The document; cached like the catalogue.",
                "headers": CACHED,
                "content": json_content({"type": "object"}),
            },
            **conditional_responses(),
        },
    }
)
def openapi_json():
    return Response(_built()[2], mimetype="application/json")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
