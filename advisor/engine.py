"""The advice engine: rules and content loaded, compiled and evaluated.

`Engine.load(rules_dir, content_dir)` reads and checks everything, compiles
the rules into durable_rules and runs the content gate; `Engine.evaluate`
turns an interview state into `Advice`. Nothing here imports Flask.
"""

from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from ._data import DataError, collector_paused
from ._durable import RuleSession
from .content import Action, Catalogue, Citation, RejectedAdvice, load_catalogue
from .moderation import Moderator, Verdict, content_gate
from .rules import Regions, Rule, RuleBook, Window, load_rulebook, template_values, words
from .state import InterviewState, assembled, to_fact
from .upcoming import Forecast, Upcoming

__all__ = [
    "ActionAdvice",
    "Advice",
    "AvoidAdvice",
    "Engine",
    "MemoInfo",
    "PlanVerdict",
    "RuleTrace",
    "prepare_regions",
]


@dataclass(frozen=True)
class ActionAdvice:
    """A recommended action, with when to do it and why, in the words that fit.

    `title`, `detail` and `sources` are the wording the most urgent of its
    rules chose (`variant`; None for the action's own words).
    """

    action: Action
    priority: int
    start_hours: float
    end_hours: float | None
    due: datetime | None
    because: tuple[str, ...]
    rules: tuple[str, ...]
    variant: str | None
    title: str
    detail: str
    sources: tuple[Citation, ...]


@dataclass(frozen=True)
class AvoidAdvice:
    """Rejected advice whose safe counterpart is among the actions.

    `instead` holds only the safe counterparts recommended in the same answer.
    """

    rejected: RejectedAdvice
    because: tuple[str, ...]
    rules: tuple[str, ...]
    instead: tuple[str, ...]


@dataclass(frozen=True)
class PlanVerdict:
    """The verdict on one of the candidate's own plans.

    `instead` holds the safe alternatives the verdict names that are also
    recommended in the same answer (a rejected candidate is not told to
    follow up instead of harassing).
    """

    text: str
    verdict: Verdict
    instead: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleTrace:
    """How one rule fared for a state: fired, or the first condition that failed."""

    rule: Rule
    fired: bool
    because: str | None
    failed: str | None


@dataclass(frozen=True)
class Advice:
    version: str
    digest: str
    actions: tuple[ActionAdvice, ...]
    avoid: tuple[AvoidAdvice, ...]
    plans: tuple[PlanVerdict, ...]
    fired: tuple[str, ...]
    #: The actions that will become due later, in the order they start (`advisor.upcoming`).
    upcoming: tuple[Upcoming, ...] = ()


#: Regions of the state space whose outcome is remembered; each holds a short
#: tuple of rule ids and what an answer needs of them.
MEMO_SIZE = 4096


#: The rules durable_rules fired for every region of a rule book, by the rule
#: book's digest (`prepare_regions`); the most recent few rule books are kept.
_PREPARED: dict[str, dict[tuple[int, int], tuple[str, ...]]] = {}
_PREPARED_KEPT = 3
_prepared_lock = threading.Lock()


def prepare_regions(rulebook: RuleBook) -> int:
    """Ask durable_rules once for each region of the state space `rulebook`'s
    conditions cut, and keep what it fired for this process (and the workers it
    forks); return the number of regions.

    Every engine of this process on a rule book with the same digest then
    answers any state from these outcomes, with durable_rules run for none.
    Done once per digest: the gunicorn master does it before forking its
    workers, at start and on each reload.
    """
    with _prepared_lock:
        if rulebook.digest in _PREPARED:
            return len(_PREPARED[rulebook.digest])
    session = RuleSession(rulebook.compiled())
    try:
        fired = {
            region: tuple(session.evaluate(fact))
            for region, fact in Regions(rulebook).every().items()
        }
    finally:
        session.close()
    with _prepared_lock:
        _PREPARED[rulebook.digest] = fired
        while len(_PREPARED) > _PREPARED_KEPT:
            _PREPARED.pop(next(iter(_PREPARED)))
    return len(fired)


