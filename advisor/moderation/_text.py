"""Normalising text for matching, and splitting it into sentences with offsets.

The policy's patterns are written for plain lower-case text, so `normalise`
folds what people (and obfuscators) send into that shape: NFKC (but for
characters that would spell out more than `MOST_FOLDED`), curly quotes
and dashes to straight ones, Cyrillic, Greek and Armenian look-alikes,
Latin small capitals ("ᴅʀɪᴠᴇ"), regional indicators, letters of other scripts
drawn like Latin ones (Cherokee, Canadian syllabics, Lisu, Coptic) and boxed
or bracketed letters ("🅳🆁🅸🆅🅴", "⒟⒭⒤⒱⒠") to the Latin letters they imitate,
more Cyrillic and Greek look-alikes inside a word that also holds a Latin letter
("тhгее"), accents and strokes taken off the letters of a word it does not know
so ("dŕívé"; "café" keeps its accent), zero-width and other format characters
and combining marks dropped (a soft hyphen too: it is invisible but where a
line breaks), digits-for-letters undone ("dr1nk", and at a word's edges:
"dr1v3", "7hr33", but not "3rd" or "5pm"), a word of doubled letters halved
("ddrriivvee"), s p a c e d, d.o.t.t.e.d or otherwise separated letters joined
("d r i v e", "d/r/i/v/e", "d, r, i, v, e", one a line), each word on its own
when the words are parted otherwise ("h.a.v.e t.h.r.e.e"), a sentence spelt out
with its words run together read as the likeliest words of those it knows
(`WORDS_FILE`: "h a v e t h r e e" is "have three"), a word in camel case of
three parts or more read as its parts ("HaveThreePints"), invisible characters
standing for the spaces between words read as spaces, runs of three or more of
one letter shortened,
runs of spaces made one space, and emoji that stand for a drink, a vehicle, a
drug, a weapon, money or a sequence read as their word ("🍺🍺 ➡️ 🚗" as "beer
beer then car"), up to `MOST_EMOJI_WORDS` of them, and spellings of English words
in Scots, Northern English and Caribbean and West African English read as the
standard word ("hame" as "home", `DIALECT_WORDS`).
Every character of the result remembers the offset of the character of the
original text it came from, so that spans found in the normalised text map
back to exact slices of the original.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import ahocorasick

__all__ = ["LATIN_LOOKALIKES", "Normalised", "normalise", "split_sentences"]

#: Cyrillic and Greek letters drawn like Latin ones, and the Latin letters they are
#: read as: the policy reads English, and "Тhrее pints" (Cyrillic Т and е) is
#: written to slip past it.
_LOOKALIKES = (
    "\u0430\u0435\u043e\u0440\u0441\u0443\u0445\u0456\u0458\u0455\u04bb\u0501\u051b\u051d\u043a"
    "\u0410\u0412\u0415\u041a\u041c\u041d\u041e\u0420\u0421\u0422\u0425\u0423\u0406\u0408\u0405"
    "\u03bf\u03b1\u03bd\u03c1\u03b9\u03ba\u03c5\u03c7"
    "\u039f\u0391\u0392\u0395\u0396\u0397\u0399\u039a\u039c\u039d\u03a1\u03a4\u03a5\u03a7"
)
_LATIN = "aeopcyxijshdqwkABEKMHOPCTXYIJSoavpikuxOABEZHIKMNPTYX"
#: Latin small capitals and other letters drawn as a Latin letter (Latin alpha and
#: script g, Armenian o, n, u and h), and the letters they are read as.
_SMALL_CAPITALS = (
    "\u1d00\u0299\u1d04\u1d05\u1d07\ua730\u0262\u029c\u026a\u1d0a\u1d0b\u029f\u1d0d"
    "\u0274\u1d0f\u1d18\u0280\ua731\u1d1b\u1d1c\u1d20\u1d21\u028f\u1d22"
    "\u0251\u0261\u0269\u0585\u0578\u057d\u0570"
)
_SMALL_LATIN = "abcdefghijklmnoprstuvwyzagionuh"
#: Letters of other scripts drawn like a Latin letter, by the letter they are read as,
#: where NFKC leaves them as they are: Cherokee ("ᎠᏒᏆᏙᎬ"), Canadian syllabics (the
#: letters of "fancy text": "ᗪᖇᎥᐯᗴ"), Lisu, Coptic, the dotless i and j, and Latin
#: letters in brackets, in black circles and in black squares (NFKC spells "⒟" as
#: "(d)"; "🅓" and "🅳" it keeps). Unicode's confusables, but for a few that only
#: "fancy text" generators use as the letter.
_OTHER_LOOKALIKES = {
    "a": "\u13aa\u15c5\u15e9\ua4ee\u2c80",
    "b": "\u13cf\u13f4\u15af\u15f7\ua4d0\u2c82",
    "c": "\u13df\u1455\ua4da\u2ca4",
    "d": "\u13a0\u13e7\u146f\u15de\u15ea\ua4d3",
    "e": "\u13ac\u156e\u15f4\ua4f0\u2c88",
    "f": "\u15b4\ua4dd",
    "g": "\u13c0\u13f3\u161c\ua4d6",
    "h": "\u13bb\u13c2\u157c\ua4e7",
    "i": "\u13a5\ua4f2\u2c92\u0131",
    "j": "\u13ab\u148d\ua4d9\u0237",
    "k": "\u13e6\ua4d7\u2c94",
    "l": "\u13de\u14aa\ua4e1\u01c0",
    "m": "\u13b7\u15f0\ua4df\u2c98",
    "n": "\u144e\ua4e0\u2c9a",
    "o": "\u13be\ua4f3\u2c9e",
    "p": "\u13e2\u146d\ua4d1\u2ca2",
    "q": "\u146b",
    "r": "\u13a1\u13d2\u1587\ua4e3",
    "s": "\u13d5\u13da\u1515\ua4e2",
    "t": "\u13a2\ua4d4\u2ca6",
    "u": "\u144c\ua4f4",
    "v": "\u13d9\u142f\ua4e6",
    "w": "\u13b3\u13d4\u15ef\ua4ea",
    "x": "\u1541\u157d\u166d\ua4eb\u2cac",
    "y": "\u13a9\u13bd\ua4ec\u2ca8",
    "z": "\u13c3\u1614\ua4dc",
}
#: Each of them, its lower case too (Cherokee and Coptic have both), and the bracketed,
#: black-circled and black-squared letters, read as the Latin letter.
_OTHER_LATIN = {
    **{
        ord(form): letter
        for letter, chars in _OTHER_LOOKALIKES.items()
        for char in chars
        for form in (char, char.lower())
    },
    **{
        first + i: chr(ord("a") + i)
        for first in (0x249C, 0x1F110, 0x1F150, 0x1F170)
        for i in range(26)
    },
}
#: Cyrillic and Greek letters drawn like a Latin one only beside Latin letters (a
#: Cyrillic т is a small capital T; the Greek η an n), and the letters they are read
#: as inside a word that also holds a Latin letter as sent ("тhгее", "piптs"): a
#: Russian or Greek word keeps them.
_MIXED_LOOKALIKES = {
    "b": "\u0432\u044c",
    "c": "\u03c2\u03f2",
    "e": "\u03b5\u03f5\u025b",
    "h": "\u043d",
    "m": "\u043c",
    "n": "\u043f\u03b7",
    "r": "\u0433",
    "t": "\u0442\u03c4",
    "u": "\u03bc",
    "w": "\u0448\u03c9",
}
#: Every letter of another script that the normaliser reads as a Latin one: a word
#: made of these and Latin letters only is Latin written to look otherwise.
LATIN_LOOKALIKES = frozenset(
    _LOOKALIKES
    + _SMALL_CAPITALS
    + "".join(_MIXED_LOOKALIKES.values())
    + "".join(chr(code) for code in _OTHER_LATIN)
)
#: Latin letters with a stroke or hook that no mark makes, drawn as the plain letter.
_STROKED = {
    "b": "\u0180",
    "c": "\u023c",
    "d": "\u0111",
    "e": "\u0247",
    "g": "\u01e5",
    "h": "\u0127",
    "i": "\u0268",
    "j": "\u0249",
    "l": "\u0142",
    "o": "\u00f8",
    "r": "\u024d",
    "t": "\u0167",
    "u": "\u0289",
    "y": "\u024f",
    "z": "\u01b6",
}
#: Latin letters with marks (the accented letters of Latin-1 and Latin Extended, and
#: those with a stroke), each read as the plain letter in a word the normaliser does
#: not know as written: "dŕívé" and "ḋṙïṿë" are "drive", as "d\u0301r\u0301" is,
#: but "café" and "rosé" keep their accents.
_UNMARKED = str.maketrans(
    {
        **{
            char: decomposed[0].lower()
            for char in map(chr, (*range(0xC0, 0x250), *range(0x1E00, 0x1F00)))
            if len(decomposed := unicodedata.normalize("NFD", char)) > 1
            and decomposed[0].isascii()
            and decomposed[0].isalpha()
            and all(unicodedata.category(mark) == "Mn" for mark in decomposed[1:])
        },
        **{char: letter for letter, char in _STROKED.items()},
    }
)
_MIXED_LATIN = str.maketrans(
    {char: letter for letter, chars in _MIXED_LOOKALIKES.items() for char in chars}
)
#: One letter with a mark, and one of `_MIXED_LOOKALIKES`: where a word to read again is.
_MARKED = re.compile("[" + "".join(map(chr, _UNMARKED)) + "]")
_MIXED = re.compile("[" + "".join(_MIXED_LOOKALIKES.values()) + "]")
_LATIN_LETTER = re.compile("[A-Za-z]")
# One-to-one replacements keep offsets unchanged.
_ONE_TO_ONE = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u00b4\u0060\uff07", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb\uff02", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2212", "-"),
        **dict.fromkeys("\u2026", "."),
        **dict.fromkeys("\t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006", " "),
        **dict.fromkeys("\u2007\u2008\u2009\u200a\u202f\u205f\u3000", " "),
        # Blank characters drawn as a space, and used for one (Braille, Hangul fillers).
        **dict.fromkeys("\u2800\u3164\u115f\u1160\uffa0", " "),
        # Invisible characters that can stand where a zero-width space does: the
        # joiners and non-joiner, the word joiner, a byte order mark, the Mongolian
        # vowel separator (dropped as format characters, unless they part words).
        **dict.fromkeys("\u200c\u200d\u2060\ufeff\u180e", "\u200b"),
        **dict.fromkeys("\r\v\f\x1c\x1d\x1e\x85\u2028\u2029", "\n"),
        **{ord(k): v for k, v in zip(_LOOKALIKES, _LATIN, strict=True)},
        **{ord(k): v for k, v in zip(_SMALL_CAPITALS, _SMALL_LATIN, strict=True)},
        # Regional indicators, drawn as boxed capitals where no flag is made of them.
        **{0x1F1E6 + i: chr(ord("a") + i) for i in range(26)},
        **_OTHER_LATIN,
    }
)
#: Spellings of English words in Scots, Northern English and Caribbean and West
#: African English, read as the word they spell ("taking the car hame after a few",
#: "a couple afore I drive"): the policy's patterns and the model's vocabulary are
#: written mostly in the standard spellings.  Only forms that spell no other
#: English word or name are here ("ken", "no", "aw", "wid", "am" are not).
DIALECT_WORDS = {
    # Scots
    "hame": "home",
    "afore": "before",
    "efter": "after",
    "fae": "from",
    "frae": "from",
    "tae": "to",
    "wi": "with",
    "gie": "give",
    "gies": "gives",
    "nicht": "night",
    "noo": "now",
    "twa": "two",
    "daein": "doing",
    "dae": "do",
    "telt": "told",
    "hae": "have",
    "hud": "had",
    "sae": "so",
    "oot": "out",
    "aboot": "about",
    "roond": "round",
    "doon": "down",
    "hoose": "house",
    "heid": "head",
    "masel": "myself",
    "masell": "myself",
    "yersel": "yourself",
    "himsel": "himself",
    "hersel": "herself",
    "naebody": "nobody",
    "naethin": "nothing",
    "naething": "nothing",
    "awright": "alright",
    "windaes": "windows",
    "windae": "window",
    "dinnae": "don't",
    "dinna": "don't",
    "cannae": "can't",
    "canna": "can't",
    "wouldnae": "wouldn't",
    "couldnae": "couldn't",
    "shouldnae": "shouldn't",
    "didnae": "didn't",
    "isnae": "isn't",
    "wasnae": "wasn't",
    "willnae": "won't",
    "doesnae": "doesn't",
    "havenae": "haven't",
    "hivnae": "haven't",
    "gonnae": "going to",
    "tellt": "told",
    # Northern English (Tyneside and Yorkshire)
    "divvent": "don't",
    "divven't": "don't",
    "gannin": "going",
    "hyem": "home",
    "yem": "home",
    "wor": "our",
    "nowt": "nothing",
    "owt": "anything",
    "summat": "something",
    # Caribbean and West African English
    "dem": "them",
    "dat": "that",
    "dis": "this",
    "gwan": "going",
    "gwaan": "going",
    "cyaan": "can't",
    "yuh": "you",
    "wetin": "what",
    "abeg": "please",
}
#: A dialect spelling as a whole word: not joined to a letter, an apostrophe or a
#: hyphen ("tae-kwon-do" and "wi-fi" are other words).
_DIALECT = re.compile(
    r"(?<![\w'-])(?:"
    + "|".join(sorted(map(re.escape, DIALECT_WORDS), key=len, reverse=True))
    + r")(?![\w'-])"
)
_JOINS_WORD = re.compile(r"[\w'-]")
#: Emoji read as the word they show, where the word is one the policy reads: drinks,
#: vehicles (the safe ways home among them), drugs and medicines, blows and weapons,
#: money, and the arrow that chains one step to the next. Each is one character (a
#: variation selector after it is a format character, dropped). Other emoji are kept
#: as they are, for the learned model to read as symbols.
EMOJI_WORDS = {
    **dict.fromkeys("\U0001f37a", "beer"),  # beer mug
    **dict.fromkeys("\U0001f37b", "beers"),  # clinking beer mugs
    **dict.fromkeys("\U0001f377", "wine"),  # wine glass
    **dict.fromkeys("\U0001f942\U0001f37e", "champagne"),  # clinking glasses, bottle
    **dict.fromkeys("\U0001f378\U0001f379", "cocktail"),
    **dict.fromkeys("\U0001f943", "whisky"),  # tumbler glass
    **dict.fromkeys("\U0001f376", "sake"),
    **dict.fromkeys("\U0001f697\U0001f699\U0001f698\U0001f3ce", "car"),
    **dict.fromkeys("\U0001f690", "van"),
    **dict.fromkeys("\U0001f69a\U0001f69b\U0001f6fb", "truck"),
    **dict.fromkeys("\U0001f3cd", "motorbike"),
    **dict.fromkeys("\U0001f6f5", "moped"),
    **dict.fromkeys("\U0001f6f4", "scooter"),
    **dict.fromkeys("\U0001f6b2", "bike"),
    **dict.fromkeys("\u2708\U0001f6e9", "plane"),
    **dict.fromkeys("\U0001f695\U0001f696", "taxi"),
    **dict.fromkeys("\U0001f68c\U0001f68d", "bus"),
    **dict.fromkeys("\U0001f686\U0001f684\U0001f685\U0001f687\U0001f68a", "train"),
    **dict.fromkeys("\U0001f48a", "pill"),
    **dict.fromkeys("\U0001f489", "needle"),
    **dict.fromkeys("\U0001f344", "mushroom"),
    **dict.fromkeys("\U0001f44a\U0001f91c\U0001f91b", "punch"),
    **dict.fromkeys("\U0001f94a", "boxing"),
    **dict.fromkeys("\U0001f52a\U0001f5e1", "knife"),
    **dict.fromkeys("\U0001f52b", "gun"),
    **dict.fromkeys("\U0001f4b8\U0001f4b0\U0001f911", "money"),
    **dict.fromkeys("\U0001f4b5\U0001f4b7\U0001f4b6\U0001f4b4", "cash"),
    **dict.fromkeys("\u27a1\u2192\u21d2\u27f6", "then"),
}
#: The most emoji a text has read as words; more are kept as symbols, so that a text
#: of emoji grows by a bounded amount, and so costs a bounded amount more to screen.
MOST_EMOJI_WORDS = 64
_EMOJI = re.compile("[" + "".join(EMOJI_WORDS) + "]")
#: The most characters the emoji read as words add to a text, all told.
MOST_EMOJI_GROWTH = MOST_EMOJI_WORDS * max(len(word) + 1 for word in EMOJI_WORDS.values())
#: `_ONE_TO_ONE` on ASCII text, as a byte table (str.translate looks up every character).
_ASCII_ONE_TO_ONE = bytes(
    ord(_ONE_TO_ONE.get(byte, chr(byte))) if byte < 128 else byte for byte in range(256)
)
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_LEET = str.maketrans("013457@$!", "oieastasi")
# Digits and symbols standing for letters, inside a word: dr1nk, w33d, c0ke.
# (Written to start with the symbol, so that the regex engine skips at once to
# one, instead of trying a look-behind at every letter.)
_LEET_RUN = re.compile(r"[013457@$!](?<=[a-z].)[013457@$!]*(?=[a-z])")
#: Digits and symbols standing for letters at a word's edge: the end of "driv3" and
#: "pint$" (after two letters or more), the start of "7hree" ("!" ends sentences,
#: "@" and "$" start handles and sums). Written to start with the symbol, as `_LEET_RUN`.
_LEET_EDGE = re.compile(
    r"[013457@$](?:(?<=[a-z]{2}.)[013457$]*(?![\w@$])"
    r"|(?<=[013457])(?<![\w@$].)[013457]*(?=[a-z]))"
)
#: Words of digits and letters that are no leet: a number and its unit or ending
#: (3rd, 5pm, 10km), a sum (us$50), and any holding a digit that stands for no
#: letter (covid19, h264).
_NOT_LEET = re.compile(r"\d+[a-z]+|.*[2689].*|.*\$\d.*", re.ASCII)
_WORD = re.compile(r"[\w@$]+")
#: What parts the letters of a spaced-out word: up to eight characters that are no
#: letter, digit or apostrophe (a space or several, dots, a dash, star, comma,
#: slash, bar, colon, an emoji: "d r i v e", "d, r, i, v, e", "d⭐r⭐i⭐v⭐e"), the
#: same between each two letters; or one line break (a word written down a column).
MOST_SEPARATOR = 8
_SEPARATOR = rf"(?:\n|(?:[^\w'\n]|_){{1,{MOST_SEPARATOR}}})"
# Three or more single letters each parted from the next by one same separator
# (d r i v e, d.r.i.v.e: "h.a.v.e t.h.r.e.e" is two words), or a letter repeated
# three or more times.
_SPACED = re.compile(
    rf"(?<![^\W_])(?<!')[a-z0-9@$!]({_SEPARATOR})[a-z0-9@$!](?:\1[a-z0-9@$!])+"
    r"(?![^\W_])(?!')"
    r"|([a-z])\2{2,}"
)
#: A word of two or more letters each written twice ("ddrriivvee"): no English word
#: is made of letter pairs alone.
_DOUBLED = re.compile(r"(?<![\w'])(?:([a-z])\1){2,}(?![\w'])")
_SPACES = re.compile(r" {2,}")
#: Where a spaced-out word could be: its second letter between two separators.
#: The regex engine skips at once to a separator, so looking for this first is
#: much quicker than `_SPACED`, which must try every letter.
_SPACED_HINT = re.compile(r"[\W_][a-z0-9@$!][\W_]")
#: A letter three times (`_SPACED`'s other alternative), and two letters each twice
#: (where a word of `_DOUBLED` starts), all looked for in one pass.
_TRIPLE, _PAIRS = "triple", "pairs"
_REPEATS = ahocorasick.Automaton()
for _first in "abcdefghijklmnopqrstuvwxyz":
    _REPEATS.add_word(_first * 3, _TRIPLE)
    for _second in "abcdefghijklmnopqrstuvwxyz":
        if _second != _first:
            _REPEATS.add_word(_first * 2 + _second * 2, _PAIRS)
    _REPEATS.add_word(_first * 4, _PAIRS)  # two pairs of one letter
_REPEATS.make_automaton()


def _repeats(text: str) -> dict[str, list[int]]:
    """Where in `text` each of `_TRIPLE` and `_PAIRS` ends, for those it holds."""
    found: dict[str, list[int]] = {}
    for end, kind in _REPEATS.iter(text):
        found.setdefault(kind, []).append(end)
    return found


def _doubled(text: str, pairs: Iterable[int]) -> list[re.Match]:
    """The words of `_DOUBLED` in `text`, looked for only where two letters each come
    twice (`pairs`, where they end): an English text has a few ("coffee")."""
    found: list[re.Match] = []
    known, tried = (-1, -1), -1  # the last place looked at and its word's start
    for end in pairs:  # in order
        start = _run_start(text, end - 3, known, _is_lower)
        known = (end - 3, start)
        if start == tried or (found and start < found[-1].end()):
            continue
        tried = start
        if word := _DOUBLED.match(text, start):
            found.append(word)
    return found


def _is_lower(char: str) -> bool:
    return "a" <= char <= "z"


def _is_ascii_letter(char: str) -> bool:
    return char.isascii() and char.isalpha()


def _run_start(text: str, position: int, known: tuple[int, int], letter) -> int:
    """Where the run of characters `letter` accepts that holds `position` starts in
    `text`. `known` is (an earlier position at or before this one, where its run
    starts): a walk back that reaches it stops there, so that looks at many places
    of one long word cost its length once, not its square."""
    start = position
    while start and letter(text[start - 1]):
        start -= 1
        if start == known[0]:
            return known[1]
    return start


def _has_spaced(text: str, repeats: dict[str, list[int]] | None = None) -> bool:
    """Whether `_SPACED` matches somewhere in `text` (`_SPACED.search`, quicker);
    `repeats`: `_repeats(text)`, if known."""
    if _TRIPLE in (_repeats(text) if repeats is None else repeats):
        return True
    position = 0
    while hint := _SPACED_HINT.search(text, position):
        # A spaced-out word starts one character before its first separator, which is
        # one to `MOST_SEPARATOR` characters long: no letter or digit, but "@", "$" and
        # "!" may be either.
        for start in range(hint.start() - 1, max(hint.start() - MOST_SEPARATOR, 0) - 2, -1):
            if text[start] in _SPELT and _SPACED.match(text, start):
                return True
            if text[start].isalnum():
                break
        position = hint.start() + 1
    return False


#: What may be spelt out one character at a time: a letter, a digit, or a symbol that
#: stands for a letter.
_SPELT = frozenset("abcdefghijklmnopqrstuvwxyz0123456789@$!")


def _one_to_one(text: str) -> str:
    """`text.translate(_ONE_TO_ONE)`, with its ASCII stretches through a byte table."""
    pieces = []
    position = 0
    for run in _NON_ASCII.finditer(text):
        pieces.append(
            text[position : run.start()]
            .encode("ascii")
            .translate(_ASCII_ONE_TO_ONE)
            .decode("ascii")
        )
        pieces.append(run.group().translate(_ONE_TO_ONE))
        position = run.end()
    pieces.append(text[position:].encode("ascii").translate(_ASCII_ONE_TO_ONE).decode("ascii"))
    return "".join(pieces)


@dataclass(frozen=True)
class Normalised:
    """Normalised text, and for each of its characters the original offset."""

    text: str
    origin: tuple[int, ...] | None  # None: the identity (nothing moved)
    length: int  # of the original text

    def start(self, position: int) -> int:
        """The original offset of the character at `position`."""
        return position if self.origin is None else self.origin[position]

    def end(self, position: int) -> int:
        """The original offset just after the character before `position`, and after
        what was folded away behind it (combining marks, format characters, repeats
        squeezed into it): they belong to it, up to the next character kept."""
        if position <= 0:
            return 0
        if self.origin is None:
            return position
        after = self.origin[position - 1] + 1
        following = self.origin[position] if position < len(self.origin) else self.length
        return max(after, following)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map the normalised span [start, end) to the original text."""
        return self.start(start), self.end(end)


