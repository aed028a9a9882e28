"""Operations: health, request ids, JSON logs, metrics and rate limits."""

import contextlib
import http.client
import io
import json
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from flask import request
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from advisor._logs import _BREAKS, ENCODE, MAX_LOGGED_PATH, JsonFormatter, encode_line
from advisor.config import SERVER_VARIABLES, Settings, unknown_variables
from advisor.web import warm_up
from advisor.web.advice import ADVICE_EXAMPLES

from .apps import make_app
from .live import free_port, gunicorn, redis_server


def test_live(client):
    assert client.get("/health/live").get_json() == {"status": "live"}


def test_ready_runs_a_self_test(client, engine):
    body = client.get("/health/ready").get_json()
    assert body["status"] == "ready"
    assert body["ruleset"] == {"version": engine.version, "digest": engine.digest}


def test_not_ready_when_the_self_test_fails(client, engine, monkeypatch):
    monkeypatch.setattr(engine, "moderate", lambda text: engine.moderator.moderate("Hello."))
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert "drink-driving" in response.get_json()["detail"]


@pytest.mark.parametrize(
    ("sent", "echoed"),
    [("abc-123", True), ("x" * 200, False), ("bad id with spaces", False), (None, False)],
)
def test_request_id_is_honoured_or_made(client, sent, echoed):
    headers = {"X-Request-ID": sent} if sent else {}
    response = client.get("/v1/sources", headers=headers)
    got = response.headers["X-Request-ID"]
    assert (got == sent) is echoed
    assert re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", got)


def test_errors_carry_the_request_id_too(client):
    response = client.get("/v1/guidance/nope", headers={"X-Request-ID": "r-1"})
    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == "r-1"


def test_a_logged_traceback_names_exceptions_but_not_their_messages(log_lines):
    sent = "-".join(("client", "text"))  # built, so the traceback's source lines lack it

    def fail():
        try:
            raise ValueError({sent: ["Unknown field."]})
        except ValueError as error:
            raise RuntimeError(f"a failure quoting {sent}") from error

    try:
        fail()
    except RuntimeError:
        logging.getLogger("advisor.test").exception("unhandled")
    [line] = log_lines()
    assert "builtins.ValueError (message withheld)" in line["exc"]
    assert "builtins.RuntimeError (message withheld)" in line["exc"]
    assert "in fail" in line["exc"]
    assert sent not in line["exc"]


def test_access_and_decision_logs_are_json_without_free_text(client, log_lines):
    secret = "I will phone my ex-boss at midnight"
    client.post(
        "/v1/advice",
        json={"stage": "after", "hours_since": 0.5, "plans": [secret]},
        headers={"X-Request-ID": "req-42"},
    )
    lines = log_lines()
    decision = next(line for line in lines if line["logger"] == "advisor.decision")
    assert decision["request_id"] == "req-42"
    assert decision["ruleset_version"]
    assert "unwind-straight-after" in decision["fired"]
    assert decision["duration_ms"] >= 0
    access = next(line for line in lines if line["logger"] == "advisor.access")
    assert access["request_id"] == "req-42"
    assert access["status"] == 200
    assert access["route"] == "/v1/advice"
    assert all(secret not in json.dumps(line) for line in lines)


#: Requests whose path is kilobytes long, each sent as often as a client likes: no
#: rate limit counts a path that matches no route.
LONG_PATHS = {
    "no route": ("GET", "/v1/" + "a" * 8000),
    "no route, near one": ("POST", "/v1/advice/" + "I will phone my ex-boss at midnight " * 200),
    "a static file's prefix": ("GET", "/widget-" + "1" * 8000 + ".js"),
}


@pytest.mark.parametrize(("method", "path"), LONG_PATHS.values(), ids=LONG_PATHS.keys())
def test_a_long_path_is_cut_in_the_access_line(client, log_lines, method, path):
    client.open(path, method=method)
    (access,) = [line for line in log_lines() if line["logger"] == "advisor.access"]
    assert len(access["path"]) <= MAX_LOGGED_PATH
    assert path.startswith(access["path"].removesuffix("…"))


def _each_key_once(pairs):
    keys = [key for key, _ in pairs]
    assert len(keys) == len(set(keys)), f"a key given twice in a log line: {keys}"
    return dict(pairs)


