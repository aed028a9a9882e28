"""The gunicorn worker's deadlines and logger, in process (real servers: test_slow_clients)."""

import json
import time

import gevent
import pytest
from gevent import socket
from gunicorn.config import Config

from advisor._gunicorn import Logger, _Body, _Client, client_timeout


@pytest.mark.parametrize(("value", "seconds"), [(None, 10), ("2", 2), ("0.5", 0.5), ("3600", 3600)])
def test_the_client_timeout_is_read_from_the_environment(value, seconds):
    environ = {} if value is None else {"ADVISOR_CLIENT_TIMEOUT": value}
    assert client_timeout(environ) == seconds


@pytest.mark.parametrize("value", ["0", "-1", "3601", "soon", "", "nan"])
def test_a_bad_client_timeout_is_one_line_naming_the_variable(value):
    with pytest.raises(ValueError, match="^ADVISOR_CLIENT_TIMEOUT=.* is not allowed: use a"):
        client_timeout({"ADVISOR_CLIENT_TIMEOUT": value})


class _Request:
    """What the deadline needs of gunicorn's request: a body and `must_close`."""

    def __init__(self, sock):
        self.body = sock.makefile("rb")
        self.must_close = False


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
