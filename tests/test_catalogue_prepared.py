"""The catalogue's answers prepared once per app are the ones the schemas build per request.

Each request is sent to two apps on one engine: one serving the prepared bytes, one
with ``CATALOGUE_PREPARED`` off, building every answer with the schemas. The bodies
are compared byte for byte, not as parsed JSON: the ETag is a strong validator, so
a client or cache holding the earlier bytes under a tag must get exactly those bytes
again, and the integrity of a cached answer (its length, its hash) must not change.
"""

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.config import Settings
from advisor.web import create_app
from advisor.web.catalogue import prepared_answers
from bench.catalogue import PATHS, catalogue_timings

ORIGIN = "https://jobs.example.org"
#: Headers that differ between two requests whatever the answer.
PER_REQUEST = {"x-request-id", "date"}


def _app(engine, prepared: bool, **settings):
    chosen = Settings(**{"rate_limits": "", **settings})
    config = {"TESTING": True, "ENGINE": engine, "SETTINGS": chosen}
    return create_app({**config, "CATALOGUE_PREPARED": prepared})


@pytest.fixture(scope="module")
def fast(engine):
    return _app(engine, True).test_client()


@pytest.fixture(scope="module")
def slow(engine):
    return _app(engine, False).test_client()


def _paths(engine) -> list[str]:
    catalogue = engine.catalogue
    kinds = {
        "/v1/guidance": catalogue.actions,
        "/v1/rejected": catalogue.rejected,
        "/v1/sources": catalogue.sources,
    }
    return [
        path
        for prefix, items in kinds.items()
        for path in (prefix, *(f"{prefix}/{i}" for i in items))
    ]


def _seen(response) -> tuple:
    headers = sorted((k.lower(), v) for k, v in response.headers if k.lower() not in PER_REQUEST)
    return response.status_code, headers, response.get_data()


def _same(fast, slow, method: str, path: str, **kwargs):
    answered = getattr(fast, method)(path, **kwargs)
    built = getattr(slow, method)(path, **kwargs)
    assert _seen(answered) == _seen(built)
    return answered


def test_every_catalogue_path_is_prepared(engine):
    # Every list and every item of the loaded catalogue, and nothing else.
    assert sorted(prepared_answers(engine.catalogue)) == sorted(_paths(engine))


#: The variants a request may ask for: the method, a CORS origin, a query string
#: (none is read: each is answered as without it).
VARIANTS = [
    ("get", {}),
    ("head", {}),
    ("get", {"headers": {"Origin": ORIGIN}}),
    ("head", {"headers": {"Origin": ORIGIN}}),
    ("get", {"query_string": {"explain": "true"}}),
    ("get", {"query_string": "lang=fr&x=%ff"}),
    ("get", {"headers": {"Accept-Language": "fr", "Accept-Encoding": "gzip"}}),
]


@pytest.mark.parametrize(("method", "kwargs"), VARIANTS)
def test_prepared_answers_are_the_built_ones_byte_for_byte(engine, fast, slow, method, kwargs):
    for path in _paths(engine):
        answered = _same(fast, slow, method, path, **kwargs)
        assert answered.status_code == 200, path
        assert answered.mimetype == "application/json"
        assert answered.headers["ETag"]


@pytest.mark.parametrize("method", ["get", "head"])
def test_revalidation_is_the_same_on_both(engine, fast, slow, method):
    for path in _paths(engine):
        tag = fast.get(path).headers["ETag"]
        assert slow.get(path).headers["ETag"] == tag
        answered = _same(fast, slow, method, path, headers={"If-None-Match": tag})
        assert answered.status_code == 304
        assert answered.get_data() == b""
        stale = _same(fast, slow, method, path, headers={"If-None-Match": '"0-0"'})
        assert stale.status_code == 200


@pytest.mark.parametrize("kind", ["guidance", "rejected", "sources"])
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(item_id=st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40))
def test_an_unknown_id_is_the_same_404_problem(engine, fast, slow, kind, item_id):
    items = {"guidance": engine.catalogue.actions, "rejected": engine.catalogue.rejected}
    if item_id in items.get(kind, engine.catalogue.sources) or "/" in item_id:  # another route
        return
    answered = _same(fast, slow, "get", f"/v1/{kind}/{quote(item_id, safe='')}")
    assert answered.status_code == 404
    assert answered.mimetype == "application/problem+json"
    assert answered.get_json()["status"] == 404
    assert "no-store" in answered.headers["Cache-Control"]


def test_limits_and_cors_are_added_to_each_prepared_answer(engine):
    # Rate-limit headers count each request; the allow-list echoes each request's origin.
    limited = {"rate_limits": "3 per minute", "cors_origins": ORIGIN}
    fast = _app(engine, True, **limited).test_client()
    slow = _app(engine, False, **limited).test_client()
    for remaining in ("2", "1", "0"):
        answered = _same(fast, slow, "get", "/v1/guidance", headers={"Origin": ORIGIN})
        assert answered.headers["X-RateLimit-Remaining"] == remaining
        assert answered.headers["Access-Control-Allow-Origin"] == ORIGIN
    refused = _same(fast, slow, "get", "/v1/guidance", headers={"Origin": ORIGIN})
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"


def test_the_benchmark_times_each_route_on_both_apps(engine):
    timings = catalogue_timings(engine, requests=4, rounds=2)
    assert sorted(timings) == sorted(PATHS)
    for prepared, built in timings.values():
        assert len(prepared) == len(built) == 4
        assert min(prepared + built) > 0
