"""Rule files: loading, validation and compilation into durable_rules.

A rule file in ``rules/`` holds data, not code::

    title: Right after the interview
    rules:
      - id: thank-you-same-day
        action: send-thank-you          # or `rejects: <rejected-advice id>`
        description: Thank the interviewers within a day.
        priority: 40                    # lower is more urgent
        window: {start: 0, end: 24}     # hours after the interview ended
        when:
          stage: after                  # equality
          hours_since: {lt: 24}         # lt, lte, gt, gte, not, in
          thank_you_sent: false
        because: "It is {hours_since} h since the interview and no thank-you has gone out."

Action rules test the interview state (`advisor.state.FACT_FIELDS`). Reject
rules test which actions were recommended (``recommended: {any: [ids]}``):
each action rule asserts a recommendation fact when it fires, and the engine
chains from it to the reject rules in the same session. A window bound is a
number of hours, ``now`` or ``decision`` (the stated decision date), either
optionally ``+ N`` hours; an open end is ``null``.
"""

from __future__ import annotations

import operator
import re
import string
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ._data import DataError, digest_files, load_yaml
from .content import Catalogue
from .state import FACT_FIELDS

__all__ = [
    "Condition",
    "Rule",
    "RuleBook",
    "Window",
    "load_rulebook",
    "rule_files",
    "template_values",
    "words",
]

_OPS = {
    "eq": (operator.eq, "is"),
    "not": (operator.ne, "is not"),
    "lt": (operator.lt, "<"),
    "lte": (operator.le, "≤"),
    "gt": (operator.gt, ">"),
    "gte": (operator.ge, "≥"),
    "in": (lambda a, b: a in b, "is one of"),
    "any": (lambda a, b: a in b, "includes one of"),
}
_NUMERIC = {"lt", "lte", "gt", "gte"}
_BOUND = re.compile(r"^\s*(now|decision)\s*(?:\+\s*(\d+(?:\.\d+)?))?\s*$")
#: Names a `because` template may use, beside the fact fields.
TEMPLATE_NAMES = set(FACT_FIELDS) | {"days_since", "decision_days", "days_past_decision"}


@dataclass(frozen=True)
class Condition:
    """One test of one fact field."""

    field: str
    op: str
    value: Any

    def holds(self, fact: dict) -> bool:
        if self.field not in fact:
            return False
        return _OPS[self.op][0](fact[self.field], self.value)

    def describe(self) -> str:
        return f"{self.field} {_OPS[self.op][1]} {words(self.value)}"

    def to_durable(self) -> dict:
        if self.op == "eq":
            return {self.field: self.value}
        if self.op == "not":
            return {"$neq": {self.field: self.value}}
        if self.op in ("in", "any"):
            return {"$or": [{self.field: v} for v in self.value]}
        return {f"${self.op}": {self.field: self.value}}


@dataclass(frozen=True)
class Bound:
    """A window bound: `base` (0, now or the decision date) plus `hours`."""

    base: str
    hours: float

    def resolve(self, state) -> float:
        if self.base == "now":
            return state.hours_since + self.hours
        if self.base == "decision":
            return 24.0 * (state.decision_expected_in_days or 0) + self.hours
        return self.hours


@dataclass(frozen=True)
class Window:
    start: Bound
    end: Bound | None

    def resolve(self, state) -> tuple[float, float | None]:
        start = self.start.resolve(state)
        end = None if self.end is None else max(start, self.end.resolve(state))
        return start, end


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str  # "action" or "reject"
    target: str  # the action id, or the rejected-advice id
    description: str
    priority: int
    window: Window | None
    conditions: tuple[Condition, ...]
    because: str
    file: str

    def matches(self, fact: dict) -> bool:
        """Whether the rule's conditions hold, evaluated in Python (for explanations)."""
        return all(c.holds(fact) for c in self.conditions)

    def first_failure(self, fact: dict) -> Condition | None:
        return next((c for c in self.conditions if not c.holds(fact)), None)

    def explain(self, values: dict) -> str:
        """The `because` sentence filled with `template_values(fact, state)`."""
        return self.because.format_map(values)

    def to_durable(self) -> dict:
        kind = "state" if self.kind == "action" else "recommendation"
        compiled = {
            "when": {"$and": [{"kind": kind}, *(c.to_durable() for c in self.conditions)]},
            "priority": self.priority,
        }
        if self.kind == "action":
            compiled["then"] = {"kind": "recommendation", "recommended": self.target}
        return compiled


