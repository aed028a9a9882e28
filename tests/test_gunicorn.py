"""The gunicorn worker's deadlines and logger, in process (real servers: test_slow_clients)."""

import errno
import io
import json
import os
import time
from datetime import timedelta

import gevent
import pytest
from gevent import socket
from gunicorn.config import Config
from gunicorn.http import errors

from advisor._gunicorn import (
    TURN_WAIT,
    Logger,
    Worker,
    _Body,
    _Client,
    _take_turns,
    client_connections,
    client_timeout,
    metrics_folder,
    problem_of,
    refuse_tls,
    usable_listeners,
)
from advisor._logs import MAX_LOGGED_PATH
from advisor.config import listener_matches


@pytest.mark.parametrize(("value", "seconds"), [(None, 10), ("2", 2), ("0.5", 0.5), ("3600", 3600)])
def test_the_client_timeout_is_read_from_the_environment(value, seconds):
    environ = {} if value is None else {"ADVISOR_CLIENT_TIMEOUT": value}
    assert client_timeout(environ) == seconds


@pytest.mark.parametrize("value", ["0", "-1", "3601", "soon", "", "nan"])
def test_a_bad_client_timeout_is_one_line_naming_the_variable(value):
    with pytest.raises(ValueError, match="^ADVISOR_CLIENT_TIMEOUT=.* is not allowed: use a"):
        client_timeout({"ADVISOR_CLIENT_TIMEOUT": value})


@pytest.mark.parametrize(
    ("environ", "limit"),
    [
        ({}, 250),  # a quarter of the worker's 1000
        ({"ADVISOR_CLIENT_CONNECTIONS": "10"}, 10),
        ({"ADVISOR_CLIENT_CONNECTIONS": " 0 "}, 0),  # no limit
        # Behind proxies every connection comes from one: they limit their clients.
        ({"ADVISOR_PROXY_COUNT": "1"}, 0),
        ({"ADVISOR_CLIENT_CONNECTIONS": "10", "ADVISOR_PROXY_COUNT": "2"}, 0),
    ],
)
def test_one_clients_connections_are_limited_where_clients_connect_directly(environ, limit):
    assert client_connections(1000, environ) == limit


@pytest.mark.parametrize("value", ["-1", "ten", "", "2.5"])
def test_a_bad_client_connections_limit_is_one_line_naming_the_variable(value):
    with pytest.raises(ValueError, match="^ADVISOR_CLIENT_CONNECTIONS=.* is not allowed: use a"):
        client_connections(1000, {"ADVISOR_CLIENT_CONNECTIONS": value})


def _full_disk(fd, offset, length):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


# A metrics folder workers cannot use: their memory-mapped count files would kill
# each of them with SIGBUS on a full disk, so start-up refuses it in one line.
UNUSABLE_METRICS = [
    pytest.param(
        lambda tmp: tmp / "a-file" / "metrics", None, "Not a directory", id="not-a-folder"
    ),
    pytest.param(lambda tmp: tmp / "metrics", _full_disk, "No space left on device", id="full"),
]


@pytest.mark.parametrize(("folder", "fallocate", "reason"), UNUSABLE_METRICS)
def test_an_unusable_metrics_folder_is_one_line_naming_the_variable(
    tmp_path, monkeypatch, folder, fallocate, reason
):
    (tmp_path / "a-file").write_text("")
    if fallocate:
        monkeypatch.setattr(os, "posix_fallocate", fallocate)
    with pytest.raises(ValueError, match=f"^ADVISOR_METRICS_DIR=.* is not allowed: .*{reason}"):
        metrics_folder(str(folder(tmp_path)))


def test_a_metrics_folder_with_room_is_made_and_left_empty(tmp_path):
    metrics_folder(str(tmp_path / "metrics"))
    assert list((tmp_path / "metrics").iterdir()) == []


