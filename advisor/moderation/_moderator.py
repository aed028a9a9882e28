"""Moderating text: sentences, features, a durable_rules ruleset, verdicts.

For each sentence `Moderator.moderate` finds the word classes of the policy
(compiled regexes, one per class), applies negation, and asserts the
sentence as one fact (one boolean property per feature or stance present)
into a durable_rules ruleset with one rule per harm; the rules that fire
decide the sentence's categories.  Only a sentence holding a harm feature of
some category goes to the rules engine; the rest cannot be flagged.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .._durable import MAX_RULES, RuleSession
from ._features import Match, find_matches, in_sequence
from ._policy import CATEGORIES, Category, Harm, Policy, PolicyError, load_policy
from ._text import normalise, split_sentences

__all__ = ["Evidence", "Moderator", "SentenceVerdict", "Verdict"]

#: Fact properties of kinds the rules test.
_FACT_KINDS = ("harm", "context", "stance")
#: How many distinct facts to remember the rules' answer for.
_CACHE_SIZE = 4096


@dataclass(frozen=True)
class Evidence:
    """A span of the original text that triggered a feature (or defused one)."""

    start: int
    end: int
    text: str
    feature: str


@dataclass(frozen=True)
class SentenceVerdict:
    """The verdict on one sentence; offsets are into the original text."""

    text: str
    start: int
    end: int
    flagged: bool
    categories: tuple[str, ...]
    reason: str | None
    instead: tuple[str, ...]
    matched: str | None
    evidence: tuple[Evidence, ...]
    harms: tuple[str, ...] = ()  # "category/harm-id" of each harm found


@dataclass(frozen=True)
class Verdict:
    """The verdict on a text: flagged if any sentence is."""

    flagged: bool
    categories: tuple[str, ...]
    sentences: tuple[SentenceVerdict, ...]


@dataclass
class _Sentence:
    norm_start: int
    norm_end: int
    start: int
    end: int
    categories: frozenset[str] = frozenset()


class Moderator:
    """The compiled moderation policy."""

    def __init__(self, policy: Policy, rejected: Sequence[Mapping]):
        self.policy = policy
        self._rejected = {r["id"]: r for r in rejected}
        self._fallback_instead = {
            category: tuple(
                dict.fromkeys(a for r in rejected if r["category"] == category for a in r["instead"])
            )
            for category in CATEGORIES
        }
        self._harms: dict[str, Harm] = {
            harm.rule_id: harm for c in policy.categories.values() for harm in c.harms
        }
        self._sessions = _sessions(policy)
        self._cache: dict[tuple, tuple[str, ...]] = {}
        self._cache_lock = threading.Lock()
        self._stance_names = policy.of_kind("negation") + policy.of_kind("boundary")
        self._openers = policy.of_kind("opener")

    @classmethod
    def load(cls, policy_dir: Path, rejected: Sequence[Mapping]) -> Moderator:
        """Load and validate the policy in `policy_dir` and compile its rules.

        `rejected` is the catalogue of rejected advice (dicts with at least
        ``id``, ``category`` and ``instead``); each harm's ``matched`` must
        name an item of its own category.
        """
        policy = load_policy(Path(policy_dir))
        _check_matched(policy, rejected)
        return cls(policy, rejected)

    @property
    def digest(self) -> str:
        """The sha256 (hex) of the policy files."""
        return self.policy.digest

    def moderate(self, text: str) -> Verdict:
        """Split `text` into sentences and give each a verdict."""
        norm = normalise(text)
        sentences = [_Sentence(*span) for span in split_sentences(norm, text)]
        self._find_candidates(norm.text, sentences)
        verdicts = []
        for index, sentence in enumerate(sentences):
            previous = sentences[index - 1] if index else None
            verdicts.append(self._judge(text, norm, sentence, previous))
        flagged = tuple(v for v in verdicts if v.flagged)
        categories = {c for v in flagged for c in v.categories}
        return Verdict(
            flagged=bool(flagged),
            categories=tuple(c for c in CATEGORIES if c in categories),
            sentences=tuple(verdicts),
        )

    def _find_candidates(self, text: str, sentences: list[_Sentence]) -> None:
        """Mark the categories whose harms each sentence could hold."""
        prefilter = self.policy.prefilter
        present: list[set[str]] = [set() for _ in sentences]
        starts = [s.norm_start for s in sentences]
        for position, classes in prefilter.scan(text):
            index = bisect.bisect_right(starts, position) - 1
            if index >= 0 and position < sentences[index].norm_end:
                present[index].update(classes)
        # A sentence that opens by pointing back carries on the previous one.
        for index in range(len(sentences) - 1, 0, -1):
            if present[index - 1] and self._opens_carry(text, sentences[index]):
                present[index] |= present[index - 1]
        for sentence, classes in zip(sentences, present, strict=True):
            sentence.categories = prefilter.categories(classes)

    def _opens_carry(self, text: str, sentence: _Sentence) -> bool:
        segment = text[sentence.norm_start : sentence.norm_end]
        return any(self.policy.classes[n].regex.match(segment) for n in self._openers)

    def _judge(self, text, norm, sentence: _Sentence, previous: _Sentence | None):
        original = text[sentence.start : sentence.end]
        if not sentence.categories:
            return SentenceVerdict(original, sentence.start, sentence.end, False, (), None, (), None, ())
        categories = [self.policy.categories[c] for c in CATEGORIES if c in sentence.categories]
        names = dict.fromkeys(self._stance_names)
        for category in categories:
            names.update(dict.fromkeys(category.classes))
        matches = find_matches(
            self.policy, norm.text, sentence.norm_start, sentence.norm_end, names
        )
        if previous is not None and self._opens_carry(norm.text, sentence):
            matches = self._carried(norm.text, previous, categories) + matches
        fired = self._evaluate(categories, matches)
        evidence = self._evidence(text, norm, matches, fired)
        if not fired:
            return SentenceVerdict(
                original, sentence.start, sentence.end, False, (), None, (), None, evidence
            )
        harms = [self._harms[rule_id] for rule_id in fired]
        found = {h.category for h in harms}
        ordered = [c for c in CATEGORIES if c in found]
        harms.sort(key=lambda h: ordered.index(h.category))
        matched = next((h.matched for h in harms if h.matched), None)
        instead = []
        for harm in harms:
            instead.extend(
                self._rejected[harm.matched]["instead"]
                if harm.matched
                else self._fallback_instead[harm.category]
            )
        reasons = dict.fromkeys(h.reason for h in harms)
        return SentenceVerdict(
            text=original,
            start=sentence.start,
            end=sentence.end,
            flagged=True,
            categories=tuple(ordered),
            reason="; ".join(reasons),
            instead=tuple(dict.fromkeys(instead)),
            matched=matched,
            evidence=evidence,
            harms=tuple(f"{h.category}/{h.id}" for h in harms),
        )

    def _carried(self, text: str, previous: _Sentence, categories: list[Category]) -> list[Match]:
        """Live matches of the carried-over classes in the previous sentence."""
        classes = self.policy.classes
        carry = dict.fromkeys(
            name for c in categories for name in c.classes if classes[name].carry
        )
        if not carry:
            return []
        names = {**dict.fromkeys(self._stance_names), **carry}
        found = find_matches(self.policy, text, previous.norm_start, previous.norm_end, names)
        return [m for m in found if m.name in carry and not m.negated]

    def _evaluate(self, categories: list[Category], matches: list[Match]) -> list[str]:
        """The ids of the harm rules the sentence's fact fires."""
        live = {m.name for m in matches if m.kind in _FACT_KINDS and not m.negated}
        if not any(self.policy.classes[name].kind == "harm" for name in live):
            return []
        fact = dict.fromkeys(sorted(live), True)
        for category in categories:
            for harm in category.harms:
                if harm.any and live.intersection(harm.any):
                    fact[harm.any_key] = True
                if harm.sequence and live.issuperset(harm.sequence):
                    if in_sequence(matches, harm.sequence):
                        fact[harm.sequence_key] = True
        wanted = {c.id for c in categories}
        fired: list[str] = []
        for session, session_categories in self._sessions:
            if wanted & session_categories:
                fired.extend(self._fire(session, fact))
        return [r for r in fired if self._harms[r].category in wanted]

    def _fire(self, session: RuleSession, fact: dict) -> tuple[str, ...]:
        key = (id(session), tuple(fact))
        answer = self._cache.get(key)
        if answer is None:
            answer = tuple(session.evaluate(fact))
            with self._cache_lock:
                if len(self._cache) >= _CACHE_SIZE:
                    self._cache.clear()
                self._cache[key] = answer
        return answer

    def _evidence(self, text, norm, matches: list[Match], fired: list[str]) -> tuple[Evidence, ...]:
        if fired:
            wanted = {n for r in fired for n in self._harms[r].features}
            chosen = [m for m in matches if m.name in wanted and not m.negated]
        else:
            chosen = [m for m in matches if m.kind == "negation" or m.kind == "stance"]
        spans = {}
        for m in chosen:
            start, end = norm.span(m.start, m.end)
            spans[(start, end, m.name)] = Evidence(start, end, text[start:end], m.name)
        return tuple(spans[k] for k in sorted(spans))

    def clear_cache(self) -> None:
        """Forget the remembered answers of the rules engine."""
        with self._cache_lock:
            self._cache.clear()