#: A format character that marks where a line may break between words (the other
#: invisible ones that can stand for it are read as it, `_ONE_TO_ONE`).
ZERO_WIDTH_SPACE = "\u200b"
#: Single letters between zero-width spaces, twice over: the spaces part letters.
_ZERO_WIDTH_SPACED = re.compile(r"\u200b\w\u200b\w\u200b")
#: The categories of characters dropped: zero-width and other format characters, and
#: combining marks (a struck-through "d̶r̶i̶v̶e̶", or one stacked with accents, reads as
#: "drive"; an accented letter written as one character keeps its accent).
_DROPPED = frozenset(("Cf", "Mn", "Me"))
#: The most characters one character folds to. NFKC spells out ligatures of whole
#: words (U+FDFA is 18 characters, U+FDFD 33); kept as they are, they bound how
#: much a text can grow, and so what it costs to screen.
MOST_FOLDED = 4


@lru_cache(maxsize=4096)  # one character at a time: a text repeats its characters
def _fold_char(char: str) -> str:
    if unicodedata.category(char) in _DROPPED:
        return ""
    folded = unicodedata.normalize("NFKC", char).lower().translate(_ONE_TO_ONE)
    return folded if len(folded) <= MOST_FOLDED else char.lower()


def _fold_run(run: str) -> str | None:
    """`run` folded, or None when folding it keeps it the same length."""
    folded = unicodedata.normalize("NFKC", run).lower().translate(_ONE_TO_ONE)
    if len(folded) == len(run) and not any(unicodedata.category(c) in _DROPPED for c in run):
        return folded
    return None


