"""Hostile clients against the service started as `make run` starts it, over raw sockets.

Malformed framing, odd methods, odd characters, huge and deep bodies, duplicate
framing headers and pipelined requests: each gets a problem+json answer (or, for
framing that cannot be answered, a clean close), never HTML, never a 500, never
a dead worker, and nothing the client sent beyond the method and path reaches
the log.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import socket
import subprocess
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.config import hash_api_key
from advisor.web import keys

from .live import gunicorn, gunicorn_command

pytestmark = pytest.mark.server

#: Written in every query string and header a hostile request sends: it must never
#: reach the server's log.
MARKER = "zq7marker"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("gunicorn") / "server.log"
    env = {"ADVISOR_RATE_LIMITS": "", "ADVISOR_CLIENT_TIMEOUT": "3", "ADVISOR_ACCESS_LOG": "-"}
    with gunicorn(workers=2, env=env, log=log) as running:
        workers = sorted(running.workers())
        yield running
        # No request of this module killed a worker, and nothing it sent was logged.
        assert sorted(running.workers()) == workers
        output = running.output()
        assert MARKER not in output
        assert "Traceback" not in output
        for line in output.splitlines():
            entry = json.loads(line)
            assert entry["level"] not in ("error", "critical"), line


@dataclass
class Answer:
    status: int
    headers: dict[str, list[str]]
    body: bytes
    raw_head: bytes = field(repr=False)

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


def exchange(
    server, raw: bytes, heads: int = 0, half_close=False, resets=True
) -> tuple[list[Answer], bytes]:
    """Send `raw` on a new connection (then shut its sending side, if `half_close`)
    and read until the server closes it: the answers parsed from what came back (the
    first `heads` of them to HEAD requests, with no body), and any bytes left over
    that are not an answer. A reset fails the exchange unless `resets`."""
    parts = urlsplit(server.base)
    tolerated = (BrokenPipeError, ConnectionResetError) if resets else ()
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock:
        try:
            sock.sendall(raw)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except tolerated:
            pass  # the server refused before reading it all: its answer is still read
        received = b""
        try:
            while chunk := sock.recv(1 << 16):
                received += chunk
        except tolerated:
            pass  # closed with unread request bytes: what came before still counts
    return parse(received, heads)


def parse(received: bytes, heads: int = 0) -> tuple[list[Answer], bytes]:
    """The answers in `received`, one after another, and the bytes left over."""
    answers = []
    while received.startswith(b"HTTP/"):
        head, separator, rest = received.partition(b"\r\n\r\n")
        assert separator, received[:200]
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers: dict[str, list[str]] = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        answer = Answer(int(status_line.split()[1]), headers, b"", head)
        if len(answers) < heads:
            received = rest
        elif "chunked" in ",".join(headers.get("transfer-encoding", [])):
            body = b""
            while True:
                size_line, _, rest = rest.partition(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                body, rest = body + rest[:size], rest[size + 2 :]
                if size == 0:
                    break
            answer.body, received = body, rest
        else:
            length = int(answer.header("content-length") or 0)
            answer.body, received = rest[:length], rest[length:]
        answers.append(answer)
    return answers, received


def check(answer: Answer, expected) -> None:
    """What every answer to a hostile client must be: an expected status, never a 5xx
    but a 501, and an error as problem+json (valid UTF-8) naming its own status."""
    assert answer.status in expected, (answer.status, answer.body[:300])
    assert answer.status < 500 or answer.status in (501, 505), answer.body[:300]
    if answer.status >= 400 and answer.body:
        assert b"<html" not in answer.body.lower()
        assert answer.header("content-type") == "application/problem+json", answer.raw_head
        problem = json.loads(answer.body.decode("utf-8"))  # strict: no lone surrogate
        assert problem["status"] == answer.status
        assert problem["detail"]
    if answer.status == 405:
        assert answer.header("allow"), answer.raw_head


def request(
    method: str, target: str, body: bytes = b"", headers: tuple[str, ...] = (), close=True
) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: advisor", *headers]
    if body and not any(h.lower().startswith(("content-length", "transfer-")) for h in headers):
        lines.append(f"Content-Length: {len(body)}")
    if body and not any(h.lower().startswith("content-type") for h in headers):
        lines.append("Content-Type: application/json")
    if close:
        lines.append("Connection: close")
    return "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + body


# --- Malformed framing: answered by gunicorn itself, or closed -----------------

Q = f"?plans={MARKER}"
#: A request gunicorn cannot take, and the statuses it may be answered with (none:
#: a clean close without an answer).
MALFORMED = {
    "a request line with a fourth part": (
        f"GET /v1/guidance{Q} HTTP/1.1 more\r\nHost: a\r\n\r\n".encode(),
        {400},
    ),
    # Well formed, of a later major version: 505, as nginx answers (deploy/nginx.conf).
    **{
        f"HTTP/{version}": (
            f"GET /health/live{Q} HTTP/{version}\r\nHost: a\r\n\r\n".encode(),
            {505},
        )
        for version in ("7.1", "2.0", "3.0")
    },
    **{
        f"a malformed version {version}": (
            f"GET /health/live{Q} {version}\r\nHost: a\r\n\r\n".encode(),
            {400},
        )
        for version in ("HTTP/2", "HTTP/1.10", "HTTP/01.1", "http/1.1", "HTTP/0.9")
    },
    "a request line ended by a bare LF": (f"GET /health/live{Q} HTTP/1.1\n\n".encode(), {400}),
    "a NUL byte in the request line": (
        f"GET /health/live{Q}\x00 HTTP/1.1\r\nHost: a\r\n\r\n".encode(),
        {400},
    ),
    "a request line over 8190 bytes": (
        f"GET /v1/guidance{Q}{'x' * 9000} HTTP/1.1\r\nHost: a\r\n\r\n".encode(),
        {414},
    ),
    "more than 100 header fields": (
        request("GET", f"/health/live{Q}", headers=tuple(f"X-{n}: {MARKER}" for n in range(120))),
        {431},
    ),
    "a header field over 8190 bytes": (
        request("GET", f"/health/live{Q}", headers=(f"X-Big: {MARKER}{'y' * 9000}",)),
        {431},
    ),
    "a header name with a space": (
        request("GET", f"/health/live{Q}", headers=(f"X {MARKER}: y",)),
        {400},
    ),
    "a header without a colon": (request("GET", f"/health/live{Q}", headers=(MARKER,)), {400}),
    "a folded header": (
        request("GET", f"/health/live{Q}", headers=("X-A: b", f" {MARKER}")),
        {400},
    ),
    "a header value with a NUL byte": (
        request("GET", f"/health/live{Q}", headers=(f"X-A: {MARKER}\x00",)),
        {400},
    ),
    "two Content-Length headers": (
        request(
            "POST", f"/v1/advice{Q}", b"{}", headers=("Content-Length: 2", "Content-Length: 2")
        ),
        {400},
    ),
    "two different Content-Length values": (
        request(
            "POST", f"/v1/advice{Q}", b"{}", headers=("Content-Length: 2", "Content-Length: 3")
        ),
        {400},
    ),
    "a Content-Length list": (
        request("POST", f"/v1/advice{Q}", b"{}", headers=("Content-Length: 2, 2",)),
        {400},
    ),
    "a signed Content-Length": (
        request("POST", f"/v1/advice{Q}", b"{}", headers=("Content-Length: +2",)),
        {400},
    ),
    "a negative Content-Length": (
        request("POST", f"/v1/advice{Q}", b"{}", headers=("Content-Length: -1",)),
        {400},
    ),
    "Content-Length with Transfer-Encoding": (
        request(
            "POST",
            f"/v1/advice{Q}",
            b"2\r\n{}\r\n0\r\n\r\n",
            headers=("Content-Length: 12", "Transfer-Encoding: chunked"),
        ),
        {400},
    ),
    "Transfer-Encoding chunked twice": (
        request(
            "POST",
            f"/v1/advice{Q}",
            b"2\r\n{}\r\n0\r\n\r\n",
            headers=("Transfer-Encoding: chunked", "Transfer-Encoding: chunked"),
        ),
        {400},
    ),
    "an unknown transfer coding": (
        request("POST", f"/v1/advice{Q}", b"{}", headers=("Transfer-Encoding: zstd",)),
        {501},
    ),
    # gunicorn takes these before chunked but hands the body on still compressed: plain
    # JSON sent so was read as if no coding were named.
    **{
        f"{coding} before chunked": (
            request(
                "POST",
                f"/v1/advice{Q}",
                b'24\r\n{"stage": "after", "hours_since": 2}\r\n0\r\n\r\n',
                headers=(f"Transfer-Encoding: {coding}, chunked",),
            ),
            {501},
        )
        for coding in ("gzip", "Deflate", "compress")
    },
    "chunked not last": (
        request(
            "POST",
            f"/v1/advice{Q}",
            b"2\r\n{}\r\n0\r\n\r\n",
            headers=("Transfer-Encoding: chunked, gzip",),
        ),
        {400},
    ),
    "a chunk size that is not hexadecimal": (
        request(
            "POST",
            f"/v1/advice{Q}",
            b"zz\r\n{}\r\n0\r\n\r\n",
            headers=("Transfer-Encoding: chunked",),
        ),
        {400},
    ),
    "a chunk without its CRLF": (
        request(
            "POST", f"/v1/advice{Q}", b"2\r\n{}XX0\r\n\r\n", headers=("Transfer-Encoding: chunked",)
        ),
        {400},
    ),
    "a chunk extension with a bare CR": (
        request(
            "POST",
            f"/v1/advice{Q}",
            b"2;a=\rb\r\n{}\r\n0\r\n\r\n",
            headers=("Transfer-Encoding: chunked",),
        ),
        {400},
    ),
    "a chunk size past 2**64": (
        request(
            "POST",
            f"/v1/advice{Q}",
            b"1" * 40 + b"\r\n{}\r\n0\r\n\r\n",
            headers=("Transfer-Encoding: chunked",),
        ),
        {400, 408, 413},  # the chunk never comes: a 408 once the body is late
    ),
    "a body cut short": (
        request("POST", f"/v1/advice{Q}", b'{"stage"', headers=("Content-Length: 40",)),
        set(),  # the client's half-close is no request: closed, or a 400 for the rest
    ),
    "garbage instead of a request": (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" * 8, {400}),
    "an HTTP/2 preface": (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", {400}),
    "an Expect the server cannot meet": (
        request("POST", f"/v1/advice{Q}", b"{}", headers=(f"Expect: {MARKER}",)),
        {400, 417},
    ),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_framing_gets_a_problem_or_a_clean_close(server, name):
    raw, statuses = MALFORMED[name]
    answers, rest = exchange(server, raw, half_close=not statuses)
    assert rest == b"", rest[:200]
    assert len(answers) <= 1
    for answer in answers:
        check(answer, statuses or {400})
        assert answer.header("connection") == "close"


def test_nothing_a_refused_client_sent_reaches_the_log(server):
    """Each refused request above was logged, by its kind, and never by its bytes."""
    entries = [json.loads(line) for line in server.output().splitlines()]
    refused = [e["msg"] for e in entries if e["msg"].startswith("Invalid request from ip=")]
    assert len(refused) >= 15  # those gunicorn refused; the application answered the rest
    assert any("InvalidRequestLine" in message for message in refused)
    assert MARKER not in server.output()
    assert [e["path"] for e in entries if e["logger"] == "gunicorn.access" and e["path"]]
    assert not [e for e in entries if e["logger"] == "gunicorn.access" and "?" in (e["path"] or "")]


@pytest.mark.parametrize("version", ["1.2", "1.9"])
def test_a_later_http_1_minor_version_is_answered_in_http_1_1(server, version):
    raw = f"GET /health/live HTTP/{version}\r\nHost: a\r\n\r\n".encode()
    answers, rest = exchange(server, raw + request("GET", "/health/live"))
    assert rest == b""
    assert [answer.raw_head.split(b" ", 1)[0] for answer in answers] == [b"HTTP/1.1"] * 2
    for answer in answers:
        check(answer, {200})


# --- TLS and HTTP/2 are a proxy's job ---------------------------------------------

#: gunicorn settings that would have it terminate TLS or speak HTTP/2, as options.
TLS_OPTIONS = [
    ("--certfile", "{tmp}/server.crt", "--keyfile", "{tmp}/server.key"),
    ("--http2-cleartext", "prior-knowledge"),
    ("--http2-cleartext", "upgrade"),
]
# (``--http-protocols h2``: gunicorn refuses it itself while its h2 package is not
# installed, as here; with it installed, `refuse_tls` does, tested in test_gunicorn.)


@pytest.mark.parametrize("options", TLS_OPTIONS, ids=" ".join)
@pytest.mark.parametrize("given", ["command line", "GUNICORN_CMD_ARGS"])
def test_tls_or_http2_in_gunicorn_stops_start_up_in_one_line(tmp_path, options, given):
    for name in ("server.crt", "server.key"):
        (tmp_path / name).write_text("not a certificate\n")
    options = [option.format(tmp=tmp_path) for option in options]
    env = {**os.environ, "ADVISOR_BIND": "127.0.0.1:0"}
    if given == "GUNICORN_CMD_ARGS":
        command, env["GUNICORN_CMD_ARGS"] = gunicorn_command(), " ".join(options)
    else:
        command = gunicorn_command(*options)
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    [line] = [line for line in result.stderr.splitlines() if "not supported" in line]
    message = json.loads(line)["msg"]
    assert message.startswith("cannot start: gunicorn settings ")
    assert "terminate TLS and HTTP/2 in a proxy" in message
    assert "Booting worker" not in result.stderr
    assert "Traceback" not in result.stderr


# --- Odd methods on every route ------------------------------------------------

#: A path of each route (an unknown id where the route takes one), and one of none.
PATHS = [
    "/v1/advice",
    "/v1/moderate",
    "/v1/drafts",
    "/v1/guidance",
    "/v1/guidance/no-such-item",
    "/v1/rejected",
    "/v1/rejected/no-such-item",
    "/v1/sources",
    "/v1/sources/no-such-item",
    "/health/live",
    "/health/ready",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/demo",
    "/embed",
    "/widget.js",
    "/widget.css",
    "/embed-resize.js",
    "/widget-0.0.0.js",
    "/static/no-such-file.js",
    "/no/such/route",
]
#: Methods no route takes: registered ones, WebDAV's, made-up tokens, and tokens
#: gunicorn refuses (lower case, too long, odd characters).
METHODS = [
    "PUT",
    "DELETE",
    "PATCH",
    "TRACE",
    "PROPFIND",
    "MKCOL",
    "BREW",
    "X-CUSTOM",
    "M-SEARCH",
    "GETT",
    "get",
    "Post",
    "A" * 40,
    "G!T",
    "G~T",
    "G@T",
    "G(T)",
]


@pytest.mark.parametrize("method", METHODS)
def test_an_odd_method_on_every_route_is_a_405_with_allow_or_a_problem(server, method):
    raw = b"".join(
        request(method, path, close=False) if method.isupper() else request(method, path)
        for path in PATHS
    )
    answers, rest = exchange(server, raw + request("GET", "/health/live"))
    assert rest == b""
    if not gunicorn_takes(method) or "@" in method or "(" in method:
        # A token gunicorn does not take as a method: one 400, and the connection closed.
        assert len(answers) == 1
        check(answers[0], {400})
        return
    assert len(answers) == len(PATHS) + 1  # pipelined: every one answered, in order
    for path, answer in zip(PATHS, answers, strict=False):
        unknown = path.startswith(("/no/", "/static/", "/widget-0"))
        check(answer, {404} if unknown and answer.status == 404 else _odd_method(path))
        if answer.status == 405:
            assert method not in answer.header("allow")
    check(answers[-1], {200})


#: The characters of an HTTP token (RFC 9110).
TOKEN = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcxyz0123456789!#$%&'*+-.^_`|~"
#: The methods some route takes.
TAKEN = {"GET", "HEAD", "POST", "OPTIONS"}


def gunicorn_takes(method: str) -> bool:
    """Whether gunicorn passes `method` on: 3 to 20 characters of a token, none of
    them lower case or "#" (its documented restriction); others are a 400."""
    return 3 <= len(method) <= 20 and not re.search("[a-z#]", method)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(method=st.text(TOKEN, min_size=1, max_size=24).filter(lambda m: m not in TAKEN))
def test_any_other_method_token_on_every_route_is_a_405_404_or_400(server, method):
    raw = b"".join(request(method, path, close=False) for path in PATHS)
    answers, rest = exchange(server, raw + request("GET", "/health/live"))
    assert rest == b""
    if not gunicorn_takes(method):
        assert len(answers) == 1  # refused, and the connection closed
        check(answers[0], {400})
        return
    assert len(answers) == len(PATHS) + 1
    for path, answer in zip(PATHS, answers, strict=False):
        check(
            answer, {404, 405, 501} if path.startswith(("/no/", "/static/")) else _odd_method(path)
        )
    check(answers[-1], {200})


def _odd_method(path: str) -> set[int]:
    """What a method no route takes gets: a 405 (or 501), but /metrics, which on the
    API's listener is a 404 whatever the method, so that nothing tells it is there."""
    return {404} if path == "/metrics" else {405, 501}