def _check_matched(policy: Policy, rejected: Sequence[Mapping]) -> None:
    by_id = {}
    for index, item in enumerate(rejected):
        for key in ("id", "category", "instead"):
            if key not in item:
                raise PolicyError(f"rejected advice {index}: missing {key!r}")
        by_id[item["id"]] = item
    for category in policy.categories.values():
        for index, harm in enumerate(category.harms):
            if harm.matched is None:
                continue
            field = f"{category.path}: harms.{index}.matched"
            item = by_id.get(harm.matched)
            if item is None:
                raise PolicyError(f"{field}: {harm.matched!r} is not a rejected advice id")
            if item["category"] != category.id:
                raise PolicyError(
                    f"{field}: {harm.matched!r} is rejected advice of category"
                    f" {item['category']!r}, not {category.id!r}"
                )


def _sessions(policy: Policy) -> list[tuple[RuleSession, frozenset[str]]]:
    """Compile the harms into as few rule sessions as the engine's limit allows."""
    groups: list[list[Category]] = []
    size = 0
    for category in policy.categories.values():
        if not groups or size + len(category.harms) > MAX_RULES - 1:
            groups.append([])
            size = 0
        groups[-1].append(category)
        size += len(category.harms)
    sessions = []
    for group in groups:
        rules = {}
        for category in group:
            for priority, harm in enumerate(category.harms):
                rules[harm.rule_id] = {"when": _condition(category, harm), "priority": priority}
        sessions.append((RuleSession(rules), frozenset(c.id for c in group)))
    return sessions


def _condition(category: Category, harm: Harm) -> dict:
    """The durable_rules condition of a harm: its features present, no stance against it."""
    terms: list[dict] = [{name: True} for name in dict.fromkeys(harm.all)]
    if harm.any:
        terms.append({harm.any_key: True})
    if harm.sequence:
        terms.append({harm.sequence_key: True})
    for stance in dict.fromkeys((*category.defused_by, *harm.unless)):
        terms.append({"$nex": {stance: 1}})
    return {"$and": terms}
