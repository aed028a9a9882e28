"""POST /v1/drafts, the draft templates in content/drafts.yaml and their case table."""

import json
import logging
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor import DataError, InterviewState
from advisor.cli import main
from advisor.drafts import (
    DETAIL_FIELDS,
    DRAFT_ACTIONS,
    MAX_DETAIL_CHARS,
    SAMPLE_DETAILS,
    check_case,
    load_draft_cases,
    load_drafts,
    run_draft_cases,
)
from advisor.snapshot import Snapshots
from advisor.state import to_fact
from advisor.web.body import MAX_INT_DIGITS
from advisor.web.drafts import DRAFT_EXAMPLES, INVALID_DRAFT
from advisor.web.errors import MAX_ERRORS

from .apps import make_app
from .strategies import states

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
PROBLEM = "application/problem+json"
CASES = load_draft_cases(CONTENT)
#: Every detail given, each harmless.
ALL_DETAILS = dict(SAMPLE_DETAILS)
LINKEDIN_LIMIT = 300


@pytest.fixture(scope="module")
def drafts(engine):
    return load_drafts(CONTENT, engine.catalogue, engine.moderator)


def _post(client, body):
    return client.post("/v1/drafts", json=body)


def _variants():
    """(action, variant id, a case's state that reaches it) for every variant."""
    seen = {}
    for case in CASES:
        seen.setdefault((case["action"], case["expect"]["variant"]), case["state"])
    return [(action, variant, state) for (action, variant), state in seen.items()]


# --- The case table ------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(drafts, case):
    assert check_case(drafts, case) == []


def test_every_variant_is_reached_by_a_case(drafts):
    failures, unreached = run_draft_cases(drafts, CASES)
    assert failures == {}
    assert unreached == []


def test_every_action_with_a_draft_has_a_case():
    assert {c["action"] for c in CASES} == set(DRAFT_ACTIONS)


# --- Each action and variant ------------------------------------------------------


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _articles() -> dict[str, str]:
    sources = yaml.safe_load((CONTENT / "sources.yaml").read_text(encoding="utf-8"))["sources"]
    return {
        s["id"]: _fold((CONTENT / "articles" / s["file"]).read_text(encoding="utf-8"))
        for s in sources
    }


def test_every_quote_in_the_templates_is_verbatim_in_its_article_file():
    articles = _articles()
    raw = yaml.safe_load((CONTENT / "drafts.yaml").read_text(encoding="utf-8"))
    quotes = [q for d in raw["drafts"] for v in d["variants"] for q in v.get("guidance", ())]
    assert len(quotes) >= len(DRAFT_ACTIONS)
    for quote in quotes:
        assert _fold(quote["quote"]) in articles[quote["source"]], quote


@pytest.mark.parametrize(("action", "variant", "state"), _variants())
def test_each_variant_with_every_detail_leaves_no_placeholder(
    client, engine, action, variant, state
):
    response = _post(client, {"state": state, "action": action, "details": ALL_DETAILS})
    assert response.status_code == 200
    draft = response.get_json()
    assert draft["action"] == action
    assert draft["variant"] == variant
    text = draft["body"] + draft.get("subject", "")
    for leftover in ("[", "{", "None"):
        assert leftover not in text
    assert draft["unfilled"] == []
    assert ("subject" in draft) is (draft["channel"] == "email")
    assert not engine.moderate(text).flagged
    articles = _articles()
    assert draft["guidance"]
    for citation in draft["guidance"]:
        assert set(citation) >= {"id", "title", "publisher", "quote"}
        assert _fold(citation["quote"]) in articles[citation["id"]]
    if draft["channel"] == "linkedin":
        assert len(draft["body"]) <= LINKEDIN_LIMIT


@pytest.mark.parametrize(("action", "variant", "state"), _variants())
def test_each_variant_without_details_shows_clear_placeholders(client, action, variant, state):
    draft = _post(client, {"state": state, "action": action}).get_json()
    assert draft["variant"] == variant
    assert draft["unfilled"]
    assert "None" not in draft["body"]
    assert not re.search(r"\b(Dear|Hi) ,", draft["body"])
    assert re.search(r"\[[a-z' ]+\]", draft["body"])


