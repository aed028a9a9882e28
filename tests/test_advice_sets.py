"""Labelled interview states written from the articles alone, by writers who never
saw the rules: each names actions that must and must not be recommended. Each set
was scored blind before any rule was changed for it (docs/rules.md, "Measured
blind"); from then on it guards what it taught."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETS = sorted((ROOT / "tests" / "advice").glob("*.jsonl"))

sys.path.insert(0, str(ROOT / "scripts"))
import advice_score  # noqa: E402


@pytest.fixture(scope="module")
def known(engine):
    return set(engine.catalogue.actions)


@pytest.mark.parametrize("path", SETS, ids=[p.stem for p in SETS])
def test_every_labelled_state_gets_what_its_writer_expects(engine, known, path):
    result = advice_score.score(engine, advice_score.read_cases(path, known))
    failures = [
        f"{case['id']}: missing {missing}, wrongly {wrong}"
        for case, missing, wrong, _ in result.failures
    ]
    assert failures == []
    assert result.cases >= 40


def test_the_sets_cover_every_stage_and_expect_every_action(known):
    cases = [case for path in SETS for case in advice_score.read_cases(path, known)]
    assert {c["state"]["stage"] for c in cases} == {
        "closing",
        "after",
        "offer",
        "rejected",
        "next_round",
    }
    assert {a for c in cases for a in c["must"]} == known


def _write(tmp_path, *cases) -> Path:
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in cases) + "\n")
    return path


GOOD = {"id": "x-1", "state": {"stage": "offer"}, "must": ["decide-if-right"], "must_not": []}


@pytest.mark.parametrize(
    ("cases", "message"),
    [
        ([{**GOOD, "must": ["no-such-action"]}], "must names unknown actions"),
        ([{**GOOD, "must_not": ["decide-if-right"]}], "both in must and must_not"),
        ([GOOD, GOOD], "given twice"),
        ([{k: v for k, v in GOOD.items() if k != "must_not"}], "missing must_not"),
        ([{**GOOD, "first": "negotiate-honestly"}], "first must be one of must"),
    ],
    ids=["unknown action", "both lists", "id twice", "missing key", "first not expected"],
)
def test_a_malformed_set_is_refused_naming_the_line(tmp_path, known, cases, message):
    with pytest.raises(advice_score.CasesError, match=message) as error:
        advice_score.read_cases(_write(tmp_path, *cases), known)
    assert "set.jsonl:" in str(error.value)


def test_an_invalid_state_is_refused_not_scored(tmp_path, engine, known):
    path = _write(tmp_path, {**GOOD, "state": {"stage": "offer", "hours_since": -1}})
    with pytest.raises(advice_score.CasesError, match="invalid state"):
        advice_score.score(engine, advice_score.read_cases(path, known))


def test_the_score_counts_what_is_missing_and_what_is_wrongly_there(tmp_path, engine, known):
    path = _write(
        tmp_path,
        GOOD,
        {**GOOD, "id": "x-2", "must": ["follow-up"], "must_not": ["negotiate-honestly"]},
    )
    result = advice_score.score(engine, advice_score.read_cases(path, known))
    assert (result.cases, result.passed) == (2, 1)
    assert result.missed == {"follow-up": 1}
    assert result.wrongly == {"negotiate-honestly": 1}
    assert result.summary()["must_recall"] == 0.5


def test_first_holds_only_when_that_action_comes_first(tmp_path, engine, known):
    state = {"stage": "after", "hours_since": 0.5, "via_agency": True}
    order = [a.action.id for a in engine.evaluate(advice_score.InterviewState.parse(state)).actions]
    path = _write(
        tmp_path,
        {"id": "x-1", "state": state, "must": order[:2], "must_not": [], "first": order[0]},
        {"id": "x-2", "state": state, "must": order[:2], "must_not": [], "first": order[1]},
    )
    result = advice_score.score(engine, advice_score.read_cases(path, known))
    assert (result.passed, result.first, result.first_found) == (1, 2, 1)
    assert [case["id"] for case, *_ in result.failures] == ["x-2"]
