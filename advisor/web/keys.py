"""Optional API keys, for programs that call ``/v1/`` from their own servers.

Browsers call anonymously and are told apart by IP address. A program calling
from a server sends ``Authorization: Bearer KEY``; the operator lists the keys'
SHA-256 hashes, each with a name, in ``ADVISOR_API_KEYS`` or the file
``ADVISOR_API_KEYS_FILE`` (`advisor.config.api_key_hashes`), so that the
service never holds a key itself. A listed key makes the request count under
its name, with ``ADVISOR_API_KEY_RATE_LIMITS`` (`limits`). A key that is not
listed, or any other ``Authorization``, is refused with 401 problem+json and
``WWW-Authenticate: Bearer``, after the rate limit has counted it against the
caller's IP address (so guessing keys is rate-limited too). With no keys
listed, ``Authorization`` is ignored.

Keys are never logged or repeated in an answer: only their names are used.
"""

from __future__ import annotations

from flask import Flask, current_app, g, request

from ..config import api_key_hashes, hash_api_key
from .errors import problem
from .extension import get_settings

__all__ = ["caller", "init_app"]

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


def _authenticate():
    if caller() is None and g.api_key == _REFUSED:
        return problem(
            401,
            "Unauthorized",
            "The API key is not valid: send `Authorization: Bearer` with a key issued "
            "for this service, or no Authorization header to call anonymously.",
            [("WWW-Authenticate", f'{_CHALLENGE}, error="invalid_token"')],
        )
    return None


def init_app(app: Flask) -> None:
    app.extensions["advisor_api_keys"] = api_key_hashes(get_settings(app))
    # After the rate limiter's hook (`limits` is set up first), so a refused key counts.
    app.before_request(_authenticate)