@pytest.mark.parametrize(
    ("action", "state", "channel", "recipient", "variant"),
    [
        ("send-thank-you", {"stage": "after", "hours_since": 3}, "email", "interviewer", None),
        ("follow-up", {"stage": "after", "hours_since": 150}, "email", "interviewer", "no-date"),
        (
            "follow-up",
            {"stage": "after", "hours_since": 120, "decision_expected_in_days": 2},
            "email",
            "interviewer",
            "stated-date",
        ),
        (
            "follow-up-via-recruiter",
            {"stage": "after", "hours_since": 150, "via_agency": True},
            "email",
            "consultant",
            "no-date",
        ),
        (
            "ask-for-feedback",
            {"stage": "rejected", "via_agency": True},
            "email",
            "consultant",
            "via-consultant",
        ),
        ("ask-for-feedback", {"stage": "rejected"}, "email", "interviewer", "after-rejection"),
        ("ask-for-feedback", {"stage": "after"}, "email", "interviewer", "straight-after"),
        ("withdraw-politely", {"stage": "offer"}, "email", "hiring manager", "decline-offer"),
        (
            "withdraw-politely",
            {"stage": "offer", "via_agency": True},
            "email",
            "consultant",
            "via-consultant",
        ),
        ("withdraw-politely", {"stage": "after"}, "email", "interviewer", "withdraw"),
        ("connect-on-linkedin", {"stage": "after"}, "linkedin", "interviewer", None),
        ("call-recruiter", {"stage": "after", "via_agency": True}, "phone", "consultant", None),
    ],
)
def test_the_state_chooses_channel_recipient_and_variant(
    client, action, state, channel, recipient, variant
):
    draft = _post(client, {"state": state, "action": action}).get_json()
    assert draft["channel"] == channel
    assert draft["recipient"] == recipient
    if variant:
        assert draft["variant"] == variant