# --- Odd characters in paths and bodies ------------------------------------------

#: A path with odd characters, percent-encoded or raw.
ODD_PATHS = [
    "/v1/guidance/%ED%A0%80",  # a UTF-16 surrogate, encoded in UTF-8
    "/v1/guidance/%00",
    "/v1/guidance/a%00b",
    "/v1/guidance/%C0%AF",  # an overlong "/"
    "/v1/guidance/%E0%80%AF",
    "/v1/guidance/%EF%BB%BFx",  # a BOM
    "/v1/guidance/%FF%FE",
    "/v1/guidance/%F4%90%80%80",  # past U+10FFFF
    "/v1/guidance/%E2%80%A8%C2%85",
    "/v1/sources/%25%25",
    "/v1/sources/%",
    "/v1/sources/%zz",
    "/v1/guidance/" + "%F0%9F%98%80" * 500,
    "/v1/guidance/\u00e9t\u00e9",  # raw bytes past ASCII (sent as Latin-1)
    "/v1/guidance/\xff\xfe",
    "/v1/guidance/..%2F..%2Fetc%2Fpasswd",
    "/static/..%2F..%2Fpyproject.toml",
    "//v1/guidance",
    "/v1/guidance?plans=%ED%A0%80&plans=%00",
    "/embed?plans=%ED%A0%80%00%C0%AF",
    "/embed?stage=%EF%BB%BFclosing",
]