#: Where a word in camel case may be: a lower-case letter, then a capital.
_CAMEL_HINT = re.compile(r"[a-z][A-Z]")
#: A word in camel case of three parts or more ("HaveThreePints", "#DrinkAndDrive"): its
#: parts are words run together. A name of two ("LinkedIn", "iPhone") stays whole.
_CAMEL = re.compile(r"(?<![A-Za-z])[A-Z]?[a-z]+(?:[A-Z][a-z]+){2,}(?![A-Za-z])")
_CAMEL_PART = re.compile(r"(?<=[a-z])(?=[A-Z])")


def normalise(text: str) -> Normalised:
    """Fold `text` for matching, remembering where each character came from."""
    camel = _camel_words(text)
    if not camel:
        return _normalise(text)
    # Words in camel case are read as their parts, each after a space that stands
    # for the part's first letter.
    pieces: list[str] = []
    origin: list[int] = []
    position = 0
    for word in camel:
        pieces.append(text[position : word.start()])
        origin.extend(range(position, word.start()))
        start = word.start()
        for cut in _CAMEL_PART.finditer(text, word.start(), word.end()):
            pieces += (text[start : cut.start()], " ")
            origin.extend((*range(start, cut.start()), cut.start()))
            start = cut.start()
        pieces.append(text[start : word.end()])
        origin.extend(range(start, word.end()))
        position = word.end()
    pieces.append(text[position:])
    origin.extend(range(position, len(text)))
    parted = _normalise("".join(pieces))
    return Normalised(
        parted.text, tuple(origin[parted.start(i)] for i in range(len(parted.text))), len(text)
    )


