"""Whether a text reads as English, the only language the screen reads.

The check counts two lists of the policy's (`language` in ``shared.yaml``):
common English words ("the", "to", "you", "don't") and common words of other
languages that are not English words ("ang", "hindi", "nahi", "que", "und").
A text of at least `min_words` words in which the other languages' words
number at least `min_other` and outnumber the English ones is read as another
language: the screen's `ok` there says only that it found nothing it can read.
Terse English ("Steel toes polished.") holds few English words but none of the
others, so it stays English.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Language"]

#: A word: letters, with any apostrophes inside it ("don't", "y'all").
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")


@dataclass(frozen=True)
class Language:
    english: frozenset[str]
    other: frozenset[str]
    min_words: int
    min_other: int

    @classmethod
    def of(cls, english: Iterable[str], other: Iterable[str], min_words: int, min_other: int):
        return cls(frozenset(english), frozenset(other), min_words, min_other)

    def reads_english(self, text: str) -> bool:
        """Whether `text` (normalised: straight apostrophes) reads as English;
        case and accents are not told apart ("Não" is "nao")."""
        words = _WORD.findall(text.lower())
        if len(words) < self.min_words:
            return True
        english = other = 0
        for word in words:
            if not word.isascii():
                word = _unaccented(word)
            if word in self.english:
                english += 1
            elif word in self.other:
                other += 1
        return other < self.min_other or other <= english


def _unaccented(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))
