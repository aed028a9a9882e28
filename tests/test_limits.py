"""Rate limits: who is counted, CORS on 429, API keys, and a Redis that fails."""

import contextlib
import ipaddress
import json
import re
import signal
import socket
import threading
import time
import urllib.request
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.config import Settings, api_key_hashes, hash_api_key, rate_limit_storage_problem
from advisor.web import keys, limits, moderation

from .apps import make_app
from .live import free_port, gunicorn, load, redis_process
from .strategies import examples

ORIGIN = "https://jobs.example.org"
PREFLIGHT = {
    "Origin": ORIGIN,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type",
}
KEY = "k3y-for-the-careers-site-0123456789"
OTHER_KEY = "another-k3y-for-the-jobs-board-98765"
KEYS = f"careers:{hash_api_key(KEY)}, jobs-board:{hash_api_key(OTHER_KEY)}"


def _bearer(key):
    return {"Authorization": f"Bearer {key}"}


# --- CORS and the limit -----------------------------------------------------


@pytest.mark.parametrize("origins", ["*", ORIGIN])
def test_preflights_are_not_counted(engine, origins):
    client = make_app(engine, rate_limits="2 per minute", cors_origins=origins).test_client()
    for _ in range(10):
        response = client.options("/v1/advice", headers=PREFLIGHT)
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] in (ORIGIN, "*")
    assert [client.get("/v1/sources").status_code for _ in range(3)] == [200, 200, 429]


@settings(max_examples=examples(100), deadline=None)
@given(opened=st.floats(0, 1), waited=st.floats(0, 1.99))
def test_a_client_that_waits_retry_after_is_let_in(engine, opened, waited):
    """Retry-After is never shorter than what is left of the window (the widget asks
    again by itself once it has passed), nor longer than the window."""
    now = [1_000_000 + opened]
    clock = SimpleNamespace(time=lambda: now[0], monotonic=lambda: now[0])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(limits, "time", clock)
        client = make_app(engine, rate_limits="1 per 2 seconds").test_client()
        assert client.get("/v1/sources").status_code == 200
        now[0] += waited
        refused = client.get("/v1/sources")
        assert refused.status_code == 429
        seconds = int(refused.headers["Retry-After"])
        assert 1 <= seconds <= 2
        now[0] += seconds
        assert client.get("/v1/sources").status_code == 200


# (system clock's step, seconds that really pass, the next request's status): a step
# of the wall clock changes nothing; the window ends when its 2 seconds have passed.
CLOCK_STEPS = [
    pytest.param(0, 0.5, 429, id="no-step-window-open"),
    pytest.param(0, 2, 200, id="no-step-window-ended"),
    pytest.param(-3600, 2, 200, id="back-an-hour-window-ended"),
    pytest.param(-3600, 0.5, 429, id="back-an-hour-window-open"),
    pytest.param(3600, 0.5, 429, id="forward-an-hour-window-open"),
    pytest.param(3600, 2, 200, id="forward-an-hour-window-ended"),
]


@pytest.mark.parametrize(("step", "passed", "status"), CLOCK_STEPS)
def test_a_step_of_the_system_clock_neither_holds_clients_out_nor_lets_them_in(
    engine, step, passed, status
):
    wall, monotonic = [1_000_000.0], [50.0]
    clock = SimpleNamespace(time=lambda: wall[0], monotonic=lambda: monotonic[0])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(limits, "time", clock)
        client = make_app(engine, rate_limits="1 per 2 seconds").test_client()
        assert client.get("/v1/sources").status_code == 200
        wall[0] += step + passed
        monotonic[0] += passed
        answer = client.get("/v1/sources")
        assert answer.status_code == status
        if status == 429:
            assert 1 <= int(answer.headers["Retry-After"]) <= 2
        reset = int(answer.headers["X-RateLimit-Reset"]) - wall[0]
        assert 0 <= reset <= 2 + 1


#: The headers that say how much of its limit a client has left, readable by a page too.
RATE_LIMIT_HEADERS = ("Limit", "Remaining", "Reset")


@pytest.mark.parametrize("origins", ["*", ORIGIN])
def test_a_429_carries_the_cors_headers_a_page_needs_to_read_it(engine, origins):
    client = make_app(engine, rate_limits="1 per minute", cors_origins=origins).test_client()
    headers = {"Origin": ORIGIN, "Content-Type": "application/json"}
    body = json.dumps({"stage": "after"})
    assert client.post("/v1/advice", data=body, headers=headers).status_code == 200
    response = client.post("/v1/advice", data=body, headers=headers)
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    assert response.headers["Access-Control-Allow-Origin"] in (ORIGIN, "*")
    exposed = set(response.headers["Access-Control-Expose-Headers"].lower().split(", "))
    assert {
        "retry-after",
        *(f"x-ratelimit-{name.lower()}" for name in RATE_LIMIT_HEADERS),
    } <= exposed
    assert int(response.headers["Retry-After"]) >= 1
    for name in RATE_LIMIT_HEADERS:
        assert int(response.headers[f"X-RateLimit-{name}"]) >= 0