@pytest.mark.parametrize("path", ODD_PATHS)
def test_odd_characters_in_a_path_get_an_answer_in_valid_utf8(server, path):
    answers, rest = exchange(server, request("GET", path))
    assert rest == b""
    assert len(answers) == 1
    check(answers[0], {200, 308, 400, 404, 422})
    if answers[0].status == 200 and (answers[0].header("content-type") or "").startswith("text/"):
        answers[0].body.decode("utf-8")  # strict: no lone surrogate written raw


#: Paths with a slash doubled: each a 404, never a redirect to a URL built from the
#: client's Host header (which a shared cache could hand to every client).
DOUBLED_SLASHES = [
    ("GET", "/v1//guidance"),
    ("GET", "/v1//sources/heat"),
    ("GET", "/v1/guidance//"),
    ("GET", "/health//live"),
    ("GET", "/embed//"),
    ("POST", "/v1//advice"),
    ("POST", "/v1//moderate"),
    ("GET", "//v1/guidance"),  # Werkzeug's routing would read it as /v1/guidance
    ("GET", "///health/live"),
    ("POST", "//v1/advice"),
    ("OPTIONS", "//v1/advice"),
]


@pytest.mark.parametrize(("method", "path"), DOUBLED_SLASHES)
def test_a_doubled_slash_is_a_404_that_never_names_the_host_sent(server, method, path):
    headers = (f"Host: {MARKER}.example", "Content-Type: application/json")
    raw = request(method, path, b'{"stage": "after"}', headers=headers)
    answers, rest = exchange(server, raw.replace(b"Host: advisor\r\n", b"", 1))
    assert rest == b""
    [answer] = answers
    check(answer, {404})
    assert answer.header("location") is None
    assert MARKER not in answer.raw_head.decode("latin-1") + answer.body.decode()


#: Bodies with odd characters for each endpoint that takes one.
ODD_BODIES = [
    ("/v1/advice", b'{"stage": "\\ud800"}'),
    ("/v1/advice", b'{"stage": "closing", "plans": ["\\udc00 ok"]}'),
    ("/v1/advice", b'{"stage": "closing", "plans": ["a\\u0000b"]}'),
    ("/v1/advice", b'{"stage": "closing", "plans": ["a\x00b"]}'),  # a raw NUL: not JSON
    ("/v1/advice", b'{"stage": "closing", "\\ud83d": 1}'),
    ("/v1/advice", b'{"stage": "\xc0\xafclosing"}'),  # overlong UTF-8
    ("/v1/advice", b'{"stage": "\xed\xa0\x80"}'),  # a surrogate, encoded in UTF-8
    ("/v1/advice", b'\xef\xbb\xbf{"stage": "closing"}'),  # a BOM
    ("/v1/advice", b'\xff\xfe{\x00"\x00'),  # UTF-16
    ("/v1/advice", b'{"stage": "closing", "plans": ["\xf0\x9f\x98\x80\xe2\x80\xa8"]}'),
    ("/v1/moderate", b'{"text": "\\ud800\\udbff"}'),
    ("/v1/moderate", b'{"text": "I will \\u0000 thank them"}'),
    ("/v1/moderate", b'{"text": "\xef\xbb\xbfI will thank them"}'),
    ("/v1/moderate", b'{"text": "\xc1\x81"}'),
    ("/v1/drafts", b'{"stage": "closing", "plans": ["\\ud800"]}'),
    ("/v1/drafts", b'{"\x00": "\x00"}'),
]