@settings(max_examples=50)
@given(
    fields=st.dictionaries(
        st.sampled_from(["ts", "level", "logger", "msg", "request_id", "fired"]) | st.text(),
        st.text() | st.integers() | st.lists(st.text(), max_size=3),
        max_size=6,
    )
)
def test_a_log_line_gives_each_key_once(fields):
    with _raw_log_lines("advisor.test.keys") as lines:
        logging.getLogger("advisor.test.keys").warning("hello", extra={"fields": fields})
    [line] = lines()
    entry = json.loads(line, object_pairs_hook=_each_key_once)
    assert entry == {**entry, **fields}


def test_the_app_logs_each_key_once(client):
    with _raw_log_lines("advisor") as lines:
        for _ in range(2):  # the second answer from the answer cache
            client.post("/v1/advice", json={"stage": "after", "plans": ["Send a thank-you."]})
    entries = [json.loads(line, object_pairs_hook=_each_key_once) for line in lines()]
    assert [entry["logger"] for entry in entries] == ["advisor.decision", "advisor.access"] * 2


_LOGGED_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(st.text() | st.integers(), _LOGGED_VALUES, max_size=8))
def test_a_log_line_reads_back_as_the_standard_encoder_writes_it(fields):
    line = encode_line(fields)
    assert "\n" not in line
    assert json.loads(line) == json.loads(ENCODE(fields))


@given(st.text(st.sampled_from("a/é\x7f\x85\x9b\x9f\xa0\u2027\u2028\u2029\u202a")) | st.text())
def test_a_log_line_escapes_what_readers_take_for_a_break_or_a_control(text):
    with _raw_log_lines("advisor.test.breaks") as lines:
        logging.getLogger("advisor.test.breaks").warning("hello", extra={"fields": {"p": text}})
    [line] = lines()
    assert line == _BREAKS.sub(lambda m: f"\\u{ord(m[0]):04x}", encode_line(json.loads(line)))
    assert not _BREAKS.search(line)
    assert json.loads(line)["p"] == text


@contextlib.contextmanager
def _raw_log_lines(name: str):
    """The JSON lines logger `name` writes meanwhile, as written."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.formatter = JsonFormatter()
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    try:
        yield lambda: stream.getvalue().splitlines()
    finally:
        logger.removeHandler(handler)


def test_creating_an_app_leaves_the_process_logging_alone(engine):
    logger = logging.getLogger("advisor")
    before = (list(logger.handlers), logger.level, logger.propagate)
    make_app(engine, log_level="ERROR")
    assert (list(logger.handlers), logger.level, logger.propagate) == before


@pytest.mark.parametrize(("limit", "size", "status"), [(1000, 1000, 422), (1000, 1001, 413)])
def test_the_body_limit_is_the_one_of_the_settings_the_app_is_given(engine, limit, size, status):
    client = make_app(engine, max_body_bytes=limit).test_client()
    head = b'{"stage": "after", "plans": ["'
    body = head + b"a" * (size - len(head) - 3) + b'"]}'
    response = client.post("/v1/advice", data=body, content_type="application/json")
    assert response.status_code == status


def _metric(client, line_start: str) -> float:
    text = client.get("/metrics").get_data(as_text=True)
    return sum(float(x.rsplit(" ", 1)[1]) for x in text.splitlines() if x.startswith(line_start))


def test_a_cached_answer_is_logged_and_counted_as_a_fresh_one(client, log_lines):
    body = {"stage": "after", "hours_since": 0.625, "plans": ["Drink six pints then drive home."]}
    rule = 'advisor_rules_fired_total{rule="unwind-straight-after"}'
    flag = 'advisor_moderation_flags_total{category="impaired_driving",source="plan"}'
    before = _metric(client, rule), _metric(client, flag)
    answers = [client.post("/v1/advice", json=body).data for _ in range(3)]
    assert answers[0] == answers[1] == answers[2]
    assert (_metric(client, rule), _metric(client, flag)) == (before[0] + 3, before[1] + 3)
    decisions = [line for line in log_lines() if line["logger"] == "advisor.decision"]
    assert len(decisions) == 3
    for line in decisions:
        assert line["plans_rejected"] == 1
        for varying in ("ts", "request_id", "duration_ms"):
            line.pop(varying)
    assert decisions[0] == decisions[1] == decisions[2]


def test_a_warmed_app_has_answered_no_one_and_answers_as_a_cold_one(engine, log_lines):
    """The entry point warms the app before its first request (`warm_up`): nothing
    is logged, counted or charged to a caller's rate limit, and no answer changes."""
    warmed = make_app(engine, rate_limits="3 per minute")
    cold = make_app(engine, rate_limits="3 per minute")
    warm_up(warmed)
    assert log_lines() == []
    client, cold_client = warmed.test_client(), cold.test_client()
    for family in ("advisor_http_requests_total{", "advisor_rules_fired_total{"):
        assert _metric(client, family) == 0
    for _name, _summary, body in ADVICE_EXAMPLES:
        answer, cold_answer = (
            client.post("/v1/advice", json=body),
            cold_client.post("/v1/advice", json=body),
        )
        assert answer.status_code == cold_answer.status_code == 200
        assert answer.get_json() == cold_answer.get_json()
    assert client.post("/v1/advice", json=ADVICE_EXAMPLES[0][2]).status_code == 429