def test_a_linkedin_note_fits_with_every_detail_at_its_longest(client):
    details = dict.fromkeys(DETAIL_FIELDS, "Sam " * (MAX_DETAIL_CHARS // 4))
    draft = _post(
        client, {"state": {"stage": "after"}, "action": "connect-on-linkedin", "details": details}
    ).get_json()
    assert len(draft["body"]) <= LINKEDIN_LIMIT
    assert draft["body"].startswith("Hi Sam")


# --- Bad input ----------------------------------------------------------------------


@pytest.mark.parametrize("action", ["reflect", "take-time-out", "nope", "", 3, None, ["follow-up"]])
def test_an_action_without_a_draft_is_a_422_naming_action(client, action):
    response = _post(client, {"state": {"stage": "after"}, "action": action})
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert set(response.get_json()["errors"]) == {"action"}


def _follow_up(state=None, **fields):
    """A request for the follow-up draft: `state` (just after the interview by default)
    and `fields` beside it."""
    return {
        "state": {"stage": "after"} if state is None else state,
        "action": "follow-up",
        **fields,
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "follow-up"}, "state"),
        ({"state": {"stage": "after"}}, "action"),
        (_follow_up({"stage": "lunch"}), "state.stage"),
        (_follow_up({}), "state.stage"),
        (_follow_up({"stage": "after", "hours_since": "3"}), "state.hours_since"),
        (_follow_up({"stage": "after", "colour": "red"}), "state.colour"),
        (_follow_up({"stage": "closing", "hours_since": 2}), "state.hours_since"),
        (
            _follow_up({"stage": "closing", "interview_ended_at": "2026-01-01T09:00:00Z"}),
            "state.interview_ended_at",
        ),
        (_follow_up("after"), "state"),
        (_follow_up(tone="warm"), "tone"),
        (_follow_up(details=None), "details"),
        (_follow_up(details=[]), "details"),
        (_follow_up(details={"colour": "red"}), "details.colour"),
        (_follow_up(details={"role": 3}), "details.role"),
        (_follow_up(details={"role": None}), "details.role"),
        (_follow_up(details={"role": "x" * 201}), "details.role"),
        (_follow_up(details={"company": "x" * 10_000}), "details.company"),
        (_follow_up(details={"company": "Acme\nLtd"}), "details.company"),
        (_follow_up(details={"company": "Acme\x00"}), "details.company"),
        (_follow_up(details={"company": "Ac\u200bme"}), "details.company"),
        (_follow_up(details={"company": "Acme\u2028"}), "details.company"),
        (_follow_up(details={"company": "\u202eemcA"}), "details.company"),  # bidi override
        (_follow_up(details={"company": "Ac\u2066me"}), "details.company"),
        (_follow_up(details={"company": "\ufeffAcme"}), "details.company"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(client, body, field):
    response = _post(client, body)
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert field in response.get_json()["errors"]


@pytest.mark.parametrize("field", DETAIL_FIELDS)
def test_a_flagged_detail_is_a_422_naming_it_without_repeating_it(client, engine, field):
    # The rejected advice is flagged under its own category (the content gate says so).
    for rejected in engine.catalogue.rejected.values():
        text = rejected.advice[:MAX_DETAIL_CHARS]
        category = rejected.category.replace("_", " ")
        details = {field: text}
        body = {"state": {"stage": "after"}, "action": "send-thank-you", "details": details}
        response = _post(client, body)
        assert response.status_code == 422, rejected.id
        problem = response.get_json()
        assert list(problem["errors"]) == [f"details.{field}"]
        assert category in problem["errors"][f"details.{field}"][0]
        assert text not in json.dumps(problem)


@pytest.mark.parametrize(
    "text",
    [
        "<b>Sam</b>",
        '<img src=x onerror="alert(1)">',
        "{candidate_name}",
        "{0} {role!r}",
        "Sam & Co",
        # Names spelt with the joiners their scripts need: a zero-width non-joiner
        # (Persian), a zero-width joiner (Devanagari); and an emoji sequence.
        "\u0645\u062d\u0645\u062f\u200c\u0631\u0636\u0627",
        "\u0915\u094d\u200d\u0937\u093f\u0924\u093f\u091c",
        "Sam \U0001f469\u200d\U0001f4bb",
        "Zo\u00eb Ren\u00e9e",
    ],
)
def test_markup_and_braces_are_shown_as_typed(client, text):
    response = _post(
        client,
        {
            "state": {"stage": "after"},
            "action": "send-thank-you",
            "details": {"recipient_name": text},
        },
    )
    assert response.status_code == 200
    assert f"Dear {text}," in response.get_json()["body"]


def test_a_detail_of_exactly_the_limit_is_taken(client):
    name = "Sam " * (MAX_DETAIL_CHARS // 4 - 1) + "Pat"
    assert len(name) <= MAX_DETAIL_CHARS
    response = _post(
        client,
        {
            "state": {"stage": "after"},
            "action": "send-thank-you",
            "details": {"recipient_name": name},
        },
    )
    assert response.status_code == 200


def test_blank_details_count_as_missing(client):
    draft = _post(
        client,
        {"state": {"stage": "after"}, "action": "send-thank-you", "details": {"role": "   "}},
    ).get_json()
    assert "role" in draft["unfilled"]
    assert "[role title]" in draft["body"]


def test_the_details_never_reach_the_logs(client, caplog):
    secret = "Zanzibar Widgets Quarterly"
    logger = logging.getLogger("advisor")  # which does not propagate to caplog's own handler
    logger.addHandler(caplog.handler)
    try:
        for company in (secret, secret * 20, "Three pints, then drive home " + secret):
            details = {"company": company}
            _post(client, {"state": {"stage": "after"}, "action": "follow-up", "details": details})
    finally:
        logger.removeHandler(caplog.handler)
    records = [json.dumps(vars(record), default=str) for record in caplog.records]
    assert sum("/v1/drafts" in record for record in records) == 3
    assert all(secret not in record for record in records)


# --- Properties ---------------------------------------------------------------------


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(DETAIL_FIELDS), st.text(max_size=MAX_DETAIL_CHARS)))
def test_any_short_details_are_drafted_as_typed_or_refused_by_field(client, details):
    response = _post(
        client, {"state": {"stage": "after"}, "action": "send-thank-you", "details": details}
    )
    assert response.status_code in (200, 422)
    if response.status_code == 422:
        assert response.mimetype == PROBLEM
        assert set(response.get_json()["errors"]) <= {f"details.{name}" for name in details}
        return
    draft = response.get_json()
    text = f"{draft['subject']}\n{draft['body']}"
    for name, value in details.items():
        if value.strip():
            assert value.strip() in text, name
            assert name not in draft["unfilled"]
        else:
            assert name in draft["unfilled"]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(states(), st.sampled_from(DRAFT_ACTIONS))
def test_any_valid_state_gets_the_first_variant_whose_conditions_hold(
    client, drafts, state, action
):
    response = _post(client, {"state": state, "action": action})
    assert response.status_code == 200
    fact = to_fact(InterviewState.parse(state))
    expected = next(t for t in drafts.templates[action] if t.applies(fact))
    assert response.get_json()["variant"] == expected.id


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10 ** (MAX_INT_DIGITS - 1)) + 1, 10 ** (MAX_INT_DIGITS - 1) - 1)  # longer: 400
    | st.floats(allow_nan=False, allow_infinity=False)  # JSON has neither
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "state": json_values | states(),
            "action": json_values | st.sampled_from(DRAFT_ACTIONS),
            "details": json_values,
        },
    )
)
def test_any_json_body_is_a_draft_or_a_problem_naming_fields(client, body):
    response = _post(client, body)
    assert response.status_code in (200, 422)
    if response.status_code == 422:
        assert response.mimetype == PROBLEM
        for field in response.get_json()["errors"]:
            assert field.split(".")[0] in {"state", "action", "details", "$"}