class MemoInfo(NamedTuple):
    """How many rule outcomes the engine may remember, and how many it holds."""

    maxsize: int
    currsize: int


def _sort_key(item: ActionAdvice):
    end = math.inf if item.end_hours is None else item.end_hours
    return (item.priority, end, item.action.id)


class Engine:
    """Rules and content, compiled once, evaluated for any number of states."""

    def __init__(
        self,
        catalogue: Catalogue,
        rulebook: RuleBook,
        moderator: Moderator,
        memo_size: int = MEMO_SIZE,
    ):
        self.catalogue = catalogue
        self.rulebook = rulebook
        self.moderator = moderator
        self.version = rulebook.version
        combined = f"{rulebook.digest}:{catalogue.digest}:{moderator.digest}"
        self.digest = "sha256:" + hashlib.sha256(combined.encode()).hexdigest()
        self._session = RuleSession(rulebook.compiled())
        self._regions = Regions(rulebook)
        self._forecast = Forecast(rulebook, memo_size)
        self._order = {rule_id: index for index, rule_id in enumerate(rulebook.rules)}
        # A region's outcome: the rules durable_rules fired for it and what an
        # answer needs of them, worked out once (see `Regions`). A new Engine (a
        # reload) starts with an empty memo.
        self._memo: dict[tuple[int, int], _Outcome] = {}
        self._memo_size = memo_size
        self._memo_lock = threading.Lock()
        # Every region's outcome, when `prepare_regions` has asked durable_rules
        # about this rule book: built once here, each distinct set of fired
        # rules once. Regions outside it (none are expected) use the memo.
        self._prepared: dict[tuple[int, int], _Outcome] = {}
        if memo_size:
            with _prepared_lock:
                prepared = _PREPARED.get(rulebook.digest, {})
            outcomes: dict[tuple[str, ...], _Outcome] = {}
            for region, fired in prepared.items():
                if fired not in outcomes:
                    outcomes[fired] = self._outcome_of(fired)
                self._prepared[region] = outcomes[fired]

    @classmethod
    def load(cls, rules_dir: Path, content_dir: Path, memo_size: int = MEMO_SIZE) -> Engine:
        """Load, check and compile; raise DataError naming the file and field."""
        with collector_paused():
            return cls._load(rules_dir, content_dir, memo_size)

    @classmethod
    def _load(cls, rules_dir: Path, content_dir: Path, memo_size: int) -> Engine:
        catalogue = load_catalogue(content_dir)
        rulebook = load_rulebook(rules_dir, catalogue)
        rejected = _rejected_records(catalogue)
        moderator = Moderator.load(rules_dir / "moderation", rejected)
        problems = content_gate(
            moderator,
            [
                {"id": f"{a.id}/{w.id}" if w.id else a.id, "title": w.title, "detail": w.detail}
                for a in catalogue.actions.values()
                for w in (a.wording(), *a.variants)
            ],
            rejected,
            {s.id: s.text for s in catalogue.sources.values()},
            list(
                dict.fromkeys(
                    c.quote
                    for a in catalogue.actions.values()
                    for w in (a.wording(), *a.variants)
                    for c in w.sources
                    if c.source.nature == "satirical"
                )
            ),
        )
        if problems:
            raise DataError("content gate: " + "; ".join(problems))
        return cls(catalogue, rulebook, moderator, memo_size)

    def evaluate(self, state: InterviewState) -> Advice:
        """The advice for `state`: actions, what to avoid, a verdict per plan, and the
        actions that will become due later."""
        outcome = self._outcome(to_fact(state))
        values = template_values(state)
        actions = tuple(self._actions(state, outcome, values))
        upcoming = self._forecast.upcoming(
            state, outcome.recommended, self._state_outcome, self._actions
        )
        return assembled(
            Advice,
            {
                "version": self.version,
                "digest": self.digest,
                "actions": actions,
                "avoid": self._avoid(outcome, values),
                "plans": self._plans(state, outcome.recommended),
                "fired": outcome.fired,
                "upcoming": upcoming,
            },
        )

    def _state_outcome(self, state: InterviewState) -> _Outcome:
        return self._outcome(to_fact(state))

    def fire(self, state: InterviewState) -> tuple[str, ...]:
        """The ids of the rules `state` fires, in firing order (no answer built)."""
        return self._outcome(to_fact(state)).fired

    def _outcome(self, fact: dict) -> _Outcome:
        """The outcome of `fact`'s region, from the memo or from durable_rules."""
        key = self._regions.of(fact)
        outcome = self._prepared.get(key) or self._memo.get(key)
        if outcome is None:
            outcome = self._outcome_of(tuple(self._session.evaluate(fact)))
            if self._memo_size:
                with self._memo_lock:
                    if len(self._memo) >= self._memo_size:
                        self._memo.pop(next(iter(self._memo)), None)
                    self._memo[key] = outcome
        return outcome

    def memo_info(self) -> MemoInfo:
        """The size of the memo of rule outcomes, as `functools.lru_cache` reports its own."""
        return MemoInfo(self._memo_size, len(self._memo))

    def trace(self, state: InterviewState) -> list[RuleTrace]:
        """Every rule with whether it fired for `state` and, if not, why not.

        A reject rule that did not fire failed on its stage, or none of its
        safe counterparts was recommended.
        """
        fact = to_fact(state)
        values = template_values(state)
        fired = set(self._outcome(fact).fired)
        traces = []
        for rule in self.rulebook.rules.values():
            failed = None
            if rule.id not in fired:
                condition = next((c for c in rule.state_conditions if not c.holds(fact)), None)
                if condition is not None:
                    actual = fact.get(condition.field, "not known")
                    failed = (
                        f"{condition.describe()} does not hold: "
                        f"{condition.field} is {words(actual)}"
                    )
                else:
                    failed = f"{rule.conditions[0].describe()} does not hold: none is recommended"
            because = rule.explain(values) if rule.id in fired else None
            traces.append(RuleTrace(rule, rule.id in fired, because, failed))
        return traces

    def close(self) -> None:
        """Free the compiled rules; the engine must not be used afterwards."""
        self._session.close()

    def moderate(self, text: str) -> Verdict:
        return self.moderator.moderate(text)

    def _outcome_of(self, fired: tuple[str, ...]) -> _Outcome:
        """What an answer needs of the rules `fired`, whatever the state that fired them."""
        by_action: dict[str, list[Rule]] = {}
        by_rejected: dict[str, list[Rule]] = {}
        for rule_id in fired:
            rule = self.rulebook.rules[rule_id]
            target = by_action if rule.kind == "action" else by_rejected
            target.setdefault(rule.target, []).append(rule)
        actions = []
        for action_id, rules in by_action.items():
            action = self.catalogue.actions[action_id]
            # The most urgent rule (then the first written) chooses the words.
            chooser = min(rules, key=lambda r: (r.priority, self._order[r.id]))
            wording = action.wording(chooser.variant)
            priority = min(r.priority for r in rules)
            actions.append(
                _ActionOutcome(
                    action=action,
                    priority=priority,
                    windows=tuple(r.window for r in rules),
                    rules=tuple(rules),
                    fixed={
                        "action": action,
                        "priority": priority,
                        "rules": tuple(r.id for r in rules),
                        "variant": wording.id,
                        "title": wording.title,
                        "detail": wording.detail,
                        "sources": wording.sources,
                    },
                    because=_fixed_because(rules),
                )
            )
        # Actions of different priorities come in one order whatever the state: sorted
        # once here. Only those of equal priority are ordered by their windows' ends.
        ordered = len({a.priority for a in actions}) == len(actions)
        if ordered:
            actions.sort(key=lambda a: a.priority)
        avoid = []
        for rejected_id, rules in sorted(
            by_rejected.items(), key=lambda kv: (min(r.priority for r in kv[1]), kv[0])
        ):
            rejected = self.catalogue.rejected[rejected_id]
            avoid.append(
                _AvoidOutcome(
                    rejected=rejected,
                    rules=tuple(rules),
                    rule_ids=tuple(r.id for r in rules),
                    instead=tuple(a for a in rejected.instead if a in by_action),
                    because=_fixed_because(rules),
                )
            )
        return _Outcome(fired, tuple(actions), tuple(avoid), frozenset(by_action), ordered)

    def _avoid(self, outcome: _Outcome, values: dict) -> tuple[AvoidAdvice, ...]:
        return tuple(
            assembled(
                AvoidAdvice,
                {
                    "rejected": item.rejected,
                    "because": item.because or _reasons(item.rules, values),
                    "rules": item.rule_ids,
                    "instead": item.instead,
                },
            )
            for item in outcome.avoid
        )

    def _plans(self, state: InterviewState, recommended) -> tuple[PlanVerdict, ...]:
        plans = []
        for text in state.plans:
            verdict = self.moderator.moderate(text)
            named = dict.fromkeys(a for s in verdict.sentences if s.flagged for a in s.instead)
            plans.append(PlanVerdict(text, verdict, tuple(a for a in named if a in recommended)))
        return tuple(plans)

    def _actions(
        self, state: InterviewState, outcome: _Outcome, values: dict, known=()
    ) -> list[ActionAdvice]:
        """The actions of `outcome` for `state`, most urgent first, but those `known`
        (the answer's own actions, when the forecast asks for those it adds); `values`
        are `state`'s template values."""
        actions = []
        for item in outcome.actions:
            if item.action.id in known:
                continue
            if len(item.windows) == 1:  # most actions: one rule, one window, one reason
                start, end = item.windows[0].resolve(state)
            else:
                windows = [w.resolve(state) for w in item.windows]
                start = min(w[0] for w in windows)
                ends = [w[1] for w in windows]
                end = None if None in ends else max(ends)
            actions.append(
                assembled(
                    ActionAdvice,
                    item.fixed,
                    {
                        "start_hours": start,
                        "end_hours": end,
                        "due": state.at(end if end is not None else start),
                        "because": item.because or _reasons(item.rules, values),
                    },
                )
            )
        if not outcome.ordered:
            actions.sort(key=_sort_key)
        return actions