@pytest.mark.parametrize(("path", "body"), ODD_BODIES)
def test_odd_characters_in_a_body_get_an_answer_in_valid_utf8(server, path, body):
    answers, rest = exchange(server, request("POST", path, body))
    assert rest == b""
    assert len(answers) == 1
    check(answers[0], {200, 400, 422})
    answers[0].body.decode("utf-8")  # strict: a lone surrogate is escaped or refused


# --- Huge and deep bodies ----------------------------------------------------------

LIMIT = 256 * 1024  # ADVISOR_MAX_BODY_BYTES's default
BIG_BODIES = {
    "an array nested 100,000 deep": ("/v1/advice", b"[" * 100_000 + b"]" * 100_000, {400}),
    "an object nested 40,000 deep": ("/v1/advice", b'{"a":' * 40_000 + b"1" + b"}" * 40_000, {400}),
    "plans nested deep": (
        "/v1/advice",
        b'{"plans": ' + b"[" * 60_000 + b"]" * 60_000 + b"}",
        {400},
    ),
    "60,000 plans": ("/v1/advice", b'{"plans": [' + b'"a",' * 60_000 + b'"a"]}', {413, 422}),
    "a plan list of 120,000 numbers": (
        "/v1/advice",
        b'{"stage": "closing", "plans": [' + b"1," * 120_000 + b"1]}",
        {422},
    ),
    "20,000 unknown keys": (
        "/v1/advice",
        b"{" + b",".join(b'"k%d": 0' % n for n in range(20_000)) + b"}",
        {422},
    ),
    "a key repeated 10,000 times": (
        "/v1/advice",
        b"{" + b",".join(b'"stage": "closing"' for _ in range(10_000)) + b"}",
        {400},
    ),
    "a body one byte over the limit": ("/v1/moderate", b'{"text": "' + b"a" * LIMIT + b'"}', {413}),
    "a number of 100,000 digits": ("/v1/advice", b'{"stage": ' + b"9" * 100_000 + b"}", {400}),
    "a float of 100,000 digits": ("/v1/advice", b'{"stage": 0.' + b"9" * 100_000 + b"}", {422}),
    "a text of 200,000 characters": (
        "/v1/moderate",
        b'{"text": "' + b"a " * 100_000 + b'"}',
        {200, 413, 422},
    ),
    "a moderation text nested deep": (
        "/v1/moderate",
        b'{"text": ' + b"[" * 60_000 + b"]" * 60_000 + b"}",
        {400},
    ),
    "drafts nested deep": ("/v1/drafts", b"[" * 100_000 + b"]" * 100_000, {400}),
}


@pytest.mark.parametrize("name", BIG_BODIES)
def test_a_huge_or_deep_body_is_refused_with_a_problem(server, name):
    path, body, statuses = BIG_BODIES[name]
    answers, rest = exchange(server, request("POST", path, body))
    assert rest == b""
    assert len(answers) == 1
    check(answers[0], statuses)


def test_a_declared_length_far_over_the_limit_is_refused_before_the_body(server):
    raw = request("POST", "/v1/advice", b"{", headers=("Content-Length: 1000000000000",))
    answers, rest = exchange(server, raw)
    assert rest == b""
    assert len(answers) == 1
    check(answers[0], {413})


#: Requests answered without reading all the client sends, the connection to close
#: after the answer, then megabytes more sent at once: (what is sent, the status).
REFUSED_UNREAD = {
    "a body over the limit": (
        request("POST", "/v1/moderate", b'{"text": "' + b"a" * 4_000_000 + b'"}'),
        413,
    ),
    "a body not JSON": (
        request("POST", "/v1/advice", b"a" * 4_000_000, headers=("Content-Type: text/plain",)),
        415,
    ),
    "a query beside the body": (
        request("POST", "/v1/drafts?lang=en", b" " * 4_000_000 + b"{}"),
        422,
    ),
    "a length of 0, then bytes": (
        request(
            "POST", "/v1/advice", headers=("Content-Length: 0", "Content-Type: application/json")
        )
        + b"a" * 4_000_000,
        400,
    ),
    "requests pipelined after one that closes": (
        request("GET", "/health/live") + request("GET", "/v1/sources", close=False) * 100_000,
        200,
    ),
}


@pytest.mark.parametrize("name", REFUSED_UNREAD)
def test_an_answer_that_closes_reaches_a_client_that_sends_more(server, name):
    """A client that sends it all before it reads (a whole body, as urllib does, or
    pipelined requests) gets the answer whole: the server closes after reading and
    dropping what the client still sends, never with it unread, which would reset the
    connection and could destroy the answer before the client reads it."""
    raw, status = REFUSED_UNREAD[name]
    answers, rest = exchange(server, raw, resets=False)
    assert rest == b""
    [answer] = answers
    check(answer, {status})
    assert answer.header("connection") == "close"


# --- Duplicate headers the application reads ---------------------------------------

DUPLICATES = [
    ("Content-Type: application/json", "Content-Type: text/plain"),
    ("Content-Type: text/plain", "Content-Type: application/json"),
    ("X-Request-ID: one", "X-Request-ID: two"),
    ("Host: a", "Host: b"),
    ("Authorization: Bearer a", "Authorization: Bearer b"),
    ("Origin: https://a.example", "Origin: https://b.example"),
    ("Expect: 100-continue", "Expect: 100-continue"),
]


@pytest.mark.parametrize("headers", DUPLICATES)
def test_a_header_sent_twice_gets_an_answer(server, headers):
    raw = request("POST", "/v1/advice", b'{"stage": "closing"}', headers=headers)
    answers, rest = exchange(server, raw)
    assert rest == b""
    assert answers
    check(answers[-1], {200, 400, 401, 415})


# --- Pipelined requests ---------------------------------------------------------------

