"""Write the words the moderation normaliser knows: ``advisor/moderation/words.txt``.

    .venv/bin/python scripts/normaliser_words.py

The normaliser reads a sentence spelt out one letter at a time, its words run
together ("h a v e t h r e e p i n t s"), as the likeliest words of this list
("have three pints"), and keeps the accents of a word only where the list has it
so ("café", "rosé"; "dŕívé" is read as "drive"). The words are those of the
labelled development texts (``tests/moderation/corpus/``, ``scored/`` and
``devset.yaml``) and the articles, lower-cased, most frequent first: every word
written at least twice, and every word with a letter outside ASCII however
often. Single letters other than "a" and "i" are left out (they are the ends
of "it's" and "I'm"). The sealed set is never read.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ROOT / "tests" / "moderation"
ARTICLES = ROOT / "content" / "articles"
WORDS_FILE = ROOT / "advisor" / "moderation" / "words.txt"
_WORD = re.compile(r"[^\W\d_]+")


def texts() -> list[str]:
    """The development texts and the articles."""
    found = []
    for folder in ("corpus", "scored"):
        for path in sorted((LABELLED / folder).glob("*.jsonl")):
            lines = path.read_text(encoding="utf-8").splitlines()
            found += [json.loads(line)["text"] for line in lines if line.strip()]
    devset = yaml.safe_load((LABELLED / "devset.yaml").read_text(encoding="utf-8"))
    found += [case["text"] for case in devset["cases"]]
    found += [path.read_text(encoding="utf-8") for path in sorted(ARTICLES.glob("*.txt"))]
    return found


#: A letter three times in a row.
_DRAWN_OUT = re.compile(r"(.)\1\1")


def words(texts: list[str]) -> list[str]:
    """The words of `texts` the normaliser keeps, most frequent first.  A word with a
    letter three times in a row ("sooo") is left out: the normaliser reads it drawn
    out, so it is never looked up as written."""
    counts = Counter(word for text in texts for word in _WORD.findall(text.lower()))
    kept = (
        (word, count)
        for word, count in counts.items()
        if (count >= 2 or not word.isascii())
        and (len(word) > 1 or word in ("a", "i"))
        and not _DRAWN_OUT.search(word)
    )
    return [word for word, _ in sorted(kept, key=lambda item: (-item[1], item[0]))]


def main() -> int:
    found = words(texts())
    header = (
        "# The words the moderation normaliser knows, most frequent first: written by\n"
        "# scripts/normaliser_words.py from the labelled development texts and the articles.\n"
    )
    WORDS_FILE.write_text(header + "\n".join(found) + "\n", encoding="utf-8")
    print(f"{len(found)} words written to {WORDS_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
