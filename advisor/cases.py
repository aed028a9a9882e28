"""Case tables: named interview states and the advice they must (not) get.

Each rule file ``rules/NAME.yaml`` has a sibling ``rules/NAME.cases.yaml``::

    cases:
      - name: thank-you still due at 23 h
        state: {stage: after, hours_since: 23}
        expect: [send-thank-you]        # actions that must be recommended
        forbid: [follow-up]             # actions that must not be
        avoid: [drink-straight-after]   # rejected advice that must be listed
        not_avoid: [chase-constantly]   # rejected advice that must not be
        order: [call-recruiter, take-time-out]   # these actions, in this order
        variant: {send-thank-you: late} # the wording an action must carry ("general": its own)
        because: {send-thank-you: "23 hours ago"}  # words its `because` must hold
        cites: {follow-up: [gonzales]}  # sources an action must cite
        instead: {chase-constantly: [follow-up]}  # exactly the `instead` of a listed item
        upcoming: [{reflect: 14}, {follow-up: 118}]  # exactly the upcoming actions, in
                                        # order, each with its starts_in_hours ([] for none)

      - name: closing with time since the interview is refused
        state: {stage: closing, hours_since: 2}
        refused: hours_since            # the state must be refused (422), naming this field

Everything but `name` and `state` is optional. Beyond what a case states,
every answer must keep the rules' promises: each action's window holds the
time of the request, the rules behind one action chose the same wording,
each `instead` names only actions of the same answer, and the upcoming
actions start later, in order, and are not among the actions due now.

`run_cases` evaluates every case and reports failures and which rules no case
made fire (coverage).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from marshmallow import Schema, ValidationError, fields, validate

from ._data import DataError, describe_errors, did_you_mean, flatten_errors, load_yaml
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


def _ids():
    return fields.List(fields.String(), load_default=list)


def _by_id(values):
    return fields.Dict(keys=fields.String(), values=values, load_default=dict)


class _CaseSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1))
    state = fields.Dict(required=True)
    expect = _ids()
    forbid = _ids()
    avoid = _ids()
    not_avoid = _ids()
    order = _ids()
    variant = _by_id(fields.String())
    because = _by_id(fields.String())
    cites = _by_id(fields.List(fields.String()))
    instead = _by_id(fields.List(fields.String()))
    refused = fields.String(load_default=None)
    upcoming = fields.List(
        fields.Dict(keys=fields.String(), values=fields.Float(), validate=validate.Length(equal=1)),
        load_default=None,
    )


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
    not_avoid: tuple[str, ...] = ()
    order: tuple[str, ...] = ()
    variant: dict = field(default_factory=dict)
    because: dict = field(default_factory=dict)
    cites: dict = field(default_factory=dict)
    instead: dict = field(default_factory=dict)
    refused: str | None = None
    upcoming: list | None = None

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
        if not path.exists():
            raise DataError(
                f"{path}: no such file: each rule file has its table of cases beside it "
                f"({rule_file.name}: {path.name}, with at least one case)"
            )
        for raw in load_yaml(path, _CasesFileSchema())["cases"]:
            lists = ("expect", "forbid", "avoid", "not_avoid", "order")
            cases.append(
                Case(
                    file=path.name,
                    **{k: tuple(v) if k in lists else v for k, v in raw.items()},
                )
            )
    return cases


#: Facts hold hours to four decimals; windows are exact.
SLACK_HOURS = 0.001


def _refused(case: Case) -> CaseResult:
    try:
        InterviewState.parse(case.state)
    except ValidationError as error:
        fields_named = flatten_errors(error.messages)
        if case.refused in fields_named:
            return CaseResult(case, (), ())
        return CaseResult(case, (f"refused, but naming {sorted(fields_named)}",), ())
    return CaseResult(case, (f"expected the state to be refused naming {case.refused}",), ())


def _promises(engine: Engine, advice, hours: float) -> list[str]:
    """What every answer must keep, whatever the case says."""
    problems = []
    recommended = {a.action.id for a in advice.actions}
    for item in advice.actions:
        end = item.end_hours
        if item.start_hours > hours + SLACK_HOURS or (
            end is not None and end < hours - SLACK_HOURS
        ):
            problems.append(f"{item.action.id}: its window does not hold now")
        chosen = {engine.rulebook.rules[r].variant for r in item.rules}
        if len(chosen) > 1:
            problems.append(f"{item.action.id}: its rules chose different wordings")
    for item in advice.avoid:
        if not item.instead or not set(item.instead) <= recommended:
            problems.append(f"{item.rejected.id}: instead names actions not recommended")
    starts = [item.starts_in_hours for item in advice.upcoming]
    if any(s <= 0 for s in starts) or starts != sorted(starts):
        problems.append(f"upcoming actions must start later, in order: {starts}")
    problems += [
        f"{item.action.id}: both due now and upcoming"
        for item in advice.upcoming
        if item.action.id in recommended
    ]
    return problems


def run_case(engine: Engine, case: Case) -> CaseResult:
    """Evaluate one case; its problems are empty when the advice is as expected."""
    if case.refused:
        return _refused(case)
    try:
        state = InterviewState.parse(case.state)
    except ValidationError as error:
        return CaseResult(case, (f"its state is refused: {describe_errors(error)}",), ())
    advice = engine.evaluate(state)
    actions = {a.action.id: a for a in advice.actions}
    avoided = {a.rejected.id: a for a in advice.avoid}
    problems = [f"expected {a}" for a in case.expect if a not in actions]
    problems += [f"forbidden {a} was recommended" for a in case.forbid if a in actions]
    problems += [f"expected to avoid {r}" for r in case.avoid if r not in avoided]
    problems += [f"{r} should not be listed to avoid" for r in case.not_avoid if r in avoided]
    listed = [a.action.id for a in advice.actions if a.action.id in case.order]
    if listed != list(case.order):
        problems.append(f"expected the order {list(case.order)}, got {listed}")
    for action_id, variant in case.variant.items():
        got = actions[action_id].variant or "general" if action_id in actions else None
        if got != variant:
            problems.append(f"{action_id}: expected the wording {variant}, got {got}")
    for item_id, text in case.because.items():
        item = actions.get(item_id) or avoided.get(item_id)
        because = " ".join(item.because) if item else ""
        if text not in because:
            problems.append(f"{item_id}: because lacks {text!r}: {because!r}")
    for action_id, source_ids in case.cites.items():
        cited = {c.source.id for c in actions[action_id].sources} if action_id in actions else ()
        problems += [f"{action_id}: does not cite {s}" for s in source_ids if s not in cited]
    for rejected_id, instead in case.instead.items():
        got = list(avoided[rejected_id].instead) if rejected_id in avoided else None
        if got != instead:
            problems.append(f"{rejected_id}: expected instead {instead}, got {got}")
    if case.upcoming is not None:
        want = [next(iter(pair.items())) for pair in case.upcoming]
        got = [(u.action.id, round(u.starts_in_hours, 3)) for u in advice.upcoming]
        if [(a, round(h, 3)) for a, h in want] != got:
            problems.append(f"expected upcoming {want}, got {got}")
    known = set(engine.catalogue.actions)
    upcoming_ids = [next(iter(pair)) for pair in case.upcoming or ()]
    named = (*case.expect, *case.forbid, *case.order, *case.variant, *case.cites, *upcoming_ids)
    problems += [f"unknown action {a}{did_you_mean(a, known)}" for a in named if a not in known]
    problems += _promises(engine, advice, state.hours_since)
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
