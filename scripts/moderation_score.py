"""Score the moderation screen on labelled texts: precision, recall, per category.

Each input is JSON Lines (optionally gzipped), one labelled text per line::

    {"id": "d1-001", "text": "...", "label": "unsafe" | "safe",
     "categories": [...], "kind": "..."}

A text counts as flagged when any of its sentences is.  Category recall is
the share of texts labelled with a category whose verdict names that
category.  ``--misses`` lists the false positives and negatives of sets that
are open for development; a sealed set (a ``.gz`` file, or ``--sealed``)
only ever gives aggregate figures, and its texts are never printed.

    python scripts/moderation_score.py tests/moderation/corpus/*.jsonl --misses
    python scripts/moderation_score.py tests/moderation/sealed.jsonl.gz
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from labelled import LabelledError, read_labelled  # noqa: E402

from advisor.moderation import CATEGORIES, Moderator  # noqa: E402

LABELS = ("safe", "unsafe")
KEYS = ("id", "text", "label", "categories")


#: A labelled file is malformed; the message names the file and line, not the text.
CorpusError = LabelledError


@dataclass
class Score:
    """Counts over a labelled set."""

    texts: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    category_found: Counter = field(default_factory=Counter)
    category_total: Counter = field(default_factory=Counter)
    misses: list = field(default_factory=list)

    @property
    def unsafe(self) -> int:
        return self.tp + self.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def category_recall(self) -> dict[str, float]:
        return {
            c: self.category_found[c] / self.category_total[c]
            for c in CATEGORIES
            if self.category_total[c]
        }

    def summary(self) -> dict:
        per_category = self.category_recall()
        return {
            "texts": self.texts,
            "unsafe": self.unsafe,
            "precision": round(self.precision, 3),
            "recall": round(self.recall, 3),
            "false_positives": self.fp,
            "false_negatives": self.fn,
            "category_recall": {c: round(r, 3) for c, r in per_category.items()},
            "lowest_category_recall": round(min(per_category.values(), default=1.0), 3),
        }


def read_cases(path: Path) -> list[dict]:
    """The labelled texts of `path`, validated."""
    cases = []
    for where, case in read_labelled(path, KEYS):
        if case["label"] not in LABELS:
            raise CorpusError(f"{where}: label must be one of {LABELS}")
        categories = case["categories"]
        if not isinstance(categories, list) or set(categories) - set(CATEGORIES):
            raise CorpusError(f"{where}: categories must be a list of {CATEGORIES}")
        if (case["label"] == "unsafe") != bool(categories):
            raise CorpusError(f"{where}: an unsafe text needs categories, a safe one none")
        if not isinstance(case["text"], str) or not case["text"].strip():
            raise CorpusError(f"{where}: text must be a non-empty string")
        cases.append(case)
    return cases


def score(moderator: Moderator, cases: list[dict], keep_misses: bool) -> Score:
    result = Score()
    for case in cases:
        verdict = moderator.moderate(case["text"])
        unsafe = case["label"] == "unsafe"
        result.texts += 1
        if verdict.flagged and unsafe:
            result.tp += 1
        elif verdict.flagged:
            result.fp += 1
        elif unsafe:
            result.fn += 1
        for category in case["categories"]:
            result.category_total[category] += 1
            result.category_found[category] += category in verdict.categories
        wrong_categories = unsafe and set(case["categories"]) - set(verdict.categories)
        if keep_misses and (verdict.flagged != unsafe or wrong_categories):
            result.misses.append((case, verdict))
    return result


def load_moderator() -> Moderator:
    import yaml

    rejected = yaml.safe_load((ROOT / "content" / "rejected.yaml").read_text(encoding="utf-8"))
    return Moderator.load(ROOT / "rules" / "moderation", rejected["rejected"])


def _print_misses(result: Score) -> None:
    for case, verdict in result.misses:
        if verdict.flagged and case["label"] == "safe":
            kind = "FALSE POSITIVE"
            found = [h for s in verdict.sentences for h in s.harms]
        elif not verdict.flagged:
            kind = "FALSE NEGATIVE"
            found = case["categories"]
        else:
            kind = "WRONG CATEGORY"
            found = f"expected {case['categories']}, got {list(verdict.categories)}"
        print(f"--- {kind} {case['id']} ({case.get('kind', '?')}): {found}")
        print(f"    {case['text']}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--sealed", action="store_true", help="aggregate figures only")
    parser.add_argument("--misses", action="store_true", help="list what was missed")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    sealed = args.sealed or any(p.suffix == ".gz" for p in args.files)
    if sealed and args.misses:
        parser.error("a sealed set gives aggregate figures only")
    moderator = load_moderator()
    try:
        cases = [case for path in args.files for case in read_cases(path)]
    except CorpusError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    result = score(moderator, cases, keep_misses=args.misses)
    summary = result.summary()
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"{summary['texts']} texts ({summary['unsafe']} unsafe): "
            f"precision {summary['precision']:.3f}, recall {summary['recall']:.3f} "
            f"({summary['false_positives']} false positives, "
            f"{summary['false_negatives']} false negatives)"
        )
        for category, recall in summary["category_recall"].items():
            print(f"  {category:17} recall {recall:.3f} of {result.category_total[category]}")
    if args.misses:
        _print_misses(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
