"""CORS for browsers (held to flask-cors's answers) and HTTP caching of the catalogue and
the document."""

import pytest
from flask import Flask
from flask_cors import CORS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.config import Settings
from advisor.engine import Engine
from advisor.web import create_app
from advisor.web.cors import ALLOWED, EXPOSED_HEADERS, allowed_origins

from .apps import make_app
from .strategies import examples

ORIGIN = "https://jobs.example.org"
CACHED = [
    "/v1/guidance",
    "/v1/guidance/send-thank-you",
    "/v1/rejected",
    "/v1/rejected/pay-referees",
    "/v1/sources",
    "/v1/sources/heat",
    "/openapi.json",
]
NOT_FOUND = ["/v1/guidance/nope", "/v1/rejected/nope", "/v1/sources/nope"]


#: Two origins, one of them the one the requests of these tests come from.
ALLOW_LIST = [ORIGIN, "https://x.example:8443"]


@pytest.fixture(scope="module")
def app(engine):
    return make_app(engine)


@pytest.fixture(scope="module")
def allow_list_app(engine):
    return make_app(engine, cors_origins=", ".join(ALLOW_LIST))


# --- CORS -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/v1/guidance", None),
        ("post", "/v1/advice", {"stage": "after"}),
        ("post", "/v1/moderate", {"text": "Send a thank-you."}),
        ("get", "/openapi.json", None),
        ("get", "/v1/sources/nope", None),
        ("post", "/v1/advice", {"stage": "lunch"}),
    ],
)
def test_any_origin_may_read_answers_and_errors_by_default(client, method, path, body):
    response = getattr(client, method)(path, json=body, headers={"Origin": ORIGIN})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    exposed = response.headers["Access-Control-Expose-Headers"]
    assert {"ETag", "X-Request-ID", "Retry-After"} <= set(exposed.replace(" ", "").split(","))


#: Requests a page's script may make, with the headers /openapi.json lets it send.
PREFLIGHTS = [
    ("POST", "/v1/advice", "content-type"),
    ("POST", "/v1/advice", "accept,content-type"),
    ("GET", "/v1/guidance", "if-none-match"),
    ("GET", "/v1/guidance/send-thank-you", "if-match"),
    ("GET", "/openapi.json", "if-match,if-none-match"),
]


