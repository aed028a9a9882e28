"""Faults and hostile input against a real gunicorn server.

The quick ones run in CI; the soak and the benchmark are scripts
(`python -m bench`, `--soak N` for the soak), not timed tests.
"""

import contextlib
import http.client
import json
import os
import signal
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest
import yaml

from .live import gunicorn, gunicorn_command

pytestmark = pytest.mark.server

STATE = {"stage": "after", "hours_since": 1}


def _request(base, method, path, body=None, headers=None, timeout=30):
    """(status, headers, body bytes), or (None, {}, b"") when the connection failed."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    except (OSError, http.client.HTTPException):  # reset, refused, or cut off mid-answer
        return None, {}, b""
    finally:
        connection.close()


def _post(base, path, payload, headers=None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return _request(
        base, "POST", path, body, {"Content-Type": "application/json", **(headers or {})}
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("gunicorn") / "server.log"
    with gunicorn(workers=2, env={"ADVISOR_RATE_LIMITS": ""}, log=log) as running:
        yield running


HOSTILE = [
    ("10,000 levels of nesting", b"[" * 10_000 + b"]" * 10_000, {400}),
    (
        "nesting inside a field",
        b'{"stage": "after", "plans": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
        {400},
    ),
    ("invalid UTF-8", b'{"stage": "after\xc3\x28"}', {400}),
    ("NUL bytes in a plan", json.dumps({**STATE, "plans": ["walk\u0000home"]}).encode(), {200}),
    ("NUL byte in the body", b'{"stage": "after"}\x00', {400}),
    ("huge integer", b'{"stage": "after", "follow_ups_sent": ' + b"9" * 100_000 + b"}", {400}),
    ("huge float", b'{"stage": "after", "hours_since": 1e308}', {422}),
    ("1,000 plans", json.dumps({**STATE, "plans": ["walk"] * 1000}).encode(), {422}),
]


@pytest.mark.parametrize(("name", "body", "statuses"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_advice_bodies_get_a_clear_answer(server, name, body, statuses):
    status, headers, raw = _post(server.base, "/v1/advice", body)
    assert status in statuses, (name, status, raw[:200])
    if status != 200:
        assert headers["Content-Type"] == "application/problem+json"
    assert _post(server.base, "/v1/advice", STATE)[0] == 200


def _chunks(data: bytes, size: int = 7):
    """`data` as an iterable, which http.client sends with chunked transfer coding."""
    return (data[i : i + size] for i in range(0, len(data), size))


def test_a_chunked_body_gets_the_same_answer(server):
    body = json.dumps(STATE).encode()
    headers = {"Content-Type": "application/json"}
    chunked = _request(server.base, "POST", "/v1/advice", _chunks(body), headers)
    assert chunked[0] == 200
    assert json.loads(chunked[2]) == json.loads(_post(server.base, "/v1/advice", STATE)[2])


def test_a_chunked_body_over_the_limit_is_a_413(server):
    body = b'{"stage": "' + b"a" * 300_000 + b'"}'
    headers = {"Content-Type": "application/json"}
    status, headers, raw = _request(
        server.base, "POST", "/v1/advice", _chunks(body, 65536), headers
    )
    assert status == 413, raw
    assert headers["Content-Type"] == "application/problem+json"


def _exchange(base, raw: bytes) -> tuple[bytes, bytes]:
    """Send `raw` bytes and end the request side; (head, body) of what comes back."""
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        return _answer(sock)


def _answer(sock) -> tuple[bytes, bytes]:
    """(head, body) of what `sock` receives until the server closes it (or resets it
    after its answer)."""
    received = []
    with contextlib.suppress(ConnectionResetError):
        received += iter(lambda: sock.recv(65536), b"")
    head, _, body = b"".join(received).partition(b"\r\n\r\n")
    return head, body


POST_HEAD = b"POST /v1/advice HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


def test_a_body_cut_short_of_its_length_is_a_400(server):
    head, body = _exchange(
        server.base, POST_HEAD + b'Content-Length: 100\r\n\r\n{"stage": "after"}'
    )
    assert head.startswith(b"HTTP/1.1 400"), head
    assert b"application/problem+json" in head
    assert "18 of its 100 bytes" in json.loads(body)["detail"]


def test_a_declared_length_over_the_limit_is_a_413_at_once(server):
    # No byte of the body comes: the answer must not wait for it, and the server
    # closes the connection (the read below ends only when it does).
    parts = urlsplit(server.base)
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock:
        sock.sendall(POST_HEAD + b"Content-Length: 100000000\r\n\r\n")
        head, body = _answer(sock)
    assert head.startswith(b"HTTP/1.1 413"), head
    assert b"application/problem+json" in head
    assert "larger than the limit" in json.loads(body)["detail"]


def test_a_client_still_sending_a_large_body_reads_the_413(server):
    body = b'{"stage": "' + b"a" * 10_000_000 + b'"}'
    parts = urlsplit(server.base)
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock:
        sock.sendall(POST_HEAD + f"Content-Length: {len(body)}\r\n\r\n".encode())

        def send():  # as curl does, reading the answer while sending
            with contextlib.suppress(OSError):  # the server stops reading: reset
                sock.sendall(body)

        sender = threading.Thread(target=send)
        sender.start()
        head, _ = _answer(sock)
        sender.join()
    assert head.startswith(b"HTTP/1.1 413"), head
    assert _post(server.base, "/v1/advice", STATE)[0] == 200


BROKEN_CHUNKS = [
    ("a chunk size that is not hex", b"zz\r\n{}\r\n0\r\n\r\n"),
    ("a chunk without its CRLF", b"2\r\n{}XX0\r\n\r\n"),
    ("an end mid-chunk", b'10\r\n{"st'),
    ("a trailer without a colon", b"2\r\n{}\r\n0\r\nno-colon\r\n\r\n"),
]


@pytest.mark.parametrize(("name", "chunks"), BROKEN_CHUNKS, ids=[b[0] for b in BROKEN_CHUNKS])
def test_broken_chunked_framing_is_a_400(server, name, chunks):
    head, body = _exchange(server.base, POST_HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + chunks)
    assert head.startswith(b"HTTP/1.1 400"), (name, head)
    assert b"application/problem+json" in head
    assert "chunked framing is broken" in json.loads(body)["detail"]


LONE_SURROGATES = [
    ("/v1/moderate", b'{"text": "hi \\ud800"}', "text: holds a lone surrogate"),
    ("/v1/advice", b'{"stage": "after", "plans": ["ok", "hi \\udc00"]}', "plans.1: holds"),
    ("/v1/advice", b'{"stage": "after", "secret-key \\ud800": 1}', "A key of $ holds"),
]


@pytest.mark.parametrize(("path", "body", "detail"), LONE_SURROGATES)
def test_a_lone_surrogate_is_a_400_naming_its_field_and_is_not_logged(server, path, body, detail):
    status, headers, raw = _post(server.base, path, body)
    assert status == 400, raw
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(raw)["detail"].startswith(detail)
    assert "secret-key" not in server.output()


def test_an_escaped_surrogate_pair_is_one_character(server):
    status, _, raw = _post(server.base, "/v1/moderate", b'{"text": "hi \\ud83d\\ude00"}')
    assert status == 200, raw


def _many_unknown_keys(count: int) -> bytes:
    keys = (f"{n:x}" for n in range(count))
    return b'{"stage":"after",' + ",".join(f'"{key}":0' for key in keys).encode() + b"}"


EXPENSIVE = [
    ("131,000 integers as plans", b'{"stage":"after","plans":[' + b"1," * 130_999 + b"1]}"),
    ("28,000 unknown keys", _many_unknown_keys(28_000)),
    ("a key of 200,000 characters", b'{"stage":"after","' + b"k" * 200_000 + b'":0}'),
    (
        "a key of 100,000 characters twice",
        b'{"' + b"k" * 100_000 + b'":0,"' + b"k" * 100_000 + b'":0}',
    ),
]


@pytest.mark.parametrize(("name", "body"), EXPENSIVE, ids=[e[0] for e in EXPENSIVE])
def test_expensive_bodies_get_a_short_error(server, name, body):
    status, headers, raw = _post(server.base, "/v1/advice", body)
    assert status in (400, 422), (name, status, raw[:200])
    assert headers["Content-Type"] == "application/problem+json"
    assert len(raw) < 64 * 1024, (name, len(raw))


def test_a_long_list_is_refused_before_its_items_are_read(server):
    body = b'{"stage":"after","plans":[' + b"1," * 130_999 + b"1]}"
    problem = json.loads(_post(server.base, "/v1/advice", body)[2])
    assert problem["errors"] == {"plans": ["Longer than maximum length 20."]}


def test_many_errors_are_counted_and_not_all_listed(server):
    problem = json.loads(_post(server.base, "/v1/advice", _many_unknown_keys(28_000))[2])
    assert len(problem["errors"]) == 50
    assert problem["unlisted_errors"] == 28_000 - 50
    assert "and 27950 more field(s) with errors, not listed" in problem["detail"]


def test_long_repeated_word_is_moderated_within_the_limit(server):
    status, _, raw = _post(server.base, "/v1/moderate", {"text": ("drive " * 3400)[:20_000]})
    assert status == 200
    assert json.loads(raw)["sentences"]
    status, headers, _ = _post(server.base, "/v1/moderate", {"text": "drink " * 4000})
    assert status == 422
    assert headers["Content-Type"] == "application/problem+json"


def test_hostile_input_leaves_memory_bounded(server):
    before = server.workers_rss_kb()
    for _ in range(3):
        for _name, body, _statuses in HOSTILE:
            _post(server.base, "/v1/advice", body)
    after = server.workers_rss_kb()
    assert set(after) == set(before), "a worker died"
    growth = max(after[pid] - before[pid] for pid in after)
    assert growth < 50_000, f"a worker grew by {growth} kB"


def test_killing_a_worker_under_load_fails_only_requests_in_flight(server):
    results = []
    stop = threading.Event()

    def load():
        while not stop.is_set():
            results.append(_post(server.base, "/v1/advice", STATE)[0])

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    victim = server.workers()[0]
    os.kill(victim, signal.SIGKILL)
    time.sleep(2)
    stop.set()
    for thread in threads:
        thread.join()
    failures = [status for status in results if status != 200]
    assert len(results) > 50
    assert len(failures) <= 4, f"{len(failures)} failures"
    assert _post(server.base, "/v1/advice", STATE)[0] == 200
    assert victim not in server.workers()


def _ready_version(base):
    status, _, raw = _request(base, "GET", "/health/ready")
    return json.loads(raw)["ruleset"]["version"] if status == 200 else None


def _wait_for(check, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_sighup_reloads_valid_rules_and_keeps_serving_through_broken_ones(tmp_path, data_copy):
    rules, content = data_copy
    env = {"ADVISOR_RULES_DIR": str(rules), "ADVISOR_CONTENT_DIR": str(content)}
    log = tmp_path / "server.log"
    manifest = rules / "ruleset.yaml"
    version = yaml.safe_load(manifest.read_text())["version"]
    with gunicorn(workers=2, env=env, log=log) as running:
        assert _ready_version(running.base) == version
        manifest.write_text(manifest.read_text().replace(version, "9.0.1"))
        running.process.send_signal(signal.SIGHUP)
        assert _wait_for(lambda: _ready_version(running.base) == "9.0.1"), running.output()

        closing = rules / "closing.yaml"
        data = yaml.safe_load(closing.read_text())
        data["rules"][0]["when"]["mood"] = "good"
        closing.write_text(yaml.safe_dump(data))
        manifest.write_text(manifest.read_text().replace("9.0.1", "9.0.2"))
        running.process.send_signal(signal.SIGHUP)
        assert _wait_for(lambda: "reload refused" in running.output()), running.output()
        time.sleep(2)
        assert _ready_version(running.base) == "9.0.1"
        assert _post(running.base, "/v1/advice", STATE)[0] == 200
        assert "when.mood: unknown field" in running.output()


def test_start_up_with_broken_content_exits_non_zero_with_a_message(data_copy, tmp_path):

    rules, content = data_copy
    guidance = content / "guidance.yaml"
    guidance.write_text(guidance.read_text().replace("source: heat", "source: nowhere", 1))
    result = _start_up(ADVISOR_RULES_DIR=str(rules), ADVISOR_CONTENT_DIR=str(content))
    assert result.returncode != 0
    assert "unknown source 'nowhere'" in result.stderr
    assert "guidance.yaml" in result.stderr


BAD_SETTINGS = [
    ("ADVISOR_RATE_LIMITS", "garbage", 'limits such as "600 per minute;60 per second"'),
    ("ADVISOR_ENGINE_MEMO", "-1", "a whole number of at least 0"),
    ("ADVISOR_MAX_BODY_BYTES", "0", "a whole number of at least 1"),
    ("ADVISOR_MAX_BODY_BYTES", "-1", "a whole number of at least 1"),
    ("ADVISOR_CACHE_MAX_AGE", "-1", "a whole number of at least 0"),
    ("ADVISOR_ANSWER_CACHE", "many", "a whole number of at least 0"),
    ("ADVISOR_LOG_LEVEL", "loud", "DEBUG or INFO or WARNING or ERROR or CRITICAL"),
    ("ADVISOR_CORS_ORIGINS", "example.org", "origins (scheme://host[:port]) separated by commas"),
    ("ADVISOR_CLIENT_TIMEOUT", "0", "a number of seconds, above 0 and at most 3600"),
    ("ADVISOR_CLIENT_TIMEOUT", "soon", "a number of seconds, above 0 and at most 3600"),
    ("ADVISOR_CLIENT_CONNECTIONS", "-1", "a whole number of at least 0"),
    ("ADVISOR_CLIENT_CONNECTIONS", "a few", "a whole number of at least 0"),
    ("ADVISOR_RATE_LIMIT_TIMEOUT", "0", "a number of seconds above 0"),
    ("ADVISOR_API_KEY_RATE_LIMITS", "plenty", 'limits such as "6000 per minute;600 per second"'),
    ("ADVISOR_API_KEYS_FILE", "/nonexistent/keys", "a readable file of NAME:SHA256 lines"),
    ("ADVISOR_RATE_LIMIT_STORAGE", "garbage", "memory:// or redis://host[:port][/db]"),
    ("ADVISOR_RATE_LIMIT_STORAGE", "redis://", "memory:// or redis://host[:port][/db]"),
    ("ADVISOR_MODERATE_RATE_LIMITS", "lots", 'limits such as "120 per minute;10 per second"'),
    ("ADVISOR_PUBLIC_URL", "evil.example", "scheme://host[:port][/path]"),
    ("ADVISOR_METRICS_BIND", "9464", "host:port (a port from 1 to 65535) or unix:/path"),
    ("ADVISOR_METRICS_BIND", "unix:/nonexistent-folder/m.sock", "its folder /nonexistent-fold"),
    # gunicorn's own settings, read from its settings file before it logs.
    ("ADVISOR_WORKERS", "four", "a whole number of at least 1"),
    ("ADVISOR_WORKERS", "0", "a whole number of at least 1"),
    ("ADVISOR_WORKER_CONNECTIONS", "lots", "a whole number of at least 1"),
    ("ADVISOR_TIMEOUT", "30s", "a whole number of at least 0"),
    ("ADVISOR_GRACEFUL_TIMEOUT", "-5", "a whole number of at least 0"),
    ("ADVISOR_BIND", "127.0.0.1:http", "host:port (a port from 1 to 65535) or unix:/path"),
    ("ADVISOR_BIND", "8000", "host:port (a port from 1 to 65535) or unix:/path"),
    ("ADVISOR_BIND", "unix:/nonexistent-folder/a.sock", "its folder /nonexistent-folder does"),
    ("ADVISOR_METRICS_DIR", "/proc/advisor-metrics", "a folder the service can create and write"),
    ("ADVISOR_RULES_DIR", "/nonexistent/rules", "a folder of rule files"),
    ("ADVISOR_CONTENT_DIR", "/nonexistent/content", "a folder of content files"),
]


def _start_up(**settings: str):
    """Start gunicorn as `make run` does, with `settings`; for starts that must fail."""
    import subprocess

    env = {**os.environ, "ADVISOR_BIND": "127.0.0.1:0", **settings}
    return subprocess.run(gunicorn_command(), env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("variable", "value", "allowed"), BAD_SETTINGS)
def test_a_bad_setting_stops_start_up_before_any_worker(variable, value, allowed):
    result = _start_up(**{variable: value})
    assert result.returncode == 2
    [line] = [line for line in result.stderr.splitlines() if variable in line]
    line = json.loads(line)["msg"]  # every line on stderr is JSON
    assert f"{variable}={value}" in line.replace("'", "")
    assert allowed in line
    assert "Booting worker" not in result.stderr


def test_metrics_on_the_apis_own_address_stop_start_up_in_one_line():
    # gunicorn tried to listen there twice, five times over, and ended with status 1
    # ("Connection in use"), which the systemd unit starts again every 2 s.
    from .live import free_port

    address = f"127.0.0.1:{free_port()}"
    result = _start_up(ADVISOR_BIND=address, ADVISOR_METRICS_BIND=address)
    assert result.returncode == 2
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    [line] = [line["msg"] for line in lines if line["level"] == "error"]
    assert line == (
        f"cannot start: ADVISOR_METRICS_BIND='{address}' is not allowed: it takes "
        f"ADVISOR_BIND's address ({address}); /metrics needs a listener of its own, "
        "e.g. 127.0.0.1:9464"
    )


@pytest.mark.parametrize(
    ("variable", "meant"),
    [("ADVISOR_PROXY_COUNTS", "ADVISOR_PROXY_COUNT"), ("ADVISOR_WORKER", "ADVISOR_WORKERS")],
)
def test_a_misspelt_setting_stops_start_up_naming_the_one_meant(variable, meant):
    # Read by nothing, it left its setting at the default: with PROXY_COUNT at 0 behind
    # nginx, every candidate shares one rate-limit budget.
    result = _start_up(**{variable: "1"})
    assert result.returncode == 2
    [line] = [line for line in result.stderr.splitlines() if variable in line]
    assert f"{variable} is not a setting: did you mean {meant}?" in json.loads(line)["msg"]
    assert "Booting worker" not in result.stderr


def test_an_unknown_variable_is_named_in_a_warning_at_start(tmp_path):
    log = tmp_path / "gunicorn.log"
    with gunicorn(workers=1, env={"ADVISOR_REDIS_URL": "redis://:secret@10.0.0.7"}, log=log):
        pass
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    [warning] = [line for line in lines if line["level"] == "warning"]
    assert warning["msg"] == "ADVISOR_REDIS_URL is not a setting of the service: ignored"
    assert "secret" not in log.read_text()


def test_a_key_where_its_hash_belongs_stops_start_up_without_repeating_it():
    key = "a-raw-key-pasted-by-mistake-0123456789"
    result = _start_up(ADVISOR_API_KEYS=f"careers:{key}")
    assert result.returncode == 2
    [line] = [line for line in result.stderr.splitlines() if "ADVISOR_API_KEYS" in line]
    assert "NAME:SHA256" in line
    assert key not in result.stderr
    assert "Booting worker" not in result.stderr


ALLOWED = "https://jobs.example.org"


@pytest.fixture(scope="module")
def allow_list_server():
    """One worker, an origin allow-list and a rate limit of 3 per minute."""
    env = {"ADVISOR_CORS_ORIGINS": f"{ALLOWED},http://localhost:3000"}
    with gunicorn(workers=1, env={**env, "ADVISOR_RATE_LIMITS": "3 per minute"}) as running:
        yield running


def _varies_on(headers: dict) -> set:
    return {part.strip().lower() for part in headers.get("Vary", "").split(",")}


@pytest.mark.parametrize("origin", [ALLOWED, "https://evil.example.com", None])
def test_an_allow_list_answer_always_varies_on_origin(allow_list_server, origin):
    headers = {"Origin": origin} if origin else {}
    status, got, _ = _request(allow_list_server.base, "GET", "/openapi.json", headers=headers)
    assert status == 200
    assert "origin" in _varies_on(got)
    assert got.get("Access-Control-Allow-Origin") == (ALLOWED if origin == ALLOWED else None)


def test_retry_after_is_only_on_429_and_never_0(allow_list_server):
    answers = [_request(allow_list_server.base, "GET", "/v1/rejected") for _ in range(5)]
    statuses = [status for status, _, _ in answers]
    assert statuses == [200, 200, 200, 429, 429]
    assert all("Retry-After" not in headers for _, headers, _ in answers[:3])
    assert all(int(headers["Retry-After"]) >= 1 for _, headers, _ in answers[3:])


@pytest.mark.parametrize("path", ["/v1/sources", "/v1/nope", "/widget.js", "/openapi.json"])
def test_no_response_may_be_sniffed(server, path):
    status, headers, _ = _request(server.base, "GET", path)
    assert status in (200, 404)
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_minus_zero_hours_are_echoed_as_0(server):
    status, _, raw = _post(server.base, "/v1/advice", b'{"stage": "after", "hours_since": -0.0}')
    assert status == 200, raw
    assert b'"hours_since":0.0' in raw.replace(b" ", b"")


def test_forwarded_addresses_that_are_not_ips_share_the_peer_s_limit(tmp_path):
    env = {"ADVISOR_PROXY_COUNT": "1", "ADVISOR_RATE_LIMITS": "3 per minute"}
    with gunicorn(workers=1, env=env, log=tmp_path / "server.log") as running:
        hostile = ["<script>", "9" * 4000, "evil.example", "1.2.3.4:80", "x%0a"]
        statuses = [
            _request(running.base, "GET", "/v1/rejected", headers={"X-Forwarded-For": value})[0]
            for value in hostile
        ]
        assert statuses == [200, 200, 200, 429, 429]
        # A valid address from the trusted proxy is a client of its own.
        own = {"X-Forwarded-For": "<script>, 203.0.113.7"}
        assert _request(running.base, "GET", "/v1/rejected", headers=own)[0] == 200
        output = running.output()
    assert "<script>" not in output
    assert "9" * 100 not in output
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert "203.0.113.7" in {line.get("remote") for line in lines}


def test_log_lines_escape_line_breaks_and_controls_and_keep_no_query(server):
    path = "/v1/x%C2%85y%E2%80%A8z%C2%9B31m%5C"
    assert _request(server.base, "GET", path)[0] == 404
    assert _request(server.base, "GET", "/embed?plans=my+secret+plan")[0] == 200
    output = server.output()
    assert not set(output) & {"\x85", "\u2028", "\x9b"}
    [line] = [line for line in output.split("\n") if "/v1/x" in line]
    assert json.loads(line)["path"] == "/v1/x\x85y\u2028z\x9b31m\\"
    assert "my secret plan" not in output
    assert "my+secret+plan" not in output


@pytest.mark.parametrize("public_url", ["", "https://advice.example.org"])
def test_demo_never_names_the_host_a_client_sent(public_url):
    env = {"ADVISOR_PUBLIC_URL": public_url} if public_url else {}
    with gunicorn(workers=1, env=env) as running:
        status, _, raw = _request(running.base, "GET", "/demo", headers={"Host": "evil.example"})
    assert status == 200
    assert b"evil.example" not in raw
    assert f"{public_url}/widget.js&#34; defer".encode() in raw


def test_temporary_folders_are_removed_on_exit(tmp_path, data_copy):
    rules, content = data_copy
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = {"TMPDIR": str(scratch), "ADVISOR_RULES_DIR": str(rules)}
    env["ADVISOR_CONTENT_DIR"] = str(content)
    with gunicorn(workers=1, env=env) as running:
        assert _post(running.base, "/v1/advice", STATE)[0] == 200
        assert sorted(p.name.split("-")[1] for p in scratch.iterdir()) == ["metrics", "snapshots"]
        running.process.send_signal(signal.SIGHUP)  # a reload re-reads the settings
        assert _wait_for(lambda: _ready_version(running.base) is not None)
    assert list(scratch.iterdir()) == []
    (rules / "closing.yaml").write_text("")
    assert _start_up(**env).returncode == 2  # refused at start-up: nothing left either
    assert list(scratch.iterdir()) == []


def test_the_docs_page_has_an_etag_and_no_referrer(server):
    status, headers, _ = _request(server.base, "GET", "/docs")
    assert status == 200
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    again = _request(server.base, "GET", "/docs", headers={"If-None-Match": headers["ETag"]})
    assert again[0] == 304


GUNICORN_ERRORS = [
    ("a request line that is not HTTP", b"GARBAGE\r\n\r\n", b"400"),
    ("a header without a colon", b"GET / HTTP/1.1\r\nHost: x\r\n<b>x\r\n\r\n", b"400"),
    ("a request line over 8,190 bytes", b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", b"414"),
    ("a header over 8,190 bytes", b"GET / HTTP/1.1\r\nX-A: " + b"a" * 9000 + b"\r\n\r\n", b"431"),
    (
        "an unknown expectation",
        POST_HEAD + b"Expect: 100-nope\r\nContent-Length: 2\r\n\r\n{}",
        b"417",
    ),
]


@pytest.mark.parametrize(
    ("name", "raw", "status"), GUNICORN_ERRORS, ids=[g[0] for g in GUNICORN_ERRORS]
)
def test_gunicorn_s_own_errors_are_as_documented_and_echo_nothing(server, name, raw, status):
    head, body = _exchange(server.base, raw)
    assert head.startswith(b"HTTP/1.1 " + status), (name, head)
    assert b"Content-Type: application/problem+json" in head
    assert json.loads(body)["status"] == int(status)
    assert b"aaaa" not in body
    assert b"<b>" not in body  # nothing the client sent is quoted
    assert b"nope" not in body


def test_moderation_is_limited_lower_than_the_rest():
    env = {"ADVISOR_RATE_LIMITS": "100 per minute", "ADVISOR_MODERATE_RATE_LIMITS": "2 per minute"}
    with gunicorn(workers=1, env=env) as running:
        texts = [_post(running.base, "/v1/moderate", {"text": "hi"}) for _ in range(3)]
        assert _post(running.base, "/v1/advice", STATE)[0] == 200
    assert [status for status, _, _ in texts] == [200, 200, 429]
    assert texts[2][1]["Content-Type"] == "application/problem+json"
    assert int(texts[2][1]["Retry-After"]) >= 1
