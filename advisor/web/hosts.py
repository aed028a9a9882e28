"""The request target and the Host header, checked as HTTP/1.1 requires (RFC 9112, 3.2).

An HTTP/1.1 request without ``Host``, or with one that is not a host name (or
IP literal) and port, is a 400 problem naming ``Host``, before any other hook
but the request's id and clock (`observability`) reads it. Two ``Host`` headers
never get this far: gunicorn refuses them (docs/serving.md).

A target that is not a path is answered for the server as a whole, never as a
path it does not hold: ``OPTIONS *`` (RFC 9110, 9.3.7) with the methods some
route takes, ``CONNECT host:port`` (a proxy's tunnel, RFC 9110, 9.3.6) with a
405 naming them. gunicorn passes these two forms on with these methods only. A
path opening with doubled slashes is a 404, as a doubled slash anywhere else,
and so is one holding an encoded slash (``/v1%2Fsources``): the server decodes
it into a separator, but no path of the service is written so. An
absolute-form target (``http://host/path``, RFC 9112, 3.2.2) is answered as its
path when it is an http or https URI; another scheme, userinfo
(``user:pass@``) or a port past 65535 is a 400.
"""

from __future__ import annotations

import re

from flask import Flask, current_app, request
from werkzeug.exceptions import BadHost

from .errors import NO_ROUTE, problem, problem_body, problem_response

#: A Host header's value (RFC 9110, 7.2): an IP literal or a registered name (which may
#: be empty), then an optional port.
_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(:[0-9]*)?\Z")
_HOST_ASKED = "send one Host header with the service's host name (and port), as HTTP/1.1 requires."
#: An absolute-form target's scheme and authority (RFC 3986, 3.1 and 3.2).
_ABSOLUTE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://([^/?#]*)")
#: An authority the service takes in an absolute-form target: a host, then a port.
_AUTHORITY = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[^@:\[\]]*)(?::(\d{0,5}))?\Z")


def _check_target():
    """Answer `OPTIONS *` and `CONNECT host:port` for the server (their target is no path),
    an absolute-form target the service does not take with a 400, and a path that opens
    with doubled slashes or holds an encoded slash as one no route has."""
    environ = request.environ
    path = environ.get("PATH_INFO", "")
    target = (environ.get("RAW_URI") or environ.get("REQUEST_URI") or "").partition("?")[0]
    absolute = None if target.startswith("/") else _ABSOLUTE.match(target)
    if absolute and not _absolute_ok(*absolute.groups()):
        detail = (
            "The request target is an absolute URI the service does not take: send its "
            "path, or an http or https URI with no user name or password and a port of "
            "at most 65535."
        )
        return problem(400, "Bad Request", detail)
    if "%2F" in target or "%2f" in target:
        # The server decodes "%2F" into a separator ("/v1%2Fsources" routes as
        # "/v1/sources"); no path of the service holds one, nor any id.
        return problem(404, "Not Found", NO_ROUTE)
    if path.startswith("//"):
        # Werkzeug's routing reads "//v1/guidance" as "/v1/guidance", where a doubled
        # slash anywhere else is a 404 (`merge_slashes` off): the same here.
        return problem(404, "Not Found", NO_ROUTE)
    if not path or path.startswith("/"):
        return None
    allow = [("Allow", _server_methods())]
    if request.method == "OPTIONS":
        response = current_app.response_class(status=200, headers=allow)
        del response.headers["Content-Type"]  # no content, as any OPTIONS answer
        return response
    detail = (
        f"The service is no proxy: it opens no tunnel ({request.method} to a host and "
        "port). Send a request for one of its paths."
    )
    # The instance is the server as a whole, as `*` names it: never the host sent.
    return problem_response(problem_body(405, "Method Not Allowed", detail, "*"), allow)


def _absolute_ok(scheme: str, authority: str) -> bool:
    """Whether an absolute-form target's scheme and authority are an http(s) URI's with
    no userinfo and a port of at most 65535."""
    found = _AUTHORITY.match(authority)
    if scheme.lower() not in ("http", "https") or found is None:
        return False
    port = found.group(1)
    return not port or int(port) <= 65535


def _server_methods() -> str:
    """The methods some route takes: GET and HEAD first, OPTIONS last."""
    methods = {method for rule in current_app.url_map.iter_rules() for method in rule.methods}
    return ", ".join(sorted(methods, key=lambda m: (m == "OPTIONS", m not in ("GET", "HEAD"), m)))


def _check_host():
    """Answer a request whose Host HTTP/1.1 refuses with a 400 naming it (RFC 9112, 3.2)."""
    environ = request.environ
    host = environ.get("HTTP_HOST")
    if host is None:
        if environ.get("SERVER_PROTOCOL") == "HTTP/1.0":
            return None  # HTTP/1.0 has no Host
        return problem(400, "Bad Request", f"The request has no Host header: {_HOST_ASKED}")
    if not _HOST.match(host):
        return _bad_host()
    return None


def _bad_host(_error: BadHost | None = None):
    return problem(400, "Bad Request", f"The Host header is not a host name: {_HOST_ASKED}")


def init_app(app: Flask) -> None:
    app.before_request(_check_target)
    app.before_request(_check_host)
    # Werkzeug's own refusal (a name its routing cannot encode, such as a label of
    # more than 63 characters), in the same words.
    app.register_error_handler(BadHost, _bad_host)
