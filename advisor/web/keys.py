"""Optional API keys, for programs that call ``/v1/`` from their own servers.

Browsers call anonymously and are told apart by IP address. A program calling
from a server sends ``Authorization: Bearer KEY``; the operator lists the keys'
SHA-256 hashes, each with a name, in ``ADVISOR_API_KEYS`` or the file
``ADVISOR_API_KEYS_FILE`` (`advisor.config.api_key_hashes`), so that the
service never holds a key itself. A listed key makes the request count under
its name, with ``ADVISOR_API_KEY_RATE_LIMITS`` (`limits`). A key that is not
listed, or any other ``Authorization``, is refused with 401 problem+json and
``WWW-Authenticate: Bearer``, after the rate limit has counted it against the
caller's IP address (so guessing keys is rate-limited too); its detail says what
is wrong (the scheme, more than one credential, a key not listed). A key sent in
the query string instead (``?api_key=``, ``?access_token=``) is never read: it
is refused with a 401 naming the parameter (``error="invalid_request"``), not
dropped unseen, since a URL is kept by browsers, proxies and their logs. With no
keys listed, ``Authorization`` (and such a parameter) is ignored.

Keys are never logged or repeated in an answer: only their names are used.
"""

from __future__ import annotations

from flask import Flask, current_app, g, request

from ..config import api_key_hashes, hash_api_key
from .errors import MAX_ERRORS, problem, shortened
from .extension import get_settings

__all__ = [
    "INVALID_KEY",
    "KEY_PARAMETERS",
    "NOT_BEARER",
    "SEVERAL_KEYS",
    "caller",
    "init_app",
    "key_in_url",
]

#: Stands for a request with an Authorization header that names no listed key.
_REFUSED = ""
_CHALLENGE = 'Bearer realm="interview-advisor"'


def caller() -> str | None:
    """The name of this request's API key; None for an anonymous request or a
    refused key (`_authenticate` answers that one with 401)."""
    if "api_key" not in g:
        g.api_key = _name_of_key()
    return g.api_key or None


def _name_of_key() -> str | None:
    header = request.headers.get("Authorization")
    hashes = current_app.extensions["advisor_api_keys"]
    if header is None or not hashes or not request.path.startswith("/v1/"):
        return None
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return _REFUSED
    return hashes.get(hash_api_key(key.strip()), _REFUSED)


#: Query parameters clients commonly put a key in (RFC 6750's ``access_token``, others'
#: ``api_key``), compared in lower case with ``-`` read as ``_``.
KEY_PARAMETERS = frozenset(("access_token", "api_key", "apikey", "key", "token"))
#: What a 401 for an Authorization header says, by what is wrong with it: never the
#: header's own text, which may be a key.
INVALID_KEY = (
    "The API key is not valid: send `Authorization: Bearer` with a key issued for this "
    "service, or no Authorization header to call anonymously."
)
NOT_BEARER = (
    "The Authorization header does not start with `Bearer ` (the scheme, then one space): "
    "send `Authorization: Bearer KEY` with a key issued for this service, or no "
    "Authorization header to call anonymously."
)
#: A key holds no comma (RFC 6750's token68): one there joins two headers, or a list.
SEVERAL_KEYS = (
    "The Authorization header holds more than one credential (it was sent twice, or "
    "lists several): send it once, as `Authorization: Bearer KEY` with one key."
)


def _refusal(header: str) -> str:
    """Why the Authorization `header` names no listed key."""
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer":
        return NOT_BEARER
    return SEVERAL_KEYS if "," in key else INVALID_KEY


def key_in_url(names: list[str]) -> str:
    """The detail of a 401 for the query parameters `names`, which may carry a key."""
    named = ", ".join(repr(shortened(name)) for name in names[:MAX_ERRORS])
    parameter = "parameter" if len(names) == 1 else "parameters"
    return (
        f"The query {parameter} {named} may carry an API key, which is read from the "
        "Authorization header only (`Authorization: Bearer KEY`), never from the URL, "
        "which browsers, proxies and their logs keep: send it in the header, and take "
        "this key for exposed wherever the URL was kept."
    )


def _keys_in_url() -> list[str]:
    """The query parameters of this request that may carry a key (none for a CORS
    preflight: its request is answered instead)."""
    if not request.query_string or request.method == "OPTIONS":
        return []
    return [name for name in request.args if name.lower().replace("-", "_") in KEY_PARAMETERS]


def _authenticate():
    if current_app.extensions["advisor_api_keys"] and request.path.startswith("/v1/"):
        in_url = _keys_in_url()
        if in_url:
            return _unauthorized(key_in_url(in_url), "invalid_request")
    if caller() is None and g.api_key == _REFUSED:
        return _unauthorized(_refusal(request.headers["Authorization"]), "invalid_token")
    return None


def _unauthorized(detail: str, error: str):
    return problem(
        401, "Unauthorized", detail, [("WWW-Authenticate", f'{_CHALLENGE}, error="{error}"')]
    )


def init_app(app: Flask) -> None:
    app.extensions["advisor_api_keys"] = api_key_hashes(get_settings(app))
    # After the rate limiter's hook (`limits` is set up first), so a refused key counts.
    app.before_request(_authenticate)
