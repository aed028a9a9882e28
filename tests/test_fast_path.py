"""The fast path agrees with the schema path, field for field.

Requests are read by `load_state` and answers written by `AdviceWriter`, with
the engine's outcomes remembered per region of the state space; the schemas
(`InterviewStateSchema`, `AdviceSchema`) and durable_rules run every time
remain the reference. Every property here compares the two over states the
rules' thresholds are drawn around, with absolute times, plans and invalid
fields among them.
"""

import json
import random
from datetime import UTC, datetime
from unittest import mock

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

import advisor.engine as engine_module
import advisor.state as state_module
from advisor import Engine
from advisor.answer import AdviceWriter
from advisor.rules import Regions
from advisor.schemas import dump_advice
from advisor.state import InterviewState, InterviewStateSchema, load_state, to_fact

from .apps import make_app
from .strategies import NOW, any_state, edge_values, examples

QUICK = settings(
    max_examples=examples(300),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SCHEMA = InterviewStateSchema()
PLANS = [
    "Send a short thank-you email tonight.",
    "Three pints, then drive home.",
    "Phone them every hour until they answer.",
    "Ask my consultant for news on Friday.",
    # Sentences judged one by one: a flagged one beside safe ones.
    "Send a thank-you note tonight. Then drink six pints and drive home. Sleep well.",
    "Post on LinkedIn that the interviewer was rude and useless.",
]


def with_plans(body, plans):
    return {**body, "plans": plans} if plans else body


@pytest.fixture(scope="module")
def writer(engine):
    return AdviceWriter(engine.catalogue)


@pytest.fixture(scope="module")
def uncached_client(engine):
    """A client of an app without the answer cache."""
    return make_app(engine, answer_cache=0).test_client()


@pytest.fixture(scope="module")
def region_engine(engine):
    """An engine of its own with the region memo on, filled by the tests that use it."""
    made = Engine(engine.catalogue, engine.rulebook, engine.moderator)
    yield made
    made.close()


@pytest.fixture(scope="module")
def prepared_engine(engine):
    """An engine whose rule book's regions were all put to durable_rules beforehand,
    as a gunicorn worker's are; other engines of the test run are left as they were."""
    with mock.patch.dict(engine_module._PREPARED):
        assert engine_module.prepare_regions(engine.rulebook) > 0
        made = Engine(engine.catalogue, engine.rulebook, engine.moderator)
        yield made
        made.close()


def _state(body):
    return InterviewState.from_request(SCHEMA.load(body), NOW)


@QUICK
@given(any_state)
def test_states_in_one_region_fire_the_same_rules_as_durable_rules_alone(
    region_engine, unmemoised_engine, body
):
    state = _state(body)
    assert region_engine.evaluate(state) == unmemoised_engine.evaluate(state)
    assert region_engine.fire(state) == unmemoised_engine.fire(state)


@QUICK
@given(any_state, st.lists(st.sampled_from(PLANS), max_size=3))
def test_prepared_regions_answer_as_durable_rules_run_for_each_state(
    prepared_engine, unmemoised_engine, body, plans
):
    state = _state(with_plans(body, plans))
    assert prepared_engine.evaluate(state) == unmemoised_engine.evaluate(state)
    assert prepared_engine.fire(state) == unmemoised_engine.fire(state)
    # Every valid state lies in a prepared region: durable_rules was not asked again.
    assert prepared_engine.memo_info().currsize == 0


def test_regions_are_far_fewer_than_states(engine):
    rng = random.Random(4)
    regions = Regions(engine.rulebook)
    facts = [
        to_fact(
            _state(
                {
                    "stage": rng.choice(["after", "offer", "rejected", "next_round"]),
                    "hours_since": round(rng.uniform(0, 800), 3),
                    "via_agency": rng.random() < 0.5,
                    "thank_you_sent": rng.random() < 0.5,
                    "decision_expected_in_days": rng.choice([None, rng.randint(0, 20)]),
                }
            )
        )
        for _ in range(3000)
    ]
    distinct = {tuple(sorted(f.items())) for f in facts}
    assert len({regions.of(f) for f in facts}) < len(distinct) / 10


@QUICK
@given(any_state, st.lists(st.sampled_from(PLANS), max_size=3))
def test_the_writer_writes_what_the_schema_dumps(engine, writer, body, plans):
    state = _state(with_plans(body, plans))
    advice = engine.evaluate(state)
    assert writer.write(advice, state.hours_since) == dump_advice(advice, state.hours_since)
    # With the sources already encoded, the same bytes.
    encoded = orjson.dumps(writer.encodable(advice, state.hours_since))
    assert encoded == orjson.dumps(writer.write(advice, state.hours_since))


@QUICK
@given(any_state, st.lists(st.sampled_from(PLANS), max_size=3))
def test_answers_over_http_equal_the_schema_path_run_with_every_cache_off(
    uncached_client, unmemoised_engine, body, plans
):
    body = with_plans(body, plans)
    response = uncached_client.post(
        "/v1/advice", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200
    got = response.get_json()
    state = InterviewState.from_request(SCHEMA.load(body), datetime.now(UTC))
    want = dump_advice(unmemoised_engine.evaluate(state), state.hours_since)
    assert got == json.loads(json.dumps(want))


def _schema_load(body):
    try:
        return ("loaded", SCHEMA.load(body))
    except ValidationError as error:
        return ("refused", error.messages)


def _fast_load(body):
    try:
        return ("loaded", load_state(body))
    except ValidationError as error:
        return ("refused", error.messages)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=600),
    lambda children: st.lists(children, max_size=25) | st.dictionaries(st.text(), children),
    max_leaves=30,
)
FIELDS = [*SCHEMA.load_fields, "x", "hours"]