@dataclass(frozen=True)
class RuleBook:
    """All rules, with the ruleset's version and a digest of the rule files."""

    version: str
    rules: dict[str, Rule]
    digest: str

    def compiled(self) -> dict[str, dict]:
        return {rule_id: rule.to_durable() for rule_id, rule in self.rules.items()}


def words(value) -> str:
    """A fact value as a reader would write it: true, 2.5, after, a, b."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{round(value, 1):g}"
    if isinstance(value, list | tuple):
        return ", ".join(map(words, value))
    return str(value)


def template_values(fact: dict, state) -> dict:
    """The names a `because` template may use, as words."""
    values = {k: words(v) for k, v in fact.items()}
    values["days_since"] = words(state.hours_since / 24)
    if state.decision_expected_in_days is not None:
        values["decision_days"] = state.decision_expected_in_days
        values["days_past_decision"] = words(fact["hours_past_decision"] / 24)
    return values


class _BoundField(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ValidationError("A bound is hours, 'now', 'decision' or 'now + N'.")
        if isinstance(value, int | float):
            if value < 0:
                raise ValidationError("Hours must be ≥ 0.")
            return Bound("start", float(value))
        match = _BOUND.match(value) if isinstance(value, str) else None
        if not match:
            raise ValidationError("A bound is hours, 'now', 'decision' or 'now + N'.")
        return Bound(match[1], float(match[2] or 0))


class _WindowSchema(Schema):
    start = _BoundField(required=True)
    end = _BoundField(required=True, allow_none=True)


class _RuleSchema(Schema):
    id = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9-]*$"))
    action = fields.String()
    rejects = fields.String()
    description = fields.String(required=True, validate=validate.Length(min=1))
    priority = fields.Integer(required=True, strict=True, validate=validate.Range(0, 999))
    window = fields.Nested(_WindowSchema, allow_none=True, load_default=None)
    when = fields.Dict(keys=fields.String(), required=True, validate=validate.Length(min=1))
    because = fields.String(required=True, validate=validate.Length(min=1))

    @validates_schema
    def _one_target(self, data, **_):
        if ("action" in data) == ("rejects" in data):
            raise ValidationError("Give exactly one of action or rejects.", "action")
        if "action" in data and data.get("window") is None:
            raise ValidationError("An action rule needs a window.", "window")


class _RuleFileSchema(Schema):
    title = fields.String(required=True)
    rules = fields.List(fields.Nested(_RuleSchema), required=True, validate=validate.Length(1))


class _ManifestSchema(Schema):
    name = fields.String(required=True)
    version = fields.String(required=True, validate=validate.Length(min=1))
    description = fields.String(load_default="")


def _value_fits(kind: tuple, value) -> bool:
    if kind[0] == "bool":
        return isinstance(value, bool)
    if kind[0] == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return value in kind[1]


def _conditions(when: dict, kind: str, allowed: set[str]) -> tuple[Condition, ...]:
    conditions = []
    for name, spec in when.items():
        path = f"when.{name}"
        if kind == "reject":
            if name != "recommended" or not isinstance(spec, dict) or set(spec) != {"any"}:
                raise ValidationError(
                    f"{path}: reject rules test only 'recommended: {{any: [...]}}'"
                )
            unknown = [a for a in spec["any"] if a not in allowed]
            if not spec["any"] or unknown:
                raise ValidationError(f"{path}.any: unknown or no action ids {unknown}")
            conditions.append(Condition("recommended", "any", tuple(spec["any"])))
            continue
        field_kind = FACT_FIELDS.get(name)
        if field_kind is None:
            raise ValidationError(f"{path}: unknown field (known: {', '.join(FACT_FIELDS)})")
        tests = spec if isinstance(spec, dict) else {"eq": spec}
        for op, value in tests.items():
            if op not in _OPS or op == "any":
                raise ValidationError(f"{path}: unknown operator {op!r}")
            if op in _NUMERIC and field_kind[0] != "number":
                raise ValidationError(f"{path}.{op}: {name} is not a number")
            values = value if op == "in" else [value]
            if op == "in" and not isinstance(value, list):
                raise ValidationError(f"{path}.in: needs a list")
            bad = [v for v in values if not _value_fits(field_kind, v)]
            if bad:
                raise ValidationError(f"{path}.{op}: {bad[0]!r} is not a valid {name}")
            conditions.append(Condition(name, op, tuple(value) if op == "in" else value))
    return tuple(conditions)


def _build_rule(raw: dict, file: str, catalogue: Catalogue) -> Rule:
    kind = "action" if "action" in raw else "reject"
    target = raw.get("action") or raw["rejects"]
    known = catalogue.actions if kind == "action" else catalogue.rejected
    if target not in known:
        raise ValidationError(
            f"{'action' if kind == 'action' else 'rejects'}: unknown id {target!r}"
        )
    conditions = _conditions(raw["when"], kind, set(catalogue.actions))
    tested = {c.field: c for c in conditions}
    window = raw.get("window")
    uses_decision = "hours_past_decision" in tested or (
        window is not None
        and "decision" in (window["start"].base, getattr(window["end"], "base", ""))
    )
    decided = tested.get("decision_known")
    if uses_decision and not (decided and decided.op == "eq" and decided.value is True):
        raise ValidationError("when: a rule using the decision date must test decision_known: true")
    names = {n for _, n, _, _ in string.Formatter().parse(raw["because"]) if n}
    unknown = names - TEMPLATE_NAMES - ({"recommended"} if kind == "reject" else set())
    if unknown:
        raise ValidationError(f"because: unknown names {sorted(unknown)}")
    if "decision_days" in names or "days_past_decision" in names:
        if not uses_decision and not (decided and decided.value is True):
            raise ValidationError("because: decision names need decision_known: true")
    return Rule(
        id=raw["id"],
        kind=kind,
        target=target,
        description=raw["description"],
        priority=raw["priority"],
        window=Window(window["start"], window["end"]) if window else None,
        conditions=conditions,
        because=raw["because"],
        file=file,
    )


def rule_files(rules_dir: Path) -> list[Path]:
    """The rule files of `rules_dir` (not their case tables), in name order."""
    return sorted(
        p
        for p in rules_dir.glob("*.yaml")
        if not p.name.endswith(".cases.yaml") and p.name != "ruleset.yaml"
    )


def load_rulebook(rules_dir: Path, catalogue: Catalogue) -> RuleBook:
    """Load, validate and cross-check every rule file in `rules_dir`."""
    manifest = load_yaml(rules_dir / "ruleset.yaml", _ManifestSchema())
    rules: dict[str, Rule] = {}
    paths = rule_files(rules_dir)
    if not paths:
        raise DataError(f"{rules_dir}: no rule files")
    for path in paths:
        raw_file = load_yaml(path, _RuleFileSchema())
        for index, raw in enumerate(raw_file["rules"]):
            try:
                rule = _build_rule(raw, path.name, catalogue)
            except ValidationError as error:
                raise DataError(
                    f"{path}: rules.{index} ({raw['id']}): {error.messages[0]}"
                ) from error
            if rule.id in rules:
                raise DataError(
                    f"{path}: rules.{index}: id {rule.id} is also in {rules[rule.id].file}"
                )
            rules[rule.id] = rule
    covered = Counter(r.target for r in rules.values())
    missing = [a for a in catalogue.actions if not covered[a]]
    missing += [r for r in catalogue.rejected if not covered[r]]
    if missing:
        raise DataError(f"{rules_dir}: no rule recommends or rejects {', '.join(missing)}")
    for rule in rules.values():
        if rule.kind == "reject":
            instead = set(catalogue.rejected[rule.target].instead)
            stray = set(rule.conditions[0].value) - instead
            if stray:
                raise DataError(
                    f"{rules_dir / rule.file}: {rule.id}: {', '.join(sorted(stray))} "
                    f"is not a safe counterpart of {rule.target}"
                )
    files = [*paths, rules_dir / "ruleset.yaml"]
    return RuleBook(manifest["version"], rules, digest_files(files, rules_dir))
