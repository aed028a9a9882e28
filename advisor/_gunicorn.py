"""The gunicorn worker and logger classes the service runs with.

The service faces browsers on the open internet, so it must hold slow and idle
clients without giving each one a process. ``Worker`` is gunicorn's gevent
worker (a greenlet per connection, up to ``worker_connections`` of them per
process) with a deadline on everything a client does:

- the request line and headers, and the wait for a kept-alive connection's
  next request, within the keep-alive time (gunicorn's gevent worker already
  does this; the connection is closed);
- the body within ``ADVISOR_CLIENT_TIMEOUT`` seconds of the headers: a read
  past it raises ``TimeoutError``, which the application answers with a 408,
  and the connection is closed;
- each write of the answer within the same time: a client that does not take
  it is treated as gone, and the connection is reset;
- a body the application left unread (a GET's, one refused by a 413) is read
  and dropped after the answer, within the same deadline and the keep-alive
  time, before the connection's next request; one whose framing or trailers
  are broken closes the connection, never answered twice (`Worker._drop_body`);
- a connection closed while the client is still sending (a body the answer
  refused unread, bytes after an answer that closes the connection) is closed
  as HTTP asks (RFC 9112, 9.6): its sending side first, then what the client
  sends is read and dropped for up to ``keepalive`` seconds, until the client
  closes its side. Closed at once, the unread bytes would reset the connection,
  and a reset can destroy the answer before the client reads it.

Only the time spent waiting on a client is bounded; the engine's own work is
not interrupted. Between two requests of one connection the worker lets its
other connections in, so a client that sends many at once cannot hold it.

A worker holds at most ``worker_connections`` connections; past them, new ones
wait in the listen queue. So that one client cannot take them all, cheaply,
with connections that send nothing or a byte at a time, each worker holds at
most ``ADVISOR_CLIENT_CONNECTIONS`` from one client (an address, an IPv6 /64,
as the rate limits count it) when clients connect directly
(``ADVISOR_PROXY_COUNT`` 0); one more is answered 429 problem+json at once and
closed (`Worker._refuse`). Behind a proxy every connection comes from the
proxy, which limits its own clients. Both a refusal and a worker that holds
all its connections are logged, once a minute at most (`Worker._due`).

A request gunicorn refuses before the application sees it (a malformed request
line, headers too large or malformed, contradictory framing, broken chunked
framing, a transfer coding other than ``chunked``: gunicorn passes a compressed
one on undecoded, so the worker refuses it as one it does not know) is answered
with an ``application/problem+json`` body naming what was wrong, never with the
client's bytes (`problem_of`); so is an error inside gunicorn itself, as a 500. ``Logger`` writes gunicorn's own lines as JSON, like
the application's, and never quotes a request's target or bytes.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import resource
import socket
import struct
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from typing import NamedTuple

import gevent
from gunicorn.glogging import Logger as _GunicornLogger
from gunicorn.http import errors as _errors
from gunicorn.workers.ggevent import GeventWorker

from ._logs import JsonFormatter, logged_path
from .config import LISTENER_ALLOWED, listener_ok, listeners_overlap

__all__ = [
    "Logger",
    "Problem",
    "Worker",
    "client_connections",
    "client_timeout",
    "enough_open_files",
    "listener",
    "metrics_folder",
    "problem_of",
    "refuse_tls",
    "usable_listeners",
    "whole_number",
]


#: The warning gevent gives each worker as it patches the standard library, when the
#: master imported ssl first: the master checks a Redis storage before forking
#: (`advisor.config.rate_limit_storage_problem`), and the redis package imports ssl.
#: What it names as not patched, redis.asyncio's names from ssl, the service never uses
#: (its rate limits use redis' synchronous client, which the patch covers).
_SSL_BEFORE_PATCH = r"Monkey-patching ssl after ssl has already been imported"


def json_warnings() -> None:
    """Write Python's warnings as JSON lines on stderr, as every other line is (the
    logger ``py.warnings``), in this process and the workers it forks; not the one
    gevent gives for the master's import of ssl (`_SSL_BEFORE_PATCH`)."""
    import warnings

    warnings.filterwarnings("ignore", message=_SSL_BEFORE_PATCH)
    logging.captureWarnings(True)
    logger = logging.getLogger("py.warnings")
    if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.formatter = JsonFormatter()
        logger.addHandler(handler)
    logger.propagate = False