def _camel_words(text: str) -> list[re.Match]:
    """The words of `_CAMEL` in `text`, looked for only where a capital follows a
    lower-case letter (a text has few such places, or none)."""
    found: list[re.Match] = []
    known, tried = (-1, -1), -1  # the last place looked at and its word's start
    for hint in _CAMEL_HINT.finditer(text):
        if found and hint.start() < found[-1].end():
            continue
        start = _run_start(text, hint.start(), known, _is_ascii_letter)
        known = (hint.start(), start)
        if start == tried:
            continue
        tried = start
        if word := _CAMEL.match(text, start):
            found.append(word)
    return found


def _normalise(text: str) -> Normalised:
    origin: list[int] | None = None
    if text.isascii():
        folded = text.encode("ascii").translate(_ASCII_ONE_TO_ONE).decode("ascii").lower()
    else:
        translated = _one_to_one(_rewrite_words(text, _MIXED, _mixed_as_latin))
        if ZERO_WIDTH_SPACE in translated and (
            translated.count(ZERO_WIDTH_SPACE) > translated.count(" ")
            or _ZERO_WIDTH_SPACED.search(translated)
        ):
            # Zero-width spaces standing for the spaces ("three\u200bpints\u200bthen")
            # part words, and between every letter ("d\u200br\u200bi\u200bv\u200be") they
            # part letters, read as letters spelt out; a few inside words ("dri\u200bve")
            # are dropped, as other format characters.
            translated = translated.replace(ZERO_WIDTH_SPACE, " ")
        pieces: list[str] = []
        position = 0
        words_left = MOST_EMOJI_WORDS
        for match in _NON_ASCII.finditer(translated):
            pieces.append(translated[position : match.start()].lower())
            if origin is not None:
                origin.extend(range(position, match.start()))
            run = match.group()
            emoji = words_left and _EMOJI.search(run)
            same_length = None if emoji else _fold_run(run)
            if same_length is not None:
                pieces.append(same_length)
                if origin is not None:
                    origin.extend(range(match.start(), match.end()))
            else:
                if origin is None:  # every character so far kept its offset
                    origin = list(range(match.start()))
                for offset, char in enumerate(run, start=match.start()):
                    word = EMOJI_WORDS.get(char) if words_left else None
                    if word is None:
                        out = _fold_char(char)
                    else:
                        out, words_left = f" {word} ", words_left - 1
                    pieces.append(out)
                    origin.extend([offset] * len(out))
            position = match.end()
        pieces.append(translated[position:].lower())
        if origin is not None:
            origin.extend(range(position, len(translated)))
        folded = "".join(pieces)
        folded = _rewrite_words(folded, _MARKED, _unmarked)
    folded = _unleet(folded)
    repeats = _repeats(folded)
    if doubled := _doubled(folded, repeats.get(_PAIRS, ())):
        folded, origin = _squeeze(folded, origin, doubled, _doubled_keep)
        repeats = _repeats(folded)
    if _has_spaced(folded, repeats):
        folded, origin = _squeeze(folded, origin, _SPACED.finditer(folded), _spaced_keep)
        folded = _unleet(folded)
    if "  " in folded:
        spaces = _SPACES.finditer(folded)
        folded, origin = _squeeze(folded, origin, spaces, lambda m: ((m.start(), " "),))
    if dialect := _dialect_words(folded):
        folded, origin = _squeeze(folded, origin, dialect, _standard_keep)
    return Normalised(folded, None if origin is None else tuple(origin), len(text))