@QUICK
@given(any_state)
def test_valid_bodies_load_as_the_schema_loads_them(body):
    fast = _fast_load(body)
    assert fast[0] == "loaded"
    assert fast == _schema_load(body)


@QUICK
@given(any_state, st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=3))
def test_any_body_loads_or_is_refused_as_the_schema_does(body, changes):
    body = {**body, **changes}
    assert _fast_load(body) == _schema_load(body)


@QUICK
@given(st.dictionaries(st.sampled_from(FIELDS), json_values | edge_values, max_size=len(FIELDS)))
def test_bodies_of_any_fields_and_values_load_or_are_refused_as_the_schema_does(body):
    assert _fast_load(body) == _schema_load(body)


@QUICK
@given(any_state, st.dictionaries(st.sampled_from(FIELDS), edge_values, max_size=4))
def test_valid_bodies_pushed_to_each_fields_edges_load_or_are_refused_as_the_schema_does(
    body, changes
):
    body = {**body, **changes}
    assert _fast_load(body) == _schema_load(body)


@pytest.mark.parametrize(
    "body",
    [
        {"stage": "after", "hours_since": 5, "interview_ended_at": "2026-11-20T16:30:00Z"},
        {"stage": "after", "now": "2026-11-20T16:30:00Z"},
        {"stage": "closing", "hours_since": 0.5},
        {"stage": "closing", "interview_ended_at": "2026-11-20T16:30:00Z", "now": NOW.isoformat()},
        {"stage": "after", "interview_ended_at": NOW.isoformat(), "now": "2026-11-20T16:30:00Z"},
        {"stage": "after", "hours_since": True},
        {"stage": "after", "hours_since": 43921},
        {"stage": "after", "follow_ups_sent": 1.0},
        {"stage": "after", "decision_expected_in_days": 367},
        {"stage": "after", "plans": ["x" * 501]},
        {"stage": "after", "plans": ["ok"] * 21},
        {"stage": "after", "interview_ended_at": "2026-11-20T16:30:00"},
        {"stage": "after", "interview_ended_at": "1969-11-20T16:30:00Z"},
        {"stage": "later"},
        {"hours_since": 2},
        {"stage": "after", "unknown": 1},
    ],
)
def test_each_refusal_is_the_schemas(body):
    assert _schema_load(body)[0] == "refused"
    assert _fast_load(body) == _schema_load(body)


@QUICK
@given(any_state)
def test_valid_bodies_never_need_the_schema(body):
    with mock.patch.object(state_module._SCHEMA, "load", side_effect=AssertionError("schema")):
        assert load_state(body)["stage"] == body["stage"]


@QUICK
@given(any_state)
def test_a_region_is_what_the_conditions_say_one_by_one(engine, body):
    fact = to_fact(_state(body))
    rules = engine.rulebook.rules.values()
    matched = [r for r in rules if r.kind == "action" and r.matches(fact)]
    stages = {c for r in rules if r.kind == "reject" for c in r.state_conditions if c.holds(fact)}
    twin = {**fact, "hours_since": fact["hours_since"] + 1e-9}
    regions = Regions(engine.rulebook)
    same = [r for r in rules if r.kind == "action" and r.matches(twin)] == matched and {
        c for r in rules if r.kind == "reject" for c in r.state_conditions if c.holds(twin)
    } == stages
    assert (regions.of(twin) == regions.of(fact)) == same
