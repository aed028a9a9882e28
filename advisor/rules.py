"""Rule files: loading, validation and compilation into durable_rules.

A rule file in ``rules/`` holds data, not code::

    title: Right after the interview
    rules:
      - id: thank-you-same-day
        action: send-thank-you          # or `rejects: <rejected-advice id>`
        variant: today                  # optional: which wording of the action
        description: Thank the interviewers within a day.
        priority: 40                    # lower is more urgent
        window: {start: 0, end: day 1}  # when to act, in hours after the interview ended
        when:
          stage: after                  # equality
          hours_since: {lt: 24}         # lt, lte, gt, gte, not, in
          thank_you_sent: false
        because: "The interview ended {ended} and no thank-you has gone out yet."
        sources:                        # optional: the quotes the rule itself rests on
          - source: heat
            quote: "It’s a good idea to send a follow up within 24 hours …"

Action rules test the interview state (`advisor.state.FACT_FIELDS`). Reject
rules test which actions were recommended (``recommended: {any: [ids]}``)
and may test the ``stage``: each action rule asserts a recommendation fact,
carrying the stage, when it fires, and the engine chains from it to the
reject rules in the same session.

A window bound is a number of hours, ``now`` (the time of the request),
``grace`` (when the date the employer gave has surely passed, see
`InterviewState.grace_hours`) or ``day N`` (the start of the Nth day after the
interview's day, by the calendar when the clock is known), each optionally
``+ N`` hours; an open end is ``null``. The window of a recommended action
always holds the time of the request: a rule fires only while its window is
open.

``variant`` names one of the action's wording variants (``content/
guidance.yaml``): the rule, not the reader, chooses the words that fit the
situation. ``sources`` cite the articles a rule's own choices rest on (a
threshold, a grace period); a rule that uses the ``grace`` period must cite
the quote it rests on.

A `because` template may use ``{ended}`` (when the interview ended: "just
now", "two hours ago", "yesterday"), ``{decided_by}`` ("on the day of the
interview", "within three days of the interview") and ``{decision_passed}`` (when the stated date passed), both
only in rules that test ``decision_known: true``, and the counts
``{follow_ups_sent:follow-up}`` and ``{competing_offers:other offer}``, which
name their noun so that the plural agrees ("one follow-up", "two follow-ups").
"""

from __future__ import annotations

import bisect
import itertools
import operator
import re
import string
from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ._data import DataError, did_you_mean, digest_files, load_yaml
from ._durable import MAX_RULES
from .content import Catalogue, Citation, QuoteSchema, cite
from .state import FACT_FIELDS, MAX_HOURS, STAGES
from .wording import Count, ago, count