def _unleet(text: str) -> str:
    """`text` with the digits and symbols that stand for letters read as letters."""
    inside = _LEET_RUN.sub(_as_letters, text)
    if not _LEET_EDGE.search(inside):
        return inside

    def edge(match: re.Match) -> str:
        # The word as written, before the letters inside it were read ("0ffer" was
        # "0ff3r", leet, where "3days" is a number and its unit): one-to-one, so the
        # offsets agree.
        word = _WORD.search(inside, _word_start(inside, match.start()))
        written = text[word.start() : word.end()]
        return match.group() if _NOT_LEET.fullmatch(written) else _as_letters(match)

    return _LEET_EDGE.sub(edge, inside)


def _as_letters(match: re.Match) -> str:
    return match.group().translate(_LEET)


def _in_word(char: str) -> bool:
    return char.isalnum() or char in "_@$"


def _word_start(text: str, position: int) -> int:
    return _run_start(text, position, (-1, -1), _in_word)


def _rewrite_words(text: str, chars: re.Pattern, rewrite) -> str:
    """`text` with each word (a run of letters) that holds a character of `chars`
    replaced by `rewrite(word)`, of the same length. Only those words are read: most
    texts have none or a few."""
    pieces = []
    position = 0
    for found in chars.finditer(text):
        if found.start() < position:  # in the word just rewritten
            continue
        start = found.start()
        while start > position and text[start - 1].isalpha():
            start -= 1
        end = found.end()
        while end < len(text) and text[end].isalpha():
            end += 1
        pieces += (text[position:start], rewrite(text[start:end]))
        position = end
    if not pieces:
        return text
    pieces.append(text[position:])
    return "".join(pieces)


