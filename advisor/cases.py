"""Case tables: named interview states and the advice they must (not) get.

Each rule file ``rules/NAME.yaml`` has a sibling ``rules/NAME.cases.yaml``::

    cases:
      - name: thank-you still due at 23 h
        state: {stage: after, hours_since: 23}
        expect: [send-thank-you]        # actions that must be recommended
        forbid: [follow-up]             # actions that must not be
        avoid: [drink-straight-after]   # rejected advice that must be listed (optional)

`run_cases` evaluates every case and reports failures and which rules no case
made fire (coverage).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from marshmallow import Schema, fields, validate

from ._data import load_yaml
from .engine import Engine
from .rules import rule_files
from .state import InterviewState

__all__ = [
    "Case",
    "CaseResult",
    "CoverageReport",
    "load_cases",
    "run_cases",
    "run_moderation_cases",
]


class _CaseSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1))
    state = fields.Dict(required=True)
    expect = fields.List(fields.String(), load_default=list)
    forbid = fields.List(fields.String(), load_default=list)
    avoid = fields.List(fields.String(), load_default=list)


class _CasesFileSchema(Schema):
    cases = fields.List(fields.Nested(_CaseSchema), required=True, validate=validate.Length(1))


@dataclass(frozen=True)
class Case:
    file: str
    name: str
    state: dict
    expect: tuple[str, ...]
    forbid: tuple[str, ...]
    avoid: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.file}: {self.name}"


@dataclass(frozen=True)
class CaseResult:
    case: Case
    problems: tuple[str, ...]
    fired: tuple[str, ...]


@dataclass
class CoverageReport:
    results: list[CaseResult] = field(default_factory=list)
    unfired: list[str] = field(default_factory=list)
    never_expected: list[str] = field(default_factory=list)
    never_forbidden: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[CaseResult]:
        return [r for r in self.results if r.problems]

    @property
    def ok(self) -> bool:
        return not (self.failures or self.unfired or self.never_expected or self.never_forbidden)


def load_cases(rules_dir: Path) -> list[Case]:
    """Every case of every rule file's sibling table, in file order."""
    cases = []
    for rule_file in rule_files(rules_dir):
        path = rule_file.with_name(rule_file.stem + ".cases.yaml")
        for raw in load_yaml(path, _CasesFileSchema())["cases"]:
            cases.append(
                Case(
                    file=path.name,
                    name=raw["name"],
                    state=raw["state"],
                    expect=tuple(raw["expect"]),
                    forbid=tuple(raw["forbid"]),
                    avoid=tuple(raw["avoid"]),
                )
            )
    return cases


def run_case(engine: Engine, case: Case) -> CaseResult:
    """Evaluate one case; its problems are empty when the advice is as expected."""
    state = InterviewState.parse(case.state)
    advice = engine.evaluate(state)
    actions = {a.action.id for a in advice.actions}
    avoided = {a.rejected.id for a in advice.avoid}
    problems = [f"expected {a}" for a in case.expect if a not in actions]
    problems += [f"forbidden {a} was recommended" for a in case.forbid if a in actions]
    problems += [f"expected to avoid {r}" for r in case.avoid if r not in avoided]
    known = set(engine.catalogue.actions)
    problems += [f"unknown action {a}" for a in (*case.expect, *case.forbid) if a not in known]
    return CaseResult(case, tuple(problems), advice.fired)


def run_cases(engine: Engine, cases: list[Case]) -> CoverageReport:
    """Run `cases` and report failures and coverage of rules and actions."""
    report = CoverageReport([run_case(engine, case) for case in cases])
    fired = {rule for result in report.results for rule in result.fired}
    report.unfired = [r for r in engine.rulebook.rules if r not in fired]
    expected = {a for case in cases for a in case.expect}
    forbidden = {a for case in cases for a in case.forbid}
    report.never_expected = [a for a in engine.catalogue.actions if a not in expected]
    report.never_forbidden = [a for a in engine.catalogue.actions if a not in forbidden]
    return report


class _ModerationCaseSchema(Schema):
    name = fields.String(required=True)
    text = fields.String(required=True)
    flagged = fields.Boolean(required=True)
    categories = fields.List(fields.String())
    pair = fields.String()


class _ModerationCasesFileSchema(Schema):
    category = fields.String(required=True)
    cases = fields.List(fields.Nested(_ModerationCaseSchema), required=True)


def run_moderation_cases(engine: Engine, policy_dir: Path) -> tuple[int, list[str]]:
    """Run every ``rules/moderation/*.cases.yaml``; return the count and the failures."""
    count, failures = 0, []
    for path in sorted(policy_dir.glob("*.cases.yaml")):
        for case in load_yaml(path, _ModerationCasesFileSchema())["cases"]:
            count += 1
            verdict = engine.moderate(case["text"])
            wanted = case.get("categories")
            if verdict.flagged != case["flagged"] or (
                wanted is not None and list(verdict.categories) != wanted
            ):
                got = ", ".join(verdict.categories) or "not flagged"
                failures.append(f"{path.name}: {case['name']}: got {got}")
    return count, failures