def enough_open_files(wanted: int) -> None:
    """Raise this process's soft limit of open files to `wanted` (at most the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def whole_number(variable: str, default: int, least: int, environ=os.environ) -> int:
    """A gunicorn setting's whole number from `variable`, at least `least`.

    gunicorn reads its settings file before it logs, so a value that is not
    allowed is refused here, with one JSON line on stderr naming the variable and
    exit status 2, as the application's own settings are, rather than with a
    traceback of the settings file.
    """
    value = environ.get(variable)
    if value is None:
        return default
    try:
        number = int(value.strip())
    except ValueError:
        number = None
    if number is None or number < least:
        _refuse(f"{variable}={value!r} is not allowed: use a whole number of at least {least}")
    return number


def listener(variable: str, default: str, environ=os.environ) -> str:
    """A gunicorn listener (``host:port`` or ``unix:path``) from `variable`, refused
    as `whole_number` refuses, rather than by gunicorn in words that name no variable."""
    value = environ.get(variable, default)
    if not listener_ok(value, least_port=0):
        _refuse(f"{variable}={value!r} is not allowed: use {LISTENER_ALLOWED}")
    return value


def _refuse(message: str) -> None:
    """Stop start-up with `message` as one JSON line on stderr and exit status 2."""
    record = logging.LogRecord(
        "gunicorn.error", logging.ERROR, __file__, 0, "cannot start: %s", None, None
    )
    record.args = (message,)
    sys.stderr.write(JsonFormatter().format(record) + "\n")
    sys.stderr.flush()
    raise SystemExit(2)


#: Room a worker's Prometheus count files need in ``ADVISOR_METRICS_DIR``: they are
#: memory-mapped, and a page written on a full disk kills the worker with SIGBUS.
METRICS_ROOM = 1 << 20


def metrics_folder(folder: str) -> None:
    """Make `folder` (``ADVISOR_METRICS_DIR``) and check it has room for the workers'
    count files; raise ValueError of one line naming the variable when it cannot."""
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder) as probe:
            if hasattr(os, "posix_fallocate"):
                os.posix_fallocate(probe.fileno(), 0, METRICS_ROOM)
            else:  # macOS has no posix_fallocate: write the room out instead
                probe.write(bytes(METRICS_ROOM))
                probe.flush()
                os.fsync(probe.fileno())
    except OSError as error:
        raise ValueError(
            f"ADVISOR_METRICS_DIR={folder!r} is not allowed: use a folder the service can "
            f"create and write, with {METRICS_ROOM >> 20} MiB free ({error.strerror})"
        ) from None


def usable_listeners(api: str, metrics: str = "") -> None:
    """Raise ValueError of one line naming the variable when a listener could never
    be listened on, rather than leave it to gunicorn's five tries (exit status 1,
    which the systemd unit starts again forever): the metrics listener on the API's
    own address, or a socket in a folder missing or that this user cannot write.
    An address merely in use is left to gunicorn: it may be freed."""
    for variable, bind in (("ADVISOR_BIND", api), ("ADVISOR_METRICS_BIND", metrics)):
        if bind.startswith("unix:"):
            folder = os.path.dirname(bind.removeprefix("unix:")) or "."
            if not os.path.isdir(folder):
                why = f"its folder {folder} does not exist"
            elif not os.access(folder, os.W_OK | os.X_OK):
                why = f"its folder {folder} cannot be written by this user"
            else:
                continue
            raise ValueError(f"{variable}={bind!r} is not allowed: {why}")
    if metrics and listeners_overlap(api, metrics):
        raise ValueError(
            f"ADVISOR_METRICS_BIND={metrics!r} is not allowed: it takes ADVISOR_BIND's "
            f"address ({api}); /metrics needs a listener of its own, e.g. 127.0.0.1:9464"
        )


def client_timeout(environ=os.environ) -> float:
    """``ADVISOR_CLIENT_TIMEOUT``: seconds a client has to send a body or take a write."""
    value = environ.get("ADVISOR_CLIENT_TIMEOUT", "10")
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0
    if not 0 < seconds <= 3600:
        raise ValueError(
            f"ADVISOR_CLIENT_TIMEOUT={value!r} is not allowed: use a number of seconds, "
            "above 0 and at most 3600"
        )
    return seconds


def client_connections(worker_connections: int, environ=os.environ) -> int:
    """``ADVISOR_CLIENT_CONNECTIONS``: how many connections one client may hold in each
    worker, a quarter of `worker_connections` by default; 0 for no limit, and no limit
    behind proxies (``ADVISOR_PROXY_COUNT`` above 0: every connection is a proxy's)."""
    value = environ.get("ADVISOR_CLIENT_CONNECTIONS")
    if value is None:
        limit = max(1, worker_connections // 4)
    else:
        limit = int(value.strip()) if value.strip().isdigit() else -1
        if limit < 0:
            raise ValueError(
                f"ADVISOR_CLIENT_CONNECTIONS={value!r} is not allowed: use a whole number "
                "of at least 0 (0: no limit)"
            )
    proxies = environ.get("ADVISOR_PROXY_COUNT", "0").strip()
    return 0 if proxies.isdigit() and int(proxies) > 0 else limit


def refuse_tls(cfg) -> None:
    """Raise ``ValueError`` (one line) when gunicorn's settings `cfg` ask it to terminate
    TLS or speak HTTP/2: the worker wraps each connection in a plain socket's deadlines,
    and TLS is terminated in front of the service (docs/deploy.md)."""
    asked = []
    if cfg.certfile or cfg.keyfile:
        asked.append("certfile/keyfile (TLS)")
    if "h2" in (cfg.http_protocols or ()):
        asked.append("http_protocols with h2")
    if (cfg.http2_cleartext or "off") != "off":
        asked.append(f"http2_cleartext={cfg.http2_cleartext}")
    if asked:
        raise ValueError(
            f"gunicorn settings {', '.join(asked)} are not supported: the service speaks "
            "plain HTTP/1.1; terminate TLS and HTTP/2 in a proxy in front of it (nginx, "
            "as in deploy/)"
        )


class _Body:
    """A request body that must have arrived by a deadline.

    A read past it raises ``TimeoutError`` and marks the request to close its
    connection: the rest of the body may never come.
    """

    def __init__(self, request, seconds: float):
        self._request = request
        self._body = request.body
        self._deadline = time.monotonic() + seconds
        self._declared = _declared_length(request)
        self._taken = 0
        self._ended = False

    @property
    def unread(self) -> bool:
        """Whether the request has a body that was not read to its end."""
        if self._ended or self._declared == 0:
            return False
        return self._declared is None or self._taken < self._declared

    def __getattr__(self, name):
        return getattr(self._body, name)

    def _within_deadline(self, read, *args):
        timer = gevent.Timeout(max(self._deadline - time.monotonic(), 0.001))
        try:
            with timer:
                return read(*args)
        except gevent.Timeout as fired:
            if fired is not timer:
                raise
            self._request.must_close = True
            raise TimeoutError("the request body did not arrive in time") from None
        except (TimeoutError, _errors.ParseException):
            # Past a body that stalled or whose chunked framing broke, the next
            # request's start cannot be found: close the connection after the answer.
            self._request.must_close = True
            raise

    def _took(self, data: bytes, whole: bool) -> None:
        # A read of all there is, or one that gets nothing, reaches the body's end.
        self._taken += len(data)
        self._ended = self._ended or whole or not data

    def read(self, size=None):
        data = self._within_deadline(self._body.read, size)
        self._took(data, size is None or size < 0)
        return data

    def readline(self, size=None):
        line = self._within_deadline(self._body.readline, size)
        self._took(line, False)
        return line

    def readlines(self, size=None):
        lines = self._within_deadline(self._body.readlines, size)
        self._took(b"".join(lines), not size or size < 0)
        return lines

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line


def _declared_length(req) -> int | None:
    """The length gunicorn's request `req` declares for its body: 0 with no framing,
    None when chunked (or not a number: gunicorn refuses those before the body)."""
    length = 0
    for name, value in req.headers:
        if name == "TRANSFER-ENCODING":
            return None
        if name == "CONTENT-LENGTH":
            length = int(value) if value.isdigit() else None
    return length


#: SO_LINGER on, for 0 seconds: close() resets the connection and drops unsent data.
_RESET_ON_CLOSE = struct.pack("ii", 1, 0)
#: How much of what a client still sends one read of a lingering close takes.
_DROP_READ = 64 * 1024
#: The most a worker reads and drops of what a client sends that no one will read (the
#: rest of an answered request's body, or what comes after the answer of a connection
#: being closed): a client that sends more is cut off. Between reads the worker's other
#: connections take their turn, so that a client streaming bytes as fast as it can holds
#: the worker for the time of a few reads, not for the whole of a deadline.
_DROP_MOST = 8 * 1024 * 1024


def _dropped(read) -> None:
    """Read with `read` (a size to at most that many bytes, b"" at the end) and drop
    what comes, `_DROP_MOST` bytes at most, letting other greenlets run between reads."""
    dropped = 0
    while dropped < _DROP_MOST:
        chunk = read(_DROP_READ)
        if not chunk:
            return
        dropped += len(chunk)
        gevent.sleep(0)


class _Client:
    """A client socket whose writes must each be taken within `seconds`; one that
    is not is reported as a broken pipe (the client is treated as gone). Closed
    while the client is still sending, it lingers for up to `linger` seconds
    (`close`)."""

    def __init__(self, sock, seconds: float, linger: float = 0):
        self._sock = sock
        self._seconds = seconds
        self._linger = linger
        self._reset = False
        #: Whether the last request's body was left unread: more may be on its way.
        self.unread = False

    def close(self):
        """Close the connection; while the client may still be sending, first close
        the sending side (the answer is whole) and read and drop what comes until
        the client closes its own, for up to `linger` seconds and `_DROP_MOST`
        bytes."""
        if self._linger and not self._reset and (self.unread or self._pending()):
            sock = self._sock
            try:
                sock.shutdown(socket.SHUT_WR)
                sock.settimeout(None)
                with gevent.Timeout(self._linger, False):
                    _dropped(sock.recv)
            except OSError:  # the client reset the connection, or it is gone
                pass
        self._sock.close()

    def _pending(self) -> bool:
        """Whether bytes the client sent wait unread (not at its end of sending)."""
        sock = self._sock
        try:
            sock.settimeout(0.0)
            return bool(sock.recv(1, socket.MSG_PEEK))
        except OSError:  # nothing waiting (BlockingIOError), or the connection is gone
            return False

    def __getattr__(self, name):
        return getattr(self._sock, name)

    def _within_deadline(self, write, *args, **kwargs):
        timer = gevent.Timeout(self._seconds)
        try:
            with timer:
                return write(*args, **kwargs)
        except gevent.Timeout as fired:
            if fired is not timer:
                raise
            # Closing would leave the kernel holding the unsent answer, and its FIN behind
            # it, for as long as the client keeps its window shut: reset the connection.
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)
            self._reset = True
            raise BrokenPipeError(errno.EPIPE, "the client did not take the answer") from None

    def sendall(self, data, *args):
        return self._within_deadline(self._sock.sendall, data, *args)

    def sendfile(self, file, offset=0, count=None):
        return self._within_deadline(self._sock.sendfile, file, offset, count)


class Problem(NamedTuple):
    """An answer gunicorn gives itself: status, title, and a detail that names what
    was wrong in words of its own (never the client's bytes)."""

    status: int
    title: str
    detail: str

    def body(self) -> bytes:
        problem = {"type": "about:blank", "title": self.title, "status": self.status}
        problem["detail"] = self.detail
        return json.dumps(problem).encode()

    def response(self, retry_after: int | None = None) -> bytes:
        body = self.body()
        head = (
            f"HTTP/1.1 {self.status} {self.title}\r\n"
            "Content-Type: application/problem+json\r\n"
            f"Content-Length: {len(body)}\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "Cache-Control: no-store\r\n"
        )
        if retry_after is not None:
            head += f"Retry-After: {retry_after}\r\n"
        return (head + "Connection: close\r\n\r\n").encode("ascii") + body


_BAD_REQUEST = "Bad Request"
#: The framing headers whose name a problem may give: fixed names, not the client's text.
_FRAMING_HEADERS = {"CONTENT-LENGTH": "Content-Length", "TRANSFER-ENCODING": "Transfer-Encoding"}
#: The other headers a malformed value of which a problem names, by the same fixed
#: spelling: those the service reads, and those every browser or client sends. Any
#: other name is the client's own text, which the answer and the log leave out.
_KNOWN_HEADERS = {
    name.upper(): name
    for name in (
        "Accept",
        "Accept-Encoding",
        "Accept-Language",
        "Access-Control-Request-Headers",
        "Access-Control-Request-Method",
        "Authorization",
        "Connection",
        "Content-Type",
        "Cookie",
        "Expect",
        "Forwarded",
        "Host",
        "If-Modified-Since",
        "If-None-Match",
        "Origin",
        "Range",
        "Referer",
        "User-Agent",
        "X-Forwarded-For",
        "X-Forwarded-Proto",
        "X-Request-ID",
    )
}
#: Those of them gunicorn refuses when sent twice (RFC 9110, section 5.3).
_SINGLETON_HEADERS = frozenset(("Host", "Content-Type"))
#: What each kind of request gunicorn refuses is answered with, the first match winning.
_PROBLEMS = (
    (
        (_errors.InvalidResponseHeader, _errors.InvalidResponseHeaderName),
        Problem(500, "Internal Server Error", "The server failed to answer; the error was logged."),
    ),
    (
        _errors.LimitRequestLine,
        Problem(414, "URI Too Long", "The request line is longer than the server accepts."),
    ),
    (
        _errors.LimitRequestHeaders,
        Problem(
            431,
            "Request Header Fields Too Large",
            "The request has more header fields, or a longer one, than the server accepts.",
        ),
    ),
    (
        _errors.InvalidRequestLine,
        Problem(
            400,
            _BAD_REQUEST,
            "The request line is malformed: send a method, a path and HTTP/1.1, "
            "separated by single spaces and ended by CRLF.",
        ),
    ),
    (
        _errors.InvalidRequestMethod,
        Problem(
            400,
            _BAD_REQUEST,
            "The request method must be 3 to 20 characters of a token, in upper case.",
        ),
    ),
    (
        _errors.InvalidHTTPVersion,
        Problem(400, _BAD_REQUEST, "The HTTP version is malformed or not supported."),
    ),
    (
        _errors.ObsoleteFolding,
        Problem(400, _BAD_REQUEST, "A header field is folded over several lines."),
    ),
    (
        _errors.InvalidHeaderName,
        Problem(400, _BAD_REQUEST, "A header field name is malformed."),
    ),
    (
        _errors.InvalidHeader,
        Problem(400, _BAD_REQUEST, "A header field is malformed."),
    ),
    (
        _errors.UnsupportedTransferCoding,
        Problem(
            501, "Not Implemented", "The transfer coding is not supported: send chunked or none."
        ),
    ),
    (
        (_errors.InvalidChunkSize, _errors.ChunkMissingTerminator, _errors.InvalidChunkExtension),
        Problem(400, _BAD_REQUEST, "The body's chunked framing is broken."),
    ),
    (
        _errors.ExpectationFailed,
        Problem(417, "Expectation Failed", "The Expect header asks for what the server cannot do."),
    ),
    (
        (_errors.InvalidProxyLine, _errors.InvalidProxyHeader),
        Problem(400, _BAD_REQUEST, "The PROXY protocol header is malformed."),
    ),
    (
        _errors.ForbiddenProxyRequest,
        Problem(403, "Forbidden", "The PROXY protocol is not accepted from this address."),
    ),
    (
        _errors.InvalidSchemeHeaders,
        Problem(
            400, _BAD_REQUEST, "The headers naming the request's scheme contradict each other."
        ),
    ),
    (
        _errors.InvalidH2CPreface,
        Problem(400, _BAD_REQUEST, "The HTTP/2 connection preface is malformed."),
    ),
)
_UNEXPECTED = Problem(
    500, "Internal Server Error", "The server failed to answer; the error was logged."
)


#: A request in a later major version of HTTP (HTTP/2.0), well formed: gunicorn gives
#: the version it read, where a malformed one is a 400 (and so is HTTP/0.9, as nginx
#: answers it).
_LATER_VERSION = Problem(
    505,
    "HTTP Version Not Supported",
    "The service speaks HTTP/1.1 (and HTTP/1.0): send the request in either.",
)


def problem_of(error: BaseException) -> Problem:
    """The problem that answers a request gunicorn refused with `error`; any error it
    does not know is the server's own, a 500."""
    version = getattr(error, "version", None)
    if isinstance(error, _errors.InvalidHTTPVersion) and isinstance(version, tuple):
        if version >= (2, 0):
            return _LATER_VERSION
    for kinds, problem in _PROBLEMS:
        if isinstance(error, kinds):
            if problem.status == 400 and isinstance(error, _errors.InvalidHeader):
                name = _FRAMING_HEADERS.get(str(getattr(error, "hdr", "")).upper())
                if name:  # several, or several values, or with the other framing header
                    detail = f"The {name} header is malformed, repeated or contradicted."
                    return problem._replace(detail=detail)
                name = _KNOWN_HEADERS.get(str(getattr(error, "hdr", "")).upper())
                if name:  # gunicorn names the field
                    control = "its value holds a control character (such as CR, LF, NUL or ESC)"
                    if name in _SINGLETON_HEADERS:  # or one repeated that may appear once
                        detail = f"The {name} header is sent more than once, or {control}."
                    else:
                        detail = f"The {name} header is malformed: {control}."
                    return problem._replace(detail=detail)
            return problem
    return _UNEXPECTED


def _method_and_path(req) -> tuple[str | None, str | None]:
    """The method and path of gunicorn's request `req` (None before its line was read),
    without the query string, which may carry a candidate's text, and cut as every
    logged path is (`logged_path`)."""
    method, path = getattr(req, "method", None), getattr(req, "path", None)
    if not isinstance(method, str) or not isinstance(path, str):
        return None, None
    # gunicorn gives the path's bytes as Latin-1; the log shows the characters sent.
    return method, logged_path(path.encode("latin-1", "replace").decode("utf-8", "replace"))


def _target(req) -> str:
    method, path = _method_and_path(req)
    return f"{method} {path}" if method else "(no request line read)"


#: The headers that frame a request's body.
_FRAMING = frozenset(("CONTENT-LENGTH", "TRANSFER-ENCODING"))


def _unframed(req) -> bool:
    """Whether gunicorn's request `req` is a POST with neither Content-Length nor
    Transfer-Encoding."""
    return req.method == "POST" and not any(name in _FRAMING for name, _ in req.headers)


def _asks_to_close(req) -> bool:
    """Whether gunicorn's request `req` names ``close`` among its Connection options
    (gunicorn reads a Connection header only when it is that one word, so it would
    keep alive a connection whose request says ``Connection: keep-alive, close``)."""
    return any(
        option.strip(" \t").lower() == "close"
        for name, value in req.headers
        if name == "CONNECTION"
        for option in value.split(",")
    )


#: The transfer codings gunicorn takes before ``chunked`` (RFC 9112, 7): it removes
#: the chunked framing but never these, and hands the body on still compressed.
_COMPRESSIONS = frozenset(("compress", "deflate", "gzip"))


def _compressed(req) -> bool:
    """Whether gunicorn's request `req` names a compression among its transfer codings
    (``Transfer-Encoding: gzip, chunked``): the application would read its body as if
    it were not compressed (plain JSON sent so would be taken unseen)."""
    return any(
        coding.strip(" \t").lower() in _COMPRESSIONS
        for name, value in req.headers
        if name == "TRANSFER-ENCODING"
        for coding in value.split(",")
    )


#: What a connection over ``ADVISOR_CLIENT_CONNECTIONS`` is answered with.
_TOO_MANY_CONNECTIONS = Problem(
    429,
    "Too Many Requests",
    "This client has too many connections open to the service at once: send its "
    "requests on the ones it has, or close some, and try again.",
)
#: Seconds between two warnings of one kind from one worker.
WARN_EVERY = 60
#: The longest a connection answered waits for the worker's other connections' turns
#: before its next request is read (`_take_turns`).
TURN_WAIT = 0.05


def _take_turns() -> None:
    """Let the worker's other connections in before this one's next request: wait until
    no other event of the loop is pending (every connection with a request waiting has
    been served), not merely until other greenlets have run (`gevent.sleep(0)`), which
    under load left some connections waiting hundreds of milliseconds
    (docs/performance.md, "Waiting turns"). But for `TURN_WAIT` at most: under a steady
    stream of events the loop is never idle, and every connection answered waited, its
    client long gone, until the worker held all the connections it may."""
    with gevent.Timeout(TURN_WAIT, False):
        gevent.idle()


class Worker(GeventWorker):
    """gunicorn's gevent worker, with deadlines on clients' bodies and reads, and a limit
    on the connections of each client."""

    def init_process(self):
        self.client_timeout = client_timeout()
        self.client_connections = client_connections(self.worker_connections)
        #: Open connections by listener, and by client while there is a limit.
        self._open: Counter = Counter()
        self._by_client: Counter = Counter()
        #: Refused connections by client since the last warning of them.
        self._refused: Counter = Counter()
        self._warned: dict[str, float] = {}
        super().init_process()

    def load_wsgi(self):
        """Load the application (gevent has patched the process by then), and who a
        client is, as the rate limits count clients."""
        super().load_wsgi()
        from .web.limits import counted_address

        self._client_of = counted_address

    def handle(self, listener, client, addr):
        address = addr[0] if isinstance(addr, tuple) and addr else None
        who = self._client_of(address) if address and self.client_connections else None
        if who is not None and self._by_client[who] >= self.client_connections:
            self._refuse(client, who)
            return
        self._open[listener] += 1
        if who is not None:
            self._by_client[who] += 1
        if self._open[listener] >= self.worker_connections:
            self._warn_full()
        try:
            client = _Client(client, self.client_timeout, self.cfg.keepalive)
            super().handle(listener, client, addr)
        finally:
            self._open[listener] -= 1
            if who is not None:
                self._by_client[who] -= 1
                if not self._by_client[who]:
                    del self._by_client[who]

    def _refuse(self, client, who: str) -> None:
        """Answer a connection over the client's limit with a 429 and close it at once,
        holding no place: what the client already sent is dropped first, so that the
        close does not reset the connection before the answer is read."""
        self._refused[who] += 1
        try:
            client.setblocking(False)
            client.send(_TOO_MANY_CONNECTIONS.response(retry_after=self.cfg.keepalive))
            _dropped(client.recv)
        except OSError:  # nothing more sent yet (BlockingIOError), or the client is gone
            pass
        finally:
            client.close()
        if self._due("refused"):
            refused = ", ".join(f"ip={ip} ({n})" for ip, n in self._refused.most_common(5))
            self.log.warning(
                "Connections refused since this worker's last such line (one a minute at "
                "most), from clients holding %d of its connections each, all one may "
                "(ADVISOR_CLIENT_CONNECTIONS): %s",
                self.client_connections,
                refused,
            )
            self._refused.clear()

    def _warn_full(self) -> None:
        """Say, once a minute at most, that this worker holds all the connections it may."""
        if not self._due("full"):
            return
        most = self._by_client.most_common(1)
        holder = f"; the most from one client: ip={most[0][0]} ({most[0][1]})" if most else ""
        self.log.warning(
            "This worker holds %d connections, all it may (ADVISOR_WORKER_CONNECTIONS): new "
            "connections wait to be accepted%s",
            self.worker_connections,
            holder,
        )

    def _due(self, kind: str) -> bool:
        """Whether a warning of `kind` may be written now (`WARN_EVERY`); if so, noted."""
        now = time.monotonic()
        if now - self._warned.get(kind, -WARN_EVERY) < WARN_EVERY:
            return False
        self._warned[kind] = now
        return True

    def handle_request(self, listener_name, req, sock, addr):
        req.body = _Body(req, self.client_timeout)
        if req.version > (1, 1):
            # HTTP/1.2 to 1.9: answered as the HTTP/1.1 it is processed as (RFC 9110,
            # 2.5 and 6.2), never in a version the server does not speak.
            req.version = (1, 1)
        if _unframed(req) or _asks_to_close(req):
            # Unframed: it has no body by HTTP's rules (the application answers a
            # 411), but the client may have sent one: close after the answer, rather
            # than read those bytes as the connection's next request.
            req.must_close = True
        if not req.path:
            # An absolute-form target without a path (`GET http://host HTTP/1.1`)
            # asks for "/" (RFC 9110, 4.2.3), not for a redirect to it that Werkzeug
            # would build from the Host header.
            req.path = "/"
        try:
            if _compressed(req):
                # Answered as a coding gunicorn does not know (501), by `handle_error`;
                # the error names no coding of the client's.
                raise _errors.UnsupportedTransferCoding("a compression")
            return super().handle_request(listener_name, req, sock, addr)
        finally:
            if req.body.unread and not req.should_close():
                self._drop_body(req, addr)
            # Should the connection close after this answer, a body left unread may
            # still be coming: its close lingers (`_Client.close`).
            sock.unread = req.body.unread
            _take_turns()

    def _drop_body(self, req, addr) -> None:
        """Read and drop the rest of answered `req`'s body (one the application did not
        read: a GET's, or one refused by a 413), as gunicorn would before the next
        request: within its deadline, ``keepalive`` seconds of the answer and
        `_DROP_MOST` bytes, else the connection closes. Framing found broken there (a
        chunk, a trailer) closes it too: the next request cannot be found past it, and
        gunicorn would answer the error again, a second answer the client takes for its
        next request's."""
        try:
            with gevent.Timeout(self.cfg.keepalive, False):
                _dropped(req.body.read)
            if req.body.unread:  # not all came in time, or more than is dropped
                req.must_close = True
        except _errors.ParseException as error:
            req.must_close = True
            self.log.warning(
                "Invalid request from ip=%s: %s (%s) in the body of an answered request: "
                "the connection is closed",
                addr[0] if addr else "",
                type(error).__name__,
                problem_of(error).detail,
            )
        except (_errors.NoMoreData, OSError):  # the rest came too late, or the client left
            req.must_close = True

    def handle_error(self, req, client, addr, exc):
        """gunicorn's hook for a request it refused (or failed on): answer with a
        problem+json body, and log it by the kind of error, naming at most the
        method and path (no query string, no bytes the client sent)."""
        started = datetime.now()
        req = req or getattr(exc, "req", None)
        problem = problem_of(exc)
        address = addr[0] if addr else ""
        if problem.status == 500:  # the server's own failure
            self.log.exception("Error handling request %s", _target(req), exc_info=exc)
        else:
            self.log.warning(
                "Invalid request from ip=%s: %s (%s)", address, type(exc).__name__, problem.detail
            )
        answer = problem.response()
        self.log.refused(address, req, problem.status, len(answer), datetime.now() - started)
        try:
            client.sendall(answer)
        except Exception:  # the client is gone, or does not take the answer
            self.log.debug("Failed to send error message.")


#: What gunicorn raises with the client's bytes in its message: a request line, a
#: header, a chunk, the bytes read before a disconnection.
_QUOTING = (_errors.ParseException, _errors.NoMoreData)


def _withheld(args: tuple) -> tuple:
    """`args` with each of gunicorn's parse errors (whose message quotes the client)
    replaced by its type's name."""
    if not any(isinstance(arg, _QUOTING) for arg in args):
        return args
    return tuple(
        f"{type(arg).__name__} (message withheld)" if isinstance(arg, _QUOTING) else arg
        for arg in args
    )


class Logger(_GunicornLogger):
    """gunicorn's logger, writing its error log (its own lines) and its access log
    (``ADVISOR_ACCESS_LOG``) as JSON lines, and never quoting what a client sent.

    The application writes one access line (``advisor.access``) for every request
    it answers, so gunicorn's access log holds only the requests gunicorn answers
    itself, refused before they reach the application (`Worker.handle_error`):
    one line per request either way. Such a line names the method and the path
    without its query string, which may carry a candidate's text
    (``/embed?plans=…``); a request whose line could not be read has neither.
    """

    def setup(self, cfg):
        super().setup(cfg)
        for handler in (*self.error_log.handlers, *self.access_log.handlers):
            handler.setFormatter(JsonFormatter())

    def critical(self, msg, *args, **kwargs):
        super().critical(msg, *_withheld(args), **kwargs)

    def error(self, msg, *args, **kwargs):
        super().error(msg, *_withheld(args), **kwargs)

    def warning(self, msg, *args, **kwargs):
        super().warning(msg, *_withheld(args), **kwargs)

    def info(self, msg, *args, **kwargs):
        super().info(msg, *_withheld(args), **kwargs)

    def debug(self, msg, *args, **kwargs):
        super().debug(msg, *_withheld(args), **kwargs)

    def exception(self, msg, *args, **kwargs):
        super().exception(msg, *_withheld(args), **kwargs)

    def access(self, resp, req, environ, request_time):
        """Nothing: the application logs every request it answers (``advisor.access``)."""

    def refused(self, remote: str, req, status: int, size: int, request_time) -> None:
        """One access line for a request gunicorn answered itself with `status`."""
        if not self.access_log_enabled:
            return
        method, path = _method_and_path(req)
        fields = {
            "remote": remote,
            "method": method,
            "path": path,
            "status": status,
            "bytes": size,
            "duration_us": request_time.seconds * 1_000_000 + request_time.microseconds,
            "request_id": None,
        }
        self.access_log.info("request", extra={"fields": fields})
