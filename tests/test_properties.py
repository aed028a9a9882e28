"""Property tests: any valid state is answered, any invalid body is a 4xx problem."""

import json
import re
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from advisor.cases import _promises
from advisor.state import InterviewState, InterviewStateSchema, to_fact
from advisor.web.body import OVERRIDE

from .strategies import examples, states, timed_states

PROBLEM = "application/problem+json"
QUICK = settings(
    max_examples=examples(300),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@QUICK
@given(states())
def test_any_valid_state_gets_cited_explained_actions(client, state):
    response = client.post("/v1/advice", json=state)
    assert response.status_code == 200, response.get_json()
    for action in response.get_json()["actions"]:
        assert action["sources"]
        assert action["because"]
        window = action["window"]
        assert window["start_hours"] >= 0
        assert window["end_hours"] is None or window["end_hours"] >= window["start_hours"]


@QUICK
@given(states())
def test_the_engine_agrees_with_the_rules_as_written(unmemoised_engine, state):
    """durable_rules fires exactly the rules whose conditions hold in Python.

    The memo is off, so every example is a durable_rules session.
    """
    engine = unmemoised_engine
    loaded = InterviewState.from_request(InterviewStateSchema().load(state), datetime.now(UTC))
    fact = to_fact(loaded)
    fired = set(engine.evaluate(loaded).fired)
    actions = {
        r.target for r in engine.rulebook.rules.values() if r.id in fired and r.kind == "action"
    }
    for rule in engine.rulebook.rules.values():
        if rule.kind == "action":
            expected = rule.matches(fact)
        else:
            recommended = bool(set(rule.conditions[0].value) & actions)
            expected = recommended and all(c.holds(fact) for c in rule.state_conditions)
        assert (rule.id in fired) == expected, rule.id


@QUICK
@given(states())
def test_answers_keep_the_rules_promises(engine, state):
    """Every window holds now, one wording per action, `instead` within the answer."""
    loaded = InterviewState.from_request(InterviewStateSchema().load(state), datetime.now(UTC))
    advice = engine.evaluate(loaded)
    assert _promises(engine, advice, loaded.hours_since) == []


@QUICK
@given(states())
def test_no_follow_up_before_the_thank_you_window_has_closed(engine, state):
    loaded = InterviewState.from_request(InterviewStateSchema().load(state), datetime.now(UTC))
    actions = {a.action.id: a for a in engine.evaluate(loaded).actions}
    for follow_up in ("follow-up", "follow-up-via-recruiter"):
        if follow_up in actions:
            assert "send-thank-you" not in actions
            assert actions[follow_up].start_hours >= 24
            assert loaded.hours_since >= 24


#: What a person would not write: hours as "h", "0 …", "(s)", tenths of an hour.
CLUMSY = re.compile(r"\d h\b|\b0 (h|days?|hours?)\b|\(s\)|\b\d+\.\d+ h|\b1 (days|hours|weeks)\b")


@QUICK
@given(states())
def test_because_sentences_read_as_a_person_writes(client, state):
    body = client.post("/v1/advice", json=state).get_json()
    for item in [*body["actions"], *body["avoid"]]:
        assert not CLUMSY.search(item["because"]), item["because"]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)


@QUICK
@given(
    st.dictionaries(
        st.sampled_from(["stage", "hours_since", "plans", "via_agency", "x"]), json_values
    )
)
def test_arbitrary_json_objects_never_fail_the_server(client, body):
    response = client.post("/v1/advice", json=body)
    assert response.status_code in (200, 422)
    if response.status_code == 422:
        assert response.mimetype == PROBLEM
        assert response.get_json()["errors"]


@QUICK
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_fail_the_server(client, raw):
    response = client.post(
        "/v1/advice",
        data=raw,
        content_type="application/json",
        environ_overrides={"CONTENT_LENGTH": str(len(raw))},
    )
    assert response.status_code in (200, 400, 422)
    if response.status_code != 200:
        assert response.mimetype == PROBLEM


@QUICK
@given(
    states(),
    st.sampled_from(["stage", "hours_since", "follow_ups_sent", "via_agency"]),
    json_values,
)
def test_a_wrongly_typed_field_is_named(client, state, field, value):
    body = {**state, field: value}
    response = client.post("/v1/advice", data=json.dumps(body), content_type="application/json")
    if response.status_code == 422:
        assert field in response.get_json()["errors"]
    else:
        assert response.status_code == 200


@QUICK
@given(timed_states(), st.sampled_from("Tt "), st.sampled_from(["Z", "z", "+00:00"]))
def test_every_spelling_of_a_date_time_rfc_3339_allows_gets_the_same_advice(
    client, state, separator, utc
):
    """RFC 3339 takes "t" and "z" in either case (and a space for "T", as its note
    allows): each spelling of the same moments is the same answer."""
    spelt = dict(state)
    for name in ("interview_ended_at", "now"):
        text = state[name].replace("T", separator)
        spelt[name] = text[:-6] + utc if text.endswith("+00:00") else text
    expected = client.post("/v1/advice", json=state)
    answered = client.post("/v1/advice", json=spelt)
    assert expected.status_code == 200, expected.get_json()
    assert answered.get_json() == expected.get_json()