#: A limit broken, and the 429's detail: the limit, and when to ask again (as Retry-After).
OVER_LIMITS = {
    "a minute": ("1 per minute", r"over its limit of 1 per 1 minute: ask again in \d+ seconds?"),
    "a day": ("1 per day", r"over its limit of 1 per 1 day: ask again in \d+ seconds?"),
    "the tighter of two": (
        "5 per hour;1 per 10 seconds",
        r"over its limit of 1 per 10 second: ask again in \d+ seconds?",
    ),
}


@pytest.mark.parametrize(("setting", "said"), OVER_LIMITS.values(), ids=OVER_LIMITS.keys())
def test_a_429_says_which_limit_and_when_to_ask_again(engine, setting, said):
    client = make_app(engine, rate_limits=setting).test_client()
    client.get("/v1/sources")
    response = client.get("/v1/sources")
    assert response.status_code == 429
    detail = response.get_json()["detail"]
    assert re.search(said, detail), detail
    seconds = int(re.search(r"in (\d+) second", detail).group(1))
    assert seconds == int(response.headers["Retry-After"])
    assert detail.endswith("(Retry-After).")


def test_a_429_counts_one_second_as_one():
    assert limits.over_limit("2 per 1 second", 1).endswith("ask again in 1 second (Retry-After).")


# --- API keys ---------------------------------------------------------------


@pytest.fixture(scope="module")
def keyed_client(engine):
    return make_app(engine, api_keys=KEYS).test_client()


def test_each_key_has_its_own_budget_and_anonymous_calls_count_per_ip(engine):
    client = make_app(
        engine, rate_limits="1 per minute", api_key_rate_limits="3 per minute", api_keys=KEYS
    ).test_client()
    assert [client.get("/v1/sources").status_code for _ in range(2)] == [200, 429]
    keyed = [client.get("/v1/sources", headers=_bearer(KEY)).status_code for _ in range(4)]
    assert keyed == [200, 200, 200, 429]
    assert client.get("/v1/sources", headers=_bearer(OTHER_KEY)).status_code == 200
    response = client.get("/v1/sources", headers=_bearer(OTHER_KEY))
    assert response.headers["X-RateLimit-Limit"] == "3"


#: Peer addresses that are one client, counted against one budget, and what makes them
#: one: a spelling of one address, or addresses of one IPv6 /64 network.
ONE_CLIENT = {
    "an IPv4 address mapped into IPv6": ("192.0.2.7", "::ffff:192.0.2.7", "::ffff:c000:207"),
    "addresses of one /64": ("2001:db8:1:2::1", "2001:db8:1:2:ffff:0:0:9", "2001:db8:1:2:a::b"),
    "spellings of one address": ("2001:db8::1", "2001:DB8:0:0:0:0:0:1", "2001:0db8::0001"),
    "a link-local address with zones": ("fe80::1%eth0", "fe80::2%eth1", "fe80::3"),
}


@pytest.mark.parametrize("addresses", ONE_CLIENT.values(), ids=ONE_CLIENT.keys())
def test_addresses_of_one_client_share_its_budget(engine, addresses):
    client = make_app(engine, rate_limits=f"{len(addresses) - 1} per minute").test_client()
    statuses = [
        client.get("/v1/sources", environ_base={"REMOTE_ADDR": address}).status_code
        for address in addresses
    ]
    assert statuses == [200] * (len(addresses) - 1) + [429]


@pytest.mark.parametrize(
    "addresses",
    [
        ("192.0.2.7", "192.0.2.8"),
        ("2001:db8:1:2::1", "2001:db8:1:3::1"),
        ("::ffff:192.0.2.7", "::1"),
    ],
)
def test_other_clients_have_budgets_of_their_own(engine, addresses):
    client = make_app(engine, rate_limits="1 per minute").test_client()
    for address in addresses:
        response = client.get("/v1/sources", environ_base={"REMOTE_ADDR": address})
        assert response.status_code == 200


@given(st.ip_addresses())
def test_an_address_is_counted_as_an_address_or_a_network(address):
    counted = limits.counted_address(str(address))
    if address.version == 6 and address.ipv4_mapped is None:
        network = ipaddress.ip_network(counted)
        assert network.prefixlen == limits.IPV6_PREFIX
        assert address in network
    else:
        assert ipaddress.ip_address(counted) == (getattr(address, "ipv4_mapped", None) or address)


#: An Authorization header that names no listed key, and what its 401 says is wrong.
WRONG_AUTHORIZATIONS = {
    "a key not listed": (f"Bearer {KEY}x", keys.INVALID_KEY),
    "no key": ("Bearer ", keys.INVALID_KEY),
    "a key's hash": (f"Bearer {hash_api_key(KEY)}", keys.INVALID_KEY),
    "a key not in ASCII": ("Bearer clé-d’accès", keys.INVALID_KEY),
    "another scheme": (f"Basic {KEY}", keys.NOT_BEARER),
    "no scheme": (KEY, keys.NOT_BEARER),
    "a tab after the scheme": (f"Bearer\t{KEY}", keys.NOT_BEARER),
    "the header twice, as the server joins it": (
        f"Bearer {KEY},Bearer {OTHER_KEY}",
        keys.SEVERAL_KEYS,
    ),
    "a list of keys": (f"Bearer {KEY}, {OTHER_KEY}", keys.SEVERAL_KEYS),
}


