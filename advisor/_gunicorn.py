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
  it is treated as gone, and the connection is reset.

Only the time spent waiting on a client is bounded; the engine's own work is
not interrupted. Between two requests of one connection the worker lets its
other connections in, so a client that sends many at once cannot hold it. ``Logger`` writes gunicorn's own lines as JSON, like the
application's.
"""

from __future__ import annotations

import errno
import os
import resource
import socket
import struct
import time

import gevent
from gunicorn.glogging import Logger as _GunicornLogger
from gunicorn.workers.ggevent import GeventWorker

from ._logs import JsonFormatter

__all__ = ["Logger", "Worker", "client_timeout", "enough_open_files"]


def enough_open_files(wanted: int) -> None:
    """Raise this process's soft limit of open files to `wanted` (at most the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


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


class _Body:
    """A request body that must have arrived by a deadline.

    A read past it raises ``TimeoutError`` and marks the request to close its
    connection: the rest of the body may never come.
    """

    def __init__(self, request, seconds: float):
        self._request = request
        self._body = request.body
        self._deadline = time.monotonic() + seconds

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
        except TimeoutError:
            self._request.must_close = True
            raise

    def read(self, size=None):
        return self._within_deadline(self._body.read, size)

    def readline(self, size=None):
        return self._within_deadline(self._body.readline, size)

    def readlines(self, size=None):
        return self._within_deadline(self._body.readlines, size)

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line


#: SO_LINGER on, for 0 seconds: close() resets the connection and drops unsent data.
_RESET_ON_CLOSE = struct.pack("ii", 1, 0)


class _Client:
    """A client socket whose writes must each be taken within `seconds`; one that
    is not is reported as a broken pipe (the client is treated as gone)."""

    def __init__(self, sock, seconds: float):
        self._sock = sock
        self._seconds = seconds

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
            raise BrokenPipeError(errno.EPIPE, "the client did not take the answer") from None

    def sendall(self, data, *args):
        return self._within_deadline(self._sock.sendall, data, *args)

    def sendfile(self, file, offset=0, count=None):
        return self._within_deadline(self._sock.sendfile, file, offset, count)


class Worker(GeventWorker):
    """gunicorn's gevent worker, with deadlines on clients' bodies and reads."""

    def init_process(self):
        self.client_timeout = client_timeout()
        super().init_process()

    def handle(self, listener, client, addr):
        super().handle(listener, _Client(client, self.client_timeout), addr)

    def handle_request(self, listener_name, req, sock, addr):
        req.body = _Body(req, self.client_timeout)
        try:
            return super().handle_request(listener_name, req, sock, addr)
        finally:
            # Let the worker's other connections in before this one's next request:
            # a client that sends many requests at once must not hold the worker.
            gevent.sleep(0)


class Logger(_GunicornLogger):
    """gunicorn's logger, writing its error log (its own lines) and its access log
    (``ADVISOR_ACCESS_LOG``) as JSON lines.

    An access line names the path without its query string, which may carry a
    candidate's text (``/embed?plans=…``).
    """

    def setup(self, cfg):
        super().setup(cfg)
        for handler in (*self.error_log.handlers, *self.access_log.handlers):
            handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        fields = {
            "remote": atoms["h"],
            "method": atoms["m"],
            # WSGI gives the path's bytes as Latin-1; the log shows the characters sent.
            "path": (atoms["U"] or "").encode("latin-1").decode("utf-8", "replace"),
            "status": int(atoms["s"]) if str(atoms["s"]).isdigit() else atoms["s"],
            "bytes": atoms["B"],
            "duration_us": atoms["D"],
            "request_id": atoms.get("{x-request-id}o"),
        }
        self.access_log.info("request", extra={"fields": fields})
