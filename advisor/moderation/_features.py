"""Finding a sentence's features: word-class matches, and which are negated.

A negation ("never", "don't", "avoid") defuses the features that start
within a few words after it (`Policy.negation_window`, or the class's own
`window`), up to the end of its clause.  A negation word inside a match of
a class marked `absorbs_negation` ("so they can't leave", "go without
food", "won't hurt") is part of that phrase, not a negation.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from itertools import accumulate

from ._policy import Policy, WordClass

__all__ = ["Match", "conditions", "find_matches", "in_sequence", "negate", "outside_conditions"]


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
    policy: Policy,
    text: str,
    start: int,
    end: int,
    names: Iterable[str],
    alive: Mapping[str, tuple[int, ...]] | None = None,
) -> list[Match]:
    """Matches of the classes `names` in text[start:end], in order.

    `alive`, when known, is `Prefilter.alive` of the keywords in
    text[start:end]: a class cut into blocks is matched with only the blocks
    that may match there, with the matches its whole regex finds."""
    sentence = text[start:end]
    found = []
    for name in names:
        word_class = policy.classes[name]
        if alive is None or not word_class.blocks:
            matches = word_class.regex.finditer(sentence)
        else:
            matches = _block_matches(word_class, alive.get(name, word_class.always), sentence)
        for m in matches:
            if m.end() > m.start():
                found.append(Match(name, word_class.kind, m.start() + start, m.end() + start))
    found.sort(key=lambda m: (m.start, m.end, m.name))
    return found


def _block_matches(word_class: WordClass, blocks: Sequence[int], sentence: str):
    """What `word_class.regex.finditer(sentence)` gives, from the `blocks` (in
    order) that are the only ones of the class that may match in `sentence`.

    The class's regex is the alternation of its blocks: at each place it tries
    them in order, so its match there is the first block's that matches there.
    Each block is searched for on its own, from the end of the last match, and
    the earliest match wins (of two at one place, the earlier block's).  An
    empty match, after which the regex engine's own rules for going on apply,
    hands the sentence to the whole regex."""
    if not blocks:
        return ()
    if len(blocks) == 1:
        return word_class.blocks[blocks[0]].finditer(sentence)
    regexes = [word_class.blocks[b] for b in blocks]
    heads = [(m.start(), i, m) for i, regex in enumerate(regexes) if (m := regex.search(sentence))]
    found = []
    while heads:
        start, _, m = min(heads)
        if m.end() == start:
            return word_class.regex.finditer(sentence)
        found.append(m)
        at = m.end()
        ahead = []
        for head in heads:
            if head[0] < at:  # overlapped by the match: the block's next one
                if (n := regexes[head[1]].search(sentence, at)) is None:
                    continue
                head = (n.start(), head[1], n)
            ahead.append(head)
        heads = ahead
    return found


def conditions(
    policy: Policy,
    text: str,
    start: int,
    end: int,
    alive: Mapping[str, tuple[int, ...]] | None = None,
) -> _Spans:
    """The negated condition or reason clauses in text[start:end] ("if they
    don't call back", "since you didn't finish the course"), the policy's
    classes of kind `condition`; `alive` as `find_matches` takes it."""
    names = policy.of_kind("condition")
    return _Spans((m.start, m.end) for m in find_matches(policy, text, start, end, names, alive))


def outside_conditions(clauses: _Spans, matches: Sequence[Match]) -> list[Match]:
    """`matches` less those inside one of the condition `clauses`: a clause
    tells the circumstance, not the act, so its words are no harm's features."""
    if not clauses.starts:
        return list(matches)
    return [m for m in matches if not clauses.covers(m.start, m.end)]


def negate(
    policy: Policy,
    text: str,
    start: int,
    end: int,
    matches: Sequence[Match],
    ruled_out: Container[str] = (),
    clauses: _Spans | None = None,
    alive: Mapping[str, tuple[int, ...]] | None = None,
) -> list[Match]:
    """`matches` with those in the scope of a negation in text[start:end] marked
    negated, followed by the negations that apply.  `ruled_out` names classes
    known not to match in text[start:end] (`Prefilter.ruled_out`): they are
    not looked for; `clauses`, when known, are `conditions` there; `alive` as
    `find_matches` takes it.

    In O(n log n) of the matches, cues and boundaries: a long text dense with
    cues must not cost their product."""
    cues = find_matches(policy, text, start, end, policy.of_kind("negation"), alive)
    if cues:
        absorbing = [n for n in policy.absorbing if n not in ruled_out]
        phrases = find_matches(policy, text, start, end, absorbing, alive)
        absorbed = _Spans((p.start, p.end) for p in phrases)
        inside = [c for c in cues if absorbed.overlaps(c.start, c.end)]
        cues = [c for c in cues if not absorbed.overlaps(c.start, c.end)]
        if inside:
            # A stance inside a phrase that holds its own negation is what the
            # phrase turns down ("don't bother booking a taxi"): not a stance.
            cued = _Spans((c.start, c.end) for c in inside)
            held = _Spans((p.start, p.end) for p in phrases if cued.overlaps(p.start, p.end))
            matches = [
                replace(m, negated=True) if m.kind == "stance" and held.holds(m.start) else m
                for m in matches
            ]
    if not cues:
        return list(matches)
    stops = sorted(
        m.start for m in find_matches(policy, text, start, end, policy.of_kind("boundary"), alive)
    )
    # A negation inside a condition or reason clause ("if they don't call back")
    # denies the condition, not what the sentence goes on to tell.
    if clauses is None:
        clauses = conditions(policy, text, start, end, alive)
    scopes = []
    for cue in cues:
        reach = policy.classes[cue.name].window or policy.negation_window
        window = _words(reach).match(text, cue.end, end)
        limit = window.end() if window else cue.end
        at = bisect_left(stops, cue.end)
        stop = stops[at] if at < len(stops) else end
        clause = clauses.end_around(cue.start)
        scopes.append((cue.end, min(limit, stop, end if clause is None else clause)))
    scoped = _Spans(scopes)
    negated = [replace(m, negated=True) if scoped.holds(m.start) else m for m in matches]
    # A phrase inside a negated one shares its fate ("won't be waiting outside the
    # building to catch anyone": "catch anyone" is in "to catch anyone").
    outer = _Spans((m.start, m.end) for m in negated if m.negated)
    negated = [
        replace(m, negated=True) if not m.negated and outer.covers(m.start, m.end) else m
        for m in negated
    ]
    return negated + cues


class _Spans:
    """Half-open spans [start, end), sorted once, for questions in O(log n)."""

    def __init__(self, spans: Iterable[tuple[int, int]]):
        ordered = sorted(spans)
        self.starts = [s for s, _ in ordered]
        self.reach = list(accumulate((e for _, e in ordered), max, initial=-1))[1:]

    def _furthest_end_starting_before(self, position: int) -> int:
        at = bisect_left(self.starts, position)
        return self.reach[at - 1] if at else -1

    def overlaps(self, start: int, end: int) -> bool:
        """Whether a span shares a character with [start, end)."""
        return self._furthest_end_starting_before(end) > start

    def covers(self, start: int, end: int) -> bool:
        """Whether one span holds all of [start, end)."""
        return self._furthest_end_starting_before(start + 1) >= end

    def holds(self, position: int) -> bool:
        """Whether `position` is in a span."""
        return self._furthest_end_starting_before(position + 1) > position

    def end_around(self, position: int) -> int | None:
        """The furthest end of the spans `position` is in, or None when it is in none."""
        reach = self._furthest_end_starting_before(position + 1)
        return reach if reach > position else None


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