@pytest.mark.parametrize(
    ("authorization", "detail"), WRONG_AUTHORIZATIONS.values(), ids=WRONG_AUTHORIZATIONS.keys()
)
def test_a_wrong_key_is_a_401_problem_with_a_challenge(engine, authorization, detail, log_lines):
    client = make_app(engine, api_keys=KEYS).test_client()
    response = client.get("/v1/sources", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="interview-advisor", error="invalid_token"'
    )
    assert response.get_json()["status"] == 401
    assert response.get_json()["detail"] == detail
    assert KEY not in response.get_data(as_text=True)
    assert KEY not in json.dumps(log_lines())


def test_a_wrong_key_counts_against_the_callers_ip(engine):
    client = make_app(engine, rate_limits="2 per minute", api_keys=KEYS).test_client()
    wrong = [client.get("/v1/sources", headers=_bearer("guess")).status_code for _ in range(3)]
    assert wrong == [401, 401, 429]
    assert client.get("/v1/sources", headers=_bearer(KEY)).status_code == 200


def test_keys_are_never_logged(engine, log_lines):
    client = make_app(engine, api_keys=KEYS).test_client()
    body = json.dumps({"stage": "after", "plans": ["Bake my interviewers a lemon drizzle."]})
    headers = {**_bearer(KEY), "Content-Type": "application/json"}
    assert client.post("/v1/advice", data=body, headers=headers).status_code == 200
    logged = json.dumps(log_lines())
    assert "access" in logged
    assert KEY not in logged
    assert hash_api_key(KEY) not in logged
    assert "lemon" not in logged


#: A request with a key in its query string, and the parameters its 401 names.
KEYS_IN_URLS = {
    "api_key on a catalogue route": ("GET", f"/v1/sources?api_key={KEY}", ["api_key"]),
    "RFC 6750's access_token": (
        "GET",
        f"/v1/guidance/send-thank-you?access_token={KEY}",
        ["access_token"],
    ),
    "another spelling": ("GET", f"/v1/rejected?Api-Key={KEY}&v=2", ["Api-Key"]),
    "beside a listed key": ("GET", f"/v1/sources?key={KEY}", ["key"]),
    "on a POST route": ("POST", f"/v1/advice?explain=true&token={KEY}", ["token"]),
    "two of them": ("POST", f"/v1/moderate?apikey={KEY}&api_key={KEY}", ["apikey", "api_key"]),
}


@pytest.mark.parametrize(("method", "url", "named"), KEYS_IN_URLS.values(), ids=KEYS_IN_URLS.keys())
def test_a_key_in_the_query_string_is_a_401_naming_it(engine, method, url, named, log_lines):
    client = make_app(engine, api_keys=KEYS).test_client()
    response = client.open(url, method=method, headers=_bearer(OTHER_KEY), json={"text": "x"})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="interview-advisor", error="invalid_request"'
    )
    assert response.get_json()["detail"] == keys.key_in_url(named)
    assert ", ".join(map(repr, named)) in response.get_json()["detail"]
    assert KEY not in response.get_data(as_text=True)
    assert KEY not in json.dumps(log_lines())


@settings(max_examples=examples(100), deadline=None)
@given(
    name=st.sampled_from(sorted(keys.KEY_PARAMETERS)),
    spelling=st.lists(st.booleans(), min_size=24, max_size=24),
    path=st.sampled_from(["/v1/sources", "/v1/guidance", "/v1/rejected/nope", "/v1/nothing"]),
)
def test_a_key_parameter_in_any_case_or_with_dashes_is_a_401(keyed_client, name, spelling, path):
    sent = "".join(
        ("-" if c == "_" else c.upper()) if flip else c
        for c, flip in zip(name, spelling, strict=False)
    )
    response = keyed_client.get(f"{path}?{sent}=x&v=1")
    assert response.status_code == 401
    assert response.get_json()["detail"] == keys.key_in_url([sent])


def test_a_key_in_the_query_string_is_ignored_without_keys_configured(engine):
    client = make_app(engine).test_client()
    assert client.get(f"/v1/sources?api_key={KEY}").status_code == 200


def test_a_preflight_with_a_key_in_the_query_string_is_left_to_its_request(engine):
    client = make_app(engine, api_keys=KEYS).test_client()
    preflight = {"Origin": "https://careers.example", "Access-Control-Request-Method": "GET"}
    assert client.options(f"/v1/sources?api_key={KEY}", headers=preflight).status_code == 200


def test_without_keys_configured_authorization_is_ignored(engine):
    client = make_app(engine).test_client()
    assert client.get("/v1/sources", headers=_bearer("anything")).status_code == 200


def test_keys_only_matter_on_the_api(engine):
    client = make_app(engine, api_keys=KEYS).test_client()
    assert client.get("/health/live", headers=_bearer("wrong")).status_code == 200


def test_keys_come_from_a_variable_and_a_file(tmp_path):
    path = tmp_path / "keys"
    path.write_text(f"# issued 2026-12\nbackend: {hash_api_key(OTHER_KEY).upper()}  # ops\n\n")
    settings = Settings(api_keys=f"careers:{hash_api_key(KEY)}", api_keys_file=str(path))
    assert api_key_hashes(settings) == {
        hash_api_key(KEY): "careers",
        hash_api_key(OTHER_KEY): "backend",
    }