__all__ = [
    "Condition",
    "Regions",
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
_BOUND = re.compile(r"^\s*(now|grace|day\s+(\d+))\s*(?:\+\s*(\d+(?:\.\d+)?))?\s*$")
_BOUND_ERROR = "A bound is hours, 'now', 'grace' or 'day N', optionally '+ N' hours."
#: Counts a `because` template may use, each with the noun it counts.
TEMPLATE_COUNTS = ("follow_ups_sent", "competing_offers")
#: Phrases a `because` template may use; the decision ones need decision_known.
TEMPLATE_PHRASES = ("ended", "decided_by", "decision_passed")
DECISION_PHRASES = ("decided_by", "decision_passed")
#: The state fields a reject rule may test beside what was recommended.
REJECT_FIELDS = ("stage",)


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
    """A window bound: `base` (0, now, grace or the start of day `day`) plus `hours`."""

    base: str
    hours: float
    day: int = 0

    def resolve(self, state) -> float:
        if self.base == "now":
            return state.hours_since + self.hours
        if self.base == "grace":
            return state.grace_hours() + self.hours
        if self.base == "day":
            return state.day_start(self.day) + self.hours
        return self.hours


@dataclass(frozen=True)
class Window:
    start: Bound
    end: Bound | None

    def resolve(self, state) -> tuple[float, float | None]:
        start = self.start.resolve(state)
        end = None if self.end is None else max(start, self.end.resolve(state))
        return start, end

    @property
    def bases(self) -> set[str]:
        return {self.start.base} | ({self.end.base} if self.end else set())


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
    variant: str | None = None
    sources: tuple[Citation, ...] = ()

    def matches(self, fact: dict) -> bool:
        """Whether the rule's conditions hold, evaluated in Python (for explanations)."""
        return all(c.holds(fact) for c in self.conditions)

    @property
    def state_conditions(self) -> tuple[Condition, ...]:
        """The conditions on the interview state (for a reject rule: beside `recommended`)."""
        return tuple(c for c in self.conditions if c.field != "recommended")

    def explain(self, values: dict) -> str:
        """The `because` sentence filled with `template_values(state)`."""
        return self.because.format_map(values)

    @property
    def fixed_because(self) -> str | None:
        """The `because` sentence when its template names no value (so that every state
        gets the same), else None."""
        if any(name is not None for _, name, _, _ in string.Formatter().parse(self.because)):
            return None
        return self.because.format_map({})

    def to_durable(self) -> dict:
        kind = "state" if self.kind == "action" else "recommendation"
        compiled = {
            "when": {"$and": [{"kind": kind}, *(c.to_durable() for c in self.conditions)]},
            "priority": self.priority,
        }
        if self.kind == "action":
            compiled["then"] = {"kind": "recommendation", "recommended": self.target}
            compiled["carry"] = REJECT_FIELDS
        return compiled


@dataclass(frozen=True)
class RuleBook:
    """All rules, with the ruleset's version and a digest of the rule files."""

    version: str
    rules: dict[str, Rule]
    digest: str

    def compiled(self) -> dict[str, dict]:
        return {rule_id: rule.to_durable() for rule_id, rule in self.rules.items()}


class _FieldTruths:
    """The truths of every condition on one field, as one bit set per value.

    When every condition on the field compares it with a number, a number is
    placed among those thresholds (on one of them, or between two): every
    number in one place makes the same conditions true. Any other value is
    tested, and the bit sets of the first few values kept.
    """

    def __init__(self, tests: list[tuple[int, Any, Any]]):
        self._tests = tests
        #: The bits of every condition on the field.
        self.bits = sum(bit for bit, _, _ in tests)
        numbers = [v for _, _, v in tests if isinstance(v, int | float) and not isinstance(v, bool)]
        # Places among thresholds only when every condition compares with a number.
        self._points = sorted(set(numbers)) if len(numbers) == len(tests) else []
        points = self._points
        between = [points[0] - 1] if points else []
        for low, high in zip(points, points[1:], strict=False):
            between.append((low + high) / 2)
        if points:
            between.append(points[-1] + 1)
        # Place 2i is below points[i] (above points[i-1]); place 2i+1 is points[i].
        self._places = [self._test(v) for pair in zip(between, points, strict=False) for v in pair]
        if points:
            self._places.append(self._test(between[-1]))
        #: The bit sets of the values seen that are not placed among thresholds.
        self.kept: dict = {}

    def _test(self, value) -> int:
        return sum(bit for bit, test, wanted in self._tests if test(value, wanted))

    def __call__(self, value) -> int:
        if self._points and isinstance(value, int | float) and not isinstance(value, bool):
            return self.place(value)
        # Values equal as keys (1 and True) are equal to every test too.
        truths = self.kept.get(value) if isinstance(value, Hashable) else None
        if truths is None:
            truths = self._test(value)
            if isinstance(value, Hashable) and len(self.kept) < _KEPT_VALUES:
                self.kept[value] = truths
        return truths

    def place(self, number: float) -> int:
        """The bit set of a number, from its place among the thresholds."""
        index = bisect.bisect_left(self._points, number)
        on_point = index < len(self._points) and self._points[index] == number
        return self._places[2 * index + on_point]

    @property
    def by_number(self) -> bool:
        """Whether numbers are placed among thresholds."""
        return bool(self._points)


#: Values other than numbers whose truths a field keeps (its enum or bool values).
_KEPT_VALUES = 64
_ABSENT = object()
_NUMBERS = frozenset((int, float))
_SCALARS = frozenset((str, bool, int, float))
#: The types of the values a field's pairs are kept for (`Regions.of`), absence too.
_KEYED = _SCALARS | {type(None), type(_ABSENT)}


class Regions:
    """The regions of the state space that the rules' conditions cut.

    An action rule fires when all its conditions hold; a reject rule when one
    of its safe counterparts was recommended and its conditions on the state
    (the stage) hold. So which rules durable_rules fires for a fact depends
    only on which action rules' conditions all hold and which of the reject
    rules' state conditions hold: facts that agree on those lie in one region
    and the rules cannot tell them apart, however their hours, days or flags
    differ. `of(fact)` names the region as two bit sets. Worked out once per
    rule book, from its conditions alone.
    """

    def __init__(self, rulebook: RuleBook):
        conditions = list(
            dict.fromkeys(c for r in rulebook.rules.values() for c in r.state_conditions)
        )
        bit = {condition: 1 << index for index, condition in enumerate(conditions)}
        by_field: dict[str, list] = {}
        for c in conditions:
            by_field.setdefault(c.field, []).append((bit[c], _OPS[c.op][0], c.value))
        self._rules = tuple(
            sum(bit[c] for c in rule.conditions)
            for rule in rulebook.rules.values()
            if rule.kind == "action"
        )
        self._all = (1 << len(self._rules)) - 1
        # Per field: its truths and the action rules they rule out, as one pair per
        # place among its thresholds (fields compared with numbers only) and per value
        # met (filled as values come: a field has few), an absent field's first.
        self._fields = []
        for name, tests in by_field.items():
            truths = _FieldTruths(tests)
            pairs = [(held, self._ruled_out(truths, held)) for held in truths._places]
            self._fields.append(
                (
                    name,
                    truths,
                    truths._points if truths.by_number else None,
                    pairs,
                    {_ABSENT: (0, self._ruled_out(truths, 0))},  # absent: every test fails
                )
            )
        self._reject_tests = 0
        for rule in rulebook.rules.values():
            if rule.kind == "reject":
                self._reject_tests |= sum(bit[c] for c in rule.state_conditions)

    def of(self, fact: dict) -> tuple[int, int]:
        """The region `fact` lies in: the action rules whose conditions all hold, and
        the truths of the reject rules' conditions on the state."""
        truths = failing = 0
        for name, field_truths, points, pairs, known in self._fields:
            value = fact.get(name, _ABSENT)
            if points is not None and type(value) in _NUMBERS:
                # The pair of the number's place, as `_FieldTruths.place` finds it.
                index = bisect.bisect_left(points, value)
                pair = pairs[2 * index + (index < len(points) and points[index] == value)]
            else:
                pair = known.get(value) if type(value) in _KEYED else None
                if pair is None:
                    pair = self._pair(field_truths, known, value)
            truths |= pair[0]
            failing |= pair[1]
        return self._all & ~failing, truths & self._reject_tests

    def _pair(self, field_truths: _FieldTruths, known: dict, value) -> tuple[int, int]:
        """The truths of `value` and the action rules they rule out, kept for the next
        time it comes while the field has met few values."""
        held = field_truths(value)
        pair = (held, self._ruled_out(field_truths, held))
        if type(value) in _KEYED and len(known) < _KEPT_VALUES:
            known[value] = pair
        return pair

    def _ruled_out(self, field_truths: _FieldTruths, held: int) -> int:
        """The action rules with a condition on this field that `held` leaves false."""
        cut = field_truths.bits
        return sum(1 << index for index, needed in enumerate(self._rules) if needed & cut & ~held)

    def every(self) -> dict[tuple[int, int], dict]:
        """A fact in each region a valid state can lie in, by region.

        The fields are taken in groups of those one state decides together:
        the stage with the hours, the clock, the day (at stage ``closing`` no
        time has passed; without the clock the day is whole 24-hour periods,
        with it the day may be one more), the decision date and the hours past
        its grace (fewer than the hours since the interview); and each other
        field alone, every value of it that some condition tells apart.
        Regions are then combined group by group, keeping one fact per
        combination that can still differ in which rules fire. A few facts
        may be of no real state (a region too many costs one durable_rules
        session when the rules are prepared); a valid state's region is
        always among them.
        """
        fields = {name: truths for name, truths, *_ in self._fields}
        groups = [_time_group(fields)]
        for name, truths in fields.items():
            if name not in _GROUPED:
                groups.append({truths._test(v): {name: v} for v in _values(name, truths)})
        # For each combination so far: the action rules not yet ruled out and
        # the truths of the reject rules' conditions, with one fact for it.
        rules = self._rules
        combined: dict[tuple[int, int], dict] = {((1 << len(rules)) - 1, 0): {}}
        for group in groups:
            cut = 0
            for truths in group:
                cut |= truths
            failing = {
                truths: sum(
                    1 << index for index, needed in enumerate(rules) if needed & cut & ~truths
                )
                for truths in group
            }
            following: dict[tuple[int, int], dict] = {}
            for (alive, rejects), values in combined.items():
                for truths, more in group.items():
                    key = (alive & ~failing[truths], rejects | truths & self._reject_tests)
                    if key not in following:
                        following[key] = {**values, **more}
            combined = following
        regions = {}
        for values in combined.values():
            fact = {"kind": "state", **{k: v for k, v in values.items() if v is not _ABSENT}}
            regions.setdefault(self.of(fact), fact)
        return regions


#: The fields `Regions.every` takes together, as one state decides them.
_GROUPED = frozenset(
    ("stage", "hours_since", "clock_known", "day", "decision_known", "hours_past_grace")
)


def _values(name: str, truths: _FieldTruths, among=None) -> list:
    """Values of field `name` for each set of its conditions' truths (one value each)."""
    kind = FACT_FIELDS[name]
    if kind[0] == "bool":
        values = [True, False]
    elif kind[0] == "enum":
        values = list(kind[1])
    else:
        values = _numbers(truths._points) if among is None else among
    chosen: dict[int, Any] = {}
    for value in values:
        chosen.setdefault(truths._test(value), value)
    return list(chosen.values())


def _numbers(points: list) -> list:
    """A number in each place among `points` (on each, and between and beyond them)."""
    if not points:
        return [0]
    numbers = [points[0] - 1, points[-1] + 1]
    for low, high in zip(points, points[1:], strict=False):
        numbers += [low, (low + high) / 2]
    return sorted({*numbers, points[-1]})


def _time_group(fields: dict) -> dict[int, dict]:
    """The stage, hours, clock, day, decision date and hours past its grace of every
    kind of state, by their truths."""
    nothing = _FieldTruths([])

    def truths(name):
        return fields.get(name, nothing)

    hours_points = list(truths("hours_since")._points)
    # Without the clock the day changes every 24 hours: cut there too.
    for day in truths("day")._points:
        hours_points += [24 * day, 24 * (day + 1)]
    hours = [h for h in _numbers(sorted(set(hours_points))) if 0 <= h <= MAX_HOURS] or [0]
    # No decision date, or one whose grace ended some hours ago (or is still to end):
    # the grace ends after the interview, so fewer hours past it than since it.
    graces = _numbers(truths("hours_past_grace")._points)
    group: dict[int, dict] = {}
    for stage in STAGES:
        for value in [0] if stage == "closing" else hours:
            whole_days = int(value // 24)
            decisions = [(False, _ABSENT)] + [(True, g) for g in graces if g < value]
            for clock, days in ((False, [whole_days]), (True, [whole_days, whole_days + 1])):
                for day in days if value else [0]:
                    for known, grace in decisions:
                        values = {
                            "stage": stage,
                            "hours_since": value,
                            "clock_known": clock,
                            "day": day,
                            "decision_known": known,
                            "hours_past_grace": grace,
                        }
                        bits = sum(
                            truths(k)._test(v)
                            for k, v in values.items()
                            if k in fields and v is not _ABSENT
                        )
                        group.setdefault(bits, values)
    return group


def words(value) -> str:
    """A fact value as a reader would write it: true, 2.5, after, a, b."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{round(value, 1):g}"
    if isinstance(value, list | tuple):
        return ", ".join(map(words, value))
    return str(value)


def _decided_by(state) -> str:
    """When the decision was promised, from the interview (not from now: read days
    later, a same-day promise is not "today")."""
    days = _decision_days(state)
    if days == 0:
        return "on the day of the interview"
    return f"within {count(days, 'day')} of the interview"


def _decision_passed(state) -> str:
    _decision_days(state)
    return ago(state.hours_since - state.decision_hours(), state.days_past_decision())


def _decision_days(state) -> int:
    days = state.decision_expected_in_days
    if days is None:  # rules that use the date test decision_known: true
        raise KeyError("no decision date was given")
    return days


#: How each name a `because` template may use is put in words.
_TEMPLATE_VALUES = {
    "ended": lambda state: ago(state.hours_since, state.day if state.clock_known else None),
    **{name: (lambda state, name=name: Count(getattr(state, name))) for name in TEMPLATE_COUNTS},
    "decided_by": _decided_by,
    "decision_passed": _decision_passed,
}


class _TemplateValues(dict):
    """The names of `template_values`, each put in words when a template first uses it."""

    def __init__(self, state):
        super().__init__()
        self._state = state

    def __missing__(self, name: str):
        value = self[name] = _TEMPLATE_VALUES[name](self._state)
        return value


def template_values(state) -> dict:
    """The names a `because` template may use, as words (worked out as they are used)."""
    return _TemplateValues(state)


class _BoundField(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ValidationError(_BOUND_ERROR)
        if isinstance(value, int | float):
            if value < 0:
                raise ValidationError("Hours must be ≥ 0.")
            return Bound("start", float(value))
        match = _BOUND.match(value) if isinstance(value, str) else None
        if not match:
            raise ValidationError(_BOUND_ERROR)
        base = "day" if match[2] is not None else match[1]
        return Bound(base, float(match[3] or 0), int(match[2] or 0))


class _WindowSchema(Schema):
    start = _BoundField(required=True)
    end = _BoundField(required=True, allow_none=True)


class _RuleSchema(Schema):
    id = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9-]*$"))
    action = fields.String()
    rejects = fields.String()
    variant = fields.String()
    description = fields.String(required=True, validate=validate.Length(min=1))
    priority = fields.Integer(required=True, strict=True, validate=validate.Range(0, 999))
    window = fields.Nested(_WindowSchema, allow_none=True, load_default=None)
    when = fields.Dict(keys=fields.String(), required=True, validate=validate.Length(min=1))
    because = fields.String(required=True, validate=validate.Length(min=1))
    sources = fields.List(fields.Nested(QuoteSchema), load_default=list)

    @validates_schema
    def _one_target(self, data, **_):
        if ("action" in data) == ("rejects" in data):
            raise ValidationError("Give exactly one of action or rejects.", "action")
        if "action" in data and data.get("window") is None:
            raise ValidationError("An action rule needs a window.", "window")
        if "rejects" in data and "variant" in data:
            raise ValidationError("Only an action rule chooses a variant.", "variant")


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


def _field_conditions(name: str, spec, path: str) -> list[Condition]:
    """The conditions of one `when` entry on a fact field."""
    field_kind = FACT_FIELDS.get(name)
    if field_kind is None:
        raise ValidationError(
            f"{path}: unknown field{did_you_mean(name, FACT_FIELDS)} "
            f"(known: {', '.join(FACT_FIELDS)})"
        )
    conditions = []
    tests = spec if isinstance(spec, dict) else {"eq": spec}
    for op, value in tests.items():
        if op not in _OPS or op == "any":
            operators = [o for o in _OPS if o != "any"]
            raise ValidationError(
                f"{path}: unknown operator {op!r}{did_you_mean(str(op), operators)} "
                f"(known: {', '.join(operators)})"
            )
        if op in _NUMERIC and field_kind[0] != "number":
            raise ValidationError(f"{path}.{op}: {name} is not a number")
        values = value if op == "in" else [value]
        if op == "in" and not isinstance(value, list):
            raise ValidationError(f"{path}.in: needs a list")
        bad = [v for v in values if not _value_fits(field_kind, v)]
        if bad:
            raise ValidationError(
                f"{path}.{op}: {bad[0]!r} is not a valid {name}{_choices(field_kind, bad[0])}"
            )
        conditions.append(Condition(name, op, tuple(value) if op == "in" else value))
    if not _can_hold(conditions, field_kind):
        raise ValidationError(
            f"{path}: {' and '.join(c.describe() for c in conditions)} never hold together, "
            "so the rule could never fire"
        )
    return conditions


def _choices(kind: tuple, value) -> str:
    """What a field of choices takes, with the one closest to `value`."""
    if kind[0] != "enum":
        return ""
    return f"{did_you_mean(str(value), kind[1])} (one of: {', '.join(kind[1])})"


def _can_hold(conditions: list[Condition], kind: tuple) -> bool:
    """Whether some value of one field meets all of `conditions`, its tests in one `when`
    entry (``{gte: 10, lt: 5}`` never does): between and beside the numbers the tests
    name, every region of a number field is tried once."""
    if kind[0] == "bool":
        candidates = [True, False]
    elif kind[0] == "number":
        points = sorted({v for c in conditions for v in (c.value if c.op == "in" else [c.value])})
        if not points:  # `in: []`
            return False
        between = [(a + b) / 2 for a, b in itertools.pairwise(points)]
        candidates = [*points, *between, points[0] - 1, points[-1] + 1]
    else:
        candidates = list(kind[1])
    field = conditions[0].field
    return any(all(c.holds({field: value}) for c in conditions) for value in candidates)


def _conditions(when: dict, kind: str, allowed: set[str]) -> tuple[Condition, ...]:
    conditions = []
    if kind == "reject":
        spec = when.get("recommended")
        if not isinstance(spec, dict) or set(spec) != {"any"}:
            raise ValidationError("when.recommended: reject rules test 'recommended: {any: [...]}'")
        unknown = [a for a in spec["any"] if a not in allowed]
        if not spec["any"] or unknown:
            raise ValidationError(f"when.recommended.any: unknown or no action ids {unknown}")
        conditions.append(Condition("recommended", "any", tuple(spec["any"])))
        others = [name for name in when if name != "recommended"]
        stray = [name for name in others if name not in REJECT_FIELDS]
        if stray:
            raise ValidationError(
                f"when.{stray[0]}: reject rules test only recommended and "
                f"{', '.join(REJECT_FIELDS)}"
            )
        for name in others:
            conditions += _field_conditions(name, when[name], f"when.{name}")
        return tuple(conditions)
    for name, spec in when.items():
        conditions += _field_conditions(name, spec, f"when.{name}")
    return tuple(conditions)


def _check_because(because: str, decided: bool) -> None:
    for _, name, spec, _ in string.Formatter().parse(because):
        if not name:
            continue
        if name in TEMPLATE_COUNTS:
            if not spec:
                raise ValidationError(
                    f"because: {{{name}}} needs the noun it counts, e.g. {{{name}:offer}}"
                )
        elif name not in TEMPLATE_PHRASES:
            raise ValidationError(
                f"because: unknown name {name!r} "
                f"(known: {', '.join((*TEMPLATE_PHRASES, *TEMPLATE_COUNTS))})"
            )
        elif spec:
            raise ValidationError(f"because: {{{name}}} takes no format")
        elif name in DECISION_PHRASES and not decided:
            raise ValidationError(f"because: {{{name}}} needs decision_known: true")


def _build_rule(raw: dict, file: str, catalogue: Catalogue) -> Rule:
    kind = "action" if "action" in raw else "reject"
    target = raw.get("action") or raw["rejects"]
    known = catalogue.actions if kind == "action" else catalogue.rejected
    if target not in known:
        raise ValidationError(
            f"{'action' if kind == 'action' else 'rejects'}: unknown id {target!r}"
            f"{did_you_mean(target, known)}"
        )
    variant = raw.get("variant")
    if variant is not None:
        variants = [v.id for v in known[target].variants]
        if variant not in variants:
            raise ValidationError(
                f"variant: {target} has no variant {variant!r}{did_you_mean(variant, variants)}"
            )
    conditions = _conditions(raw["when"], kind, set(catalogue.actions))
    tested = {c.field: c for c in conditions}
    window = raw.get("window")
    window = Window(window["start"], window["end"]) if window else None
    decided_test = tested.get("decision_known")
    decided = bool(decided_test and decided_test.op == "eq" and decided_test.value is True)
    uses_grace = "hours_past_grace" in tested or (window is not None and "grace" in window.bases)
    if uses_grace and not decided:
        raise ValidationError("when: a rule using the grace period must test decision_known: true")
    if uses_grace and not raw["sources"]:
        raise ValidationError("sources: a rule using the grace period must cite what it rests on")
    _check_because(raw["because"], decided)
    return Rule(
        id=raw["id"],
        kind=kind,
        target=target,
        description=raw["description"],
        priority=raw["priority"],
        window=window,
        conditions=conditions,
        because=raw["because"],
        file=file,
        variant=variant,
        sources=cite(raw["sources"], "", catalogue.sources),
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
            except (ValidationError, DataError) as error:
                message = error.messages[0] if isinstance(error, ValidationError) else error
                raise DataError(f"{path}: rules.{index} ({raw['id']}): {message}") from error
            if rule.id in rules:
                raise DataError(
                    f"{path}: rules.{index}: id {rule.id} is also in {rules[rule.id].file}"
                )
            rules[rule.id] = rule
    if len(rules) >= MAX_RULES:  # the engine's catch-all rule takes the last place
        raise DataError(
            f"{rules_dir}: {len(rules)} rules, but at most {MAX_RULES - 1} fit in the rules "
            "engine: combine rules that recommend the same action with the same window "
            "(a test with `in: [...]`), or remove one"
        )
    covered = Counter(r.target for r in rules.values())
    missing = [a for a in catalogue.actions if not covered[a]]
    missing += [r for r in catalogue.rejected if not covered[r]]
    if missing:
        raise DataError(f"{rules_dir}: no rule recommends or rejects {', '.join(missing)}")
    chosen = {(r.target, r.variant) for r in rules.values()}
    unused = [
        f"{action.id}/{variant.id}"
        for action in catalogue.actions.values()
        for variant in action.variants
        if (action.id, variant.id) not in chosen
    ]
    if unused:
        raise DataError(f"{rules_dir}: no rule uses the variants {', '.join(unused)}")
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
