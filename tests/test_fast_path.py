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
import re
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError
from werkzeug.exceptions import BadRequest, HTTPException

import advisor.engine as engine_module
import advisor.state as state_module
import advisor.web.body as body_module
from advisor import Engine
from advisor.answer import AdviceWriter, write_verdict
from advisor.rules import Regions, template_values
from advisor.schemas import dump_advice, dump_trace, dump_upcoming_trace, dump_verdict
from advisor.state import InterviewState, InterviewStateSchema, load_state, to_fact
from advisor.upcoming import DONE, after_doing
from advisor.web.body import json_body, raw_json_body, strict_json

from .apps import make_app
from .strategies import NOW, any_state, edge_values, examples

ROOT = Path(__file__).resolve().parent.parent
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
@given(any_state, st.lists(st.sampled_from(PLANS), max_size=3), st.booleans())
def test_answers_over_http_equal_the_schema_path_run_with_every_cache_off(
    uncached_client, unmemoised_engine, body, plans, explain
):
    body = with_plans(body, plans)
    response = uncached_client.post(
        "/v1/advice" + ("?explain=true" if explain else ""),
        data=json.dumps(body),
        content_type="application/json",
    )
    assert response.status_code == 200
    state = InterviewState.from_request(SCHEMA.load(body), datetime.now(UTC))
    advice = unmemoised_engine.evaluate(state)
    want = dump_advice(advice, state.hours_since)
    if explain:
        want["explain"] = dump_trace(unmemoised_engine.trace(state))
        want["explain_upcoming"] = dump_upcoming_trace(advice.upcoming)
    assert response.get_json() == json.loads(json.dumps(want))
    if "interview_ended_at" not in body or "now" in body:  # the server's clock read no time
        assert response.data == orjson.dumps(want)


