"""Score the advice on labelled interview states: what must and must not be recommended.

Each input is JSON Lines, one labelled state per line::

    {"id": "a-01", "state": {...a request body of POST /v1/advice...},
     "must": [action ids], "must_not": [action ids], "first": action id (optional),
     "why": "..."}

A case passes when every action of ``must`` is recommended, none of
``must_not`` is, and, when ``first`` names one, that action comes first (the
answer lists the most urgent first). The figures: cases passed, the share of
``must`` actions recommended (recall), the share of ``must_not`` actions
recommended anyway (wrongly recommended), and how many ``first`` actions came
first. Where the rules deliberately answer otherwise than a writer, after the set
was scored, the writer's expectation is kept as ``writer_first``, ``writer_must``
or ``writer_must_not``, which are not scored (docs/rules.md says why for each). ``--misses`` lists each failing case with what was
missing or wrongly there; use it only on sets open for development, after their
blind figure is recorded.

    python scripts/advice_score.py tests/advice/*.jsonl
    python scripts/advice_score.py tests/advice/blind-a.jsonl --misses
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from labelled import LabelledError, read_labelled  # noqa: E402
from marshmallow import ValidationError  # noqa: E402

from advisor.config import Settings  # noqa: E402
from advisor.engine import Engine  # noqa: E402
from advisor.state import InterviewState  # noqa: E402

KEYS = ("id", "state", "must", "must_not")


#: A labelled file is malformed; the message names the file and line.
CasesError = LabelledError


@dataclass
class Score:
    """Counts over a labelled set."""

    cases: int = 0
    passed: int = 0
    must: int = 0
    must_found: int = 0
    must_not: int = 0
    must_not_found: int = 0
    first: int = 0
    first_found: int = 0
    missed: Counter = field(default_factory=Counter)
    wrongly: Counter = field(default_factory=Counter)
    failures: list = field(default_factory=list)

    def summary(self) -> dict:
        return {
            "cases": self.cases,
            "passed": self.passed,
            "pass_rate": round(self.passed / self.cases, 3) if self.cases else 1.0,
            "must_recall": round(self.must_found / self.must, 3) if self.must else 1.0,
            "wrongly_recommended": (
                round(self.must_not_found / self.must_not, 3) if self.must_not else 0.0
            ),
            "first_right": f"{self.first_found} of {self.first}",
            "missed_by_action": dict(self.missed.most_common()),
            "wrongly_by_action": dict(self.wrongly.most_common()),
        }


def read_cases(path: Path, known: set[str]) -> list[dict]:
    """The labelled states of `path`, checked: ids once, action ids known, lists disjoint."""
    cases = []
    for where, case in read_labelled(path, KEYS):
        for key in ("must", "must_not"):
            unknown = set(case[key]) - known
            if unknown:
                raise CasesError(f"{where}: {key} names unknown actions {sorted(unknown)}")
        if set(case["must"]) & set(case["must_not"]):
            raise CasesError(f"{where}: an action is both in must and must_not")
        first = case.setdefault("first", None)
        if first is not None and first not in case["must"]:
            raise CasesError(f"{where}: first must be one of must")
        case["_where"] = where
        cases.append(case)
    return cases


def score(engine: Engine, cases: list[dict]) -> Score:
    result = Score()
    for case in cases:
        try:
            state = InterviewState.parse(case["state"])
        except ValidationError as error:
            raise CasesError(f"{case['_where']}: invalid state {error.messages}") from None
        order = [a.action.id for a in engine.evaluate(state).actions]
        recommended = set(order)
        missing = [a for a in case["must"] if a not in recommended]
        wrong = [a for a in case["must_not"] if a in recommended]
        result.cases += 1
        result.must += len(case["must"])
        result.must_found += len(case["must"]) - len(missing)
        result.must_not += len(case["must_not"])
        result.must_not_found += len(wrong)
        result.missed.update(missing)
        result.wrongly.update(wrong)
        if case["first"] is not None:
            result.first += 1
            if order[:1] == [case["first"]]:
                result.first_found += 1
            elif case["first"] in recommended:  # else it is missing already
                wrong.append(f"{order[0]} before {case['first']}")
        result.passed += not missing and not wrong
        if missing or wrong:
            result.failures.append((case, missing, wrong, order))
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--misses", action="store_true", help="list the failing cases")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    settings = Settings()
    engine = Engine.load(settings.rules_dir, settings.content_dir)
    known = set(engine.catalogue.actions)
    try:
        cases = [case for path in args.files for case in read_cases(path, known)]
        result = score(engine, cases)
    except CasesError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    summary = result.summary()
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"{summary['cases']} states: {summary['passed']} passed ({summary['pass_rate']:.3f}); "
            f"must recall {summary['must_recall']:.3f} of {result.must}; "
            f"wrongly recommended {summary['wrongly_recommended']:.3f} of {result.must_not}; "
            f"first right {summary['first_right']}"
        )
        for title, counts in (("missed", result.missed), ("wrongly", result.wrongly)):
            if counts:
                print(f"  {title}: " + ", ".join(f"{a} {n}" for a, n in counts.most_common()))
    if args.misses:
        for case, missing, wrong, order in result.failures:
            print(f"--- {case['id']}: missing {missing}, wrongly {wrong}")
            print(f"    state {json.dumps(case['state'])}")
            print(f"    recommended, most urgent first: {order}")
            print(f"    why: {case.get('why', '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
