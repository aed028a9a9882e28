"""The case tables beside the rule files, and their coverage of the rules."""

import dataclasses
import shutil

import pytest

from advisor import DataError
from advisor.cases import load_cases, run_case, run_cases
from advisor.config import Settings
from advisor.rules import rule_files

CASES = load_cases(Settings().rules_dir)


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
def test_case(engine, case):
    result = run_case(engine, case)
    assert not result.problems, f"{case.label}: {result.problems} (fired {result.fired})"


def test_every_rule_is_exercised_by_a_case(engine):
    report = run_cases(engine, CASES)
    assert report.unfired == [], "rules no case makes fire"


def test_every_action_is_expected_and_forbidden_somewhere(engine):
    report = run_cases(engine, CASES)
    assert report.never_expected == []
    assert report.never_forbidden == []


def test_every_rule_file_has_cases():
    expected = {p.stem + ".cases.yaml" for p in rule_files(Settings().rules_dir)}
    assert {c.file for c in CASES} == expected


def _stages(rule):
    """The stages a rule can fire at."""
    for condition in rule.conditions:
        if condition.field == "stage":
            return {condition.value} if condition.op == "eq" else set(condition.value)
    return {"closing", "after", "offer", "rejected", "next_round"}


def _tests(rule, field, op, value):
    return any(c.field == field and c.op == op and c.value == value for c in rule.conditions)


def _hours_from(rule) -> float:
    """The fewest hours since the interview at which `rule` can fire."""
    bounds = [
        c.value for c in rule.conditions if c.field == "hours_since" and c.op in ("gte", "gt")
    ]
    return max(bounds, default=0)


#: Words in a title, and what must hold of every rule that shows that title.
TITLE_PROMISES = [
    ("today", lambda r: _tests(r, "day", "eq", 0) and r.window.end.base == "day"),
    (
        "the day after",
        lambda r: (
            (_tests(r, "day", "gte", 1) and _tests(r, "day", "lt", 3))
            # With hours only: not before 16 h, the next day for an interview ending after 8:00.
            or (_tests(r, "clock_known", "eq", False) and _hours_from(r) >= 16)
        ),
    ),
    ("while you wait", lambda r: _stages(r) <= {"after", "next_round"}),
    ("withdraw", lambda r: "offer" not in _stages(r)),
    ("before you leave", lambda r: _stages(r) == {"closing"}),
    ("offer", lambda r: _stages(r) == {"offer"}),
]


@pytest.mark.parametrize(("words", "holds"), TITLE_PROMISES, ids=[w for w, _ in TITLE_PROMISES])
def test_a_title_never_contradicts_the_rules_that_show_it(engine, words, holds):
    shown = 0
    for rule in engine.rulebook.rules.values():
        if rule.kind != "action":
            continue
        title = engine.catalogue.actions[rule.target].wording(rule.variant).title
        if words in title.lower():
            shown += 1
            assert holds(rule), f"{rule.id} shows “{title}”"
    assert shown, f"no title says {words!r}"


def _upcoming_case(**fields):
    case = next(c for c in CASES if c.upcoming and len(c.upcoming) > 2)
    return dataclasses.replace(case, **fields)


@pytest.mark.parametrize(
    "change",
    [
        lambda table: table[::-1],  # out of order
        lambda table: table[:-1],  # one missing
        lambda table: [{a: h + 1} for pair in table for a, h in pair.items()],  # an hour off
        lambda table: [],  # nothing to come
    ],
    ids=["order", "missing", "hours", "none"],
)
def test_a_wrong_upcoming_table_fails_its_case(engine, change):
    case = _upcoming_case()
    assert not run_case(engine, case).problems
    result = run_case(engine, _upcoming_case(upcoming=change(list(case.upcoming))))
    assert any("expected upcoming" in p for p in result.problems)


def test_upcoming_tables_cover_the_agency_route_a_stated_date_a_final_round_and_an_offer():
    states = [c.state for c in CASES if c.upcoming is not None]
    assert any(s.get("via_agency") for s in states)
    assert any(s.get("decision_expected_in_days") is not None for s in states)
    assert any(s.get("final_round") for s in states)
    assert any(s["stage"] == "offer" for s in states)
    assert any("interview_ended_at" in s for s in states)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        pytest.param(
            {"state": {"stage": "after", "via_agncy": True}},
            "its state is refused: via_agncy: Unknown field (did you mean 'via_agency'?)",
            id="a misspelt field of the state",
        ),
        pytest.param(
            {"state": {"stage": "after", "hours_since": "2"}},
            "its state is refused: hours_since: ",
            id="a value of the wrong type",
        ),
        pytest.param(
            {"expect": ("call-recruter",)},
            "unknown action call-recruter (did you mean 'call-recruiter'?)",
            id="a misspelt action",
        ),
    ],
)
def test_a_mistake_in_a_case_is_a_failure_naming_what_to_mend(engine, fields, problem):
    case = dataclasses.replace(CASES[0], **fields)
    problems = run_case(engine, case).problems
    assert any(p.startswith(problem) for p in problems), problems


def test_a_rule_file_without_its_table_of_cases_is_named(tmp_path):
    shutil.copytree(Settings().rules_dir, tmp_path / "rules")
    shutil.copy(tmp_path / "rules" / "outcome.yaml", tmp_path / "rules" / "next-round.yaml")
    with pytest.raises(DataError, match=r"next-round\.cases\.yaml: no such file: each rule file"):
        load_cases(tmp_path / "rules")