def _unmarked(word: str) -> str:
    """`word` with its marks taken off, unless it is one the normaliser knows so."""
    return word if word in _lexicon().known else word.translate(_UNMARKED)


def _mixed_as_latin(word: str) -> str:
    """`word` (as sent) read with `_MIXED_LATIN` when it holds a Latin letter."""
    return word.translate(_MIXED_LATIN) if _LATIN_LETTER.search(word) else word


@cache
def _dialect_automaton() -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    for word in DIALECT_WORDS:
        automaton.add_word(word, len(word))
    automaton.make_automaton()
    return automaton


def _dialect_words(text: str) -> list[re.Match]:
    """What `_DIALECT.finditer(text)` finds, from one pass of an Aho-Corasick
    automaton of the spellings (the regex tries its alternatives at every
    place): a spelling found with no letter, apostrophe or hyphen on either
    side is matched there."""
    found = []
    end_of_last = 0
    for last, length in _dialect_automaton().iter(text):
        start = last - length + 1
        if start < end_of_last:
            continue
        # The characters on either side first: most hits are inside other words
        # ("wi" in "with"), and one look at each is cheaper than the regex there
        # (38 against 63 us on the 5,000-character article).
        if (start and _JOINS_WORD.match(text, start - 1)) or _JOINS_WORD.match(text, last + 1):
            continue
        match = _DIALECT.match(text, start)
        if match is not None:
            found.append(match)
            end_of_last = match.end()
    return found


