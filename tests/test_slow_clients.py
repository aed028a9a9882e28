"""Slow and idle clients against the service started as `make run` starts it.

Hundreds of connections stalled mid-headers and mid-body, and idle kept-alive
ones, must neither hold a worker nor slow ordinary requests; each stalled
client is cut off in time (a stalled body with a 408 problem). One client
holds at most its share of a worker's connections; past it, a connection is
answered 429 at once, and the log says so, as it says when a worker holds
all the connections it may.
"""

import contextlib
import json
import socket
import threading
import time
import urllib.request
from urllib.parse import urlsplit

import pytest

from bench.slow_clients import KINDS, measure

from .live import gunicorn

pytestmark = pytest.mark.server

#: A short client timeout, so that the cut-offs can be watched in a few seconds.
CLIENT_TIMEOUT = 2
#: `keepalive` in the packaged settings.
KEEP_ALIVE_SECONDS = 5


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("gunicorn") / "server.log"
    env = {"ADVISOR_RATE_LIMITS": "", "ADVISOR_CLIENT_TIMEOUT": str(CLIENT_TIMEOUT)}
    with gunicorn(workers=2, env=env, log=log) as running:
        yield running


def _connect(base: str) -> socket.socket:
    parts = urlsplit(base)
    return socket.create_connection((parts.hostname, parts.port), timeout=15)