def _reasons(rules: tuple[Rule, ...], values: dict) -> tuple[str, ...]:
    """The `because` sentences of `rules` for a state of template values `values`, each once."""
    return tuple(dict.fromkeys(r.explain(values) for r in rules))


def _fixed_because(rules: list[Rule]) -> tuple[str, ...] | None:
    """`_reasons` of `rules`, when every state gets the same (else None)."""
    fixed = [r.fixed_because for r in rules]
    return None if None in fixed else tuple(dict.fromkeys(fixed))


class _ActionOutcome(NamedTuple):
    action: Action
    priority: int
    windows: tuple[Window, ...]
    rules: tuple[Rule, ...]
    #: The fields of its `ActionAdvice` that no state changes (its wording the most
    #: urgent rule's).
    fixed: dict
    #: Its reasons, when no state changes them (else None: worked out per state).
    because: tuple[str, ...] | None


class _AvoidOutcome(NamedTuple):
    rejected: RejectedAdvice
    rules: tuple[Rule, ...]
    rule_ids: tuple[str, ...]
    instead: tuple[str, ...]
    #: Its reasons, when no state changes them (else None: worked out per state).
    because: tuple[str, ...] | None


class _Outcome(NamedTuple):
    """The rules one region fires, grouped as an answer needs them."""

    fired: tuple[str, ...]
    #: In the answer's order when `ordered` (their priorities differ), else as fired.
    actions: tuple[_ActionOutcome, ...]
    avoid: tuple[_AvoidOutcome, ...]
    recommended: frozenset[str]
    ordered: bool


def _rejected_records(catalogue: Catalogue) -> list[dict]:
    return [
        {
            "id": r.id,
            "category": r.category,
            "advice": r.advice,
            "reason": r.reason,
            "instead": list(r.instead),
            "sources": [_citation_record(c) for c in r.sources],
        }
        for r in catalogue.rejected.values()
    ]


def _citation_record(citation: Citation) -> dict:
    return {"source": citation.source.id, "quote": citation.quote}