def _standard_keep(match: re.Match) -> Iterable[tuple[int, str]]:
    """A dialect spelling's standard word (`DIALECT_WORDS`), each of its
    characters standing for the character of the spelling at its place (the
    last one for those past its end)."""
    last = match.end() - 1
    word = DIALECT_WORDS[match.group()]
    return ((min(match.start() + index, last), char) for index, char in enumerate(word))


def _doubled_keep(match: re.Match) -> Iterable[tuple[int, str]]:
    text = match.string
    return ((offset, text[offset]) for offset in range(match.start(), match.end(), 2))


def _spaced_keep(match: re.Match) -> Iterable[tuple[int, str]]:
    if match.group(2):  # a letter repeated: keep one
        return ((match.start(), match.group(2)),)
    # Spaced letters: keep the letters, each a separator's length after the one before;
    # a run too long to be one word is read as the words it most likely spells, each
    # parted from the next by a space in place of the separator after its last letter.
    step = 1 + len(match.group(1))
    letters = match.group()[::step]
    kept = [(match.start() + step * index, letter) for index, letter in enumerate(letters)]
    read = letters.translate(_LEET)
    if len(read) < SEGMENTED_FROM or read in _lexicon().known:
        return kept
    for end in reversed(_word_ends(read)[:-1]):
        kept.insert(end, (match.start() + step * end - 1, " "))
    return kept


