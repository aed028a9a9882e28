"""A fast first pass over a text: which sentences could hold which harms?

Running every category's patterns over every sentence is the slow part of
moderation.  Most word classes cannot match without one of a few literal
words ("pints", "dealer", "bribe"), so for each class we compute, from its
parsed regex (`re._parser`), keywords such that every match contains at
least one of them.  One pass of a regex of all keywords, written as a trie
(one branch per character), tells which classes each sentence could hold;
a harm is possible only where every class it needs could be.  A class
without usable keywords (its matches could be made of common words) counts
as possibly present everywhere.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from re import _constants as C  # noqa: N812
from re import _parser

__all__ = ["Prefilter", "keywords"]

#: Keywords shorter than this are too common to be worth a first pass...
MIN_KEYWORD = 3
#: ...except these, which are rare in ordinary text.
SHORT_WORDS = frozenset("hr dm fb ig cv pa £ $ € 24/7".split())
#: Words so common that a class keyed on them is as good as always present.
_COMMON = frozenset(
    "the and you your that this with for are was were have has had not but his her "
    "their they them she him our its it's who what when where which will would can "
    "could should all any some one two out get got just like then than from into "
    "about after before over more most very been being there here how why off "
    "don't can't won't i'm you're you'll each every other another much many such "
    "only own same too also even".split()
)
_WORD = re.compile(r"[^\W_]+(?:'[a-z]+)?")
#: Words common in job-hunting advice: other keywords are preferred to these.
_FREQUENT = frozenset(
    "interview interviews interviewer interviewers recruiter recruiters consultant "
    "consultants employer employers company manager managers job jobs role offer offers "
    "salary call calls email decision application candidate feedback right things find "
    "make take give send put time day week first next keep question questions work "
    "hiring team thank thanks follow make made take took let going did say said know "
    "see come put give gave keep want need look use try tell ask feel think way thing "
    "time day lot good great well still back down yourself myself".split()
)
#: A finite run of a pattern expanding to more strings than this is not used.
_MAX_STRINGS = 400
_MAX_SMALL_CLASS = 12
#: Marks a keyword that starts a word in every match (it is looked for only there).
_START = "\x01"


def keywords(source: str) -> frozenset[str] | None:
    """Literal strings one of which occurs in every match of `source`, or None.

    A keyword that starts a word in every match is given with a leading
    `_START` mark.
    """
    found = _sequence(list(_parser.parse(source)), True)
    if found is None or any(_weak(word) for word in found):
        return None
    return found


def _core(word: str) -> str:
    return word.lstrip(_START).strip(" '")


def _rare_length(keyword: str) -> int:
    """The length of the longest word of `keyword` that is not a common word."""
    core = _core(keyword)
    if core in SHORT_WORDS:
        return MIN_KEYWORD
    return max(
        (len(w) for w in _WORD.findall(core) if w not in _COMMON and len(w) >= MIN_KEYWORD),
        default=0,
    )


def _weak(keyword: str) -> bool:
    return _rare_length(keyword) == 0


def _score(words: frozenset[str]) -> tuple:
    """Higher is better: no weak words, few frequent words, rare long words, few words."""
    return (
        not any(_weak(w) for w in words),
        -sum(_core(w) in _FREQUENT for w in words),
        min(min(_rare_length(w) for w in words), 8),
        -len(words),
    )


def _sequence(items: list, at_start: bool) -> frozenset[str] | None:
    """The best keyword set among the parts of a sequence, every one of which must match.

    `at_start`: the sequence begins at the start of a word.
    """
    options: list[frozenset[str]] = []
    run: list[set[str]] = []  # consecutive parts matching a few known strings
    run_start = at_start

    def close_run():
        # Any stretch of consecutive known parts must occur in every match;
        # stretches are taken from the start of the run or of a word in it.
        starts = _word_starts(run, run_start)
        for first in range(len(run)):
            if first and not starts[first]:
                continue
            for last in range(first + 1, len(run) + 1):
                strings = _product(run[first:last])
                if strings is None:
                    break
                if "" in strings:
                    continue
                if starts[first] and all(s[0].isalnum() for s in strings):
                    strings = {_START + s for s in strings}
                options.append(frozenset(strings))
        run.clear()

    for op, av in items:
        finite = _finite(op, av)
        if finite is not None:
            if not run:
                run_start = at_start
            run.append(finite)
            at_start = all(
                (at_start if s == "" else not s[-1].isalnum()) for s in finite
            )
            continue
        close_run()
        found = _item(op, av, at_start)
        if found:
            options.append(found)
        at_start = op in (C.AT, C.ASSERT, C.ASSERT_NOT) and at_start
    close_run()
    return max(options, key=_score) if options else None


def _word_starts(run: list[set[str]], at_start: bool) -> list[bool]:
    """For each part of a run, whether a word starts where it does."""
    starts = []
    for part in run:
        starts.append(at_start)
        at_start = all((at_start if s == "" else not s[-1].isalnum()) for s in part)
    return starts


def _product(parts: list[set[str]]) -> set[str] | None:
    total = 1
    for part in parts:
        total *= len(part)
        if total > _MAX_STRINGS:
            return None
    return {"".join(p) for p in itertools.product(*parts)}


def _finite(op, av) -> set[str] | None:
    """The strings a part can match, when they are few; else None."""
    if op is C.LITERAL:
        return {chr(av)}
    if op is C.IN:
        chars = set()
        for kind, value in av:
            if kind is not C.LITERAL:
                return None
            chars.add(chr(value))
        return chars if len(chars) <= _MAX_SMALL_CLASS else None
    if op is C.SUBPATTERN:
        parts = [_finite(o, a) for o, a in av[-1]]
        return None if None in parts else _product(parts)
    if op is C.BRANCH:
        union: set[str] = set()
        for alternative in av[1]:
            parts = [_finite(o, a) for o, a in alternative]
            strings = None if None in parts else _product(parts)
            if strings is None:
                return None
            union |= strings
        return union if len(union) <= _MAX_STRINGS else None
    if op in (C.MAX_REPEAT, C.MIN_REPEAT) and av[1] <= 2:
        body = [_finite(o, a) for o, a in av[2]]
        once = None if None in body else _product(body)
        if once is None:
            return None
        strings = {""} if av[0] == 0 else set()
        for count in range(max(av[0], 1), av[1] + 1):
            strings |= _product([once] * count) or set()
        return strings
    if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
        return {""}
    return None


def _item(op, av, at_start: bool) -> frozenset[str] | None:
    if op is C.SUBPATTERN:
        return _sequence(list(av[-1]), at_start)
    if op is C.BRANCH:
        union: set[str] = set()
        for alternative in av[1]:
            found = _sequence(list(alternative), at_start)
            if found is None:
                return None
            union |= found
        return frozenset(union)
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT) and av[0] >= 1:
        return _sequence(list(av[2]), at_start)
    return None  # optional parts, wide character classes: nothing required


def _whole_word(text: str, start: int, end: int) -> bool:
    return not (start > 0 and text[start - 1].isalnum()) and not (
        end < len(text) and text[end].isalnum()
    )


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
    """Finds, in one pass, the word classes a text could hold, and where."""

    def __init__(
        self, classes: Mapping[str, str], harms: Mapping[str, Sequence[Sequence[str]]]
    ):
        """`classes` maps class names to regex sources; `harms` maps each
        category to its harms, each given as the classes it needs."""
        owners: dict[str, set[str]] = {}
        unknown: set[str] = set()
        for name, source in classes.items():
            found = keywords(source)
            if found is None:
                unknown.add(name)
            else:
                for word in found:
                    owners.setdefault(word, set()).add(name)
        self.unkeyed = frozenset(unknown)
        self._passes = []
        for at_start in (True, False):
            words = {
                w.lstrip(_START): names
                for w, names in owners.items()
                if w.startswith(_START) == at_start
            }
            if not words:
                continue
            # A hit on a keyword also counts for the shorter ones it begins with.
            found_owners = {
                word: frozenset().union(*(words.get(word[:n], ()) for n in range(1, len(word) + 1)))
                for word in words
            }
            boundary = r"(?<![^\W_])" if at_start else ""
            self._passes.append((re.compile(f"{boundary}(?=({_trie(words)}))"), found_owners))
        self._needs = [
            (category, frozenset(needed) - self.unkeyed)
            for category, category_harms in harms.items()
            for needed in category_harms
        ]

    def scan(self, text: str) -> list[tuple[int, frozenset[str]]]:
        """(position, classes) for each keyword found in `text`."""
        hits = []
        for regex, owners in self._passes:
            for m in regex.finditer(text):
                word = m.group(1)
                short = word.strip(" '")
                if short.isalpha() and short in SHORT_WORDS and not _whole_word(
                    text, m.start(), m.end(1)
                ):
                    continue
                hits.append((m.start(), owners[word]))
        return hits

    def categories(self, present: Iterable[str]) -> frozenset[str]:
        """The categories with a harm whose every keyed class is in `present`."""
        present = frozenset(present)
        return frozenset(c for c, needed in self._needs if needed <= present)