# --- Loading ------------------------------------------------------------------------


def _doctor(content: Path, old: str, new: str) -> None:
    path = content / "drafts.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "Dear {recipient_name},",
            "Dear {interviewer},",
            "drafts.send-thank-you.variants.thank-interviewer-unsure.body: unknown slot 'interviewer'",
        ),
        (
            'quote: "Send a brief, but thoughtful email',
            'quote: "Send a long, but thoughtful email',
            "drafts.send-thank-you.variants.thank-interviewer-unsure.sources.2.quote: not verbatim",
        ),
        (
            "  - action: call-recruiter\n",
            "  - action: call-recruiter\n    nothing: here\n",
            "drafts.6.nothing",
        ),
        (
            "  - action: call-recruiter\n",
            "  - action: follow-up\n",
            "drafts.follow-up: action listed twice",
        ),
        (
            "- id: withdraw\n",
            "- id: withdraw\n        when: {stage: after}\n",
            "drafts.withdraw-politely.variants.withdraw.when: the last variant has none",
        ),
        ("when: {decision_known: true}", "when: {decision_known: maybe}", "when.decision_known.eq"),
        ("channel: phone", "channel: fax", "channel"),
        (
            "One thing I would like to add: {highlight}",
            "One thing I would like to add: Driving after drinking or taking drugs is fine because they take time to act and the police are unlikely to stop you.",
            "drafts.send-thank-you.variants.thank-interviewer-unsure with sample details is flagged as impaired_driving",
        ),
        (
            "max_chars: 300",
            "max_chars: 60",
            "drafts.connect-on-linkedin.variants.connection-note: the last body runs to",
        ),
        (
            "same_as: follow-up-via-recruiter",
            "same_as: follow-up",
            "drafts.follow-up.variants.via-consultant.same_as: names a draft of its own kind",
        ),
        (
            "same_as: follow-up-via-recruiter",
            "same_as: follow-up-via-recruiter\n        channel: email",
            "same_as",
        ),
        ("same_as: follow-up-via-recruiter", "same_as: take-time-out", "same_as"),
    ],
)
def test_a_broken_template_file_is_refused_naming_the_field(data_copy, engine, old, new, message):
    _, content = data_copy
    _doctor(content, old, new)
    with pytest.raises(DataError) as error:
        load_drafts(content, engine.catalogue, engine.moderator)
    assert "drafts.yaml" in str(error.value)
    assert message in str(error.value)


def test_a_reload_refuses_broken_templates(data_copy):
    rules, content = data_copy
    _doctor(content, "Dear {recipient_name},", "Dear {interviewer},")
    snapshots = Snapshots(rules, content)
    try:
        with pytest.raises(DataError, match="unknown slot"):
            snapshots.take()
    finally:
        snapshots.remove()


def test_an_app_does_not_start_on_broken_templates(data_copy, engine):
    _, content = data_copy
    _doctor(content, "Dear {recipient_name},", "Dear {interviewer},")
    with pytest.raises(DataError, match="drafts.yaml"):
        make_app(engine, content_dir=content)


# --- The CLI and the document ------------------------------------------------------


@pytest.fixture
def state_file(tmp_path):
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"stage": "offer"}))
    return path


def test_cli_draft_prints_the_message_and_its_sources(state_file, capsys):
    assert main(["draft", "withdraw-politely", str(state_file), "--detail", "role=Tester"]) == 0
    out = capsys.readouterr().out
    assert "Subject: Your offer for the Tester role" in out
    assert "decline the offer" in out
    assert "Heat Recruitment: “" in out