class _Request:
    """What the deadline needs of gunicorn's request: a body and `must_close`."""

    def __init__(self, sock, headers=()):
        self.body = sock.makefile("rb") if hasattr(sock, "makefile") else sock
        self.must_close = False
        self.headers = list(headers)


def test_a_body_read_past_its_deadline_times_out_and_closes_the_connection():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        request = _Request(ours)
        body = _Body(request, 0.3)
        theirs.sendall(b"{")
        assert body.read(1) == b"{"
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            body.read(1)  # the client sends nothing more
        assert 0.2 < time.monotonic() - started < 2
        assert request.must_close
        request.body.close()


def test_a_body_that_arrives_in_time_is_read_whole():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        request = _Request(ours)
        body = _Body(request, 2)
        gevent.spawn_later(0.1, theirs.sendall, b"line one\nline two\n")
        assert body.readline() == b"line one\n"
        assert body.read(9) == b"line two\n"
        assert not request.must_close
        request.body.close()


#: Bodies read in part or whole: (framing headers, the reads, whether any was left unread).
READS = [
    ((), [], False),
    ((("CONTENT-LENGTH", "0"),), [], False),
    ((("CONTENT-LENGTH", "5"),), [], True),
    ((("CONTENT-LENGTH", "5"),), [("read", 2)], True),
    ((("CONTENT-LENGTH", "5"),), [("read", 2), ("read", 3)], False),
    ((("CONTENT-LENGTH", "5"),), [("read", None)], False),
    ((("CONTENT-LENGTH", "5"),), [("readline", None)], False),
    ((("TRANSFER-ENCODING", "chunked"),), [("read", 5)], True),
    ((("TRANSFER-ENCODING", "chunked"),), [("read", 5), ("read", 5)], False),
    ((("TRANSFER-ENCODING", "chunked"),), [("readline", 9)], True),
    ((("TRANSFER-ENCODING", "chunked"),), [("readlines", None)], False),
]


@pytest.mark.parametrize(("headers", "reads", "unread"), READS)
def test_a_body_knows_whether_it_was_read_to_its_end(headers, reads, unread):
    """What `Worker.handle_request` asks to choose a lingering close."""
    body = _Body(_Request(io.BytesIO(b"hello"), headers), 2)
    for method, size in reads:
        getattr(body, method)(size)
    assert body.unread is unread