def _squeeze(
    text: str, origin: Sequence[int] | None, matches: Iterable[re.Match], keep
) -> tuple[str, list[int]]:
    """Replace each of `matches` (in `text`, in order) by the characters `keep` gives
    for it, each with the offset of the character of the match it stands for."""
    if origin is None:
        origin = range(len(text))  # sliced and indexed as the list would be
    pieces: list[str] = []
    kept: list[int] = []
    position = 0
    for match in matches:
        pieces.append(text[position : match.start()])
        kept.extend(origin[position : match.start()])
        for offset, char in keep(match):
            pieces.append(char)
            kept.append(origin[offset])
        position = match.end()
    pieces.append(text[position:])
    kept.extend(origin[position:])
    return "".join(pieces), kept


#: The file of the words the normaliser knows, most frequent first
#: (scripts/normaliser_words.py writes it).
WORDS_FILE = Path(__file__).resolve().parent / "words.txt"
#: The fewest letters run together that are read as the words they spell, when they
#: are not one word the normaliser knows ("drive" stays, "drivehome" is two words).
SEGMENTED_FROM = 6


@dataclass(frozen=True)
class _Lexicon:
    #: Every word, as written (accents kept).
    known: frozenset[str]
    #: Each word of ASCII letters as the value (its length and its cost) of its key.
    automaton: ahocorasick.Automaton
    #: What a stretch of letters that is no known word costs: this, and `per_letter`
    #: for each of its letters (a name stays whole, "harley", rather than becoming
    #: rare short words, "har le y").
    unknown: float
    per_letter: float


@cache
def _lexicon() -> _Lexicon:
    """The words of `WORDS_FILE`, read on first use: a word's cost grows with the
    logarithm of its rank, as word frequencies fall off (Zipf's law); an unknown
    stretch costs as much as the rarest word, and two for each letter."""
    lines = WORDS_FILE.read_text(encoding="utf-8").splitlines()
    words = [line for line in lines if line and not line.startswith("#")]
    automaton = ahocorasick.Automaton()
    scale = math.log(len(words))
    for rank, word in enumerate(words, start=1):
        if word.isascii():
            automaton.add_word(word, (len(word), math.log(rank * scale)))
    automaton.make_automaton()
    return _Lexicon(frozenset(words), automaton, math.log(len(words) * scale), 2.0)


def _word_ends(letters: str) -> list[int]:
    """Where each word ends in `letters` run together, read as the likeliest words:
    the split whose known words and unknown stretches cost least in all. Each letter
    ends at most one known word of each length, and the cheapest unknown stretch
    ending at a letter is kept as the letters go, so this is linear in the letters."""
    lexicon = _lexicon()
    ending: list[list[tuple[int, float]]] = [[] for _ in letters]
    for end, word in lexicon.automaton.iter(letters):
        ending[end].append(word)
    per_letter = lexicon.per_letter
    best = [0.0] * (len(letters) + 1)
    start = [0] * (len(letters) + 1)
    # The cheapest start of an unknown stretch: min over i of best[i] - per_letter * i.
    stretch, stretch_start = 0.0, 0
    for end in range(1, len(letters) + 1):
        best[end] = stretch + lexicon.unknown + per_letter * end
        start[end] = stretch_start
        for size, cost in ending[end - 1]:
            if best[end - size] + cost < best[end]:
                best[end], start[end] = best[end - size] + cost, end - size
        if best[end] - per_letter * end < stretch:
            stretch, stretch_start = best[end] - per_letter * end, end
    ends = []
    end = len(letters)
    while end:
        ends.append(end)
        end = start[end]
    return ends[::-1]


_LINE = re.compile(r"[^\n]+")
_BULLET = re.compile(r"\s*(?:[-*+\u2022\u00b7\u25aa\u25cf\u25e6\u2023\u2043>]+|\(?\d{1,3}[.)])\s+")
_END = re.compile(r"[.!?]+['\")\]]*(?=\s|$)")
_CONTENT = re.compile(r"[^\W_]")


def split_sentences(norm: Normalised, original: str) -> list[tuple[int, int, int, int]]:
    """Sentences as (norm_start, norm_end, start, end), in order.

    Sentences end at . ! ? (with any closing quotes or brackets) before white
    space, and at line breaks; a leading bullet or list number is left out.
    Each original span [start, end) is stripped of surrounding white space
    and holds at least one letter or digit.
    """
    text = norm.text
    sentences = []
    previous_end = 0
    for line in _LINE.finditer(text):
        begin = line.start()
        bullet = _BULLET.match(text, begin, line.end())
        if bullet:
            begin = bullet.end()
        cuts = [m.end() for m in _END.finditer(text, begin, line.end())]
        if not cuts or cuts[-1] < line.end():
            cuts.append(line.end())
        for cut in cuts:
            piece = (begin, cut)
            begin = cut
            span = _strip(norm, original, piece, previous_end)
            if span:
                sentences.append(span)
                previous_end = span[3]
    return sentences


def _strip(norm, original, piece, floor):
    start, end = piece
    text = norm.text
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start >= end or not _CONTENT.search(text, start, end):
        return None
    first, last = norm.span(start, end)
    first = max(first, floor)
    while first < last and original[first].isspace():
        first += 1
    while last > first and original[last - 1].isspace():
        last -= 1
    if first >= last:
        return None
    return start, end, first, last