@pytest.mark.parametrize(
    ("setting", "where"),
    [
        ({"api_keys": KEY}, "ADVISOR_API_KEYS is not allowed"),
        ({"api_keys": f"no spaces:{hash_api_key(KEY)}"}, "ADVISOR_API_KEYS is not allowed"),
        ({"api_keys": f"a:{hash_api_key(KEY)},b:{hash_api_key(KEY)}"}, "each key once"),
        ({"api_keys_file": "/nonexistent/keys"}, "ADVISOR_API_KEYS_FILE='/nonexistent/keys'"),
        ({"rate_limit_timeout": 0.0}, "ADVISOR_RATE_LIMIT_TIMEOUT=0.0 is not allowed"),
        ({"api_key_rate_limits": "lots"}, "ADVISOR_API_KEY_RATE_LIMITS='lots' is not allowed"),
    ],
)
def test_a_bad_key_setting_is_one_line_that_never_repeats_a_key(setting, where):
    with pytest.raises(ValueError, match="^[^\\n]*$") as error:
        Settings(**setting)
    assert where in str(error.value)
    assert KEY not in str(error.value)


# Redis passwords as `openssl rand -base64` makes them, or typed: written into the URL
# as they are, / ? # mis-split it, and @ ends the password early.
REDIS_PASSWORDS = ["Zx9/kQe+2w==", "Pq7@Lm/3Vn", "Rt5?Kw8Ej", "Hj4#Bn6Df", "Mv2@Xc9Zs", "Wq8Ty3Ui"]


@pytest.mark.parametrize("password", REDIS_PASSWORDS)
def test_a_redis_password_is_never_shown(password):
    # One holding a / was written out whole in the line refusing the address.
    uri = f"redis://:{password}@127.0.0.1:1/0"
    try:
        problem = rate_limit_storage_problem(Settings(rate_limit_storage=uri))
    except ValueError as refused:
        problem = str(refused)
        assert "its / ? # @ % written %2F %3F %23 %40 %25" in problem
    assert "redis://***@127.0.0.1:1/0" in problem
    for part in re.split(r"[/?#@]", password):
        assert part not in problem


READABLE = "='{path}' is not allowed: use a readable file of NAME:SHA256 lines"
# (name, the key file's bytes, or what it is instead of a file, and what the line says)
BAD_KEY_FILES = [
    ("a key for its hash", f"careers:{hash_api_key(KEY)}\n{KEY}\n".encode(), "line 2, is not"),
    ("a space in a name", b"careers site:" + hash_api_key(KEY).encode(), "use one NAME:SHA256 a"),
    ("a short hash", b"careers:abc\n", "a line (a name of letters, digits, . _ -; the key's"),
    ("not UTF-8", b"careers:\xe9", f"{READABLE} (not UTF-8 text)"),
    ("a folder", "folder", f"{READABLE} (Is a directory)"),
    ("no file", "missing", f"{READABLE} (No such file or directory)"),
]


@pytest.mark.parametrize(
    ("content", "said"), [row[1:] for row in BAD_KEY_FILES], ids=[row[0] for row in BAD_KEY_FILES]
)
def test_a_bad_key_file_is_named_with_what_it_must_hold(tmp_path, content, said):
    # A bad line was told to use "entries separated by commas", as the variable takes
    # them; a file missing and one unreadable were told apart by nothing.
    path = tmp_path / "keys"
    if content == "folder":
        path.mkdir()
    elif content != "missing":
        path.write_bytes(content)
    with pytest.raises(ValueError, match="^ADVISOR_API_KEYS_FILE[^\\n]*$") as error:
        Settings(api_keys_file=str(path))
    assert said.format(path=path) in str(error.value)
    assert "separated by commas" not in str(error.value)
    assert KEY not in str(error.value)


# --- Redis that fails -------------------------------------------------------


@contextlib.contextmanager
def _silent_server():
    """A loopback port that accepts connections and never answers.

    Yields a Redis URL and the list of connections accepted so far."""
    accepted = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)

        def accept():
            with contextlib.suppress(OSError):
                while True:
                    accepted.append(listener.accept()[0])

        threading.Thread(target=accept, daemon=True).start()
        try:
            yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0", accepted
        finally:
            listener.close()
            for connection in accepted:
                connection.close()


#: Nothing listens on port 1 of loopback: connecting is refused at once.
REFUSED = "redis://127.0.0.1:1/0"
SERVER = pytest.mark.server


@pytest.mark.parametrize("kind", ["refused", pytest.param("silent", marks=pytest.mark.server)])
def test_an_unreachable_redis_fails_open_with_per_worker_limits(engine, kind, log_lines):
    with contextlib.ExitStack() as stack:
        url, accepted = (
            (REFUSED, None) if kind == "refused" else stack.enter_context(_silent_server())
        )
        app = make_app(engine, rate_limits="3 per minute", rate_limit_storage=url)
        client = app.test_client()
        statuses = [client.get("/v1/sources").status_code for _ in range(5)]
        tried = None if accepted is None else len(accepted)
        ready = client.get("/health/ready")
    assert statuses == [200, 200, 200, 429, 429]
    if tried is not None:
        # One wait for the storage, then the worker counts alone: not one per request.
        assert tried <= 2
    assert ready.status_code == 200
    assert ready.get_json()["rate_limit_storage"] == "unreachable"
    warnings = [line for line in log_lines() if line["level"] == "warning"]
    assert [line["logger"] for line in warnings] == ["advisor.limits"]
    assert "counts limits alone" in warnings[0]["msg"]