@pytest.mark.server
def test_a_close_while_the_client_sends_takes_what_it_sends_and_ends_the_answer():
    """The client reads the answer to its end (the server's side is shut), while what
    it still sends is taken, not answered by a reset."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    with listener, socket.create_connection(listener.getsockname()) as theirs:
        ours, _ = listener.accept()
        with ours:
            client = _Client(ours, 2, linger=5)
            theirs.sendall(b"x" * 100_000)  # a body the answer leaves unread
            client.sendall(b"answer")
            closing = gevent.spawn(client.close)
            theirs.sendall(b"x" * 2_000_000)  # still taken: no reset
            received = b""
            while chunk := theirs.recv(1024):
                received += chunk
            assert received == b"answer"
            theirs.shutdown(socket.SHUT_WR)
            closing.join(timeout=5)
            assert closing.successful()


def test_a_connection_answered_waits_for_its_turn_only_so_long():
    """A connection answered waits for its worker's loop to be idle before its next
    request, but a loop kept busy never is: every connection answered waited there,
    its client gone, until the worker held all the connections it may."""

    def busy():
        while True:
            gevent.sleep(0)  # always something pending: the loop is never idle

    spinning = gevent.spawn(busy)
    try:
        with gevent.Timeout(10 * TURN_WAIT + 5, AssertionError("still waiting for a turn")):
            _take_turns()
    finally:
        spinning.kill()


def test_a_write_the_client_does_not_take_is_a_broken_pipe():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        client = _Client(ours, 0.3)
        started = time.monotonic()
        with pytest.raises(BrokenPipeError):
            client.sendall(b"x" * 50_000_000)  # far more than the socket buffers hold
        assert time.monotonic() - started < 2
        client.sendall(b"")  # everything else is the socket's own


def test_gunicorn_writes_its_own_lines_as_json(capsys):
    config = Config()
    config.set("errorlog", "-")
    log = Logger(config)
    log.info("Booting worker with pid: %s", 42)
    said = "something private"
    try:
        raise OSError(said)
    except OSError:
        log.exception("Socket error processing request.")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(line["level"], line["logger"], line["msg"]) for line in lines] == [
        ("info", "gunicorn.error", "Booting worker with pid: 42"),
        ("error", "gunicorn.error", "Socket error processing request."),
    ]
    assert lines[1]["exc"].endswith("OSError (message withheld)")
    assert said not in lines[1]["exc"]


#: What gunicorn raises, with the client's bytes in it, and the answer's status.
REFUSED = [
    (errors.InvalidRequestLine("GET /x?q=SECRET"), 400),
    (errors.InvalidRequestMethod("G\x00T"), 400),
    (errors.InvalidHTTPVersion("HTTP/SECRET"), 400),
    (errors.InvalidHTTPVersion((2, 0)), 505),
    (errors.InvalidHTTPVersion((0, 9)), 400),
    (errors.InvalidHeader("X-SECRET: y"), 400),
    (errors.InvalidHeader("CONTENT-LENGTH"), 400),
    (errors.InvalidHeaderName("SECRET NAME"), 400),
    (errors.ObsoleteFolding("SECRET"), 400),
    (errors.LimitRequestLine(9000, 8190), 414),
    (errors.LimitRequestHeaders("SECRET: too large"), 431),
    (errors.UnsupportedTransferCoding("SECRET"), 501),
    (errors.InvalidChunkSize(b"SECRET"), 400),
    (errors.ChunkMissingTerminator(b"SECRET"), 400),
    (errors.ExpectationFailed("SECRET"), 417),
    (errors.InvalidProxyLine("SECRET"), 400),
    (errors.InvalidSchemeHeaders(), 400),
    (RuntimeError("SECRET"), 500),
]


@pytest.mark.parametrize(("error", "status"), REFUSED, ids=lambda x: type(x).__name__)
def test_a_refused_request_is_a_problem_that_does_not_echo_the_client(error, status):
    problem = problem_of(error)
    head, _, body = problem.response().partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d " % status)
    assert b"\r\nContent-Type: application/problem+json\r\n" in head
    assert b"\r\nConnection: close" in head
    assert b"\r\nContent-Length: %d" % len(body) in head
    answer = json.loads(body)
    assert answer["status"] == status
    assert answer["title"]
    assert answer["detail"].endswith(".")
    assert "SECRET" not in answer["detail"]
    assert b"SECRET" not in head


def test_a_framing_header_is_named_in_the_problem():
    assert "Content-Length" in problem_of(errors.InvalidHeader("CONTENT-LENGTH")).detail
    assert "Transfer-Encoding" in problem_of(errors.InvalidHeader("TRANSFER-ENCODING")).detail
    assert "X-Other" not in problem_of(errors.InvalidHeader("X-Other")).detail


@pytest.mark.parametrize(
    "settings",
    [
        {"certfile": "server.crt", "keyfile": "server.key"},
        {"keyfile": "server.key"},
        {"http_protocols": "h2,h1"},
        {"http2_cleartext": "prior-knowledge"},
        {"http2_cleartext": "upgrade"},
    ],
)
def test_tls_and_http2_in_gunicorn_are_refused_in_one_line(settings):
    config = Config()
    for name, value in settings.items():
        config.set(name, value)
    with pytest.raises(ValueError, match="^[^\\n]* are not supported: .*terminate TLS"):
        refuse_tls(config)


def test_plain_http1_is_served():
    config = Config()
    config.set("http_protocols", "h1")
    refuse_tls(config)  # nothing raised


class _Req:
    method = "GET"
    path = "/embed"
    uri = "/embed?plans=SECRET"
    query = "plans=SECRET"


def test_gunicorn_lines_withhold_what_the_client_sent(capsys):
    config = Config()
    config.set("errorlog", "-")
    config.set("accesslog", "-")
    config.set("loglevel", "debug")
    log = Logger(config)
    log.debug("Ignored premature client disconnection. %s", errors.NoMoreData(b"SECRET"))
    log.warning("Invalid request: %s", errors.InvalidRequestLine("GET /?q=SECRET"))
    log.refused("192.0.2.1", _Req(), 400, 200, timedelta(microseconds=120))
    log.refused("192.0.2.1", None, 414, 200, timedelta(microseconds=80))
    written = capsys.readouterr()
    out = written.err + written.out  # gunicorn writes its access log "-" on stdout
    assert "SECRET" not in out
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["msg"] for line in lines[:2]] == [
        "Ignored premature client disconnection. NoMoreData (message withheld)",
        "Invalid request: InvalidRequestLine (message withheld)",
    ]
    assert [(x["logger"], x["method"], x["path"], x["status"]) for x in lines[2:]] == [
        ("gunicorn.access", "GET", "/embed", 400),
        ("gunicorn.access", None, None, 414),
    ]


def test_gunicorn_lines_cut_a_long_path(capsys):
    config = Config()
    config.set("accesslog", "-")
    request = _Req()
    request.path = "/" + "a" * 8000
    Logger(config).refused("192.0.2.1", request, 431, 200, timedelta(microseconds=90))
    (line,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert line["path"] == "/" + "a" * (MAX_LOGGED_PATH - 2) + "…"


def test_gunicorn_logs_no_access_line_for_what_the_application_logs(capsys):
    config = Config()
    config.set("accesslog", "-")
    Logger(config).access(None, _Req(), {}, timedelta(microseconds=10))
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(
    ("error", "status", "level"),
    [
        (RuntimeError("SECRET inside gunicorn"), 500, "error"),
        (errors.InvalidHeader("CONTENT-LENGTH", req=_Req()), 400, "warning"),
    ],
)
def test_the_worker_answers_what_gunicorn_refuses_with_a_problem(capsys, error, status, level):
    """`Worker.handle_error`, gunicorn's hook for requests it cannot serve: a
    problem+json answer, and a log line naming the method and path only."""
    config = Config()
    config.set("errorlog", "-")
    config.set("accesslog", "-")
    worker = Worker.__new__(Worker)  # only the hook: no process, no sockets to serve
    worker.log = Logger(config)
    ours, theirs = socket.socketpair()
    with ours, theirs:
        worker.handle_error(_Req(), _Client(ours, 2), ("192.0.2.1", 4242), error)
        ours.close()
        answer = theirs.makefile("rb").read()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d " % status)
    assert b"Content-Type: application/problem+json" in head
    assert json.loads(body)["status"] == status
    written = capsys.readouterr()
    assert "SECRET" not in written.err + written.out
    lines = [json.loads(line) for line in (written.err + written.out).splitlines()]
    [logged] = [line for line in lines if line["logger"] == "gunicorn.error"]
    assert logged["level"] == level
    if status == 500:
        assert logged["msg"] == "Error handling request GET /embed"
        assert logged["exc"].endswith("RuntimeError (message withheld)")
    [access] = [line for line in lines if line["logger"] == "gunicorn.access"]
    assert (access["method"], access["path"], access["status"]) == ("GET", "/embed", status)


#: A connection's local address, the metrics listener, and whether it came in through it.
LISTENERS = [
    (("127.0.0.1", 9464), "127.0.0.1:9464", True),
    (("127.0.0.1", 8000), "127.0.0.1:9464", False),
    (("10.0.0.5", 9464), "127.0.0.1:9464", False),  # the same port on another address
    (("10.0.0.5", 9464), "0.0.0.0:9464", True),
    (("10.0.0.5", 8000), "0.0.0.0:9464", False),
    (("::1", 9464, 0, 0), "0.0.0.0:9464", False),
    (("::1", 9464, 0, 0), "[::]:9464", True),
    (("::ffff:10.0.0.5", 9464, 0, 0), "[::]:9464", True),
    (("::ffff:127.0.0.1", 9464, 0, 0), "127.0.0.1:9464", True),
    (("2001:db8::1", 9464, 0, 0), "[::1]:9464", False),
    (("::1", 9464, 0, 0), "[::1]:9464", True),
    (("127.0.0.1", 9464), "localhost:9464", True),
    (("127.0.0.2", 9464), "localhost:9464", True),
    (("::1", 9464, 0, 0), "localhost:9464", True),
    (("10.0.0.5", 9464), "localhost:9464", False),
    (("127.0.0.1", 9464), "localhost:8000", False),
    ("/run/advisor-metrics.sock", "unix:/run/advisor-metrics.sock", True),
    ("/run/other.sock", "unix:/run/advisor-metrics.sock", False),
    (("127.0.0.1", 9464), "unix:/run/advisor-metrics.sock", False),
    ("/run/advisor-metrics.sock", "127.0.0.1:9464", False),
]


@pytest.mark.parametrize(("local", "bind", "matches"), LISTENERS)
def test_metrics_are_served_only_on_their_own_listener(local, bind, matches):
    assert listener_matches(bind, local) is matches


MISSING = "/nonexistent-folder-of-the-tests"
#: The API's listener, the metrics one, and what refuses them at start (None: nothing).
START_LISTENERS = [
    ("127.0.0.1:8000", "", None),
    ("127.0.0.1:8000", "127.0.0.1:9464", None),
    ("127.0.0.1:8000", "10.0.0.5:8000", None),  # the same port on another address
    ("127.0.0.1:0", "127.0.0.1:0", None),  # each any free port
    ("127.0.0.1:8000", "127.0.0.1:8000", "ADVISOR_METRICS_BIND='127.0.0.1:8000' is not"),
    ("0.0.0.0:8000", "127.0.0.1:8000", "it takes ADVISOR_BIND's address (0.0.0.0:8000)"),
    ("[::]:8000", "10.0.0.5:8000", "it takes ADVISOR_BIND's address"),
    ("127.0.0.1:8000", "localhost:8000", "it takes ADVISOR_BIND's address"),
    ("unix:/tmp/advisor.sock", "unix:/tmp/advisor.sock", "it takes ADVISOR_BIND's address"),
    ("unix:/tmp/advisor.sock", "unix:/tmp/metrics.sock", None),
    ("127.0.0.1:8000", f"unix:{MISSING}/m.sock", f"its folder {MISSING} does not exist"),
    (f"unix:{MISSING}/a.sock", "", f"ADVISOR_BIND='unix:{MISSING}/a.sock' is not allowed"),
    ("127.0.0.1:8000", "unix:/proc/metrics.sock", "its folder /proc cannot be written"),
]


@pytest.mark.parametrize(("api", "metrics", "refused"), START_LISTENERS)
def test_a_listener_that_could_never_listen_stops_start_up(monkeypatch, api, metrics, refused):
    # The metrics listener on the API's address was tried five times and the start
    # ended with status 1 ("Connection in use"), which the systemd unit starts again
    # forever; so did a socket in a folder missing, or read-only under the unit.
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda path, mode: path != "/proc" and real_access(path, mode)
    )
    if refused is None:
        usable_listeners(api, metrics)
        return
    with pytest.raises(ValueError, match="^ADVISOR_[^\n]*is not allowed: [^\n]*$") as error:
        usable_listeners(api, metrics)
    assert refused in str(error.value)