@pytest.mark.parametrize(("method", "path", "asked"), PREFLIGHTS)
def test_a_preflight_allows_the_headers_the_document_names(client, method, path, asked):
    response = client.options(
        path,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": asked,
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert method in response.headers["Access-Control-Allow-Methods"]
    allowed = response.headers.get("Access-Control-Allow-Headers", "").lower().split(", ")
    assert set(asked.split(",")) <= set(allowed)
    assert int(response.headers["Access-Control-Max-Age"]) > 0


#: Paths of every kind an OPTIONS may ask about: the API's routes, the document, pages
#: and files.
OPTIONS_PATHS = [
    "/v1/advice",
    "/v1/moderate",
    "/v1/drafts",
    "/v1/guidance",
    "/v1/sources/heat",
    "/openapi.json",
    "/docs",
    "/demo",
    "/widget.js",
    "/static/widget/widget.js",
    "/health/live",
]
#: A CORS preflight, and a plain OPTIONS.
OPTIONS_ASKS = {
    "preflight": {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    },
    "plain": {},
}


@pytest.mark.parametrize("path", OPTIONS_PATHS)
@pytest.mark.parametrize("asked", sorted(OPTIONS_ASKS))
def test_an_options_answer_has_no_content_and_claims_no_type(client, path, asked):
    response = client.options(path, headers=OPTIONS_ASKS[asked])
    assert response.status_code == 200
    assert "OPTIONS" in response.headers["Allow"]
    assert response.data == b""
    assert "Content-Type" not in response.headers  # Flask's own said text/html
    assert "Access-Control-Allow-Credentials" not in response.headers


@pytest.mark.parametrize("path", ["/health/live", "/docs"])
def test_pages_outside_the_api_get_no_cors_headers(client, path):
    response = client.get(path, headers={"Origin": ORIGIN})
    assert "Access-Control-Allow-Origin" not in response.headers


def cors_options(origins: list[str]) -> dict:
    """The flask-cors settings of the service's CORS (`advisor.web.cors`)."""
    return {
        "resources": {r"/v1/.*": {}, "/openapi.json": {}},
        "origins": origins,
        "send_wildcard": True,
        "supports_credentials": False,
        "methods": list(ALLOWED["methods"]),
        "allow_headers": list(ALLOWED["headers"]),
        "expose_headers": list(EXPOSED_HEADERS),
        "max_age": ALLOWED["max_age"],
        # Under an allow-list, a request without Origin would get the list's origins.
        "always_send": origins == ["*"],
    }


def _flask_cors_alone(origins):
    """An app with nothing but flask-cors, configured as the service's CORS, on a route
    for any path: the reference the service's headers are held to."""
    reference = Flask(__name__)
    CORS(reference, **cors_options(origins))

    def answer(rest=""):
        return ""

    for rule in ("/", "/<path:rest>"):
        reference.add_url_rule(rule, view_func=answer, methods=["GET", "HEAD", "POST"])
    return reference.test_client()


def _cors_headers(response) -> dict:
    headers = {k: v for k, v in response.headers.items() if k.startswith("Access-Control-")}
    vary = {
        part.strip().lower()
        for field in response.headers.getlist("Vary")
        for part in field.split(",")
    }
    return {**headers, "varies by origin": "origin" in vary}


#: Requests whose CORS headers must be what flask-cors alone would give: simple
#: requests (which take the fast path under *), preflights, errors and pages
#: outside the API.
CORS_REQUESTS = [
    ("POST", "/v1/advice", {"Origin": ORIGIN}),
    ("POST", "/v1/advice", {}),
    ("GET", "/v1/guidance", {"Origin": ORIGIN}),
    ("HEAD", "/v1/sources", {"Origin": ORIGIN}),
    ("GET", "/v1/sources/nope", {"Origin": ORIGIN}),
    ("GET", "/openapi.json", {"Origin": "http://localhost:3000"}),
    ("GET", "/openapi.jsonx", {"Origin": ORIGIN}),
    ("GET", "/v1", {"Origin": ORIGIN}),
    ("GET", "/health/live", {"Origin": ORIGIN}),
    ("GET", "/docs", {"Origin": ORIGIN}),
    (
        "OPTIONS",
        "/v1/advice",
        {
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-request-id",
        },
    ),
    ("OPTIONS", "/v1/advice", {"Origin": ORIGIN}),
    ("OPTIONS", "/v1/advice", {"Origin": ORIGIN, "Access-Control-Request-Method": "DELETE"}),
    ("GET", "/v1/guidance", {"Origin": ORIGIN, "Access-Control-Request-Private-Network": "true"}),
    (
        "OPTIONS",
        "/v1/guidance",
        {
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Private-Network": "true",
        },
    ),
]


@pytest.mark.parametrize("origins", ["*", f"{ORIGIN}, http://localhost:3000"])
@pytest.mark.parametrize(("method", "path", "headers"), CORS_REQUESTS)
def test_cors_headers_are_flask_cors_own(engine, origins, method, path, headers):
    ours = make_app(engine, cors_origins=origins).test_client()
    reference = _flask_cors_alone(allowed_origins(origins))
    sent = {"method": method, "headers": headers}
    if method == "POST":
        sent["json"] = {"stage": "after"}
    expected = _cors_headers(reference.open(path, **sent))
    if origins != "*" and (path.startswith("/v1/") or path == "/openapi.json"):
        expected["varies by origin"] = True  # ours says so whatever the Origin
    assert _cors_headers(ours.open(path, **sent)) == expected


@settings(
    max_examples=examples(150),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    method=st.sampled_from(["GET", "HEAD", "POST", "OPTIONS"]),
    path=st.sampled_from(["/v1/", "/v1/guidance", "/openapi.json", "/health/", "/v1x", "/"]),
    rest=st.one_of(st.just(""), st.from_regex(r"[a-c%._-][a-c/%._-]{0,7}", fullmatch=True)),
    origin=st.one_of(st.none(), st.sampled_from([ORIGIN, "null", "https://x.example:8443"])),
    extra=st.dictionaries(
        st.sampled_from(
            [
                "Access-Control-Request-Method",
                "Access-Control-Request-Headers",
                "Access-Control-Request-Private-Network",
            ]
        ),
        st.sampled_from(["POST", "GET", "head", "PO", "true", "content-type", "x-other"]),
    ),
)
def test_any_request_gets_flask_cors_own_headers(
    app, allow_list_app, method, path, rest, origin, extra
):
    headers = {**extra, **({"Origin": origin} if origin else {})}
    for ours, origins in ((app, ["*"]), (allow_list_app, ALLOW_LIST)):
        reference = _flask_cors_alone(origins)
        expected = _cors_headers(reference.open(path + rest, method=method, headers=headers))
        if origins != ["*"] and (path.startswith("/v1/") or path + rest == "/openapi.json"):
            expected["varies by origin"] = True  # ours says so whatever the Origin
        got = _cors_headers(ours.test_client().open(path + rest, method=method, headers=headers))
        assert got == expected, origins


def test_an_allow_list_echoes_only_its_origins(engine):
    client = make_app(engine, cors_origins=f"{ORIGIN}, http://localhost:3000").test_client()
    allowed = client.get("/v1/guidance", headers={"Origin": ORIGIN})
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in allowed.headers["Vary"]
    other = client.get("/v1/guidance", headers={"Origin": "https://evil.example.com"})
    assert "Access-Control-Allow-Origin" not in other.headers
    suffix = client.get("/v1/guidance", headers={"Origin": ORIGIN + ".evil.example.com"})
    assert "Access-Control-Allow-Origin" not in suffix.headers


def test_an_empty_allow_list_turns_cors_off(engine):
    client = make_app(engine, cors_origins="").test_client()
    response = client.get("/v1/guidance", headers={"Origin": ORIGIN})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_the_allow_list_comes_from_the_environment(engine, monkeypatch):
    monkeypatch.setenv("ADVISOR_CORS_ORIGINS", ORIGIN)
    monkeypatch.setenv("ADVISOR_RATE_LIMITS", "")
    assert Settings.from_env().cors_origins == ORIGIN
    client = create_app({"TESTING": True, "ENGINE": engine}).test_client()
    response = client.get("/v1/sources", headers={"Origin": ORIGIN})
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN


@pytest.mark.parametrize(
    ("setting", "origins"),
    [
        ("*", ["*"]),
        ("", []),
        (
            " https://a.example , http://localhost:8080 ",
            ["https://a.example", "http://localhost:8080"],
        ),
        ("https://a.example,*", ["*"]),
    ],
)
def test_allowed_origins(setting, origins):
    assert allowed_origins(setting) == origins


@pytest.mark.parametrize(
    "setting", ["https://*.example.org", "example.org", "https://a.example/path", "ftp://a.example"]
)
def test_a_bad_origin_is_an_error_naming_the_variable(setting):
    with pytest.raises(ValueError, match="ADVISOR_CORS_ORIGINS"):
        allowed_origins(setting)


# --- Caching ------------------------------------------------------------------


@pytest.mark.parametrize("path", CACHED)
def test_answers_carry_a_strong_etag_from_the_ruleset_digest(client, engine, path):
    response = client.get(path)
    assert response.status_code == 200
    etag, weak = response.get_etag()
    assert not weak
    assert etag.startswith(engine.digest.removeprefix("sha256:")[:16])
    assert response.cache_control.public
    assert response.cache_control.max_age == 300


def test_each_path_has_its_own_etag(client):
    etags = {client.get(path).get_etag()[0] for path in CACHED}
    assert len(etags) == len(CACHED)


@pytest.mark.parametrize("path", CACHED)
def test_if_none_match_gives_304_with_no_body(client, path):
    first = client.get(path)
    tag = first.headers["ETag"]
    for sent in (tag, f"W/{tag}", f'"other", {tag}', "*"):
        again = client.get(path, headers={"If-None-Match": sent})
        assert again.status_code == 304, sent
        assert again.data == b""
        assert again.headers["ETag"] == tag
        assert again.cache_control.max_age == 300


def test_a_stale_etag_gets_the_full_answer(client):
    response = client.get("/v1/guidance", headers={"If-None-Match": '"stale"'})
    assert response.status_code == 200
    assert response.get_json()["guidance"]


def test_head_gets_the_same_etag(client):
    assert client.head("/v1/sources").headers["ETag"] == client.get("/v1/sources").headers["ETag"]


@pytest.mark.parametrize("path", NOT_FOUND)
def test_a_404_is_not_cacheable(client, path):
    response = client.get(path, headers={"If-None-Match": "*"})
    assert response.status_code == 404
    assert response.cache_control.no_store
    assert "ETag" not in response.headers


def test_max_age_is_a_setting(engine):
    client = make_app(engine, cache_max_age=60).test_client()
    assert client.get("/v1/guidance").cache_control.max_age == 60


def test_a_changed_ruleset_changes_every_etag(client, data_copy):
    rules, content = data_copy
    manifest = rules / "ruleset.yaml"
    manifest.write_text(manifest.read_text().replace('version: "', 'version: "9.', 1))
    changed = make_app(Engine.load(rules, content)).test_client()
    for path in CACHED:
        old = client.get(path).headers["ETag"]
        assert changed.get(path).headers["ETag"] != old
        assert changed.get(path, headers={"If-None-Match": old}).status_code == 200