# (what stands at Redis's address, the URL's form, what the start-up line says of it)
STORAGE_PROBLEMS = [
    ("nothing", REFUSED, "Connection refused"),
    ("nothing", "redis+unix:///nonexistent/redis.sock", "No such file or directory"),
    pytest.param(
        "silent", "{url}", "no answer within 0.25 s (ADVISOR_RATE_LIMIT_TIMEOUT)", marks=SERVER
    ),
    pytest.param("redis", "redis://:wrong@{host}/0", "Redis refused the password", marks=SERVER),
    pytest.param("redis", "redis://{host}/0", "Redis asks for a password", marks=SERVER),
    pytest.param("redis", "redis://:right@{host}/99", "databases 0 to 15", marks=SERVER),
    pytest.param("redis", "rediss://:right@{host}/0", "rediss:// to a Redis without", marks=SERVER),
]


@contextlib.contextmanager
def _standing(what: str, tmp_path):
    """The address of what stands there: nothing, a silent server, or a Redis whose
    password is ``right``."""
    if what == "nothing":
        yield ""
    elif what == "silent":
        with _silent_server() as (url, _):
            yield url
    else:
        with redis_process(tmp_path) as (url, _):
            import redis

            redis.Redis.from_url(url).config_set("requirepass", "right")
            yield url


@pytest.mark.parametrize(("what", "uri", "said"), STORAGE_PROBLEMS)
def test_what_keeps_redis_from_counting_is_said_in_words_that_mend_it(tmp_path, what, uri, said):
    # Workers only tell whether Redis answers: a wrong password was "unreachable", as a
    # Redis that was down, and the start said nothing.
    with _standing(what, tmp_path) as url:
        host = url.split("//", 1)[-1].split("/", 1)[0]
        storage = uri.format(url=url, host=host)
        problem = rate_limit_storage_problem(Settings(rate_limit_storage=storage))
    assert problem is not None
    assert problem.startswith("rate-limit storage redis"), problem
    assert said in problem
    assert problem.endswith("until it does, each worker counts limits alone")
    assert "right" not in problem
    assert "wrong" not in problem


@pytest.mark.parametrize(
    "setting",
    [
        {},
        {"rate_limit_storage": REFUSED, "rate_limits": ""},
        pytest.param({"rate_limit_storage": "redis://:right@{host}/0"}, marks=SERVER),
    ],
    ids=["memory", "no limits", "the right password"],
)
def test_nothing_is_said_of_a_storage_that_counts_or_is_not_used(tmp_path, setting):
    what = "redis" if "{host}" in setting.get("rate_limit_storage", "") else "nothing"
    with _standing(what, tmp_path) as url:
        host = url.split("//", 1)[-1].split("/", 1)[0]
        given = {name: value.format(host=host) for name, value in setting.items()}
        assert rate_limit_storage_problem(Settings(**given)) is None


@pytest.mark.server
def test_a_wrong_redis_password_is_named_once_at_start(tmp_path):
    log = tmp_path / "server.log"
    with redis_process(tmp_path) as (url, _):
        import redis

        redis.Redis.from_url(url).config_set("requirepass", "right")
        env = {"ADVISOR_RATE_LIMIT_STORAGE": url.replace("//", "//:wrong@", 1)}
        with gunicorn(workers=1, env=env, log=log) as server:
            assert json.loads(_get(f"{server.base}/health/ready"))["rate_limit_storage"] == (
                "unreachable"
            )
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    [said] = [
        line for line in lines if line["logger"] == "gunicorn.error" and "Redis" in line["msg"]
    ]
    assert said["level"] == "warning"
    assert "Redis refused the password" in said["msg"]
    assert "wrong" not in log.read_text()


def test_ready_says_how_limits_are_counted(engine):
    assert make_app(engine).test_client().get("/health/ready").get_json()["rate_limit_storage"] == (
        "off"
    )
    client = make_app(engine, rate_limits="5 per second").test_client()
    assert client.get("/health/ready").get_json()["rate_limit_storage"] == "per-process"


def test_the_outage_warning_is_at_most_once_a_minute(engine, log_lines):
    app = make_app(engine, rate_limits="99 per second", rate_limit_storage=REFUSED)
    limiter = app.extensions["advisor_limiter"]
    assert isinstance(limiter, limits.RateLimits)
    now = [1000.0]
    limiter.clock = lambda: now[0]
    client = app.test_client()
    for step in range(20):  # 20 requests over 90 seconds
        now[0] += 10 if step % 2 else 0
        assert client.get("/v1/sources").status_code == 200
    warnings = [line for line in log_lines() if line["level"] == "warning"]
    assert [w["requests_counted_alone"] for w in warnings] == [1, 11]