@QUICK
@given(
    timed_states(),
    st.sampled_from("+-"),
    st.integers(0, 29),
    st.integers(0, 99),
    st.sampled_from(["interview_ended_at", "now"]),
)
def test_an_offset_is_read_as_rfc_3339_writes_it_or_refused(
    client, state, sign, hours, minutes, field
):
    """An offset of 00 to 23 hours and 00 to 59 minutes is read as written: `now` written
    in it is the same moment, so the same answer, and the interview's end in it gets
    its times in that offset. Any other is a 422 naming the field, never read as some
    other offset (``+00:99`` as +01:39)."""
    written = f"{sign}{hours:02d}:{minutes:02d}"
    spelt = dict(state)
    if hours > 23 or minutes > 59:
        spelt[field] = state[field][:-6] + written
        answered = client.post("/v1/advice", json=spelt)
        assert answered.status_code == 422
        assert list(answered.get_json()["errors"]) == [field]
        return
    offset = timezone(timedelta(hours=hours, minutes=minutes) * (-1 if sign == "-" else 1))
    spelt[field] = datetime.fromisoformat(state[field]).astimezone(offset).isoformat()
    answered = client.post("/v1/advice", json=spelt)
    assert answered.status_code == 200, answered.get_json()
    if field == "now":
        assert answered.get_json() == client.post("/v1/advice", json=state).get_json()
    else:
        due = [a["due"] for a in answered.get_json()["actions"] if a["due"] is not None]
        assert all(datetime.fromisoformat(time).tzinfo == offset for time in due), due


#: Text (characters, so no lone surrogate) without a bidirectional override, and the
#: overrides.
_NO_OVERRIDE = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\u202d\u202e"),
    max_size=40,
)
_OVERRIDES = st.sampled_from("\u202d\u202e")


@QUICK
@given(states(), st.lists(_NO_OVERRIDE, min_size=1, max_size=5), st.booleans(), st.data())
def test_a_bidirectional_override_in_a_plan_is_a_422_naming_it(client, state, plans, escaped, data):
    """A plan shown in another order than it is read could not be screened for what it
    shows: refused, naming the plan, whether the override is sent raw or escaped."""
    index = data.draw(st.integers(0, len(plans) - 1))
    at = data.draw(st.integers(0, len(plans[index])))
    plans[index] = plans[index][:at] + data.draw(_OVERRIDES) + plans[index][at:]
    raw = json.dumps({**state, "plans": plans}, ensure_ascii=escaped)
    response = client.post("/v1/advice", data=raw, content_type="application/json")
    assert response.status_code == 422
    assert response.get_json()["errors"] == {f"plans.{index}": [OVERRIDE]}


@QUICK
@given(_NO_OVERRIDE, _NO_OVERRIDE, _OVERRIDES, st.booleans())
def test_a_bidirectional_override_in_a_text_to_moderate_is_a_422(client, head, tail, mark, escaped):
    raw = json.dumps({"text": head + mark + tail}, ensure_ascii=escaped)
    response = client.post("/v1/moderate", data=raw, content_type="application/json")
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"text": [OVERRIDE]}


#: What a Host header may hold (RFC 9110, 7.2): a registered name's characters.
NAME_CHARACTERS = st.sampled_from("abcXYZ019-._~!$&'()*+,;=")
LABELS = st.text(NAME_CHARACTERS, min_size=1, max_size=63).filter(lambda label: "." not in label)
HOSTS = st.builds(
    lambda labels, port: ".".join(labels) + port,
    st.lists(LABELS, min_size=1, max_size=4),
    st.one_of(st.just(""), st.integers(0, 65535).map(lambda port: f":{port}")),
)


@QUICK
@given(host=HOSTS)
def test_any_host_name_and_port_is_taken(client, host):
    response = client.get("/health/live", environ_overrides={"HTTP_HOST": host})
    assert response.status_code == 200, response.get_json()


@QUICK
@given(
    host=HOSTS,
    where=st.integers(0, 300),
    character=st.characters(
        exclude_characters="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=%:[]"
    ),
)
def test_a_host_with_any_other_character_is_a_400_naming_it(client, host, where, character):
    sent = host[:where] + character + host[where:]
    response = client.get("/v1/guidance", environ_overrides={"HTTP_HOST": sent})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "Host header" in response.get_json()["detail"]


#: Ways to write one character of a field's name (lower-case letters, digits and `_`):
#: as is, in capitals, fullwidth, or in mathematical bold (its letters).
_STYLES = (
    lambda c: c,
    str.upper,
    lambda c: chr(ord(c) + 0xFEE0),
    lambda c: chr(0x1D41A + ord(c) - ord("a")) if "a" <= c <= "z" else c,
)
_STATE_FIELDS = sorted(InterviewStateSchema().load_fields)


@QUICK
@given(st.sampled_from(_STATE_FIELDS), st.data())
def test_a_field_written_in_another_width_style_or_case_is_named_as_meant(client, field, data):
    styles = st.lists(st.sampled_from(_STYLES), min_size=len(field), max_size=len(field))
    sent = "".join(style(c) for style, c in zip(data.draw(styles), field, strict=True))
    assume(sent != field)
    body = {"stage": "after", sent: 1} if field != "stage" else {sent: "after"}
    response = client.post("/v1/advice", json=body)
    assert response.status_code == 422
    assert response.get_json()["errors"][sent] == [f"Unknown field (did you mean {field!r}?)"]