ADVICE = b'{"stage": "closing"}'
PIPELINES = {
    "three reads": (
        [request("GET", "/health/live", close=False)] * 2 + [request("GET", "/v1/sources")],
        [200, 200, 200],
    ),
    "advice, moderation, a read": (
        [
            request("POST", "/v1/advice", ADVICE, close=False),
            request("POST", "/v1/moderate", b'{"text": "I will thank them."}', close=False),
            request("GET", "/health/live"),
        ],
        [200, 200, 200],
    ),
    "an error between two answers": (
        [
            request("GET", "/health/live", close=False),
            request("POST", "/v1/advice", b"{", close=False),
            request("POST", "/v1/advice", ADVICE),
        ],
        [200, 400, 200],
    ),
    "a malformed request after a good one": (
        [request("GET", "/health/live", close=False), b"GET / HTTP/1.1 x\r\n\r\n"],
        [200, 400],
    ),
    "a broken chunked body between two": (
        [
            request("GET", "/health/live", close=False),
            request(
                "POST",
                "/v1/advice",
                b"zz\r\n{}\r\n0\r\n\r\n",
                headers=("Transfer-Encoding: chunked",),
                close=False,
            ),
            request("GET", "/health/live"),
        ],
        [200, 400],  # past broken framing the next request cannot be found: closed
    ),
    "a chunked body, then a read": (
        [
            request(
                "POST",
                "/v1/advice",
                b"a\r\n" + ADVICE[:10] + b"\r\na\r\n" + ADVICE[10:] + b"\r\n0\r\n\r\n",
                headers=("Transfer-Encoding: chunked",),
                close=False,
            ),
            request("GET", "/health/live"),
        ],
        [200, 200],
    ),
    # The application reads no body of these: gunicorn finds the framing broken only
    # while reading past it, once the answer is sent. A 400 then was a second answer,
    # which the client took for its next request's.
    **{
        f"a {method} whose unread chunked body is broken": (
            [
                request(
                    method,
                    path,
                    b"zz\r\n{}\r\n0\r\n\r\n",
                    headers=("Transfer-Encoding: chunked",),
                    close=False,
                ),
                request("GET", "/health/live"),
            ],
            [status],  # then closed: past broken framing the next request cannot be found
        )
        for method, path, status in (
            ("GET", "/v1/sources", 200),
            ("GET", "/embed", 200),
            ("OPTIONS", "/v1/advice", 200),
            ("DELETE", "/health/live", 405),
        )
    },
    **{
        f"a GET whose unread body ends in {what}": (
            [
                request(
                    "GET",
                    "/v1/sources",
                    b"2\r\n{}\r\n0\r\n" + trailers + b"\r\n",
                    headers=("Transfer-Encoding: chunked",),
                    close=False,
                ),
                request("GET", "/health/live"),
            ],
            [200],
        )
        for what, trailers in (
            ("a trailer without a colon", f"{MARKER}\r\n".encode()),
            ("a trailer holding a NUL", f"X-A: {MARKER}\x00\r\n".encode()),
            ("150 trailers", b"".join(b"X-%d: 1\r\n" % n for n in range(150))),
        )
    },
    "a GET whose unread chunk lacks its CRLF": (
        [
            request(
                "GET",
                "/health/live",
                b"2\r\n{}XX0\r\n\r\n",
                headers=("Transfer-Encoding: chunked",),
                close=False,
            ),
            request("GET", "/health/live"),
        ],
        [200],
    ),
    "50 reads": (
        [request("GET", "/health/live", close=False)] * 49 + [request("GET", "/health/live")],
        [200] * 50,
    ),
}


@pytest.mark.parametrize("name", PIPELINES)
def test_pipelined_requests_are_answered_in_order(server, name):
    requests, statuses = PIPELINES[name]
    answers, rest = exchange(server, b"".join(requests))
    assert rest == b""
    assert [answer.status for answer in answers] == statuses
    for answer, status in zip(answers, statuses, strict=True):
        check(answer, {status})


def test_pipelined_heads_get_no_bodies(server):
    raw = request("HEAD", "/openapi.json", close=False) + request("GET", "/health/live")
    answers, rest = exchange(server, raw, heads=1)
    assert rest == b""
    assert [answer.status for answer in answers] == [200, 200]
    assert json.loads(answers[1].body)["status"] == "live"


# --- Query strings on the endpoints that take a body --------------------------------

#: A valid body for each endpoint that takes one, and a query parameter sent beside it
#: (a field of the body among them): each is refused by name, never silently dropped.
QUERIES = [
    ("/v1/advice", ADVICE, "stage"),
    ("/v1/advice", ADVICE, "plans"),
    ("/v1/moderate", b'{"text": "I will thank them."}', "text"),
    ("/v1/moderate", b'{"text": "I will thank them."}', "lang"),
    ("/v1/drafts", b'{"state": {"stage": "after"}, "action": "send-thank-you"}', "action"),
    ("/v1/drafts", b'{"state": {"stage": "after"}, "action": "send-thank-you"}', "details"),
]


@pytest.mark.parametrize(("path", "body", "name"), QUERIES)
def test_a_query_parameter_beside_a_body_is_a_422_naming_it(server, path, body, name):
    raw = request("POST", f"{path}?{name}={MARKER}&{name}2=", body)
    answers, rest = exchange(server, raw)
    assert rest == b""
    [answer] = answers
    check(answer, {422})
    problem = json.loads(answer.body)
    assert problem["errors"] == dict.fromkeys([name, f"{name}2"], ["Unknown query parameter."])
    assert MARKER not in answer.body.decode()  # named, not echoed


@pytest.mark.parametrize("path", ["/v1/moderate", "/v1/drafts"])
def test_a_query_parameter_is_refused_before_a_body_that_never_comes(server, path):
    """An endpoint that takes no query parameter names one before it reads the body: a
    client whose body never comes gets the 422 at once, not a 408 at the deadline."""
    headers = ("Content-Type: application/json", "Content-Length: 60")
    raw = request("POST", f"{path}?lang={MARKER}", headers=headers)  # and no body
    answers, rest = exchange(server, raw)
    assert rest == b""
    [answer] = answers
    check(answer, {422})
    assert json.loads(answer.body)["errors"] == {"lang": ["Unknown query parameter."]}


# --- A body with no framing ---------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/advice", "/v1/moderate", "/v1/drafts"])
def test_a_post_with_neither_length_nor_chunks_is_a_411_and_its_bytes_no_request(server, path):
    """A POST with neither Content-Length nor Transfer-Encoding has no body by HTTP's
    rules: a 411 problem, and the connection closed, so that the bytes the client sent
    after its headers (here a body, then a request) are never read as a request."""
    head = f"POST {path}?plans={MARKER} HTTP/1.1\r\nHost: advisor\r\n"
    raw = head.encode() + b"Content-Type: application/json\r\n\r\n" + ADVICE + b"\r\n\r\n"
    answers, rest = exchange(server, raw + request("GET", "/health/live"))
    assert rest == b""
    [answer] = answers
    check(answer, {411})
    assert answer.header("connection") == "close"
    assert "Content-Length" in json.loads(answer.body)["detail"]


def test_an_empty_body_declared_so_is_a_400_on_a_kept_connection(server):
    headers = ("Content-Length: 0", "Content-Type: application/json")
    raw = request("POST", "/v1/advice", headers=headers, close=False)
    answers, rest = exchange(server, raw + request("GET", "/health/live"))
    assert rest == b""
    assert [answer.status for answer in answers] == [400, 200]
    check(answers[0], {400})


# --- Host, request targets, Upgrade and Connection -----------------------------------

