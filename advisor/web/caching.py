"""HTTP caching for responses that change only with the loaded ruleset.

The catalogue and the OpenAPI document are fixed once the rules and content
are loaded, so a strong ``ETag`` is the ruleset digest (its first 16 hex
digits, to tell versions apart at a glance) joined to a hash of the path.
``If-None-Match`` with it gives ``304 Not Modified`` with no body; an
``If-Match`` that names another tag, a ``412 Precondition Failed`` problem. The
endpoints that compute an answer from a body have no representation to match:
any ``If-Match`` is a 412 there (`refuse_if_match`).
Anything but a 200 (404, 412, 429, 5xx) is marked ``no-store``.

The files of ``/static/`` are answered under the same preconditions (and
``If-Unmodified-Since``, as they have a modification time), and a ``Range``
that asks for one range of bytes gets it (``206``); any other ``Range`` (other
units, several ranges, an If-Range naming a weak tag) is ignored, as HTTP
allows, and the whole file is the answer.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from flask import Flask, Response, current_app, request, send_from_directory
from werkzeug.exceptions import PreconditionFailed
from werkzeug.http import parse_date, parse_range_header

from .errors import problem
from .extension import get_engine, get_settings

__all__ = [
    "cache_by_digest",
    "conditional",
    "etag",
    "etag_of",
    "if_match_failed",
    "init_app",
    "refuse_if_match",
    "static_file",
]


def etag(path: str) -> str:
    """The strong entity tag of `path` under the loaded ruleset (without quotes)."""
    return etag_of(get_engine().digest, path)


@lru_cache(maxsize=256)  # the cacheable paths are few: the catalogue's, /openapi.json, /docs
def etag_of(digest: str, path: str) -> str:
    """The strong entity tag of `path` under the ruleset of `digest` (without quotes)."""
    digest = digest.removeprefix("sha256:")
    return f"{digest[:16]}-{hashlib.sha256(path.encode()).hexdigest()[:16]}"


def cache_by_digest(response: Response) -> Response:
    """Add ETag and Cache-Control to a 200 and answer a matching If-None-Match with 304
    (for GET and HEAD: the answer to OPTIONS is no representation of the resource)."""
    if response.status_code != 200:
        response.cache_control.no_store = True
        return response
    if request.method not in ("GET", "HEAD"):
        return response
    response.set_etag(etag(request.path))
    response.cache_control.public = True
    response.cache_control.max_age = get_settings().cache_max_age
    return conditional(response)


def conditional(response: Response, ranges: bool = False) -> Response:
    """`response` (a 200 with its ETag) answered as the request's conditions ask, in
    the order of RFC 9110 (13.2.2): an If-Match that names neither its tag nor ``*``
    (or, without If-Match, an If-Unmodified-Since before its Last-Modified) is a 412
    problem (never the representation with a 412 status); then an If-None-Match that
    names its tag (or ``*``) is a 304; then, with `ranges`, a Range asking for one
    range of bytes is a 206 (a 416 problem when the file has none of it)."""
    environ = request.environ
    if "HTTP_IF_MATCH" in environ:
        tag, _weak = response.get_etag()
        named = request.if_match
        if named and not (named.star_tag or named.is_strong(tag)):
            return _failed(response, if_match_failed(tag))
        # Met (Werkzeug would refuse "*", which every current representation meets).
    elif _modified_since(response.last_modified, environ.get("HTTP_IF_UNMODIFIED_SINCE")):
        return _failed(
            response,
            "If-Unmodified-Since is before this resource's last modification "
            f"(Last-Modified: {response.headers['Last-Modified']}).",
        )
    asked = {name: environ[name] for name in _RANGE_HEADERS if name in environ}
    if not _DECIDED.isdisjoint(environ):  # rare: most requests send none of them
        environ = {name: value for name, value in environ.items() if name not in _DECIDED}
    response.make_conditional(environ)
    if not ranges:
        return response
    response.accept_ranges = "bytes"
    if response.status_code == 200 and _one_byte_range(asked):
        # Only Range and If-Range left to decide: the 304 has been ruled out.
        only = {"REQUEST_METHOD": environ["REQUEST_METHOD"], **asked}
        try:
            response.make_conditional(
                only, accept_ranges=True, complete_length=response.content_length
            )
        except Exception:
            response.close()
            raise
    return response


#: The headers of a range request.
_RANGE_HEADERS = frozenset(("HTTP_RANGE", "HTTP_IF_RANGE"))
#: The headers decided before Werkzeug's `make_conditional` sees the request, which
#: would decide them otherwise (If-Match's "*", ranges before If-None-Match).
_DECIDED = _RANGE_HEADERS | {"HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE"}


def if_match_failed(tag: str) -> str:
    """The detail of the 412 for an If-Match naming no current version, whose tag is `tag`."""
    return f'If-Match names no current version of this resource: its ETag is "{tag}".'


#: The detail of the 412 for an If-Match sent to an endpoint that computes its answer.
NOTHING_TO_MATCH = (
    "If-Match names no current version of this resource: it has none (it computes each "
    "answer from the request's body), so no tag, nor *, matches. Send the request "
    "without If-Match."
)


def refuse_if_match() -> None:
    """412 for a request with ``If-Match`` to an endpoint that computes its answer from
    the body: it has no representation a tag (or ``*``) could name, so the condition is
    false and the method must not be performed (RFC 9110, 13.1.1). Decided from the
    headers, before the body is read."""
    if "HTTP_IF_MATCH" in request.environ:
        raise PreconditionFailed(NOTHING_TO_MATCH)


def _failed(response: Response, detail: str) -> Response:
    """The 412 problem that replaces `response`."""
    response.close()  # a file's answer holds the file open
    failed = problem(412, "Precondition Failed", detail)
    failed.cache_control.no_store = True
    return failed


def _modified_since(last_modified, since: str | None) -> bool:
    """Whether a resource last modified at `last_modified` (None: unknown) changed
    after the If-Unmodified-Since date `since` (ignored when it is not a date)."""
    date = parse_date(since) if since else None
    return bool(last_modified and date and last_modified > date)


def _one_byte_range(asked: dict) -> bool:
    """Whether `asked` (the request's Range and If-Range) is a range request to
    answer: one range of bytes, without an If-Range naming a weak tag (which never
    matches: RFC 9110, 13.1.5). Any other is ignored, as HTTP lets a server do."""
    wanted = parse_range_header(asked.get("HTTP_RANGE"))
    if wanted is None or wanted.units != "bytes" or len(wanted.ranges) != 1:
        return False
    return not asked.get("HTTP_IF_RANGE", "").lstrip().startswith("W/")


def static_file(filename: str) -> Response:
    """Flask's static view, answered under the preconditions of `conditional`, with
    byte ranges."""
    app = current_app
    response = send_from_directory(
        app.static_folder, filename, max_age=app.get_send_file_max_age(filename), conditional=False
    )
    return conditional(response, ranges=True)


def init_app(app: Flask) -> None:
    app.view_functions["static"] = static_file
