"""A fast first pass over a text: which sentences could hold which harms?

Running every category's patterns over every sentence is the slow part of
moderation.  Most word classes cannot match without a few literal words
("pints", "dealer", "bribe"), so for each alternative of each class we
compute, from its parsed pattern (`_syntax`), sets of keywords such that
every match contains a keyword of each set.  One pass of an Aho-Corasick
automaton of all keywords (pyahocorasick) tells which classes each sentence
could hold; a harm is possible only where every class it
needs could be, and only the classes of possible harms are then matched.
A class without usable keywords (its matches could be made of common words)
counts as possibly present everywhere.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import cache

import ahocorasick

__all__ = ["Prefilter", "cue_words", "requirements"]

#: Keywords shorter than this are too common to be worth a first pass...
MIN_KEYWORD = 3
#: ...except these, which are rare in ordinary text.
SHORT_WORDS = frozenset("hr dm fb ig cv pa g&t g&ts £ $ € 24/7".split())
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
    "salary call calls email decision application candidate feedback right things thing "
    "find make made take took give gave send put time day week first next keep question "
    "questions work hiring team thank thanks follow let going did say said know see come "
    "want need look use try tell ask feel think way lot good great well still back down "
    "yourself myself".split()
)
#: A finite run of a pattern expanding to more strings than this is not used.
_MAX_STRINGS = 400
_MAX_SMALL_CLASS = 12
#: Marks a keyword that starts a word in every match (it is looked for only there).
_START = "\x01"
#: Marks a keyword that ends a word in every match.
_END = "\x02"


def requirements(nodes: list[tuple]) -> list[list[frozenset[str]]] | None:
    """What any match of a pattern (its parsed `nodes`) needs, as alternatives of keyword sets.

    Every match satisfies one alternative: it contains a keyword of each
    of the alternative's sets.  None when some alternative needs no keyword
    (it could be made of common words).  A keyword that starts a word in
    every match carries a leading `_START` mark, one that ends a word a
    trailing `_END` mark.
    """
    result = []
    for items, at_start in _alternatives(nodes, True):
        needed = [o for o in _options(items, at_start, True) if not any(_weak(w) for w in o)]
        if not needed:
            return None
        result.append(needed)
    return result


def cue_words(nodes: list[tuple]) -> frozenset[str] | None:
    """Words one of which every match of a pattern (its parsed `nodes`) contains,
    as plain lower-case text; None when no such words are known."""
    found = requirements(nodes)
    if found is None:
        return None
    return frozenset(w.strip(_START + _END) for needed in found for w in needed[0])


def _alternatives(items: list, at_start: bool) -> list[tuple[list, bool]]:
    """The top-level alternatives of a pattern (through groups)."""
    core = [node for node in items if _finite(node) != {""}]
    if len(core) == 1 and core[0][0] == "group":
        return [x for alt in core[0][1] for x in _alternatives(alt, at_start)]
    return [(items, at_start)]


def _core(word: str) -> str:
    return word.strip(_START + _END).strip(" '")


@cache
def _traits(keyword: str) -> tuple[bool, bool, int, int, int]:
    """What `_score` weighs of one keyword: whether it is weak (no word that is
    not a common one), whether it is a frequent word, the length of its
    longest word that is not a common word, its word-boundary marks, its
    length."""
    core = _core(keyword)
    if core in SHORT_WORDS:
        rare = MIN_KEYWORD
    else:
        rare = max(
            (len(w) for w in _WORD.findall(core) if len(w) >= MIN_KEYWORD and w not in _COMMON),
            default=0,
        )
    marks = keyword.startswith(_START) + keyword.endswith(_END)
    return rare == 0, core in _FREQUENT, rare, marks, len(core)


def _rare_length(keyword: str) -> int:
    """The length of the longest word of `keyword` that is not a common word."""
    return _traits(keyword)[2]


def _weak(keyword: str) -> bool:
    return _traits(keyword)[0]


@cache
def _score(words: frozenset[str]) -> tuple:
    """Higher is better: no weak words, few frequent words, rare long words,
    few words, whole words, long words."""
    if not words:
        return (True, 0, 8, 0, 0, 1 << 30)
    # Each trait of every word, one tuple per trait, summed up by built-ins.
    weak, frequent, rare, marks, length = zip(*map(_traits, words), strict=True)
    return (not any(weak), -sum(frequent), min(min(rare), 8), -len(words), sum(marks), min(length))


def _options(items: list, at_start: bool, at_end: bool = False) -> list[frozenset[str]]:
    """Keyword sets a sequence needs: the best of each run of known strings
    (a stretch of it from the start of a word or of the run, to the end of a
    word or of the run) and of each other part.

    `at_start`, `at_end`: a word starts before, and ends after, the sequence.
    """
    options: list[frozenset[str]] = []
    run: list[set[str]] = []  # consecutive parts matching a few known strings
    run_start = at_start

    def close_run(run_end: bool):
        starts = _word_starts(run, run_start)
        ends = [_starts_non_word(part) for part in run[1:]] + [run_end]
        stretches = []
        for first in range(len(run)):
            if first and not starts[first]:
                continue
            for last in range(first + 1, len(run) + 1):
                if last < len(run) and not ends[last - 1] and run[last] != {""}:
                    continue
                strings = _product(run[first:last])
                if strings is None:
                    break
                if "" in strings:
                    continue
                if starts[first] and all(s[0].isalnum() for s in strings):
                    strings = {_START + s for s in strings}
                if ends[last - 1] and all(s[-1].isalnum() for s in strings):
                    strings = {s + _END for s in strings}
                stretches.append(frozenset(strings))
        if stretches:
            options.append(max(stretches, key=_score))
        run.clear()

    for node in items:
        finite = _finite(node)
        if finite is not None:
            if not run:
                run_start = at_start
            run.append(finite)
            at_start = all((at_start if s == "" else not s[-1].isalnum()) for s in finite)
            continue
        close_run(False)
        found = _item(node, at_start)
        if found:
            options.append(found)
        at_start = _word_start_after(node, at_start)
    close_run(at_end)
    return options


def _starts_non_word(part: set[str]) -> bool:
    return all(s and not s[0].isalnum() for s in part)


#: Answers for the parts of the patterns being read, by function and the
#: part's identity: classes share parts ({person} is in many), and each is
#: worked out once.  Filled and emptied by one `Prefilter` construction,
#: while the parts live.
_MEMOS: list[dict] = []


def _memoised(function):
    memo: dict[tuple, object] = {}
    _MEMOS.append(memo)

    def wrapper(part, *args):
        key = (id(part), *args)
        try:
            return memo[key]
        except KeyError:
            memo[key] = answer = function(part, *args)
            return answer

    return wrapper


def _forget() -> None:
    for memo in _MEMOS:
        memo.clear()
    _score.cache_clear()


@_memoised
def _sequence(items: list, at_start: bool) -> frozenset[str] | None:
    """The best keyword set a sequence needs."""
    options = _options(items, at_start)
    return max(options, key=_score) if options else None


def _word_start_after(node: tuple, at_start: bool) -> bool:
    """Whether a word starts right after a part that is not a run of known strings."""
    if node[0] == "assert":
        return at_start
    if node[0] == "repeat":
        return _ends_word(node[3]) and (node[1] >= 1 or at_start)
    return _ends_word([node])


def _ends_word(items: list) -> bool:
    """Whether every match of `items` ends with a character that is not a letter or digit."""
    if not items:
        return False
    node = items[-1]
    if node[0] == "lit":
        return not node[1].isalnum()
    if node[0] == "group":
        return all(_ends_word(alternative) for alternative in node[1])
    return False


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


@_memoised
def _finite(node: tuple) -> set[str] | None:
    """The strings a part can match, when they are few; else None."""
    kind = node[0]
    if kind == "lit":
        return {node[1]}
    if kind == "set":
        return set(node[1]) if len(node[1]) <= _MAX_SMALL_CLASS else None
    if kind == "group":
        union: set[str] = set()
        for alternative in node[1]:
            parts = [_finite(n) for n in alternative]
            strings = None if None in parts else _product(parts)
            if strings is None:
                return None
            union |= strings
        return union if len(node[1]) == 1 or len(union) <= _MAX_STRINGS else None
    if kind == "repeat" and node[2] is not None and node[2] <= 2:
        body = [_finite(n) for n in node[3]]
        once = None if None in body else _product(body)
        if once is None:
            return None
        low, high = node[1], node[2]
        strings = {""} if low == 0 else set()
        for count in range(max(low, 1), high + 1):
            strings |= _product([once] * count) or set()
        return strings
    if kind == "assert":
        return {""}
    return None


@_memoised
def _item(node: tuple, at_start: bool) -> frozenset[str] | None:
    if node[0] == "group":
        if len(node[1]) == 1:
            return _sequence(node[1][0], at_start)
        union: set[str] = set()
        for alternative in node[1]:
            found = _sequence(alternative, at_start)
            if found is None:
                return None
            union |= found
        return frozenset(union)
    if node[0] == "repeat" and node[1] >= 1:
        return _sequence(node[3], at_start)
    return None  # optional parts, wide character classes: nothing required


def _length(found: tuple) -> int:
    return found[0]


def _guarded(keyword: str) -> bool:
    """Whether `keyword` counts only as a whole word: a short one (`SHORT_WORDS`)."""
    short = keyword.strip(" '")
    return short.isalpha() and short in SHORT_WORDS


def _whole_word(text: str, start: int, end: int) -> bool:
    return not (start > 0 and text[start - 1].isalnum()) and not (
        end < len(text) and text[end].isalnum()
    )


class Prefilter:
    """Finds, in one pass, which harms each sentence of a text could hold."""

    def __init__(
        self,
        classes: Mapping[str, list[tuple]],
        harms: Mapping[str, Sequence[str]],
        pieces: Mapping[str, Sequence[list[tuple]]] | None = None,
    ):
        """`classes` maps class names to their parsed patterns (`_syntax`);
        `harms` maps a harm's rule id to the classes it needs; `pieces` maps
        classes to the parsed top-level alternatives of their patterns, in
        order: each class is cut into `blocks` of them, which `alive` tells
        apart."""
        set_ids: dict[frozenset[str], int] = {}
        # For each keyword set, the (class, alternative) pairs that need it.
        self._needed_by: dict[int, list[tuple[str, frozenset[int]]]] = {}
        # For each keyword set, the (class, block, alternative) triples that need it.
        self._block_needs: dict[int, list[tuple[str, int, frozenset[int]]]] = {}
        #: For each class of `pieces`, its blocks: (first, last + 1) ranges of its
        #: pieces.  A run of pieces without keywords is one block; a piece with
        #: keywords is a block of its own.
        self.blocks: dict[str, tuple[tuple[int, int], ...]] = {}
        #: For each class of `pieces`, its blocks without keywords: they may match anywhere.
        self.always: dict[str, tuple[int, ...]] = {}
        unknown = set()
        _forget()
        try:
            found_by_piece = {
                name: [requirements(nodes) for nodes in alternatives]
                for name, alternatives in (pieces or {}).items()
            }
            # A class's are its pieces' (`requirements` reads a pattern's top-level
            # alternatives one by one), when they are known.
            found_by_class = {
                name: (
                    None
                    if None in found_by_piece[name]
                    else [alternative for found in found_by_piece[name] for alternative in found]
                )
                if name in found_by_piece
                else requirements(nodes)
                for name, nodes in classes.items()
            }
        finally:
            _forget()
        for name, found in found_by_class.items():
            if found is None:
                unknown.add(name)
                continue
            for alternative in found:
                ids = frozenset(set_ids.setdefault(words, len(set_ids)) for words in alternative)
                for number in ids:
                    self._needed_by.setdefault(number, []).append((name, ids))
        for name, found in found_by_piece.items():
            blocks: list[tuple[int, int]] = []
            always = []
            for index, needed in enumerate(found):
                if needed is None and index and found[index - 1] is None:
                    blocks[-1] = (blocks[-1][0], index + 1)  # the run goes on
                    continue
                if needed is None:
                    always.append(len(blocks))
                else:
                    for alternative in needed:
                        ids = frozenset(set_ids.setdefault(w, len(set_ids)) for w in alternative)
                        for number in ids:
                            self._block_needs.setdefault(number, []).append(
                                (name, len(blocks), ids)
                            )
                blocks.append((index, index + 1))
            self.blocks[name] = tuple(blocks)
            self.always[name] = tuple(always)
        self.unkeyed = frozenset(unknown)
        #: The classes whose keywords are known: one can be ruled out (`ruled_out`).
        self.keyed = frozenset(found_by_class) - self.unkeyed
        # One automaton over every keyword; what a keyword satisfies depends on
        # whether it must start or end a word where it is found.
        found_at: dict[str, dict[tuple[bool, bool], set[int]]] = {}
        for words, number in set_ids.items():
            for word in words:
                at_start, at_end = word.startswith(_START), word.endswith(_END)
                core = word.removeprefix(_START).removesuffix(_END)
                found_at.setdefault(core, {}).setdefault((at_start, at_end), set()).add(number)
        self._keywords = ahocorasick.Automaton()
        empty: frozenset[int] = frozenset()
        for core, needs in found_at.items():
            # For a keyword found at a word start and elsewhere: the sets it
            # satisfies anyway, and those it satisfies where it ends a word.
            passes = tuple(
                (
                    frozenset(needs.get((at_start, False), empty)),
                    frozenset(needs.get((at_start, True), empty)),
                )
                for at_start in (True, False)
            )
            self._keywords.add_word(core, (len(core), _guarded(core), passes))
        self._keywords.make_automaton()
        #: The longest keyword's length: how far past a stretch a keyword found in it can end.
        self._longest = max(map(len, found_at), default=0)
        self._harms = [(rule, frozenset(needed)) for rule, needed in harms.items()]
        self._always = self._possible(self.unkeyed)

    def scan(
        self, text: str, start: int = 0, end: int | None = None
    ) -> list[tuple[int, frozenset[int]]]:
        """(position, keyword-set ids) for each keyword found in `text` that
        starts in text[start:end] (it may end after it).

        At each position, keywords tied to a word start and the others are read
        apart; of each, the longest decides: a short word (`SHORT_WORDS`) that
        is not a whole word there counts for nothing, and the shorter keywords
        it begins with count with it (those tied to a word end where a word
        ends after them)."""
        size = len(text)
        at: dict[int, list] = {}
        if start == 0 and (end is None or end >= size):
            for last, found in self._keywords.iter(text):
                at.setdefault(last - found[0] + 1, []).append(found)
        else:
            # Every keyword starting before `end` ends before `end + longest`.
            stop = size if end is None else min(size, end + self._longest)
            end = size if end is None else end
            for last, found in self._keywords.iter(text, start, stop):
                first = last - found[0] + 1
                if first < end:
                    at.setdefault(first, []).append(found)
        hits = []
        for start, found in at.items():
            found.sort(key=_length, reverse=True)
            starts_word = start == 0 or not text[start - 1].isalnum()
            for side in (0, 1) if starts_word else (1,):
                longest = None
                ids: set[int] = set()
                for length, guarded, passes in found:
                    free, ended = passes[side]
                    end = start + length
                    # The word ends here (an underscore ends it but for the longest).
                    at_end = end == size or not text[end].isalnum()
                    if longest is None:
                        if not (free or (ended and at_end)):
                            continue
                        if guarded and not _whole_word(text, start, end):
                            break
                        longest = length
                        at_end = at_end and (end == size or text[end] != "_")
                    ids |= free
                    if at_end:
                        ids |= ended
                if ids:
                    hits.append((start, frozenset(ids)))
        return hits

    def harms(self, found: Iterable[int]) -> tuple[str, ...]:
        """The rule ids of the harms possible where the keyword sets `found` were seen."""
        return self.possible(self.present(found))

    def present(self, found: Iterable[int]) -> frozenset[str]:
        """The classes that may match where the keyword sets `found` were seen:
        those that need no keyword, and those with every keyword set of one
        of their alternatives among `found`."""
        found = frozenset(found)
        if not found:
            return self.unkeyed
        present = set(self.unkeyed)
        for number in found:
            for name, alternative in self._needed_by.get(number, ()):
                if name not in present and alternative <= found:
                    present.add(name)
        return frozenset(present)

    def alive(self, found: Iterable[int]) -> dict[str, tuple[int, ...]]:
        """The blocks that may match where the keyword sets `found` were seen, in
        order, for each class of `blocks` with a block that needs them; any
        other class of `blocks` may match only with its `always` blocks."""
        found = frozenset(found)
        hit: dict[str, set[int]] = {}
        for number in found:
            for name, block, alternative in self._block_needs.get(number, ()):
                if alternative <= found:
                    hit.setdefault(name, set()).add(block)
        return {name: tuple(sorted(b.union(self.always[name]))) for name, b in hit.items()}

    def ruled_out(self, present: frozenset[str]) -> frozenset[str]:
        """The classes that cannot match where only the classes `present` may."""
        return self.keyed - present

    def possible(self, present: frozenset[str]) -> tuple[str, ...]:
        """The rule ids of the harms whose classes are all `present`."""
        if present is self.unkeyed:
            return self._always
        return self._possible(present)

    def _possible(self, present) -> tuple[str, ...]:
        return tuple(rule for rule, needed in self._harms if needed <= present)
