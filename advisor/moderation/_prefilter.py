"""A fast first pass over a text: which sentences could hold a harm feature?

Running every category's harm patterns over every sentence is the slow part
of moderation.  Most patterns cannot match without one of a few literal
words ("pints", "dealer", "bribe"), so for each category we compute, from
the parsed patterns (`re._parser`), a set of keywords such that every match
of its harm features contains at least one of them.  One pass of a regex of
all keywords (written as a trie: one branch per character) then tells which
sentences could hold which category's harm; only those are searched with
the category's patterns.  A category whose patterns have no usable keywords
is searched in every sentence, as without the first pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from re import _constants as C  # noqa: N812
from re import _parser

__all__ = ["Prefilter", "keywords"]

#: Keywords shorter than this are too common to be worth a first pass.
MIN_KEYWORD = 3
#: Words so common that a pattern keyed on them is not worth a first pass.
_COMMON = frozenset(
    "the and you your that this with for are was were have has had not but his her "
    "their they them she him our its it's who what when where which will would can "
    "could should all any some one two out get got just like then than from into "
    "about after before over more most very been being there here how why".split()
)
_LITERAL_OPS = (C.LITERAL,)


def keywords(source: str) -> frozenset[str] | None:
    """Literal strings one of which occurs in every match of `source`, or None."""
    found = _sequence(list(_parser.parse(source)))
    if found is None or any(_weak(word) for word in found):
        return None
    return frozenset(found)


def _weak(word: str) -> bool:
    core = word.strip(" '")
    return len(core) < MIN_KEYWORD or core in _COMMON


def _score(words: frozenset[str]) -> tuple:
    """Higher is better: no weak words, long words, few words."""
    return (
        not any(_weak(w) for w in words),
        min(min(len(w) for w in words), 8),
        -len(words),
    )


def _sequence(items: list) -> frozenset[str] | None:
    """The best keyword set among the items of a sequence (any one item must match)."""
    options: list[frozenset[str]] = []
    run: list[str] = []

    def close_run():
        if run:
            options.append(frozenset(["".join(run)]))
            run.clear()

    for op, av in items:
        if op is C.LITERAL:
            run.append(chr(av))
            continue
        close_run()
        found = _item(op, av)
        if found:
            options.append(found)
    close_run()
    return max(options, key=_score) if options else None


def _item(op, av) -> frozenset[str] | None:
    if op is C.SUBPATTERN:
        return _sequence(list(av[-1]))
    if op is C.BRANCH:
        union: set[str] = set()
        for alternative in av[1]:
            found = _sequence(list(alternative))
            if found is None:
                return None
            union |= found
        return frozenset(union)
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT) and av[0] >= 1:
        return _sequence(list(av[2]))
    return None  # optional parts, character classes, assertions: nothing required


def _trie(strings: Iterable[str]) -> str:
    """A regex matching any of `strings`, longest first, one branch per character."""
    root: dict = {}
    for string in strings:
        node = root
        for char in string:
            node = node.setdefault(char, {})
        node[""] = {}
    return _node(root)


def _node(node: dict) -> str:
    branches = [re.escape(char) + _node(child) for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if "" in node:  # a shorter keyword ends here; the longer ones are tried first
        body = f"(?:{body})?"
    return body


class Prefilter:
    """Finds, in one pass, which categories' harm features a text could hold where."""

    def __init__(self, sources: Mapping[str, Iterable[str]]):
        """`sources` maps a category to the regex sources of its harm features."""
        owners: dict[str, set[str]] = {}
        self.always: frozenset[str] = frozenset()  # categories without keywords
        for category, patterns in sources.items():
            found: set[str] = set()
            for source in patterns:
                words = keywords(source)
                if words is None:
                    self.always |= {category}
                    break
                found |= words
            else:
                for word in found:
                    owners.setdefault(word, set()).add(category)
        # A hit on a keyword also counts for the shorter keywords it begins with.
        self._owners = {
            word: frozenset().union(*(owners.get(word[:n], ()) for n in range(1, len(word) + 1)))
            for word in owners
        }
        self._regex = re.compile(f"(?=({_trie(owners)}))") if owners else None

    def scan(self, text: str) -> list[tuple[int, frozenset[str]]]:
        """(position, categories) for each keyword found in `text`."""
        if self._regex is None:
            return []
        owners = self._owners
        return [(m.start(), owners[m.group(1)]) for m in self._regex.finditer(text)]
