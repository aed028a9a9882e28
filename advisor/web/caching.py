"""HTTP caching for responses that change only with the loaded ruleset.

The catalogue and the OpenAPI document are fixed once the rules and content
are loaded, so a strong ``ETag`` is the ruleset digest (its first 16 hex
digits, to tell versions apart at a glance) joined to a hash of the path.
``If-None-Match`` with it gives ``304 Not Modified`` with no body; an
``If-Match`` that names another tag, a ``412 Precondition Failed`` problem.
Anything but a 200 (404, 412, 429, 5xx) is marked ``no-store``.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from flask import Response, request

from .errors import problem
from .extension import get_engine, get_settings

__all__ = ["cache_by_digest", "conditional", "etag"]


def etag(path: str) -> str:
    """The strong entity tag of `path` under the loaded ruleset (without quotes)."""
    return _etag(get_engine().digest, path)


@lru_cache(maxsize=256)  # the cacheable paths are few: the catalogue's, /openapi.json, /docs
def _etag(digest: str, path: str) -> str:
    digest = digest.removeprefix("sha256:")
    return f"{digest[:16]}-{hashlib.sha256(path.encode()).hexdigest()[:16]}"


def cache_by_digest(response: Response) -> Response:
    """Add ETag and Cache-Control to a 200 and answer a matching If-None-Match with 304."""
    if response.status_code != 200:
        response.cache_control.no_store = True
        return response
    response.set_etag(etag(request.path))
    response.cache_control.public = True
    response.cache_control.max_age = get_settings().cache_max_age
    return conditional(response)


def conditional(response: Response) -> Response:
    """`response` (a 200 with its ETag) answered as the request's conditions ask, in
    the order of RFC 9110 (13.2.2): an If-Match that names neither its tag nor ``*`` is
    a 412 problem (never the representation with a 412 status); then an If-None-Match
    that names its tag (or ``*``) is a 304."""
    environ = request.environ
    if "HTTP_IF_MATCH" in environ:
        tag, _weak = response.get_etag()
        named = request.if_match
        if named and not (named.star_tag or named.is_strong(tag)):
            failed = problem(
                412,
                "Precondition Failed",
                f'If-Match names no current version of this resource: its ETag is "{tag}".',
            )
            failed.cache_control.no_store = True
            return failed
        # Met (Werkzeug would refuse "*", which every current representation meets).
        environ = {name: value for name, value in environ.items() if name != "HTTP_IF_MATCH"}
    return response.make_conditional(environ)