def test_the_key_is_documented_as_optional_and_the_401_as_given(engine, client):
    doc = client.get("/openapi.json").get_json()
    assert doc["components"]["securitySchemes"]["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": doc["components"]["securitySchemes"]["apiKey"]["description"],
    }
    operations = [
        op for path, item in doc["paths"].items() if path.startswith("/v1/") for op in item.values()
    ]
    assert doc["security"] == [{}, {"apiKey": []}]
    assert all(op.get("security", doc["security"]) == doc["security"] for op in operations)
    documented = doc["components"]["responses"]["Unauthorized"]
    response = (
        make_app(engine, api_keys=KEYS)
        .test_client()
        .post("/v1/advice", json={"stage": "after"}, headers=_bearer("wrong"))
    )
    example = documented["content"]["application/problem+json"]["example"]
    assert response.get_json() == example
    assert set(documented["headers"]) == {"WWW-Authenticate"}
    assert "WWW-Authenticate" in response.headers


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def _storage_up(metrics: str) -> str | None:
    """The value of advisor_rate_limit_storage_up at the `metrics` listener."""
    match = re.search(r"^advisor_rate_limit_storage_up (\S+)$", _get(metrics), re.M)
    return match and match[1]


def _until(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.server
def test_redis_stopped_then_killed_under_load_never_holds_or_fails_a_request(tmp_path):
    log = tmp_path / "server.log"
    body = json.dumps({"stage": "after", "hours_since": 3}).encode()
    with redis_process(tmp_path) as (url, redis):
        env = {
            "ADVISOR_RATE_LIMIT_STORAGE": url,
            "ADVISOR_RATE_LIMITS": "100000 per minute",
            "ADVISOR_METRICS_DIR": str(tmp_path / "metrics"),
            "ADVISOR_METRICS_BIND": f"127.0.0.1:{free_port()}",
        }
        metrics = f"http://{env['ADVISOR_METRICS_BIND']}/metrics"
        with gunicorn(workers=2, env=env, log=log) as server:
            ready = f"{server.base}/health/ready"
            with load(f"{server.base}/v1/advice", threads=4, body=body) as running:
                time.sleep(1)
                assert json.loads(_get(ready))["rate_limit_storage"] == "shared"
                redis.send_signal(signal.SIGSTOP)  # connections accepted, never answered
                time.sleep(3)
                assert json.loads(_get(ready))["rate_limit_storage"] == "unreachable"
                assert _storage_up(metrics) == "0.0"
                redis.send_signal(signal.SIGCONT)
                assert _until(lambda: _storage_up(metrics) == "1.0", 40)
                assert json.loads(_get(ready))["rate_limit_storage"] == "shared"
                redis.kill()
                redis.wait()
                time.sleep(3)
                assert json.loads(_get(ready))["rate_limit_storage"] == "unreachable"
                assert _storage_up(metrics) == "0.0"
                fallback = re.search(
                    r"^advisor_rate_limit_fallback_requests_total (\S+)$",
                    _get(metrics),
                    re.M,
                )
    answers = running.answers
    assert len(answers) > 100
    assert {a.status for a in answers} == {200}
    assert max(a.ended - a.started for a in answers) < 1
    assert float(fallback[1]) > 10
    # Every line is JSON: gevent's warning, in each worker, that the master imported
    # ssl (with redis) before the patch is not written.
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    warnings = [line for line in lines if line["level"] in ("warning", "error")]
    # One warning per worker and outage, not one per request.
    assert 2 <= len(warnings) <= 4, warnings
    assert {line["logger"] for line in warnings} == {"advisor.limits"}
    assert "Traceback" not in log.read_text()


#: The endpoints the widget calls, with a body each.
WIDGET_CALLS = {
    "/v1/advice": {"stage": "after", "hours_since": 3},
    "/v1/moderate": {"text": "Send a thank-you note."},
    "/v1/drafts": {"state": {"stage": "after"}, "action": "send-thank-you"},
}


@pytest.mark.server
def test_a_widget_call_costs_one_request_of_the_budget_preflight_and_all(tmp_path):
    """As a browser calls from a careers site: a preflight, then the POST, three times
    on each route; only the POSTs are counted, and the preflights say nothing of the
    limit."""
    env = {"ADVISOR_RATE_LIMITS": "10 per minute"}
    with gunicorn(workers=1, env=env, log=tmp_path / "server.log") as server:
        for path, body in WIDGET_CALLS.items():
            remaining = []
            for _ in range(3):
                preflight = urllib.request.Request(
                    server.base + path, method="OPTIONS", headers=PREFLIGHT
                )
                with urllib.request.urlopen(preflight) as answer:
                    assert answer.status == 200
                    assert answer.headers["Access-Control-Allow-Origin"] == "*"
                    assert not [name for name in answer.headers if name.startswith("X-RateLimit")]
                call = urllib.request.Request(
                    server.base + path,
                    data=json.dumps(body).encode(),
                    headers={"Origin": ORIGIN, "Content-Type": "application/json"},
                )
                with urllib.request.urlopen(call) as answer:
                    remaining.append(int(answer.headers["X-RateLimit-Remaining"]))
            assert remaining == [9, 8, 7], path


# --- The same answers as Flask-Limiter ----------------------------------------


def _flask_limiter_init_app(app):
    """Rate limits as Flask-Limiter counted them before `limits.RateLimits` (counts in
    memory): the reference the lean hooks are held to."""
    from flask import request
    from flask_limiter import Limiter

    settings = app.config["SETTINGS"]

    def only_on_429(response):
        value = response.headers.get("Retry-After")
        if value is not None and response.status_code != 429:
            del response.headers["Retry-After"]
        elif value is not None and int(value) < 1:
            response.headers["Retry-After"] = "1"
        return response

    def client():
        name = keys.caller()
        return f"key:{name}" if name else f"ip:{request.remote_addr}"

    def limits_of_client():
        return settings.api_key_rate_limits if keys.caller() else settings.rate_limits

    app.after_request(only_on_429)
    limiter = Limiter(
        client,
        app=app,
        default_limits=[limits_of_client],
        storage_uri="memory://",
        headers_enabled=True,
        key_prefix="advisor",
    )
    limiter.request_filter(
        lambda: (
            not request.path.startswith("/v1/")
            or (request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers)
        )
    )
    limiter.limit(settings.moderate_rate_limits, override_defaults=False)(moderation.bp)
    app.extensions["advisor_limiter"] = limiter


#: Requests of every kind the limits tell apart: routes with budgets of their own,
#: the extra limit of /v1/moderate, preflights, pages outside the API, no route,
#: a method the route refuses, API keys good and bad.
LIMITED_REQUESTS = {
    "advice": ("POST", "/v1/advice", {"json": {"stage": "after", "hours_since": 3}}),
    "advice with a key": (
        "POST",
        "/v1/advice",
        {"json": {"stage": "after"}, "headers": _bearer(KEY)},
    ),
    "advice, invalid": ("POST", "/v1/advice", {"json": {"stage": "lunch"}}),
    "moderate": ("POST", "/v1/moderate", {"json": {"text": "Send a thank-you note."}}),
    "sources": ("GET", "/v1/sources", {}),
    "a source": ("HEAD", "/v1/sources/heat", {}),
    "no such source": ("GET", "/v1/sources/nope", {}),
    "sources with the other key": ("GET", "/v1/sources", {"headers": _bearer(OTHER_KEY)}),
    "sources with a wrong key": ("GET", "/v1/sources", {"headers": _bearer("guess")}),
    "preflight": ("OPTIONS", "/v1/advice", {"headers": PREFLIGHT}),
    "options, not a preflight": ("OPTIONS", "/v1/advice", {"headers": {"Origin": ORIGIN}}),
    "no route": ("GET", "/v1/nope", {}),
    "method refused": ("DELETE", "/v1/advice", {}),
    "live": ("GET", "/health/live", {}),
}
#: Windows of a minute and more, so that no window ends while a sequence runs.
LIMITED_SETTINGS = {
    "rate_limits": "4 per minute;6 per hour",
    "api_key_rate_limits": "3 per minute;5 per day",
    "moderate_rate_limits": "2 per minute",
    "api_keys": KEYS,
}


#: The limit a 429's detail names; Flask-Limiter's detail was the limit alone.
_OVER_LIMIT = re.compile(r"over its limit of (.+): ask again in \d+ seconds? \(Retry-After\)\.$")


def _limited(response) -> dict:
    headers = response.headers
    body = response.get_json(silent=True)
    if response.status_code == 429 and body is not None:  # a HEAD's has none
        named = _OVER_LIMIT.search(body["detail"])
        body = {**body, "detail": named.group(1) if named else body["detail"]}
    seen = {
        "status": response.status_code,
        "body": body,
        "headers": {
            name: headers.get(name)
            for name in (
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "Access-Control-Allow-Origin",
            )
        },
        "retry after": "Retry-After" in headers,
    }
    # Seconds since the epoch, or until the window ends: the two apps' windows
    # opened microseconds apart, so the rounded seconds may differ by one.
    times = [headers.get("X-RateLimit-Reset"), headers.get("Retry-After")]
    return seen, [None if value is None else int(value) for value in times]


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(st.sampled_from(sorted(LIMITED_REQUESTS)), min_size=1, max_size=14))
def test_limits_answer_as_flask_limiter_did(engine, sequence):
    ours = make_app(engine, **LIMITED_SETTINGS).test_client()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(limits, "init_app", _flask_limiter_init_app)
        reference = make_app(engine, **LIMITED_SETTINGS).test_client()
    for name in sequence:
        method, path, sent = LIMITED_REQUESTS[name]
        sent = {**sent, "headers": {"Origin": ORIGIN, **sent.get("headers", {})}}
        seen, times = _limited(ours.open(path, method=method, **sent))
        expected, expected_times = _limited(reference.open(path, method=method, **sent))
        assert seen == expected, name
        for value, reference_value in zip(times, expected_times, strict=True):
            assert (value is None) == (reference_value is None), name
            assert value is None or abs(value - reference_value) <= 1, name