#: Requests by their Host header (None: none sent), and the status each gets: HTTP/1.1
#: requires one, a host name or IP literal with an optional port (RFC 9112, 3.2).
HOSTS = [
    (None, "HTTP/1.1", 400),
    (None, "HTTP/1.0", 200),  # HTTP/1.0 has no Host
    ("", "HTTP/1.1", 200),  # empty: allowed for a target without an authority
    ("advisor:8000", "HTTP/1.1", 200),
    ("127.0.0.1", "HTTP/1.1", 200),
    ("[::1]:8000", "HTTP/1.1", 200),
    ("a b", "HTTP/1.1", 400),
    ("advisor/path", "HTTP/1.1", 400),
    ("user@advisor", "HTTP/1.1", 400),
    ("advisor:port", "HTTP/1.1", 400),
    (f"{MARKER}é", "HTTP/1.1", 400),
    (f"{MARKER}{'h' * 8000}", "HTTP/1.1", 400),  # a label DNS cannot hold
]


@pytest.mark.parametrize(("host", "version", "status"), HOSTS)
def test_a_missing_or_malformed_host_is_a_400_naming_it(server, host, version, status):
    head = f"GET /health/live {version}\r\n" + ("" if host is None else f"Host: {host}\r\n")
    [answer], rest = exchange(server, head.encode() + b"Connection: close\r\n\r\n")
    assert rest == b""
    check(answer, {status})
    if status == 400:
        assert "Host" in json.loads(answer.body)["detail"]


#: Absolute-form request targets (RFC 9112, 3.2.2), and the status each gets.
ABSOLUTE_TARGETS = [
    ("GET", "http://advisor", 302),  # no path: "/", which leads to /demo
    ("GET", "http://elsewhere.example/v1/guidance", 200),
    ("POST", "http://advisor/v1/advice", 200),
    ("GET", "HTTPS://advisor:8443/v1/guidance", 200),
    # Not an http(s) URI the service takes: another scheme, userinfo, no such port.
    ("GET", "ftp://advisor/v1/guidance", 400),
    ("GET", "http://user:secret@advisor/v1/guidance", 400),
    ("GET", "https://advisor:99999/v1/guidance", 400),
]


@pytest.mark.parametrize(("method", "target", "status"), ABSOLUTE_TARGETS)
def test_an_absolute_form_target_is_answered_as_its_path(server, method, target, status):
    body = b'{"stage": "after"}' if method == "POST" else b""
    [answer], rest = exchange(server, request(method, target, body))
    assert rest == b""
    check(answer, {status})
    if status == 302:
        assert answer.header("location") == "/demo"  # never a URL built from Host


#: Request targets that are not a path (RFC 9112, 3.2.3 and 3.2.4), which gunicorn passes
#: on with these methods only, and the status each gets: `OPTIONS *` asks about the
#: server as a whole, `CONNECT host:port` asks a proxy for a tunnel. Both were a 404
#: for a path never sent (`/*`, `/443`).
OTHER_TARGETS = [
    ("OPTIONS", "*", 200),
    ("CONNECT", f"{MARKER}.example:443", 405),
    ("CONNECT", "127.0.0.1:80", 405),
    ("CONNECT", "[::1]:8000", 405),
]


@pytest.mark.parametrize(("method", "target", "status"), OTHER_TARGETS)
def test_a_target_that_is_not_a_path_is_answered_for_the_server(server, method, target, status):
    raw = request(method, target, close=False) + request("GET", "/health/live")
    answers, rest = exchange(server, raw)
    assert rest == b""
    check(answers[0], {status})
    assert answers[0].header("allow") == "GET, HEAD, POST, OPTIONS"
    if status == 200:
        assert answers[0].header("content-type") is None  # no content, as any OPTIONS
        assert answers[0].body == b""
        check(answers[1], {200})  # and the connection kept
    else:
        problem = json.loads(answers[0].body)
        assert "CONNECT" in problem["detail"]
        assert problem["instance"] == "*"  # the server as a whole, never the host sent
        assert MARKER not in answers[0].body.decode()
        assert len(answers) == 1  # after a CONNECT the connection is closed (RFC 9110, 9.3.6)


#: Upgrade offers on API routes: WebSocket is refused by name, h2c ignored (the
#: answer comes over HTTP/1.1, as RFC 9110, 7.8 allows).
UPGRADES = [
    ("GET", "/v1/guidance", "websocket", 400),
    ("POST", "/v1/advice", "websocket", 400),
    ("GET", "/v1/guidance", "h2c", 200),
    ("POST", "/v1/advice", "h2c", 200),
]


@pytest.mark.parametrize(("method", "path", "protocol", "status"), UPGRADES)
def test_an_upgrade_is_refused_by_name_or_ignored(server, method, path, protocol, status):
    headers = ("Connection: Upgrade", f"Upgrade: {protocol}", "Sec-WebSocket-Version: 13")
    body = b'{"stage": "after"}' if method == "POST" else b""
    raw = request(method, path, body, headers=headers, close=False)
    answers, rest = exchange(server, raw + request("GET", "/health/live"))
    assert rest == b""
    assert [answer.status for answer in answers] == [status, 200]
    check(answers[0], {status})
    assert answers[0].status == 200 or "WebSocket" in json.loads(answers[0].body)["detail"]


@pytest.mark.parametrize("options", ["keep-alive, close", "Close", "upgrade,close"])
def test_close_among_connection_options_closes_after_the_answer(server, options):
    raw = request("GET", "/health/live", headers=(f"Connection: {options}",), close=False)
    answers, _rest = exchange(server, raw + request("GET", "/health/live"))
    assert [answer.status for answer in answers] == [200]  # the second one never read
    assert answers[0].header("connection") == "close"


#: Bodies that stop short of their Content-Length (with or without Expect:
#: 100-continue): the bytes sent, of 40 declared.
SHORT_BODIES = [b"", b'{"stage": "after"', b'{"stage": "after"}']


@pytest.mark.parametrize("expect", [False, True])
@pytest.mark.parametrize("sent", SHORT_BODIES)
def test_a_body_short_of_its_length_gets_a_408_that_claims_no_count(server, sent, expect):
    headers = ("Content-Length: 40", "Content-Type: application/json")
    headers += ("Expect: 100-continue",) if expect else ()
    received, _rest = exchange(server, request("POST", "/v1/advice", sent, headers=headers))
    answers = [answer for answer in received if answer.status != 100]
    assert [answer.status for answer in received][:1] == ([100] if expect else [408])
    [answer] = answers
    check(answer, {408})
    # Never "0 bytes came" when some did: the detail names the length declared.
    assert "its 40 bytes had not all come" in json.loads(answer.body)["detail"]


# --- Preconditions on the answers with an ETag ----------------------------------------

#: The paths whose answers carry an ETag.
TAGGED = [
    "/v1/guidance",
    "/v1/sources/heat",
    "/openapi.json",
    "/docs",
    "/widget.js",
    "/static/widget/widget.js",
]
#: If-Match values, and whether they hold for the current answer ("{tag}": its ETag).
IF_MATCH = [
    ('"nope"', False),
    ("W/{tag}", False),  # a weak tag never matches: If-Match compares strongly
    ('"nope", {tag}', True),
    ("{tag}", True),
    ("*", True),  # any current representation
]