def test_an_app_whose_body_limit_refuses_the_examples_still_warms_and_serves(engine):
    app = make_app(engine, max_body_bytes=40)
    warm_up(app)
    client = app.test_client()
    assert client.post("/v1/advice", json={"stage": "after"}).status_code == 200
    assert client.post("/v1/advice", json=ADVICE_EXAMPLES[0][2]).status_code == 413


def _registered() -> set[str]:
    """The metric families in prometheus_client's process-wide registry."""
    return {family.name for family in REGISTRY.collect()}


def test_each_app_counts_in_its_own_registry(engine):
    names = _registered()
    first, second = make_app(engine).test_client(), make_app(engine).test_client()
    assert _registered() == names, "an app registered metrics in the process's registry"
    first.get("/health/live")
    line = 'advisor_http_requests_total{method="GET",route="/health/live",status="200"}'
    assert _metric(first, line) == 1
    assert _metric(second, line) == 0


def test_metrics_count_requests_rules_and_flags(client, engine):
    client.post(
        "/v1/advice",
        json={"stage": "after", "hours_since": 0.5, "plans": ["Drink six pints then drive home."]},
    )
    client.post("/v1/moderate", json={"text": "Pay your referee £50 for a glowing reference."})
    text = client.get("/metrics").get_data(as_text=True)
    assert 'advisor_rules_fired_total{rule="unwind-straight-after"}' in text
    assert re.search(
        r'advisor_http_requests_total\{method="POST",route="/v1/advice",status="200"\} [1-9]', text
    )
    assert 'advisor_http_request_duration_seconds_bucket{le="0.005",method="POST"' in text
    assert 'advisor_moderation_flags_total{category="impaired_driving",source="plan"}' in text
    assert 'advisor_moderation_flags_total{category="bribery",source="text"}' in text
    assert (
        f'advisor_ruleset_info{{digest="{engine.digest}",version="{engine.version}"}} 1.0' in text
    )


def _limited_app(engine, limits, storage="memory://"):
    return make_app(engine, rate_limits=limits, rate_limit_storage=storage)