def test_per_process_counts_open_a_window_per_key_and_forget_ended_ones():
    counts = limits.WindowCounts()
    now = [1000.0]
    counts.clock = counts.wall = lambda: now[0]
    assert [counts.incr("a", 60) for _ in range(3)] == [1, 2, 3]
    assert counts.incr("b", 1) == 1
    assert counts.get_expiry("a") == 1060.0
    now[0] += 59.9
    assert counts.incr("a", 60) == 4
    assert counts.incr("b", 1) == 1  # its window of a second had ended
    now[0] += 0.1
    assert counts.incr("a", 60) == 1
    assert counts.get_expiry("a") == 1120.0
    assert counts.get_expiry("never counted") == now[0]
    for round_ in range(10):  # 10,000 clients, each seen once, a minute apart
        for client in range(1000):
            assert counts.incr(f"{round_}:{client}", 30) == 1
        now[0] += 60
    assert len(counts) <= 2 * 1000 + 2


# --- the text limits: a long text costs its length --------------------------


JSON = "application/json"


def _moderate_body(size: int) -> bytes:
    """A /v1/moderate body of exactly `size` bytes (an ordinary sentence repeated)."""
    head, tail = b'{"text":"', b'"}'
    words = b"Send a short thank-you note tonight. " * (size // 36 + 1)
    return (
        head
        + words[: size - len(head) - len(tail)].rstrip().ljust(size - len(head) - len(tail), b".")
        + tail
    )


#: (text limit, the bodies' sizes in bytes, the answers): each body past its first
#: FREE_BODY_BYTES counts that many bytes against the client's text budget.
TEXT_SCENARIOS = {
    "short bodies never count": ("10 per minute", [1024] * 6, [200] * 6),
    "each counts what is past its first KiB": (
        "2000 per minute",
        [2024, 2024, 1500],
        [200, 200, 429],
    ),
    "one body past the whole budget": ("1000 per minute", [3000, 500], [429, 200]),
    "the shortest window first": ("1000 per 10 seconds;5000 per minute", [1900, 1900], [200, 429]),
}


@pytest.mark.parametrize(
    ("setting", "sizes", "statuses"), TEXT_SCENARIOS.values(), ids=TEXT_SCENARIOS.keys()
)
def test_long_texts_count_their_bytes_against_the_text_limit(engine, setting, sizes, statuses):
    client = make_app(engine, rate_limits="600 per minute", text_rate_limits=setting).test_client()
    answers = [
        client.post("/v1/moderate", data=_moderate_body(size), content_type="application/json")
        for size in sizes
    ]
    assert [a.status_code for a in answers] == statuses
    for answer in answers:
        if answer.status_code == 429:
            assert answer.content_type == "application/problem+json"
            assert "bytes of request bodies" in answer.get_json()["detail"]
            assert int(answer.headers["Retry-After"]) >= 1
            assert answer.headers["X-RateLimit-Limit"] == str(limits.parse_many(setting)[0].amount)


def test_the_text_budget_is_one_for_every_route_and_its_own_per_client(engine):
    client = make_app(engine, rate_limits="600 per minute", text_rate_limits="1500 per minute")
    client = client.test_client()
    plans = {
        "stage": "after",
        "hours_since": 3,
        "plans": ["Send a short thank-you note. " * 4] * 20,
    }
    assert client.post("/v1/advice", json=plans).status_code == 200  # some 1,400 bytes past
    assert (
        client.post("/v1/moderate", data=_moderate_body(1500), content_type=JSON).status_code == 429
    )
    other = {"REMOTE_ADDR": "192.0.2.99"}
    answer = client.post(
        "/v1/moderate", data=_moderate_body(1500), content_type=JSON, environ_base=other
    )
    assert answer.status_code == 200
    # An ordinary advice is not a long text: the client that spent its budget still gets one.
    assert client.post("/v1/advice", json={"stage": "after", "hours_since": 3}).status_code == 200


def test_a_key_has_text_limits_of_its_own(engine):
    client = make_app(
        engine,
        rate_limits="600 per minute",
        text_rate_limits="100 per minute",
        api_key_rate_limits="600 per minute",
        api_key_text_rate_limits="5000 per minute",
        api_keys=KEYS,
    ).test_client()
    body = _moderate_body(3000)
    assert client.post("/v1/moderate", data=body, content_type=JSON).status_code == 429
    keyed = [
        client.post("/v1/moderate", data=body, content_type=JSON, headers=_bearer(KEY)).status_code
        for _ in range(3)
    ]
    assert keyed == [200, 200, 429]


def test_without_request_limits_there_are_no_text_limits(engine):
    client = make_app(engine, text_rate_limits="10 per minute").test_client()
    assert [
        client.post("/v1/moderate", data=_moderate_body(5000), content_type=JSON).status_code
        for _ in range(3)
    ] == [200] * 3


def test_a_chunked_body_counts_as_a_framed_one(engine):
    client = make_app(engine, rate_limits="600 per minute", text_rate_limits="1000 per minute")
    client = client.test_client()
    body = _moderate_body(2500)
    answer = client.post(
        "/v1/moderate",
        data=body,
        content_type=JSON,
        # As gunicorn passes a chunked body: decoded, its end marked.
        environ_overrides={"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True},
    )
    assert answer.status_code == 429


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(st.integers(0, 4000), min_size=1, max_size=8), st.integers(1, 6000))
def test_a_client_is_refused_exactly_when_its_texts_pass_the_budget(engine, sizes, budget):
    client = make_app(
        engine, rate_limits="600 per minute", text_rate_limits=f"{budget} per minute"
    ).test_client()
    spent = 0
    for size in sizes:
        size = max(size, len(_moderate_body(40)))
        answer = client.post("/v1/moderate", data=_moderate_body(size), content_type=JSON)
        # A body within its first KiB is not counted, whatever the budget holds.
        spent += max(0, size - 1024)
        refused = size > 1024 and spent > budget
        assert answer.status_code == (429 if refused else 200), (sizes, budget)
