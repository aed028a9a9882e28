"""Finding a sentence's features: word-class matches, and which are negated.

A negation ("never", "don't", "avoid") defuses the features that start
within a few words after it (`Policy.negation_window`, or the class's own
`window`), up to the end of its clause.
A negation inside a harm or context match ("so they can't leave", "go
without food", "won't hurt") is part of that phrase, not a negation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from ._policy import FEATURE_KINDS, Policy

__all__ = ["Match", "find_matches", "in_sequence"]


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
    """Matches of the classes `names` in text[start:end], with negation applied."""
    sentence = text[start:end]
    classes = policy.classes
    found: list[Match] = []
    cues: list[Match] = []
    stops: list[int] = []
    for name in names:
        word_class = classes[name]
        kind = word_class.kind
        for m in word_class.regex.finditer(sentence):
            if m.end() == m.start():
                continue
            if kind == "negation":
                cues.append(Match(name, kind, m.start(), m.end()))
            elif kind == "boundary":
                stops.append(m.start())
            else:
                found.append(Match(name, kind, m.start(), m.end()))
    if cues:
        found = _negate(policy, sentence, found, cues, sorted(stops))
    return [
        Match(m.name, m.kind, m.start + start, m.end + start, m.negated)
        for m in sorted(found, key=lambda m: (m.start, m.end, m.name))
    ]


def _negate(policy, sentence, found, cues, stops):
    phrases = [m for m in found if m.kind in FEATURE_KINDS]
    live_cues = [
        cue for cue in cues if not any(p.start < cue.end and cue.start < p.end for p in phrases)
    ]
    scopes = []
    for cue in live_cues:
        reach = policy.classes[cue.name].window or policy.negation_window
        window = _words(reach).match(sentence, cue.end)
        limit = window.end() if window else cue.end
        stop = next((s for s in stops if s >= cue.end), len(sentence))
        scopes.append((cue.end, min(limit, stop)))
    out = [
        Match(m.name, m.kind, m.start, m.end, True)
        if any(begin <= m.start < finish for begin, finish in scopes)
        else m
        for m in found
    ]
    out.extend(live_cues)
    return out


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
