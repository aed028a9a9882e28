"""Whether a text reads as English, the only language the screen reads.

Two ways a text reads as another language (the policy's `language`, in
``shared.yaml``):

- most of its letters, at least `min_letters` of them, are of another script
  than the Latin (Cyrillic, Arabic, Devanagari, Chinese...). A word of letters
  drawn like Latin ones ("ѕιχ bееrѕ", "ᴅʀɪᴠᴇ", "ᗪᖇᎥᐯᗴ": the normaliser reads
  them as Latin) counts as Latin; Hangul jamo ("ㅋㅋㅋ", laughter) count as
  neither;
- of its words (at least `min_words`), those of `other` (common words of
  other languages written in Latin letters: "ng", "nahi", "que", "und")
  number at least `min_other` and outnumber those of `english` ("the", "to",
  "you", "don't");
- of its words (at least `min_words_no_english`), at least
  `min_other_no_english` are of `other` and none of `english`: a short plan ("Ich werde
  betrunken nach Hause fahren", "Uminom ng tatlong beer tapos magmaneho
  pauwi") names too few common words of its language to outnumber anything,
  but English of that length holds some of its own.

Only words written in lower case count, and "I", and a sentence's first word
read in lower case: a capitalised name or an acronym ("Yang", "PE") says
nothing of the language around it, unless the text holds no lower-case letter
at all (then every word counts). A word that touches a digit or "@" ("r1ng1ng",
"c@ll") is not a word of either list. Accents are not told apart ("não" is
"nao"). Terse English ("Steel toes polished.") holds few English words but none
of the others, so it stays English.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from ._text import LATIN_LOOKALIKES

__all__ = ["Language"]

#: A word: ASCII letters (the lists' letters, once accents are taken off), with any
#: apostrophes inside it ("don't", "y'all"), touching no digit, "@" or "$".
_WORD = re.compile(r"(?<![A-Za-z0-9@$])[A-Za-z]+(?:'[A-Za-z]+)*(?![A-Za-z0-9@$])")
#: Apostrophes written otherwise (’, ʼ, ‘), read as "'".
_APOSTROPHES = ("\u2019", "\u02bc", "\u2018")
#: The Latin script's letters: Basic Latin, Latin-1 and Latin Extended A and B, IPA
#: and phonetic letters, Latin Extended Additional, C, D and E, fullwidth Latin and
#: the mathematical Latin letters. Hangul jamo are no script's letters here.
_LATIN_RANGES = (
    "A-Za-z\u00aa\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02af\u1d00-\u1dbf\u1e00-\u1eff"
    "\u2c60-\u2c7f\ua720-\ua7ff\uab30-\uab6f\uff21-\uff3a\uff41-\uff5a\U0001d400-\U0001d6a3"
)
_JAMO = "\u1100-\u11ff\u3131-\u318e\uffa0-\uffdc"
_LATIN = re.compile(f"[{_LATIN_RANGES}]")
_OTHER_SCRIPT = re.compile(rf"[^\W\d_{_LATIN_RANGES}{_JAMO}]")
#: A run of letters (a word of any script).
_LETTERS = re.compile(r"[^\W\d_]+")
#: Combining marks, as NFD writes accents.
_MARKS = re.compile(r"[\u0300-\u036f]")
#: A sentence's first word, capitalised: read in lower case. It opens the text, or
#: follows a sentence's end ([.!?] or a line break, closing quotes or brackets, then
#: space). A line break among the spaces before the word is looked for from the start
#: of their run (the first line break in it must not be its last character), once a
#: run: tried from each line break in turn, a long run of them took its square.
_OPENING = re.compile(r"(^|[.!?][\"')\]]*\s+|\n[\"')\]]+\s+|(?<!\s)[^\S\n]*\n\s+)([A-Z])(?=[a-z'])")


@dataclass(frozen=True)
class Language:
    english: frozenset[str]
    other: frozenset[str]
    min_words: int
    min_other: int
    min_letters: int
    min_words_no_english: int
    min_other_no_english: int

    @classmethod
    def of(
        cls,
        english: Iterable[str],
        other: Iterable[str],
        min_words: int,
        min_other: int,
        min_letters: int,
        min_words_no_english: int,
        min_other_no_english: int,
    ) -> Language:
        """The check of these lists (lower case, unaccented). Only a word written
        as listed counts, so that names and acronyms say nothing; "I" and its
        contractions ("I'm") count as written."""
        english = set(english)
        english |= {w.capitalize() for w in english if w == "i" or w.startswith("i'")}
        return cls(
            frozenset(english),
            frozenset(other),
            min_words,
            min_other,
            min_letters,
            min_words_no_english,
            min_other_no_english,
        )

    def reads_english(self, text: str) -> bool:
        """Whether `text`, as written, reads as English."""
        if not text.isascii():
            if _OTHER_SCRIPT.search(text) and self._other_script(text):
                return False
            if not unicodedata.is_normalized("NFKC", text):
                text = unicodedata.normalize("NFKC", text)
            for apostrophe in _APOSTROPHES:  # str.replace: a tenth of str.translate's time
                text = text.replace(apostrophe, "'")
            if not unicodedata.is_normalized("NFD", text):
                text = _MARKS.sub("", unicodedata.normalize("NFD", text))
        if text.isupper():  # no lower-case letter: every word counts
            text = text.lower()
        else:
            text = _OPENING.sub(_lower_opening, text)
        words = _WORD.findall(text)
        if len(words) < min(self.min_words, self.min_words_no_english):
            return True
        other = sum(map(self.other.__contains__, words))
        if other < min(self.min_other, self.min_other_no_english):
            return True
        english = sum(map(self.english.__contains__, words))
        if not english and (
            len(words) >= self.min_words_no_english and other >= self.min_other_no_english
        ):
            return False
        return len(words) < self.min_words or other < self.min_other or other <= english

    def _other_script(self, text: str) -> bool:
        """Whether most of `text`'s letters, at least `min_letters`, are of another
        script than the Latin, a word drawn in Latin look-alikes counting as Latin."""
        latin = foreign = 0
        for word in _LETTERS.findall(text):
            others = _OTHER_SCRIPT.findall(word)
            if others and not all(c in LATIN_LOOKALIKES for c in others):
                foreign += len(others)
            latin += len(_LATIN.findall(word))
        return foreign >= self.min_letters and foreign > latin


def _lower_opening(found: re.Match) -> str:
    return found.group(1) + found.group(2).lower()
