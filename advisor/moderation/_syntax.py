"""The shape of a policy pattern: a small parser for the regex syntax patterns use.

The first pass (`_prefilter`) needs to know which literal words every match
of a pattern contains.  Python's `re` keeps its parser private, so the
policy's patterns are read here into a tree of a few kinds of node:

``("lit", char)``                  one literal character
``("set", chars)``                 one of a few literal characters ``[sz]``
``("any",)``                       any character of a wide class (``.``, ``\\w``, ``[^…]``)
``("any", chars)``                 one of many known characters (``\\d``, ``[a-z]``)
``("group", alternatives)``        ``(?:a|b)``; each alternative is a list of nodes
``("repeat", low, high, nodes)``   ``x?``, ``x*``, ``x{1,3}``… (``high`` is None when open)
``("assert",)``                    zero width: ``^ $ \\b \\B`` and look-arounds

A pattern is a list of nodes (a top-level ``a|b`` is one group).  Syntax the
policy has no use for (back-references, inline flags, conditionals) raises
`PatternSyntaxError`; `re.compile` still checks every pattern in full.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["PatternSyntaxError", "alternatives", "first_chars", "guarded"]

#: A character class of more than this many characters counts as "any".
MAX_SET = 12
_WIDE_ESCAPES = set("sSwWdD")
_ASSERT_ESCAPES = set("bBAZ")
_CONTROL_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a"}
_REFERENCE = re.compile(r"\{([a-z][a-z0-9_]*)\}")
_ANY = ("any",)
_DIGITS = frozenset("0123456789")
_ASSERT = ("assert",)


class PatternSyntaxError(ValueError):
    """A pattern uses syntax the policy does not allow."""


def guarded(pattern: str, resolve: Callable[[str], tuple] | None = None) -> tuple[str, list[tuple]]:
    """`pattern` with a look-ahead for the characters its match can start
    with put before each alternative that opens with look-behinds, and its
    nodes (see the module docstring).  With `resolve`, a reference
    ``{name}`` to another class stands for the node `resolve(name)` gives,
    so a class is parsed once however often it is referred to.

    ``(?<!\\bnot )(?<!\\bnever )drunk`` becomes ``(?=[d])(?<!…)(?<!…)drunk``:
    the same matches, but a position where no "d" follows is given up at one
    look at its character, before the look-behinds are tried, where the
    regex engine would otherwise try every look-behind at every position.
    An alternative whose rest could be empty, or could start with almost
    any character, is left as it is.
    """
    parser = _Parser(pattern, resolve)
    parser.guards = []
    nodes = parser.alternation()
    if parser.position != len(pattern):
        raise PatternSyntaxError(f"unbalanced parenthesis at position {parser.position}")
    pieces, last = [], 0
    for at, chars in sorted(parser.guards):  # a nested alternative's is found first
        lookahead = "(?=[" + "".join(map(re.escape, sorted(chars))) + "])"
        pieces += [pattern[last:at], lookahead]
        last = at
    pieces.append(pattern[last:])
    return "".join(pieces), nodes


def alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of `pattern`, in order: ``a|(?:b|c)|d`` gives
    ``a``, ``(?:b|c)`` and ``d``.  Joined by ``|``, they are `pattern` again."""
    parser = _Parser(pattern, None)
    pieces, start = [], 0
    parser.sequence()
    while parser._peek() == "|":
        pieces.append(pattern[start : parser.position])
        parser.position += 1
        start = parser.position
        parser.sequence()
    if parser.position != len(pattern):
        raise PatternSyntaxError(f"unbalanced parenthesis at position {parser.position}")
    pieces.append(pattern[start:])
    return pieces