def test_over_the_limit_is_a_429_problem_with_retry_after(engine):
    client = _limited_app(engine, "3 per minute").test_client()
    statuses = [client.get("/v1/sources").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/v1/sources")
    assert response.mimetype == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0
    assert response.get_json()["status"] == 429
    assert client.get("/health/live").status_code == 200


def test_limits_are_per_client(engine):
    client = _limited_app(engine, "1 per minute").test_client()
    assert client.get("/v1/sources", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 200
    assert client.get("/v1/sources", environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 200
    assert client.get("/v1/sources", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 429


def test_empty_limits_turn_limiting_off(engine):
    client = _limited_app(engine, "").test_client()
    assert all(client.get("/v1/sources").status_code == 200 for _ in range(20))


@pytest.mark.server
def test_redis_shares_counts_between_workers(engine, tmp_path):
    with redis_server(tmp_path) as url:
        first = _limited_app(engine, "3 per minute", url).test_client()
        second = _limited_app(engine, "3 per minute", url).test_client()
        assert [first.get("/v1/sources").status_code for _ in range(2)] == [200, 200]
        assert second.get("/v1/sources").status_code == 200
        assert second.get("/v1/sources").status_code == 429
        assert first.get("/v1/sources").status_code == 429


def _get(url, data=None):
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def _metrics_env(tmp_path) -> tuple[dict, str]:
    """Settings for a server with /metrics on a port of its own, and that port's URL."""
    port = free_port()
    env = {
        "ADVISOR_METRICS_DIR": str(tmp_path / "metrics"),
        "ADVISOR_RATE_LIMITS": "",
        "ADVISOR_METRICS_BIND": f"127.0.0.1:{port}",
    }
    return env, f"http://127.0.0.1:{port}/metrics"


@pytest.mark.server
def test_metrics_sum_every_gunicorn_worker(tmp_path):
    body = json.dumps({"stage": "after", "hours_since": 0.5}).encode()
    env, metrics = _metrics_env(tmp_path)
    with gunicorn(workers=3, env=env) as server:
        base = server.base
        for _ in range(40):
            _get(f"{base}/v1/advice", body)
        totals = set()
        for _ in range(6):  # whichever worker answers, the count is the sum
            text = _get(metrics)
            match = re.search(
                r'advisor_rules_fired_total\{rule="unwind-straight-after"\} (\S+)', text
            )
            totals.add(float(match[1]))
        assert totals == {40.0}


@pytest.mark.server
def test_start_up_clears_stale_counts_and_nothing_else_of_the_metrics_folder(tmp_path):
    env, metrics = _metrics_env(tmp_path)
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "README").write_text("the operator's own file\n")
    with gunicorn(workers=1, env=env) as server:
        _get(f"{server.base}/v1/advice", json.dumps({"stage": "closing"}).encode())
        counted = _get(metrics)
    assert (folder / "README").read_text() == "the operator's own file\n"
    assert 'advisor_rules_fired_total{rule="ask-prepared-questions"} 1.0' in counted
    # A second start counts from nothing again: the first run's files were stale.
    with gunicorn(workers=1, env=env) as server:
        counted = _get(metrics)
    assert (folder / "README").exists()
    assert 'rule="ask-prepared-questions"' not in counted


@pytest.mark.server
def test_metrics_labels_are_bounded_whatever_clients_send(tmp_path):
    env, metrics = _metrics_env(tmp_path)
    with gunicorn(workers=1, env=env) as server:
        parts = urllib.parse.urlsplit(server.base)
        sent = [("FROBNICATE", "/v1/sources"), ("QWERTYUIOP", "/v1/advice")]
        sent += [("GET", f"/no/such/path/{n}") for n in range(3)]
        for method, path in sent:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            connection.request(method, path)
            connection.getresponse().read()
            connection.close()
        text = _get(metrics)
    requests = re.findall(r"^advisor_http_requests_total\{(.*)\} ", text, re.MULTILINE)
    methods = {re.search(r'method="([^"]*)"', labels)[1] for labels in requests}
    routes = {re.search(r'route="([^"]*)"', labels)[1] for labels in requests}
    assert "other" in methods
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}
    assert "<unmatched>" in routes
    assert not any(route.startswith("/no/") for route in routes)


def _status(url: str, method: str = "GET") -> tuple[int, str]:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers["Content-Type"]
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"]


@pytest.mark.server
def test_metrics_are_only_on_their_own_listener(tmp_path):
    env, metrics = _metrics_env(tmp_path)
    with gunicorn(workers=1, env=env) as server:
        assert _status(f"{server.base}/metrics") == (404, "application/problem+json")
        for method in ("OPTIONS", "POST", "HEAD"):  # nothing tells that it is there
            assert _status(f"{server.base}/metrics", method)[0] == 404, method
        status, content_type = _status(metrics)
        assert status == 200
        assert content_type.count("charset") == 1
        assert _status(f"{server.base}/health/live")[0] == 200
    del env["ADVISOR_METRICS_BIND"]
    with gunicorn(workers=1, env=env) as server:  # by default, nowhere
        assert _status(f"{server.base}/metrics") == (404, "application/problem+json")


@pytest.mark.server
@pytest.mark.parametrize("named", [False, True])
def test_the_control_socket_is_only_where_a_path_is_named(tmp_path, named):
    socket_path = tmp_path / "advisor.ctl"
    env = {"ADVISOR_CONTROL_SOCKET": str(socket_path)} if named else {}
    log = tmp_path / "server.log"
    with gunicorn(workers=1, env=env, log=log):
        assert socket_path.is_socket() is named
        assert ("Control socket listening" in log.read_text()) is named


@pytest.mark.server
def test_one_access_line_per_request_as_json_without_query_strings(tmp_path):
    """ADVISOR_ACCESS_LOG: each request gets one access line, the application's
    (``advisor.access``) or, for a request gunicorn refuses before the application
    sees it, gunicorn's; a candidate's text in a query string never reaches the log,
    and odd paths (a backslash, a next-line or line-separator character) leave one
    valid JSON line each."""
    log = tmp_path / "server.log"
    paths = [
        "/embed?plans=" + urllib.parse.quote("my secret plan \\ with a backslash"),
        "/v1/guidance/%C2%85x%E2%80%A8y%C2%9B",
        "/health/live?q=a%5Cb",
    ]
    with gunicorn(workers=1, env={"ADVISOR_ACCESS_LOG": "-"}, log=log) as server:
        for path in paths:
            try:
                urllib.request.urlopen(server.base + path, timeout=10).read()
            except urllib.error.HTTPError as error:
                error.read()
        # Refused by gunicorn (two lengths): answered without the application.
        parts = urllib.parse.urlsplit(server.base)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        connection.putrequest("POST", "/embed?plans=another%20secret%20plan")
        connection.putheader("Content-Length", "2")
        connection.putheader("Content-Length", "3")
        connection.endheaders(b"{}")
        refused = connection.getresponse()
        assert refused.status == 400
        assert refused.getheader("Content-Type") == "application/problem+json"
        connection.close()
    lines = log.read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    access = [
        (e["logger"], e["method"], e["path"], e["status"])
        for e in entries
        if e["logger"].endswith(".access") and e["path"] != "/health/ready"
    ]
    assert access == [
        ("advisor.access", "GET", "/embed", 200),
        ("advisor.access", "GET", "/v1/guidance/\x85x\u2028y\x9b", 404),
        ("advisor.access", "GET", "/health/live", 200),
        ("gunicorn.access", "POST", "/embed", 400),
    ]
    assert all(len(line.splitlines()) == 1 for line in lines)
    assert "secret" not in log.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("environ", "words"),
    [
        (
            {"ADVISOR_RATE_LIMITS": "often"},
            "ADVISOR_RATE_LIMITS='often' is not allowed: use limits",
        ),
        ({"ADVISOR_MAX_BODY_BYTES": "0"}, "ADVISOR_MAX_BODY_BYTES=0 is not allowed: use a whole"),
        ({"ADVISOR_PROXY_COUNT": "-2"}, "ADVISOR_PROXY_COUNT=-2 is not allowed"),
        ({"ADVISOR_ENGINE_MEMO": "1.5"}, "ADVISOR_ENGINE_MEMO='1.5' is not allowed"),
        ({"ADVISOR_LOG_LEVEL": "chatty"}, "use DEBUG or INFO or WARNING or ERROR or CRITICAL"),
    ],
)
def test_a_bad_setting_is_one_line_naming_its_variable(environ, words):
    with pytest.raises(ValueError, match="^[^\\n]*$") as error:
        Settings.from_env(environ)
    assert words in str(error.value)


@pytest.mark.parametrize(
    "environ",
    [
        {"ADVISOR_RATE_LIMITS": ""},
        {"ADVISOR_RATE_LIMITS": "5 per second; 100/hour"},
        {"ADVISOR_LOG_LEVEL": "debug"},
        {"ADVISOR_CACHE_MAX_AGE": "0"},
    ],
)
def test_good_settings_are_accepted(environ):
    Settings.from_env(environ)


# (what the operator wrote, the setting meant): each left the setting at its default unseen.
MISSPELT = [
    ("ADVISOR_PROXY_COUNTS", "ADVISOR_PROXY_COUNT"),
    ("ADVISOR_CORS_ORIGIN", "ADVISOR_CORS_ORIGINS"),
    ("ADVISOR_RATE_LIMIT", "ADVISOR_RATE_LIMITS"),
    ("ADVISOR_RATELIMITS", "ADVISOR_RATE_LIMITS"),
    ("ADVISOR_METRIC_BIND", "ADVISOR_METRICS_BIND"),
    ("ADVISOR_RULES_DIRS", "ADVISOR_RULES_DIR"),
    ("ADVISOR_LOGLEVEL", "ADVISOR_LOG_LEVEL"),
    ("ADVISOR_API_KEY", "ADVISOR_API_KEYS"),
    ("ADVISOR_PUBLIC_URI", "ADVISOR_PUBLIC_URL"),
    ("ADVISOR_WORKER", "ADVISOR_WORKERS"),
    ("ADVISOR_TIMEOUTS", "ADVISOR_TIMEOUT"),
]


@pytest.mark.parametrize(("name", "meant"), MISSPELT, ids=[m[0] for m in MISSPELT])
def test_a_misspelt_setting_is_one_line_naming_the_one_meant(name, meant):
    with pytest.raises(ValueError, match="^[^\\n]*$") as error:
        Settings.from_env({name: "redis://:secret@127.0.0.1:6379/0"})
    assert f"{name} is not a setting: did you mean {meant}?" in str(error.value)
    assert "secret" not in str(error.value)  # a value may hold a password


# Guessed names, the browser tests' own, and those a platform makes for a service named
# "advisor" (Kubernetes and Docker links): warned of at start, never a refusal.
UNKNOWN = [
    "ADVISOR_REDIS_URL",
    "ADVISOR_CHROMIUM",
    "ADVISOR_PORT",
    "ADVISOR_PORT_8000_TCP",
    "ADVISOR_PORT_8000_TCP_ADDR",
    "ADVISOR_PORT_8000_TCP_PORT",
    "ADVISOR_PORT_8000_TCP_PROTO",
    "ADVISOR_SERVICE_HOST",
    "ADVISOR_SERVICE_PORT",
    "ADVISOR_NAME",
]


def test_other_unknown_variables_are_named_and_left_alone():
    environ = {**dict.fromkeys(UNKNOWN, "tcp://10.0.0.7:8000"), "PATH": "/bin"}
    assert Settings.from_env(environ) == Settings()
    assert unknown_variables(environ) == sorted(UNKNOWN)


def test_every_variable_the_service_reads_or_sets_is_known():
    source = Path(__file__).resolve().parent.parent / "advisor"
    named = {
        found
        for path in source.rglob("*.py")
        for found in re.findall(r"[\"'](ADVISOR_[A-Z][A-Z_]*[A-Z])\b", path.read_text())
    }
    assert SERVER_VARIABLES <= named
    assert unknown_variables(dict.fromkeys(named, "")) == []


def test_every_setting_is_documented():
    from dataclasses import fields

    table = (Path(__file__).resolve().parent.parent / "docs" / "operations.md").read_text()
    for item in fields(Settings):
        assert f"| `ADVISOR_{item.name.upper()}` |" in table, item.name


FORWARDED = [
    ("one trusted hop", 1, "203.0.113.7", "203.0.113.7"),
    ("the client's own values are not read", 1, "1.1.1.1, 203.0.113.7", "203.0.113.7"),
    ("two trusted hops", 2, "1.1.1.1, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
    ("fewer hops than trusted", 2, "203.0.113.7", "127.0.0.1"),
    ("IPv6, normalised", 1, "2001:DB8::0:1", "2001:db8::1"),
    ("markup", 1, "<script>", "127.0.0.1"),
    ("a host name", 1, "evil.example", "127.0.0.1"),
    ("an address with a port", 1, "203.0.113.7:4444", "127.0.0.1"),
    ("4,000 characters", 1, "9" * 4000, "127.0.0.1"),
    ("empty", 1, "", "127.0.0.1"),
]


@pytest.mark.parametrize(
    ("name", "hops", "header", "remote"), FORWARDED, ids=[f[0] for f in FORWARDED]
)
def test_only_trusted_forwarded_addresses_are_the_client(engine, name, hops, header, remote):
    app = make_app(engine, proxy_count=hops)
    seen = []
    app.before_request(lambda: seen.append(request.remote_addr))
    app.test_client().get("/health/live", headers={"X-Forwarded-For": header})
    assert seen == [remote]


def test_metrics_name_their_charset_once(client):
    assert client.get("/metrics").headers["Content-Type"].count("charset=utf-8") == 1


def test_moderation_has_a_lower_limit_of_its_own_on_top_of_the_others(engine):
    app = make_app(engine, rate_limits="5 per minute", moderate_rate_limits="2 per minute")
    client = app.test_client()
    statuses = [client.post("/v1/moderate", json={"text": "hi"}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    advice = [client.post("/v1/advice", json={"stage": "after"}).status_code for _ in range(6)]
    assert advice == [200] * 5 + [429]  # each route counts on its own
