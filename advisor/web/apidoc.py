"""Each operation's OpenAPI description, declared beside its view.

A view carries its description as ``view.openapi`` (set by `operation`): the
OpenAPI operation object, or a function of the loaded engine and drafts that
returns one, for examples that are real answers of this ruleset.
`advisor.web.openapi` walks the app's route map and documents every route
from its view, so a route without a description fails the document (and its
test), and a route removed takes its description with it.

Also here: the pieces operations share (problem responses by name, the
optional API key, cache headers).
"""

from __future__ import annotations

from collections.abc import Callable

from .body import LENGTH_REQUIRED
from .caching import NOTHING_TO_MATCH, etag_of, if_match_failed
from .calendar import CALENDAR

__all__ = [
    "API_ERRORS",
    "BODY_ERRORS",
    "CACHED",
    "CONDITIONS",
    "JSON",
    "NOT_MODIFIED",
    "OPTIONAL_KEY",
    "PROBLEMS",
    "conditional_responses",
    "describe",
    "errors",
    "json_content",
    "operation",
    "responses",
]

JSON = "application/json"

#: The optional API key of every /v1/ operation: anonymous calls stay allowed.
API_KEY = "apiKey"
OPTIONAL_KEY = [{}, {API_KEY: []}]

#: The problem responses: component name -> (status, title, when, example detail, path).
#: A detail of None: the example is a validation error (`advisor.web.openapi`); a
#: function: the detail for the ruleset digest it is given.
PROBLEMS = {
    "BadRequest": (
        400,
        "Bad Request",
        "An empty body, malformed JSON, invalid UTF-8 or a byte order mark, a key given twice, "
        "`NaN`/`Infinity`, an integer of more than 30 digits or nesting too deep.",
        "The body is empty: send the request's JSON object.",
        "/v1/advice",
    ),
    "Unauthorized": (
        401,
        "Unauthorized",
        "An `Authorization` header that is not a valid API key, or a query parameter "
        "that may carry one (`api_key`, `access_token`, `key`, `token`, `apikey`: a key "
        "is read from `Authorization` only), only when the operator lists keys. Send a "
        "valid key, or no `Authorization` to call anonymously.",
        "The API key is not valid: send `Authorization: Bearer` with a key issued for this "
        "service, or no Authorization header to call anonymously.",
        "/v1/advice",
    ),
    "NotFound": (
        404,
        "Not Found",
        "No item has this id.",
        "No guidance has the id 'nope': GET /v1/guidance lists every id.",
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
    "PreconditionFailed": (
        412,
        "Precondition Failed",
        "An `If-Match` names no current `ETag` of this resource (nor `*`); the detail "
        "gives the current one. Never the representation under a 412 status.",
        lambda digest: if_match_failed(etag_of(digest, "/v1/guidance")),
        "/v1/guidance",
    ),
    "NothingToMatch": (
        412,
        "Precondition Failed",
        "An `If-Match` was sent: the endpoint computes each answer from the body and has "
        "no representation a tag (nor `*`) could name. Decided before the body is read.",
        NOTHING_TO_MATCH,
        "/v1/advice",
    ),
    "RequestTimeout": (
        408,
        "Request Timeout",
        "The body did not arrive within `ADVISOR_CLIENT_TIMEOUT` seconds (10 by default) "
        "of the headers; the connection is closed.",
        "The body did not arrive in time: its 120 bytes had not all come.",
        "/v1/advice",
    ),
    "LengthRequired": (
        411,
        "Length Required",
        "A POST with neither `Content-Length` nor `Transfer-Encoding`, which has no body "
        "by HTTP's rules; the connection is closed.",
        LENGTH_REQUIRED[False],
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
        "The body is not `application/json` in UTF-8, or is compressed (a "
        "`Content-Encoding` other than `identity`; the answer says `Accept-Encoding: "
        "identity`).",
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
        "This client is over its limit of 60 per 1 second: ask again in 1 second (Retry-After).",
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
    "LengthRequired",
    "NothingToMatch",
    "ContentTooLarge",
    "UnsupportedMediaType",
    "UnprocessableContent",
)
#: The conditional requests of an answer with an ETag: the parameters, and the
#: responses besides the 200.
CONDITIONS = ("IfNoneMatch", "IfMatch")
NOT_MODIFIED = {
    "description": "Not modified: the `If-None-Match` ETag is current. No body.",
    "headers": {"ETag": "ETag"},
}
CACHED = {"ETag": "ETag", "Cache-Control": "CacheControl"}


def conditional_responses(*names: str) -> dict:
    """The 304 and 412 of an answer with an ETag, and the named problem responses."""
    return {"304": NOT_MODIFIED, **errors("PreconditionFailed", *names)}


#: An operation's description: the OpenAPI operation object, or a function of the
#: engine and the drafts that returns it.
Description = dict | Callable[..., dict]


def operation(description: Description):
    """Decorate a view with its OpenAPI operation (below the route decorator)."""

    def mark(view):
        view.openapi = description
        return view

    return mark


def describe(view, engine, drafts) -> dict | None:
    """The operation object `view` declares for this engine, or None if it declares none."""
    description = getattr(view, "openapi", None)
    if callable(description):
        return description(engine, drafts)
    return description


def json_content(schema, example=None, examples=None) -> dict:
    """A JSON body of `schema`, with one example or named ones."""
    content = {"schema": schema}
    if example is not None:
        content["example"] = example
    if examples is not None:
        content["examples"] = examples
    return {JSON: content}


def errors(*names: str) -> dict:
    """The named problem responses, by status."""
    return {str(PROBLEMS[name][0]): name for name in names}


def responses(ok: dict, *names: str) -> dict:
    """A 200 and the named problem responses."""
    return {"200": ok, **errors(*names)}