class _Parser:
    def __init__(self, pattern: str, resolve: Callable[[str], tuple] | None):
        self.pattern = pattern
        self.position = 0
        self.resolve = resolve
        #: Where a look-ahead goes, and for which characters (`guarded`); None: not wanted.
        self.guards: list[tuple[int, frozenset[str]]] | None = None

    def _peek(self) -> str | None:
        return self.pattern[self.position] if self.position < len(self.pattern) else None

    def alternation(self) -> list[tuple]:
        alternatives = [self.sequence()]
        while self._peek() == "|":
            self.position += 1
            alternatives.append(self.sequence())
        return alternatives[0] if len(alternatives) == 1 else [("group", alternatives)]

    def sequence(self) -> list[tuple]:
        nodes: list[tuple] = []
        start = self.position
        behind = 0  # how many look-behinds the sequence opens with
        while (char := self._peek()) is not None and char not in "|)":
            at = self.position
            node = self.atom()
            repeat = self.quantifier()
            if repeat is not None:
                if node[0] == "assert":
                    raise PatternSyntaxError(f"nothing to repeat at position {self.position}")
                node = ("repeat", *repeat, [node])
            elif behind == len(nodes) and self.pattern.startswith(("(?<=", "(?<!"), at):
                behind += 1
            nodes.append(node)
        if behind and self.guards is not None:
            chars, empty = _first(nodes[behind:], {})
            if chars and not empty:
                self.guards.append((start, frozenset(chars)))
        return nodes

    def atom(self) -> tuple:
        char = self.pattern[self.position]
        self.position += 1
        if char == "(":
            return self.group()
        if char == "[":
            return self.char_class()
        if char == "\\":
            return self.escape()
        if char == ".":
            return _ANY
        if char in "^$":
            return _ASSERT
        if char == "{" and self.resolve is not None:
            reference = _REFERENCE.match(self.pattern, self.position - 1)
            if reference:
                self.position = reference.end()
                return self.resolve(reference.group(1))
        if char in "*+?":
            raise PatternSyntaxError(f"nothing to repeat at position {self.position - 1}")
        return ("lit", char)

    def group(self) -> tuple:
        pattern, start = self.pattern, self.position
        kind = "group"
        if pattern.startswith("?:", start):
            self.position += 2
        elif pattern.startswith(("?=", "?!"), start):
            self.position += 2
            kind = "assert"
        elif pattern.startswith(("?<=", "?<!"), start):
            self.position += 3
            kind = "assert"
        elif pattern.startswith("?P<", start):
            end = pattern.find(">", start)
            if end < 0:
                raise PatternSyntaxError(f"unterminated group name at position {start}")
            self.position = end + 1
        elif pattern.startswith("?", start):
            raise PatternSyntaxError(f"unsupported group syntax at position {start - 1}")
        body = self.alternation()
        if self._peek() != ")":
            raise PatternSyntaxError(f"missing ) for the group at position {start - 1}")
        self.position += 1
        if kind == "assert":
            return _ASSERT
        if len(body) == 1 and body[0][0] == "group":
            return body[0]
        return ("group", [body])

    def escape(self) -> tuple:
        if self.position >= len(self.pattern):
            raise PatternSyntaxError("a pattern cannot end with a backslash")
        char = self.pattern[self.position]
        self.position += 1
        if char == "d":
            return ("any", _DIGITS)
        if char in _WIDE_ESCAPES:
            return _ANY
        if char in _ASSERT_ESCAPES:
            return _ASSERT
        if char.isdigit():
            raise PatternSyntaxError(f"back-references are not allowed (\\{char})")
        if char.isalpha() and char not in _CONTROL_ESCAPES:
            raise PatternSyntaxError(f"unsupported escape \\{char}")
        return ("lit", _CONTROL_ESCAPES.get(char, char))

    def char_class(self) -> tuple:
        pattern = self.pattern
        negated = self._peek() == "^"
        if negated:
            self.position += 1
        chars: set[str] = set()
        wide = negated
        unknown = negated  # which characters it holds is not worked out
        first = True
        while True:
            if self.position >= len(pattern):
                raise PatternSyntaxError("unterminated character class")
            char = pattern[self.position]
            self.position += 1
            if char == "]" and not first:
                break
            first = False
            if char == "\\":
                escaped = pattern[self.position : self.position + 1]
                self.position += 1
                if escaped == "d":
                    chars |= _DIGITS
                    wide = True
                    continue
                if escaped in _WIDE_ESCAPES:
                    wide = True
                    unknown = True
                    continue
                char = _CONTROL_ESCAPES.get(escaped, escaped)
            if self._peek() == "-" and pattern[self.position + 1 : self.position + 2] not in (
                "]",
                "",
            ):
                self.position += 1
                high = pattern[self.position]
                self.position += 1
                if high == "\\":
                    high = pattern[self.position]
                    self.position += 1
                if ord(high) - ord(char) + 1 > MAX_SET:
                    wide = True
                    unknown = unknown or ord(high) - ord(char) >= 256
                if not unknown:
                    chars.update(chr(c) for c in range(ord(char), ord(high) + 1))
                continue
            chars.add(char)
        if unknown:
            return _ANY
        if wide or len(chars) > MAX_SET:
            return ("any", frozenset(chars))
        if len(chars) == 1:
            return ("lit", chars.pop())
        return ("set", frozenset(chars))

    def quantifier(self) -> tuple[int, int | None] | None:
        char = self._peek()
        if char is None or char not in "?*+{":
            return None
        if char == "{":
            close = self.pattern.find("}", self.position)
            body = self.pattern[self.position + 1 : close] if close > 0 else ""
            low, comma, high = body.partition(",")
            if (
                close < 0
                or not (low.isdigit() or (comma and not low))
                or (high and not high.isdigit())
            ):
                return None  # a literal brace, as in Python's re
            if not comma and not low:
                return None
            self.position = close + 1
            bounds = (int(low or 0), int(high) if high else (None if comma else int(low)))
        else:
            self.position += 1
            bounds = {"?": (0, 1), "*": (0, None), "+": (1, None)}[char]
        if self._peek() in ("?", "+"):  # lazy or possessive: the same strings
            self.position += 1
        return bounds


def first_chars(nodes: list[tuple]) -> frozenset[str] | None:
    """The characters a non-empty match of `nodes` can start with; None when
    that could be almost any (a wide class such as ``.`` or ``\\w``)."""
    chars, _ = _first(nodes, {})
    return None if chars is None else frozenset(chars)


def _first(items: list[tuple], memo: dict) -> tuple[set[str] | None, bool]:
    """(first characters, whether `items` can match the empty string)."""
    chars: set[str] = set()
    for node in items:
        kind = node[0]
        if kind == "assert":  # zero width
            continue
        if kind == "lit":
            return chars | {node[1]}, False
        if kind == "set":
            return chars | node[1], False
        if kind == "any":
            return (None if len(node) < 2 else chars | node[1]), False
        if kind == "group":
            found, empty = _first_of_group(node, memo)
        else:  # repeat
            found, empty = _first(node[3], memo)
            empty = empty or node[1] == 0
        if found is None:
            return None, False
        chars |= found
        if not empty:
            return chars, False
    return chars, True


def _first_of_group(node: tuple, memo: dict) -> tuple[set[str] | None, bool]:
    key = id(node)
    if key not in memo:
        chars: set[str] | None = set()
        empty = False
        for alternative in node[1]:
            found, can_be_empty = _first(alternative, memo)
            if found is None:
                chars = None
                break
            chars |= found
            empty = empty or can_be_empty
        memo[key] = (node, chars, empty)  # the node is kept so that its id stays its own
    return memo[key][1:]
