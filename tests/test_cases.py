"""The case tables beside the rule files, and their coverage of the rules."""

import pytest

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
