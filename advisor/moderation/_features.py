"""Finding a sentence's features: word-class matches, and which are negated.

A negation ("never", "don't", "avoid") defuses the features that start
within a few words after it (`Policy.negation_window`, or the class's own
`window`), up to the end of its clause.  A negation word inside a match of
a class marked `absorbs_negation` ("so they can't leave", "go without
food", "won't hurt") is part of that phrase, not a negation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cache

from ._policy import Policy

__all__ = ["Match", "find_matches", "in_sequence", "negate"]


@dataclass(frozen=True)
class Match:
    """A word-class match; offsets are into the normalised text."""

    name: str
    kind: str
    start: int
    end: int
    negated: bool = False


@cache
def _words(count: int) -> re.Pattern:
    return re.compile(rf"(?:\s*\S+){{1,{count}}}")


def find_matches(
    policy: Policy, text: str, start: int, end: int, names: Iterable[str]
) -> list[Match]:
    """Matches of the classes `names` in text[start:end], in order."""
    sentence = text[start:end]
    found = []
    for name in names:
        word_class = policy.classes[name]
        for m in word_class.regex.finditer(sentence):
            if m.end() > m.start():
                found.append(Match(name, word_class.kind, m.start() + start, m.end() + start))
    found.sort(key=lambda m: (m.start, m.end, m.name))
    return found


def negate(
    policy: Policy, text: str, start: int, end: int, matches: Sequence[Match]
) -> list[Match]:
    """`matches` with those in the scope of a negation in text[start:end] marked
    negated, followed by the negations that apply."""
    cues = find_matches(policy, text, start, end, policy.of_kind("negation"))
    if cues:
        phrases = find_matches(policy, text, start, end, policy.absorbing)
        cues = [c for c in cues if not any(p.start < c.end and c.start < p.end for p in phrases)]
    if not cues:
        return list(matches)
    stops = sorted(
        m.start for m in find_matches(policy, text, start, end, policy.of_kind("boundary"))
    )
    scopes = []
    for cue in cues:
        reach = policy.classes[cue.name].window or policy.negation_window
        window = _words(reach).match(text, cue.end, end)
        limit = window.end() if window else cue.end
        stop = next((s for s in stops if s >= cue.end), end)
        scopes.append((cue.end, min(limit, stop)))
    negated = [
        replace(m, negated=True) if any(b <= m.start < f for b, f in scopes) else m for m in matches
    ]
    return negated + cues


def in_sequence(matches: Sequence[Match], names: Sequence[str]) -> bool:
    """Whether live matches of `names` occur in that order (each after the last)."""
    cursor = 0
    for name in names:
        nxt = next(
            (m for m in matches if m.name == name and not m.negated and m.start >= cursor),
            None,
        )
        if nxt is None:
            return False
        cursor = nxt.end
    return True