def test_cli_draft_json_matches_the_api(state_file, capsys, client):
    main(["draft", "withdraw-politely", str(state_file), "--json", "--detail", "company=Northwind"])
    printed = json.loads(capsys.readouterr().out)
    api = _post(
        client,
        {
            "state": {"stage": "offer"},
            "action": "withdraw-politely",
            "details": {"company": "Northwind"},
        },
    ).get_json()
    assert printed == api


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--detail", "highlight=Three pints, then drive home"], "details.highlight"),
        (["--detail", "colour=red"], "NAME one of"),
        (["--detail", "role=" + "x" * 201], "details.role"),
    ],
)
def test_cli_draft_refuses_bad_details_with_status_2(state_file, capsys, args, message):
    assert main(["draft", "follow-up", str(state_file), *args]) == 2
    assert message in capsys.readouterr().err


def test_rules_check_runs_the_draft_cases(capsys):
    assert main(["rules", "check"]) == 0
    out = capsys.readouterr().out
    assert f"{len(CASES)} of {len(CASES)} draft cases pass." in out
    assert "UNCOVERED draft" not in out


def test_rules_check_fails_on_a_failing_draft_case(data_copy, monkeypatch, capsys):
    rules, content = data_copy
    cases = content / "drafts.cases.yaml"
    cases.write_text(cases.read_text().replace("variant: decline-offer", "variant: withdraw", 1))
    monkeypatch.setenv("ADVISOR_RULES_DIR", str(rules))
    monkeypatch.setenv("ADVISOR_CONTENT_DIR", str(content))
    assert main(["rules", "check"]) == 1
    out = capsys.readouterr().out
    assert "FAIL draft an offer that is not right is declined" in out
    assert "variant is 'decline-offer', expected 'withdraw'" in out
    assert "UNCOVERED draft withdraw-politely/decline-offer" in out


def test_the_documented_examples_are_real_answers(client):
    doc = client.get("/openapi.json").get_json()
    operation = doc["paths"]["/v1/drafts"]["post"]
    requests = operation["requestBody"]["content"]["application/json"]["examples"]
    answers = operation["responses"]["200"]["content"]["application/json"]["examples"]
    assert set(requests) == {name for name, _, _ in DRAFT_EXAMPLES}
    for name, example in requests.items():
        assert _post(client, example["value"]).get_json() == answers[name]["value"], name
    refused = operation["responses"]["422"]["content"][PROBLEM]["example"]
    assert _post(client, INVALID_DRAFT).get_json() == refused


def test_a_client_built_from_the_document_gets_a_draft(client):
    """What a generated client does: build the request from the schema, read the answer."""
    doc = client.get("/openapi.json").get_json()
    operation = doc["paths"]["/v1/drafts"]["post"]
    request_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    request_schema = doc["components"]["schemas"][request_ref.rsplit("/", 1)[1]]
    assert set(request_schema["required"]) == {"state", "action"}
    action_ref = request_schema["properties"]["action"]["$ref"]
    actions = doc["components"]["schemas"][action_ref.rsplit("/", 1)[1]]["enum"]
    assert actions == list(DRAFT_ACTIONS)
    answer_ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    answer_schema = doc["components"]["schemas"][answer_ref.rsplit("/", 1)[1]]
    for action in actions:
        draft = _post(client, {"state": {"stage": "after"}, "action": action}).get_json()
        assert set(answer_schema["required"]) <= set(draft) <= set(answer_schema["properties"])


#: A request whose nested object (`state` or `details`) holds many unknown keys, and
#: that object's path: refused at once, as many unknown keys at the top level are
#: (marshmallow's own check merged its errors once per key, some 20 times the work, and
#: listed an arbitrary 50 of them).
MANY = {f"k{number}": 1 for number in range(MAX_ERRORS * 4)}
NESTED_UNKNOWN = [
    ({"state": {"stage": "after", **MANY}, "action": "send-thank-you"}, "state"),
    ({"state": {"stage": "after"}, "action": "send-thank-you", "details": MANY}, "details"),
]


@pytest.mark.parametrize(("body", "path"), NESTED_UNKNOWN, ids=["state", "details"])
def test_many_unknown_keys_in_a_nested_object_list_the_first_sent(client, body, path):
    problem = _post(client, body).get_json()
    assert problem["status"] == 422
    first = [f"{path}.k{number}" for number in range(MAX_ERRORS)]
    assert list(problem["errors"]) == first
    assert problem["unlisted_errors"] == len(MANY) - MAX_ERRORS