def _read_until_closed(sock: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and when it closed."""
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    return answer, time.monotonic()


def test_a_stalled_body_gets_a_408_problem_and_the_connection_is_closed(server):
    with _connect(server.base) as sock:
        sock.sendall(KINDS["bodies"])
        started = time.monotonic()
        answer, closed = _read_until_closed(sock)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), head
    assert b"content-type: application/problem+json" in head.lower()
    assert b"connection: close" in head.lower()
    assert json.loads(body)["status"] == 408
    assert CLIENT_TIMEOUT - 0.5 < closed - started < CLIENT_TIMEOUT + 3


@pytest.mark.parametrize("kind", ["headers", "idle"])
def test_stalled_headers_and_idle_keep_alives_are_closed_after_the_keep_alive_time(server, kind):
    with _connect(server.base) as sock:
        sock.sendall(KINDS[kind])
        started = time.monotonic()
        answer, closed = _read_until_closed(sock)
    assert (answer == b"") == (kind == "headers")  # the idle one got its answer first
    assert 4 < closed - started < 9  # keepalive = 5 in the packaged settings


def test_a_client_that_does_not_read_its_answers_is_cut_off(server):
    with _connect(server.base) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(KINDS["non_readers"] * 4)  # far more than the socket buffers hold
        time.sleep(CLIENT_TIMEOUT + 3)
        sock.settimeout(10)
        received = 0
        with contextlib.suppress(ConnectionResetError):  # unread requests: a reset
            while chunk := sock.recv(1 << 20):
                received += len(chunk)
    one_answer = len(json.dumps(_openapi(server.base)))
    assert 0 < received < 200 * one_answer  # cut off before all 200 answers were sent


def _openapi(base: str) -> dict:
    with _connect(base) as sock:
        sock.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: advisor\r\nConnection: close\r\n\r\n")
        answer, _ = _read_until_closed(sock)
    return json.loads(answer.partition(b"\r\n\r\n")[2])


def test_hundreds_of_slow_and_idle_clients_leave_ordinary_requests_answered(tmp_path):
    """200 connections stalled mid-headers, 200 trickling a body a byte every 2 s and
    200 idle keep-alives, each reopened as soon as it is closed, against the default
    worker count; ordinary requests on fresh connections keep a p99 under 1 s."""
    log = tmp_path / "server.log"
    # The probes and the hostile clients share one address: no rate limit.
    with gunicorn(env={"ADVISOR_RATE_LIMITS": ""}, log=log) as running:
        figures = measure(running.base, {"headers": 200, "bodies": 200, "idle": 200}, seconds=15)
    print(json.dumps(figures, indent=2))
    assert figures["failed"] == 0, figures
    assert figures["answered"] >= 100, figures
    assert figures["p99_ms"] < 1000, figures
    # Every kind was cut off at least once, the slow bodies with a 408.
    assert all(figures["cut_off"][kind] >= 200 for kind in ("headers", "bodies", "idle")), figures
    assert figures["bodies_408"] >= 200, figures
    _assert_every_line_is_json(log)


def _assert_every_line_is_json(log):
    lines = log.read_text().splitlines()
    assert lines
    for line in lines:
        entry = json.loads(line)
        assert {"ts", "level", "logger", "msg"} <= set(entry), line


#: A worker's connections and one client's share of them, small enough to fill.
WORKER_CONNECTIONS, CLIENT_CONNECTIONS = 40, 10


@pytest.fixture
def small_server(tmp_path):
    """One worker of 40 connections, of which one client may hold 10."""
    env = {
        "ADVISOR_RATE_LIMITS": "",
        "ADVISOR_WORKER_CONNECTIONS": str(WORKER_CONNECTIONS),
        "ADVISOR_CLIENT_CONNECTIONS": str(CLIENT_CONNECTIONS),
    }
    with gunicorn(workers=1, env=env, log=tmp_path / "server.log") as running:
        yield running


def _silent(base: str, source: str, count: int) -> list[socket.socket]:
    """`count` connections from the loopback address `source` that send nothing."""
    parts = urlsplit(base)
    address = (parts.hostname, parts.port)
    return [socket.create_connection(address, 5, (source, 0)) for _ in range(count)]


def _warnings(server, text: str) -> list[dict]:
    lines = [json.loads(line) for line in server.output().splitlines()]
    return [line for line in lines if line["level"] == "warning" and text in line["msg"]]


def test_a_connection_past_one_clients_share_is_answered_429_at_once(small_server):
    """Connections that send nothing were held for the keep-alive time (5 s) each,
    answered nothing, so one client could take every connection of every worker,
    and nothing said so."""
    with contextlib.ExitStack() as stack:
        for sock in _silent(small_server.base, "127.0.0.3", CLIENT_CONNECTIONS):
            stack.enter_context(sock)
        (late,) = _silent(small_server.base, "127.0.0.3", 1)
        with late:
            late.settimeout(4)  # under the keep-alive time a silent connection gets
            late.sendall(b"GET /health/live HTTP/1.1\r\nHost: a\r\nX-Marker: secret\r\n\r\n")
            answer, _ = _read_until_closed(late)
        (other,) = _silent(small_server.base, "127.0.0.4", 1)
        with other:
            other.sendall(b"GET /health/live HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            assert _read_until_closed(other)[0].startswith(b"HTTP/1.1 200")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 429"), head
    assert b"content-type: application/problem+json" in head.lower()
    assert b"retry-after: 5" in head.lower()
    assert json.loads(body)["status"] == 429
    (warning,) = _warnings(small_server, "ADVISOR_CLIENT_CONNECTIONS")
    assert "ip=127.0.0.3 (1)" in warning["msg"]
    assert "secret" not in small_server.output()


def test_a_worker_holding_all_its_connections_says_so(small_server):
    with contextlib.ExitStack() as stack:
        for number in range(WORKER_CONNECTIONS // CLIENT_CONNECTIONS):
            for sock in _silent(small_server.base, f"127.0.0.{5 + number}", CLIENT_CONNECTIONS):
                stack.enter_context(sock)
        deadline = time.monotonic() + 4
        while not _warnings(small_server, "ADVISOR_WORKER_CONNECTIONS"):
            assert time.monotonic() < deadline, small_server.output()
            time.sleep(0.1)
    (warning,) = _warnings(small_server, "ADVISOR_WORKER_CONNECTIONS")
    assert f"holds {WORKER_CONNECTIONS} connections" in warning["msg"]


#: A GET declaring a body of 100 GB: answered at once, its body left unread.
HUGE_DECLARED = b"GET /health/live HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000000\r\n\r\n"


def _flood(base: str, until: float, sent: list[int]) -> None:
    """Send `HUGE_DECLARED`, then bytes as fast as the server takes them, on a new
    connection each time the server closes one, until `until`."""
    while time.monotonic() < until:
        with contextlib.suppress(OSError), _connect(base) as sock:
            sock.sendall(HUGE_DECLARED)
            while time.monotonic() < until:
                sent[0] += sock.send(b"x" * 65536)


@pytest.fixture
def one_worker(tmp_path):
    env = {"ADVISOR_RATE_LIMITS": "", "ADVISOR_CLIENT_TIMEOUT": str(CLIENT_TIMEOUT)}
    with gunicorn(workers=1, env=env, log=tmp_path / "server.log") as running:
        yield running


def test_clients_streaming_bytes_after_their_request_do_not_hold_the_worker(one_worker):
    """The rest of an answered request's body is read and dropped to keep the
    connection, but no more than 8 MiB of it, and the worker's other connections
    take their turns between reads: four clients streaming as fast as they can after
    a request declaring 100 GB leave one worker answering others, and each is cut off."""
    seconds = 6
    until = time.monotonic() + seconds
    sent = [0]
    floods = [
        threading.Thread(target=_flood, args=(one_worker.base, until, sent)) for _ in range(4)
    ]
    for flood in floods:
        flood.start()
    waits = []
    time.sleep(0.5)
    while time.monotonic() < until - 0.5:
        started = time.monotonic()
        with urllib.request.urlopen(f"{one_worker.base}/health/live", timeout=30) as answer:
            assert answer.status == 200
        waits.append(time.monotonic() - started)
        time.sleep(0.1)
    for flood in floods:
        flood.join()
    # Before: each flooding connection held the worker for the keep-alive time (5 s).
    assert max(waits) < KEEP_ALIVE_SECONDS / 2, waits
    assert sent[0] > 0
    assert one_worker.process.poll() is None