@pytest.mark.parametrize("path", TAGGED)
def test_if_match_gets_the_answer_or_a_412_problem_never_the_body_as_a_412(server, path):
    [first], _ = exchange(server, request("GET", path))
    tag = first.header("etag")
    raw = b"".join(
        request("GET", path, headers=(f"If-Match: {value.format(tag=tag)}",), close=False)
        for value, _holds in IF_MATCH
    )
    answers, rest = exchange(server, raw + request("GET", "/health/live"))
    assert rest == b""
    assert len(answers) == len(IF_MATCH) + 1
    for (value, holds), answer in zip(IF_MATCH, answers, strict=False):
        if holds:
            assert answer.status == 200, value
            assert answer.body == first.body
        else:
            check(answer, {412})
            assert answer.header("cache-control") == "no-store"
            assert tag in json.loads(answer.body)["detail"]
    check(answers[-1], {200})


@pytest.mark.parametrize("path", TAGGED)
def test_options_carries_no_etag_and_takes_no_precondition(server, path):
    raw = b"".join(
        request("OPTIONS", path, headers=headers, close=False)
        for headers in ((), ('If-Match: "nope"',), ("If-None-Match: *",))
    )
    answers, rest = exchange(server, raw + request("GET", "/health/live"))
    assert rest == b""
    assert [answer.status for answer in answers] == [200, 200, 200, 200]
    for answer in answers[:3]:
        assert answer.header("etag") is None  # the representation is GET's, not this
        assert answer.header("content-type") is None  # no content, so no type
        assert "public" not in (answer.header("cache-control") or "")


# --- Ranges of a static file ---------------------------------------------------------

STATIC = "/static/widget/widget.js"
#: Range requests of a static file ("{tag}": its ETag, "{date}": its Last-Modified) and
#: the part of it answered: a slice of the file (206), None for the whole file (200,
#: the Range ignored, as HTTP lets a server do), or a status.
RANGES = [
    (("Range: bytes=0-9",), slice(0, 10)),
    (("Range: bytes=-5",), slice(-5, None)),
    (("Range: bytes=10-",), slice(10, None)),
    (("Range: bytes=99999999-",), 416),  # none of the file: not satisfiable
    (("Range: bytes=0-1, 5-6",), None),  # several ranges: the whole file, never a 416
    (("Range: items=0-1",), None),  # a unit HTTP says to ignore
    (("Range: bytes=abc",), None),
    (("Range: bytes=0-9", "If-Range: {tag}"), slice(0, 10)),
    (("Range: bytes=0-9", "If-Range: {date}"), slice(0, 10)),
    (("Range: bytes=0-9", 'If-Range: "other"'), None),
    (("Range: bytes=0-9", "If-Range: W/{tag}"), None),  # a weak tag never matches
    (("Range: bytes=0-9", "If-None-Match: {tag}"), 304),  # preconditions come first
    (("Range: bytes=0-9", 'If-Match: "other"'), 412),
    (("Range: bytes=0-9", "If-Unmodified-Since: Mon, 01 Jan 1990 00:00:00 GMT"), 412),
    (("If-Unmodified-Since: yesterday",), None),  # not a date: ignored
]


@pytest.mark.parametrize(("headers", "part"), RANGES)
def test_a_static_file_answers_one_byte_range_and_ignores_other_ranges(server, headers, part):
    [whole], _ = exchange(server, request("GET", STATIC))
    tag, date = whole.header("etag"), whole.header("last-modified")
    sent = tuple(header.format(tag=tag, date=date) for header in headers)
    [answer], rest = exchange(server, request("GET", STATIC, headers=sent))
    assert rest == b""
    if isinstance(part, int):
        check(answer, {part})
        assert part == 304 or answer.header("content-type") == "application/problem+json"
        return
    check(answer, {200} if part is None else {206})
    assert answer.body == whole.body[part or slice(None)]
    assert answer.header("accept-ranges") == "bytes"
    if part is not None:
        start = range(len(whole.body))[part][0]
        end = start + len(answer.body) - 1
        assert answer.header("content-range") == f"bytes {start}-{end}/{len(whole.body)}"


# --- What only the JSON answer carries, asked of a calendar ------------------------------

CLOCK = (
    b'"stage": "after", "interview_ended_at": "2026-11-20T16:30:00Z", "now": "2026-11-20T18:00:00Z"'
)
#: (query, more of the body, the fields refused): a calendar holds actions alone.
CALENDAR_ASKS = [
    ("", b"", set()),
    ("", b', "plans": []', set()),
    ("?explain=false", b"", set()),
    ("", b', "plans": ["Three pints, then drive home"]', {"plans"}),
    ("?explain=true", b"", {"explain"}),
    ("?explain=1", b', "plans": ["Send a thank-you email"]', {"explain", "plans"}),
]


@pytest.mark.parametrize(("query", "more", "refused"), CALENDAR_ASKS)
def test_a_calendar_refuses_by_name_what_only_json_carries(server, query, more, refused):
    body = b"{" + CLOCK + more + b"}"
    raw = request("POST", f"/v1/advice{query}", body, headers=("Accept: text/calendar",))
    answers, rest = exchange(server, raw)
    assert rest == b""
    [answer] = answers
    if not refused:
        check(answer, {200})
        assert answer.header("content-type").startswith("text/calendar")
        return
    check(answer, {422})
    assert set(json.loads(answer.body)["errors"]) == refused


# --- A compressed body ---------------------------------------------------------------

#: Content-Encoding values and whether the body is taken (only "identity" is).
CODINGS = [("gzip", False), ("br", False), ("gzip, identity", False), ("identity", True)]


@pytest.mark.parametrize("path", ["/v1/advice", "/v1/moderate"])
@pytest.mark.parametrize(("coding", "taken"), CODINGS)
def test_a_body_in_a_content_coding_is_a_415_saying_which_is_taken(server, path, coding, taken):
    plain = b'{"stage": "after"}' if path == "/v1/advice" else b'{"text": "I will thank them."}'
    body = gzip.compress(plain) if coding.startswith("gzip") else plain
    raw = request("POST", path, body, headers=(f"Content-Encoding: {coding}",))
    answers, rest = exchange(server, raw)
    assert rest == b""
    [answer] = answers
    if taken:
        check(answer, {200})
        return
    check(answer, {415})  # never read as if it were not compressed, nor as bad UTF-8
    assert answer.header("accept-encoding") == "identity"
    assert "Content-Encoding" in json.loads(answer.body)["detail"]


#: The control characters a header value may not hold (RFC 9110, section 5.5).
CONTROL_CHARACTERS = {"a bare CR": "\r", "NUL": "\x00", "ESC": "\x1b", "DEL": "\x7f"}


@pytest.mark.parametrize("character", CONTROL_CHARACTERS)
@pytest.mark.parametrize(
    "name", ["X-Request-ID", "User-Agent", "Referer", "Origin", "Content-Type"]
)
def test_a_control_character_in_a_header_value_is_a_400_naming_the_header(server, name, character):
    value = f"{MARKER}{CONTROL_CHARACTERS[character]}[31m"
    answers, rest = exchange(server, request("GET", "/v1/sources", headers=(f"{name}: {value}",)))
    assert rest == b""
    [answer] = answers
    check(answer, {400})
    detail = json.loads(answer.body)["detail"]
    assert name in detail
    assert MARKER not in answer.body.decode()
    assert MARKER not in str(answer.headers)
    # The server still answers an ordinary request.
    [after], _ = exchange(server, request("GET", "/v1/sources"))
    check(after, {200})


