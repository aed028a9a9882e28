"""Rule and content files: what loads, and how a broken file is reported."""

import gc
import re

import pytest
import yaml

from advisor import DataError, Engine
from advisor._durable import MAX_RULES
from advisor.content import check_quote, load_catalogue
from advisor.rules import load_rulebook
from advisor.web import create_app


def _fold(text):
    return re.sub(r"\s+", " ", text).strip()


def _all_citations(engine):
    """(where, citation) for every quote in content/ and rules/."""
    for action in engine.catalogue.actions.values():
        for wording in (action.wording(), *action.variants):
            for citation in wording.sources:
                yield f"{action.id}/{wording.id}", citation
    for item in engine.catalogue.rejected.values():
        for citation in item.sources:
            yield item.id, citation
    for rule in engine.rulebook.rules.values():
        for citation in rule.sources:
            yield rule.id, citation


def test_every_quote_is_verbatim_in_its_article(engine):
    for where, citation in _all_citations(engine):
        assert _fold(citation.quote) in _fold(citation.source.text), (where, citation.quote)


def _sentences(text):
    """The article's sentences (and headings), white space folded."""
    return [_fold(s) for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def test_no_quote_starts_mid_sentence(engine):
    # Checked apart from the loader's own check: the quote's first sentence is
    # one of the article's, or begins one, or follows a heading run into it.
    for where, citation in _all_citations(engine):
        first = re.split(r"(?<=[.!?])\s+", _fold(citation.quote))[0]
        holding = [s for s in _sentences(citation.source.text) if first in s]
        assert holding, (where, first)
        assert any(
            s[: s.index(first)].strip() == "" or s[: s.index(first)].istitle() for s in holding
        ), (where, first)


@pytest.mark.parametrize(
    ("source", "quote", "problem"),
    [
        ("heat", "giving you some learning points for any future interviews", "does not start"),
        ("bayford", "If possible, via a telephone conversation", "not verbatim"),
        ("four-seasons", "Grab a sandwich, have a cup of tea or cof", "ends mid-word"),
        ("accolade", "Twitter then give at least £20 to a charity", "starts mid-sentence"),
        ("gonzales", "It also gives you an indication of the appropriate timeframes", None),
        ("four-seasons", "After 5-7 days, if you’ve not heard about how your interview", None),
        ("bayford", "Send a follow up mail", None),
    ],
)
def test_quote_checks(engine, source, quote, problem):
    found = check_quote(quote, engine.catalogue.sources[source].text)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert found.startswith(problem)


def test_no_action_rests_on_the_satire_alone(engine):
    for action in engine.catalogue.actions.values():
        assert any(c.source.nature == "sincere" for c in action.sources), action.id


def test_rejected_advice_is_quoted_from_the_satire(engine):
    for item in engine.catalogue.rejected.values():
        assert {c.source.id for c in item.sources} == {"accolade"}, item.id


def test_agreeing_sources_are_combined(engine):
    cited = {c.source.id for c in engine.catalogue.actions["send-thank-you"].sources}
    assert {"heat", "gonzales", "bayford"} <= cited


def _edit(path, change):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _set(keys, value):
    def change(data):
        target = data
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return change


CONTENT_BREAKS = [
    (
        "guidance.yaml",
        _set(["actions", 0, "sources", 0, "quote"], "A quote that no article holds."),
        "guidance.yaml.*quote",
    ),
    (
        "guidance.yaml",
        _set(["actions", 1, "sources", 0, "source"], "nowhere"),
        "guidance.yaml.*unknown source",
    ),
    ("guidance.yaml", _set(["actions", 2, "title"], ""), "guidance.yaml.*title"),
    ("guidance.yaml", lambda d: d["actions"].pop(), "guidance.yaml.*missing ids"),
    ("guidance.yaml", _set(["actions", 0, "id"], "ask-your-questions"), "guidance.yaml.*twice"),
    ("rejected.yaml", _set(["rejected", 0, "instead"], ["have-a-drink"]), "rejected.yaml.*instead"),
    ("rejected.yaml", _set(["rejected", 0, "category"], "violence"), "rejected.yaml.*category"),
    ("rejected.yaml", _set(["rejected", 0, "colour"], "red"), "rejected.yaml.*colour"),
    ("sources.yaml", _set(["sources", 0, "nature"], "ironic"), "sources.yaml.*nature"),
    ("sources.yaml", _set(["sources", 0, "file"], "missing.txt"), "sources.yaml.*file"),
    pytest.param(
        "guidance.yaml",
        _set(
            ["actions", 2, "sources", 2, "quote"],
            "they can provide advice and reassurance as well as letting you know the next steps",
        ),
        "call-recruiter.sources.2.quote: does not start a sentence",
        id="a quote that starts mid-sentence",
    ),
    pytest.param(
        "guidance.yaml",
        _set(
            ["actions", 3, "variants", 0, "sources", 0, "quote"],
            "Do go direct to the company, this will not be appreciated by them",
        ),
        "take-time-out.variants.after-the-call.sources.0.quote",
        id="a variant's quote",
    ),
    pytest.param(
        "guidance.yaml",
        _set(
            ["actions", 14, "sources"],
            [
                {
                    "source": "accolade",
                    "quote": "So keep your options open, and jump straight back onto the job "
                    "hunting wagon.",
                }
            ],
        ),
        "satirical source alone",
        id="the satire alone",
    ),
]


@pytest.mark.parametrize(("file", "change", "message"), CONTENT_BREAKS)
def test_broken_content_names_file_and_field(data_copy, file, change, message):
    _rules, content = data_copy
    _edit(content / file, change)
    with pytest.raises(DataError, match=message):
        load_catalogue(content)


def _rule(**overrides):
    rule = {
        "id": "extra-rule",
        "action": "reflect",
        "description": "A test rule.",
        "priority": 5,
        "window": {"start": 0, "end": None},
        "when": {"stage": "after"},
        "because": "Because.",
    }
    rule.update(overrides)
    return {key: value for key, value in rule.items() if value is not ...}


RULE_BREAKS = [
    (_rule(when={"mood": "good"}), "unknown field"),
    (_rule(when={"stage": "lunch"}), "not a valid stage"),
    (_rule(when={"still_interested": False}), "not a valid still_interested"),
    (_rule(when={"hours_since": {"about": 3}}), "unknown operator"),
    (_rule(when={"hours_since": {"lt": "24"}}), "not a valid hours_since"),
    (_rule(when={"via_agency": {"lt": 1}}), "not a number"),
    (_rule(when={"stage": {"in": "after"}}), "needs a list"),
    (_rule(when={}), "when"),
    (_rule(window=...), "needs a window"),
    (_rule(window={"start": "soon", "end": None}), "window"),
    (_rule(window={"start": "decision", "end": None}), "window"),
    (_rule(window={"start": "grace", "end": None}), "decision_known"),
    (_rule(when={"hours_past_grace": {"gt": 0}}), "decision_known"),
    (
        _rule(when={"decision_known": True, "hours_past_grace": {"gt": 0}}),
        "must cite what it rests on",
    ),
    (_rule(because="They said {decided_by}."), "needs decision_known"),
    (_rule(because="You sent {follow_ups_sent}."), "needs the noun it counts"),
    (_rule(because="It ended {ended:>10}."), "takes no format"),
    (_rule(because="It is {hours_since} h."), "unknown name"),
    (_rule(variant="today"), "reflect has no variant 'today'"),
    (
        _rule(sources=[{"source": "heat", "quote": "giving you some learning points for any"}]),
        "sources.0.quote: does not start a sentence",
    ),
    (_rule(action="dance"), "unknown id"),
    # A misspelling names what was meant; a test that can never hold is refused.
    (_rule(when={"via_agncy": True}), "unknown field .did you mean 'via_agency'"),
    (_rule(when={"stage": "next-round"}), "not a valid stage .did you mean 'next_round'"),
    (_rule(when={"hours_since": {"gt3": 3}}), "unknown operator 'gt3' .did you mean 'gt'"),
    (_rule(action="call-recruter"), "unknown id 'call-recruter' .did you mean 'call-recruiter'"),
    (
        _rule(variant="after-rejectoin"),
        "reflect has no variant 'after-rejectoin' .did you mean 'after-rejection'",
    ),
    (_rule(priority=..., priorty=5), "priorty: Unknown field .did you mean 'priority'"),
    (
        _rule(when={"hours_since": {"gte": 10, "lt": 5}}),
        "hours_since ≥ 10 and hours_since < 5 never",
    ),
    (_rule(when={"hours_since": {"gt": 5, "lte": 5}}), "never hold together"),
    (_rule(when={"day": {"eq": 2, "gte": 3}}), "never hold together"),
    (_rule(when={"stage": {"in": ["after"], "not": "after"}}), "never hold together"),
    (_rule(when={"stage": {"in": []}}), "never hold together"),
    (_rule(when={"via_agency": {"eq": True, "not": True}}), "never hold together"),
    (_rule(rejects="pay-referees"), "exactly one"),
    (_rule(priority="high"), "priority"),
    (_rule(because="It is {weather}."), "unknown name"),
    (_rule(id="Not An Id"), "id"),
    (
        _rule(
            action=...,
            rejects="pay-referees",
            window=None,
            when={"recommended": {"any": ["reflect"]}},
        ),
        "not a safe counterpart",
    ),
    (_rule(id="ask-prepared-questions"), "also in"),
    (
        _rule(
            action=...,
            rejects="pay-referees",
            window=None,
            when={"recommended": {"any": ["brief-referees"]}, "via_agency": True},
        ),
        "reject rules test only recommended and stage",
    ),
    (
        _rule(
            action=...,
            rejects="pay-referees",
            window=None,
            variant="today",
            when={"recommended": {"any": ["brief-referees"]}},
        ),
        "Only an action rule chooses a variant",
    ),
]


@pytest.mark.parametrize(("rule", "message"), RULE_BREAKS)
def test_broken_rules_name_file_rule_and_field(data_copy, rule, message):
    rules, content = data_copy
    _edit(rules / "closing.yaml", lambda d: d["rules"].append(rule))
    with pytest.raises(DataError, match=rf"closing\.yaml.*{message}"):
        load_rulebook(rules, load_catalogue(content))


@pytest.mark.parametrize(
    "when",
    [
        {"hours_since": {"gt": 5, "lt": 6}},
        {"hours_since": {"gte": 5, "lte": 5}},
        {"day": {"not": 0, "lt": 1}},
        {"day": {"gte": 1, "lt": 3}},
        {"stage": {"in": ["after", "offer"], "not": "after"}},
        {"via_agency": {"not": True}},
    ],
)
def test_tests_on_one_field_that_some_value_meets_are_kept(data_copy, when):
    rules, content = data_copy
    _edit(rules / "closing.yaml", lambda d: d["rules"].append(_rule(when=when)))
    assert load_rulebook(rules, load_catalogue(content)).rules["extra-rule"]


def test_more_rules_than_the_engine_takes_are_refused_naming_the_folder(data_copy):
    rules, content = data_copy
    room = MAX_RULES - 1 - len(load_rulebook(rules, load_catalogue(content)).rules)
    extra = [_rule(id=f"extra-rule-{n}") for n in range(room + 1)]
    _edit(rules / "closing.yaml", lambda d: d["rules"].extend(extra))
    with pytest.raises(
        DataError, match=rf"rules: {MAX_RULES} rules, but at most {MAX_RULES - 1} fit"
    ):
        load_rulebook(rules, load_catalogue(content))


def test_a_variant_no_rule_uses_is_refused(data_copy):
    rules, content = data_copy
    _edit(
        rules / "outcome.yaml",
        lambda d: [r.pop("variant") for r in d["rules"] if r.get("variant") == "unsure"],
    )
    with pytest.raises(DataError, match="no rule uses the variants decide-if-right/unsure"):
        load_rulebook(rules, load_catalogue(content))


def test_an_action_without_a_rule_is_refused(data_copy):
    rules, content = data_copy
    _edit(rules / "closing.yaml", lambda d: d["rules"].pop(0))
    with pytest.raises(DataError, match="no rule recommends or rejects ask-next-steps"):
        load_rulebook(rules, load_catalogue(content))


def test_start_up_fails_on_broken_content(data_copy):
    rules, content = data_copy
    _edit(
        content / "guidance.yaml",
        _set(["actions", 0, "sources", 0, "quote"], "Invented words, never written."),
    )
    with pytest.raises(DataError, match="guidance.yaml"):
        Engine.load(rules, content)


def test_start_up_fails_through_the_app_factory(data_copy, monkeypatch):
    rules, content = data_copy
    (content / "rejected.yaml").write_text("rejected: [", encoding="utf-8")
    monkeypatch.setenv("ADVISOR_RULES_DIR", str(rules))
    monkeypatch.setenv("ADVISOR_CONTENT_DIR", str(content))
    with pytest.raises(DataError, match="rejected.yaml: cannot read"):
        create_app()


def test_digest_changes_with_rules_and_content(data_copy, engine):
    rules, content = data_copy
    assert Engine.load(rules, content).digest == engine.digest
    _edit(rules / "closing.yaml", _set(["rules", 0, "priority"], 9))
    changed_rules = Engine.load(rules, content).digest
    assert changed_rules != engine.digest
    _edit(content / "guidance.yaml", _set(["actions", 0, "title"], "Ask about the next steps"))
    assert Engine.load(rules, content).digest not in (engine.digest, changed_rules)


def test_a_key_given_twice_in_a_data_file_is_refused(data_copy):
    rules, content = data_copy
    path = rules / "closing.yaml"
    path.write_text(
        path.read_text().replace("priority: 10\n", "priority: 10\n    priority: 12\n", 1)
    )
    with pytest.raises(DataError, match="closing.yaml: cannot read.*duplicate key 'priority'"):
        load_rulebook(rules, load_catalogue(content))


@pytest.mark.parametrize("enabled", [True, False], ids=["collector on", "collector off"])
@pytest.mark.parametrize("broken", [False, True], ids=["loads", "fails"])
def test_loading_leaves_the_garbage_collector_as_it_found_it(data_copy, enabled, broken):
    # Loading pauses the collector (its objects all live on); whatever happens,
    # the process gets its collector back as it was.
    rules, content = data_copy
    if broken:
        policy = rules / "moderation" / "violence.yaml"
        policy.write_text(policy.read_text(encoding="utf-8") + "\n  : [\n", encoding="utf-8")
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        if broken:
            with pytest.raises(DataError, match="violence.yaml"):
                Engine.load(rules, content)
        else:
            assert Engine.load(rules, content).catalogue.actions
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
