"""RFC 9457 problem details for every error the API returns.

HTTPException (werkzeug)      -> its status, e.g. 400, 404, 405, 408, 413, 415
marshmallow.ValidationError   -> 422, with one message list per field
anything else                 -> 500, logged, with no detail leaked
"""

from __future__ import annotations

import itertools
import unicodedata
from urllib.parse import quote

from flask import Flask, current_app, request
from marshmallow import ValidationError
from werkzeug.exceptions import (
    HTTPException,
    InternalServerError,
    MethodNotAllowed,
    NotFound,
    RequestEntityTooLarge,
)
from werkzeug.routing import WebsocketMismatch

from .._data import flatten_errors

PROBLEM = "application/problem+json"


def problem_body(status: int, title: str, detail: str, instance: str, **extensions) -> dict:
    """The body of a problem: every error the API answers, and every documented example of
    one (`advisor.web.openapi`)."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    # A path of kilobytes (a request line takes 8,190 bytes) is cut as a detail is.
    body["instance"] = _shown(shortened(instance))
    body.update(extensions)
    return body


def _shown(path: str) -> str:
    """`path` with its control, format and separator characters percent-encoded (a
    right-to-left override, a NUL, a line break), as a URI writes them: the client's
    path is shown, never able to reorder or break what a reader sees around it."""
    if path.isprintable():
        return path
    return "".join(
        quote(c, safe="") if unicodedata.category(c)[0] in "CZ" and c != " " else c for c in path
    )


def problem(status: int, title: str, detail: str, headers=None, **extensions):
    """A problem+json response."""
    return problem_response(
        problem_body(status, title, detail, request.path, **extensions), headers
    )


def problem_response(body: dict, headers=None):
    """The problem+json response of a `problem_body`."""
    response = current_app.json.response(body)
    response.status_code = body["status"]
    response.mimetype = PROBLEM
    for name, value in headers or ():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


#: The detail of a 404 for a path no route has (the path itself is the `instance`).
NO_ROUTE = (
    "No resource has this path (see instance): paths are case-sensitive, end without a "
    "slash or parameters after ';', and an id holds no '/' (nor '%2F'); /openapi.json "
    "lists them all."
)


def _http_error(error: HTTPException):
    # No route, or one that says nothing of its own (a /static/ file that is not
    # there): not an unknown id, which is named.
    if error.code == 404 and (request.url_rule is None or error.description == _NO_WORDS):
        return problem(404, error.name, NO_ROUTE, error.get_headers())
    if isinstance(error, MethodNotAllowed):
        return problem(405, error.name, _not_allowed(error.valid_methods), error.get_headers())
    return problem(error.code, error.name, error.description, error.get_headers())


#: The detail Werkzeug gives a 404 raised without one ("check your spelling").
_NO_WORDS = NotFound.description


def _not_allowed(methods) -> str:
    """The detail of a 405: the method sent, and those this path takes (its `Allow`),
    its own methods before HEAD and OPTIONS, which every route answers."""
    methods = sorted(methods, key=lambda method: (method in ("HEAD", "OPTIONS"), method))
    return (
        f"{shortened(request.method)} is not a method of {shortened(request.path)}: "
        f"send {', '.join(methods)} (the Allow header lists them)."
    )


def _too_large(error: RequestEntityTooLarge):
    # Answered at once, the body left unread by the application: reading it would
    # hold the request for as long as the client cares to send (or not send) it.
    # The worker then reads and drops the rest of the body on a kept-alive connection
    # before its next request, within its keep-alive deadline (docs/serving.md),
    # so the client reads this answer before any close can reset the connection.
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    return problem(413, error.name, f"The body is larger than the limit of {limit} bytes.")


#: The most fields a 422 lists, and the longest text of the client's any problem repeats
#: (a field name, an id, a header value): a body of many or long unknown keys, or a
#: header or path of kilobytes, gets a short answer, not one that repeats it all.
MAX_ERRORS = 50
MAX_NAME_CHARS = 100
#: How a problem's detail shows a field named by the empty string.
EMPTY = '""'


def _validation_error(error: ValidationError):
    return problem_response(validation_problem(error, request.path))


def validation_problem(error: ValidationError, instance: str) -> dict:
    """The 422 problem body for `error` on the path `instance`."""
    # Flattening every one of many thousand unknown keys would cost more than the rest.
    messages, unlisted = _first_fields(error.messages)
    fields = flatten_errors(messages)
    unlisted += max(0, len(fields) - MAX_ERRORS)
    shown = {shortened(name): msgs for name, msgs in itertools.islice(fields.items(), MAX_ERRORS)}
    # A field named by the empty string is shown quoted, so the detail still names it;
    # a message's closing full stop gives way to the "; " between fields.
    detail = "; ".join(
        f"{name or EMPTY}: {' '.join(msgs).removesuffix('.')}" for name, msgs in shown.items()
    )
    if not unlisted:
        return problem_body(422, "Unprocessable Content", detail, instance, errors=shown)
    detail += f"; and {unlisted} more field(s) with errors, not listed (at most {MAX_ERRORS} are)"
    return problem_body(
        422, "Unprocessable Content", detail, instance, errors=shown, unlisted_errors=unlisted
    )


def _first_fields(messages) -> tuple[object, int]:
    """`messages` with each object's errors cut to its first `MAX_ERRORS` fields (nested
    ones too: ``state`` of /v1/drafts), and how many fields were cut."""
    if (
        not isinstance(messages, dict)
        or len(messages) <= MAX_ERRORS
        and not any(isinstance(value, dict) for value in messages.values())
    ):
        return messages, 0
    kept, unlisted = {}, max(0, len(messages) - MAX_ERRORS)
    for key, value in itertools.islice(messages.items(), MAX_ERRORS):
        kept[key], cut = _first_fields(value)
        unlisted += cut
    return kept, unlisted


def shortened(name: str) -> str:
    """`name`, cut to `MAX_NAME_CHARS` characters when longer (it may be the client's):
    how every problem repeats what a client sent."""
    return name if len(name) <= MAX_NAME_CHARS else f"{name[: MAX_NAME_CHARS - 1]}…"


def _websocket(error: WebsocketMismatch):
    return problem(
        400,
        "Bad Request",
        "The service does not speak WebSocket: send the request without "
        "`Upgrade: websocket` to get its answer over HTTP.",
    )


def _unexpected(error: Exception):
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    wrapped = InternalServerError()
    return problem(500, wrapped.name, "The server failed to answer; the error was logged.")


def init_app(app: Flask) -> None:
    app.register_error_handler(WebsocketMismatch, _websocket)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(ValidationError, _validation_error)
    app.register_error_handler(Exception, _unexpected)