def test_a_control_character_in_an_unknown_header_is_refused_without_its_name(server):
    """A header of the client's own naming is its text: the answer does not repeat it."""
    raw = request("GET", "/v1/sources", headers=(f"X-{MARKER}: a\x00b",))
    [answer], _ = exchange(server, raw)
    check(answer, {400})
    assert MARKER.lower() not in answer.body.decode().lower()


#: Header values a client may send (no control character) that the service must take
#: without echoing them: Latin-1 bytes, raw UTF-8, JSON metacharacters, long values.
ODD_BUT_LEGAL_VALUES = {
    "Latin-1 bytes": f"{MARKER}\xe9\xff\x80".encode("latin-1"),
    "raw UTF-8": f"{MARKER}é✓😀".encode(),
    "JSON metacharacters": f'{MARKER}"}},{{"level":"error","x":"\\'.encode(),
    "a 4 KB value": (MARKER * 500).encode(),
}


@pytest.mark.parametrize("value", ODD_BUT_LEGAL_VALUES)
@pytest.mark.parametrize("name", ["X-Request-ID", "User-Agent", "Referer", "Origin"])
def test_odd_header_values_are_answered_and_never_echoed(server, name, value):
    raw = (
        b"GET /v1/sources HTTP/1.1\r\nHost: advisor\r\n"
        + name.encode()
        + b": "
        + ODD_BUT_LEGAL_VALUES[value]
        + b"\r\nConnection: close\r\n\r\n"
    )
    [answer], rest = exchange(server, raw)
    assert rest == b""
    check(answer, {200})
    assert MARKER not in answer.raw_head.decode("latin-1")
    assert MARKER not in answer.body.decode()
    # A request id the service does not take is replaced by one of its own.
    assert re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", answer.header("x-request-id"))


#: Paths near a route that no route has: each a 404 that says why such a path matches
#: none, rather than a generic "not found".
NEAR_MISSES = [
    "/v1/guidance/",
    "/V1/guidance",
    "/v1/Guidance",
    "/v1/guidance;x",
    "/v1/guidance.",
    "/v1/guidance/a%2Fb",
    "/v1/guidance/a%2fb",
    "/v1/guidance/..%2f..%2fetc",
    # An encoded slash the server would decode into a separator of a route.
    "/v1%2Fsources%2Fheat",
    "/health%2flive",
    "/v1/%C0%AF",
    "/%00",
    "/v1/advice/",
    # A /static/ file that is not there: Werkzeug's "check your spelling" before.
    "/static/widget/EMBED.CSS",
    "/static/widget/",
    "/static/widget/%2e%2e/%2e%2e/config.py",
]


@pytest.mark.parametrize("path", NEAR_MISSES)
def test_a_path_no_route_has_is_a_404_naming_the_path(server, path):
    [answer], _ = exchange(server, request("GET", path))
    check(answer, {404})
    problem = json.loads(answer.body)
    assert "path" in problem["detail"]
    assert "/openapi.json" in problem["detail"]
    assert problem["instance"].startswith("/")


#: Headers that differ between any two answers.
_PER_ANSWER = frozenset(("date", "x-request-id"))


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "POST", "DELETE"])
def test_metrics_on_the_api_listener_is_answered_as_a_path_no_route_has(server, method):
    """Outside its own listener /metrics is a 404 that tells nothing: the same status,
    headers and detail as a path no route has, whatever the method."""
    answers = {}
    for path in ("/metrics", "/metricz"):
        body = b"{}" if method == "POST" else b""
        [answer], _ = exchange(server, request(method, path, body), heads=method == "HEAD")
        check(answer, {404})
        answers[path] = answer
    shown, missing = answers["/metrics"], answers["/metricz"]
    assert {k: v for k, v in shown.headers.items() if k not in _PER_ANSWER} == {
        k: v for k, v in missing.headers.items() if k not in _PER_ANSWER
    }
    if method != "HEAD":
        problem, expected = json.loads(shown.body), json.loads(missing.body)
        assert problem["instance"] == "/metrics"
        assert problem["detail"] == expected["detail"]
        assert {**problem, "instance": None} == {**expected, "instance": None}


#: Ids no item has, however encoded: each a 404 that names the id, on every list route.
ODD_IDS = ["a%252Fb", "a%00b", "x.", "x;y", "%C0%AF", "%ff", "ask-next-steps%20", "%2e%2e"]


@pytest.mark.parametrize("route", ["/v1/guidance", "/v1/rejected", "/v1/sources"])
@pytest.mark.parametrize("item", ODD_IDS)
def test_an_odd_id_is_a_404_naming_the_id(server, route, item):
    [answer], _ = exchange(server, request("GET", f"{route}/{item}"))
    check(answer, {404})
    problem = json.loads(answer.body)
    assert "id" in problem["detail"]
    assert problem["instance"].startswith(f"{route}/")


# --- API keys: what only the real server shows -------------------------------

#: A key the keyed server lists, written where its log must never show it.
KEY = f"{MARKER}-key"


@pytest.fixture(scope="module")
def keyed(tmp_path_factory):
    log = tmp_path_factory.mktemp("keyed") / "server.log"
    env = {"ADVISOR_API_KEYS": f"site:{hash_api_key(KEY)}", "ADVISOR_ACCESS_LOG": "-"}
    with gunicorn(workers=1, env=env, log=log) as running:
        yield running
        assert MARKER not in running.output()


#: A request of a keyed server's caller that gets a 401, and what its detail says.
KEY_MISTAKES = {
    # gunicorn joins a repeated header with a comma: the listed key first was "not valid".
    "Authorization twice, the listed key first": (
        request("GET", "/v1/sources", headers=(f"Authorization: Bearer {KEY}",) * 2),
        keys.SEVERAL_KEYS,
    ),
    "a key in the query string beside the header": (
        request("GET", f"/v1/guidance?api_key={KEY}", headers=(f"Authorization: Bearer {KEY}",)),
        keys.key_in_url(["api_key"]),
    ),
    "a key in the query string of a POST": (
        request("POST", f"/v1/advice?access_token={KEY}", b'{"stage": "after"}'),
        keys.key_in_url(["access_token"]),
    ),
    "a key past the scheme by a tab": (
        request("GET", "/v1/sources", headers=(f"Authorization: Bearer\t{KEY}",)),
        keys.NOT_BEARER,
    ),
}


@pytest.mark.parametrize("name", KEY_MISTAKES)
def test_a_key_sent_wrongly_is_a_401_saying_how_and_counted(keyed, name):
    raw, detail = KEY_MISTAKES[name]
    (answer,), _ = exchange(keyed, raw)
    check(answer, {401})
    assert json.loads(answer.body)["detail"] == detail
    assert answer.header("www-authenticate").startswith('Bearer realm="interview-advisor"')
    assert answer.header("x-ratelimit-remaining"), answer.raw_head
    assert KEY.encode() not in answer.body