#: Texts for the verdict writer: every 40th of the labelled moderation corpus (flags of
#: the word classes and of the model, with and without a matched item, stances, texts
#: let through) and the five articles.
VERDICT_TEXTS = [
    *(
        json.loads(line)["text"]
        for path in sorted((ROOT / "tests" / "moderation" / "corpus").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()[::40]
    ),
    *(p.read_text(encoding="utf-8") for p in sorted((ROOT / "content" / "articles").glob("*"))),
]


def test_the_verdict_writer_writes_what_the_schema_dumps(engine):
    verdicts = [engine.moderate(text) for text in VERDICT_TEXTS]
    for text, verdict in zip(VERDICT_TEXTS, verdicts, strict=True):
        # The same fields in the same order: the same bytes on the wire.
        assert orjson.dumps(write_verdict(verdict)) == orjson.dumps(dump_verdict(verdict)), text
    sentences = [s for v in verdicts for s in v.sentences]
    assert any(s.flagged and s.matched for s in sentences)
    assert any(s.flagged and not s.matched for s in sentences)
    assert any(e.feature.startswith("model:") for s in sentences for e in s.evidence)
    assert any(not s.flagged and s.evidence for s in sentences)
    assert not all(v.flagged for v in verdicts)


@QUICK
@given(st.lists(st.sampled_from([*PLANS, "I will never drive after a drink."]), min_size=1))
def test_verdicts_over_http_equal_the_schema_path(uncached_client, unmemoised_engine, parts):
    text = " ".join(parts)
    response = uncached_client.post("/v1/moderate", json={"text": text})
    assert response.status_code == 200
    want = dump_verdict(unmemoised_engine.moderate(text))
    assert response.get_json() == json.loads(json.dumps(want))


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


# Reading the body: orjson where it gives the strict reading's value, the standard
# library's strict reading (duplicate keys, NaN, huge integers, lone surrogates) else.


def _typed(value):
    """`value` with every number's type and sign kept (1 == 1.0 == True in Python)."""
    if isinstance(value, dict):
        return ("object", [(key, _typed(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("array", [_typed(item) for item in value])
    return (type(value).__name__, repr(value))


def _read(reader, raw):
    try:
        value = reader(raw)
    except BadRequest as error:
        return ("refused", error.code, error.description)
    # Python 3.13's json reads nesting deeper than the interpreter's default recursion
    # limit, which `_typed` walks with one call a level.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(raw) + 100))
    try:
        return ("read", _typed(value))
    finally:
        sys.setrecursionlimit(limit)


_ws = st.sampled_from(["", " ", "\n", "\t", "\r\n  "])
_numbers = (
    st.integers().map(str)
    | st.integers(min_value=-(10**45), max_value=10**45).map(str)
    | st.floats(allow_nan=False, allow_infinity=False).map(repr)
    | st.from_regex(r"-?(0|[1-9][0-9]{0,32})(\.[0-9]{1,20})?([eE][+-]?[0-9]{1,3})?", fullmatch=True)
    | st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e-400", "01", "1.", "+1"])
)
_strings = st.text(max_size=12).flatmap(
    lambda text: st.sampled_from([json.dumps(text), json.dumps(text, ensure_ascii=False)])
) | st.sampled_from(
    ['"\\ud800"', '"a\\udc00b"', '"\\ud83d\\ude00"', '"\\u0061"', '"a\\":"', '":"', '"\\""']
)
_keys = st.sampled_from(['"stage"', '"a"', '"\\u0061"', '"a\\":"', '"\\ud800"', '""']) | _strings


def _object(pairs):
    return "{" + ",".join(f"{a}{key}{b}:{c}{value}{d}" for (a, b, c, d), key, value in pairs) + "}"


_json_texts = st.recursive(
    _numbers | _strings | st.sampled_from(["true", "false", "null"]),
    lambda children: (
        st.lists(children, max_size=6).map(lambda items: f"[{','.join(items)}]")
        | st.lists(st.tuples(st.tuples(_ws, _ws, _ws, _ws), _keys, children), max_size=6).map(
            _object
        )
    ),
    max_leaves=20,
)
_json_bytes = st.tuples(_ws, _json_texts, _ws).map(lambda parts: "".join(parts).encode()) | (
    st.tuples(_json_texts, st.binary(max_size=3), st.integers(min_value=0)).map(
        lambda t: (lambda raw, at: raw[:at] + t[1] + raw[at:])(t[0].encode(), t[2] % 50)
    )
)


@QUICK
@given(_json_bytes | st.binary(max_size=40) | any_state.map(lambda body: json.dumps(body).encode()))
def test_a_body_reads_as_the_strict_reading_reads_it(raw):
    assert _read(json_body, raw) == _read(strict_json, raw)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"stage": "after", "stage": "offer"}',
        b'{"stage":"after","a":{"b":1,"b":2}}',
        b'{"a":1,"\\u0061":2}',
        b'{"a" :1, "a"\n:2, "x": "\\":"}',
        b'{"hours_since": NaN}',
        b'{"n": 1234567890123456789012345678901}',
        b'{"n": 123456789012345678901234}',
        b'{"n": -9223372036854775809}',
        b'{"x": 1e400}',
        b'{"x": "\\ud800"}',
        b"\xef\xbb\xbf{}",
        b'{"x": "\xff"}',
        b"[" * 2000 + b"]" * 2000,
        b"[" * 300 + b"]" * 300,
        b'{"plans": [' + b'"{[",' * 40 + b'"x"]}',
    ],
)
def test_what_orjson_reads_otherwise_is_read_strictly(raw):
    assert _read(json_body, raw) == _read(strict_json, raw)


@QUICK
@given(any_state, st.lists(st.sampled_from(PLANS), max_size=3), st.booleans())
def test_bodies_as_clients_write_them_never_need_the_strict_reading(body, plans, compact):
    separators = (",", ":") if compact else (", ", ": ")
    raw = json.dumps(with_plans(body, plans), separators=separators, ensure_ascii=False).encode()
    with mock.patch.object(body_module, "strict_json", side_effect=AssertionError("strict")):
        assert json_body(raw) == json.loads(raw)


# Reading the body: a declared length within the limit straight from the WSGI input,
# with the reads and answers of Werkzeug's stream.


class _Scripted:
    """A WSGI input that gives `body` as `steps` say: a chunk of at most so many
    bytes (0: an empty read, the client gone), or an exception (the deadline, a
    reset, a server's error); then what is left in one read."""

    def __init__(self, body: bytes, steps):
        self._body, self._steps, self._at = body, list(steps), 0

    def read(self, size=-1):
        if self._at == len(self._body):  # past its end, a server's stream gives nothing
            return b""
        step = self._steps.pop(0) if self._steps else len(self._body)
        if isinstance(step, type):
            raise step("the stream failed")
        if size is None or size < 0:
            size = len(self._body)
        chunk = self._body[self._at : self._at + min(step, size)]
        self._at += len(chunk)
        return chunk


_failures = st.sampled_from([TimeoutError, ConnectionResetError, ValueError, RuntimeError])
_body_steps = st.lists(st.integers(min_value=0, max_value=70_000) | _failures, max_size=4)


def _read_outcome(app, read, body, declared, terminated, steps):
    environ = {"wsgi.input": _Scripted(body, steps), "CONTENT_LENGTH": str(declared)}
    if terminated:
        environ["wsgi.input_terminated"] = True
    with app.test_request_context(
        "/v1/advice", method="POST", content_type="application/json", environ_overrides=environ
    ):
        try:
            return ("read", read())
        except HTTPException as error:
            return ("refused", error.code, error.description)


@pytest.fixture(scope="module")
def small_limit_app(engine):
    return make_app(engine, max_body_bytes=100_000)


@QUICK
@given(
    st.integers(min_value=1, max_value=100_000).flatmap(
        lambda size: st.tuples(st.just(b"x" * size), st.integers(0, 120_000) | st.just(size))
    ),
    st.booleans(),
    _body_steps,
)
def test_a_declared_body_is_read_as_werkzeug_reads_it(small_limit_app, sent, terminated, steps):
    body, declared = sent
    if terminated:  # the server ends the stream where the body ends: never past its length
        body = body[:declared]
    fast = _read_outcome(small_limit_app, raw_json_body, body, declared, terminated, steps)
    assert fast == _read_outcome(
        small_limit_app, body_module._read_body, body, declared, terminated, steps
    )


@QUICK
@given(any_state, st.floats(min_value=0, max_value=9000), st.sets(st.sampled_from(sorted(DONE))))
def test_a_state_moved_in_time_is_the_state_replaced_with_those_hours(body, hours, done):
    state = _state(body)
    changes = after_doing(state, done)
    moved = state.with_hours(hours, **changes)
    replaced = replace(state, **changes, hours_since=hours)
    assert (moved, hash(moved), vars(moved)) == (replaced, hash(replaced), vars(replaced))
    assert to_fact(moved) == to_fact(replaced)


def _built_field_by_field(data, now):
    """The state as the dataclass's own constructor builds it from loaded `data`."""
    data = dict(data)
    ended, reference = data.get("interview_ended_at"), data.pop("now", None)
    if ended is not None:
        reference = reference or now.astimezone(ended.tzinfo)
        data["hours_since"] = (reference - ended).total_seconds() / 3600
    data["plans"] = tuple(data.get("plans", ()))
    return InterviewState(**data)


@QUICK
@given(any_state, st.lists(st.sampled_from(PLANS), max_size=3))
def test_a_state_is_built_as_its_dataclass_builds_it(body, plans):
    data = SCHEMA.load(with_plans(body, plans))
    state, built = InterviewState.from_request(data, NOW), _built_field_by_field(data, NOW)
    assert (state, hash(state), vars(state)) == (built, hash(built), vars(built))
    assert to_fact(state) == to_fact(built)


@pytest.mark.parametrize("data", [{}, {"hours_since": 2.0}, {"stage": "after", "unknown": 1}])
def test_a_state_missing_or_beyond_its_fields_is_refused_as_its_dataclass_refuses_it(data):
    with pytest.raises(TypeError) as refused:
        InterviewState(**data)
    with pytest.raises(TypeError, match=re.escape(str(refused.value))):
        InterviewState.from_request(data, NOW)


@QUICK
@given(any_state, st.lists(st.sampled_from(PLANS), max_size=3))
def test_an_advice_is_built_as_its_dataclasses_build_it(engine, body, plans):
    advice = engine.evaluate(_state(with_plans(body, plans)))
    parts = [advice, *advice.actions, *advice.avoid, *advice.plans, *advice.upcoming]
    parts += [item.item for item in advice.upcoming]
    for part in parts:
        built = replace(part)  # through the dataclass's own __init__
        assert (part, hash(part), vars(part)) == (built, hash(built), vars(built))


@QUICK
@given(any_state)
def test_reasons_and_order_worked_out_once_per_region_are_each_states(engine, body):
    state = _state(body)
    values = template_values(state)
    for rule in engine.rulebook.rules.values():
        if rule.fixed_because is not None:
            assert rule.fixed_because == rule.explain(values)
    # Most urgent first, then the window that ends first, then by id.
    advice = engine.evaluate(state)
    assert list(advice.actions) == sorted(advice.actions, key=engine_module._sort_key)
    for item in advice.actions:
        assert item.because == tuple(dict.fromkeys(r.explain(values) for r in _rules(engine, item)))


def _rules(engine, item):
    return [engine.rulebook.rules[rule_id] for rule_id in item.rules]


@pytest.mark.parametrize(
    ("because", "fixed"),
    [
        ("Send it today.", "Send it today."),
        ("Write {{braces}} as they are.", "Write {braces} as they are."),
        ("The interview ended {ended}.", None),
        ("You hold {competing_offers:offer}.", None),
    ],
)
def test_a_reason_is_the_same_for_every_state_only_when_it_names_no_value(engine, because, fixed):
    rule = replace(next(iter(engine.rulebook.rules.values())), because=because)
    assert rule.fixed_because == fixed
