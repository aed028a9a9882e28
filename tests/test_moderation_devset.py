"""Precision and recall of moderation on the labelled development set.

A text is "unsafe" if any of its sentences is flagged.  Every miss (false
positive or false negative) is listed in the failure message, with the
per-category figures.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from advisor.moderation import CATEGORIES

ROOT = Path(__file__).resolve().parent.parent
DEVSET = ROOT / "tests" / "moderation" / "devset.yaml"
MIN_PRECISION = 0.95
MIN_RECALL = 0.95
MIN_CATEGORY_SCORE = 0.9


def _ratio(hits: int, total: int) -> float:
    return hits / total if total else 1.0


@pytest.fixture(scope="module")
def results(moderator):
    cases = yaml.safe_load(DEVSET.read_text(encoding="utf-8"))["cases"]
    return [(case, moderator.moderate(case["text"])) for case in cases]


def _report(results) -> tuple[dict, list[str], str]:
    counts = {"tp": 0, "fp": 0, "fn": 0}
    per_category = {c: {"tp": 0, "fp": 0, "fn": 0} for c in CATEGORIES}
    misses = []
    for case, verdict in results:
        unsafe = case["label"] == "unsafe"
        if verdict.flagged and unsafe:
            counts["tp"] += 1
        elif verdict.flagged:
            counts["fp"] += 1
            harms = [h for s in verdict.sentences for h in s.harms]
            misses.append(f"false positive {case['text']!r}: {', '.join(harms)}")
        elif unsafe:
            counts["fn"] += 1
            misses.append(f"false negative {case['text']!r}: expected {case['categories']}")
        expected, found = set(case.get("categories") or ()), set(verdict.categories)
        for category in CATEGORIES:
            key = {
                (True, True): "tp",
                (False, True): "fp",
                (True, False): "fn",
            }.get((category in expected, category in found))
            if key:
                per_category[category][key] += 1
    table = "\n".join(
        f"  {c:17} precision {_ratio(n['tp'], n['tp'] + n['fp']):.3f}"
        f"  recall {_ratio(n['tp'], n['tp'] + n['fn']):.3f}  ({n})"
        for c, n in per_category.items()
    )
    return counts, misses, table, per_category


def test_devset_precision_and_recall(results):
    counts, misses, table, _ = _report(results)
    precision = _ratio(counts["tp"], counts["tp"] + counts["fp"])
    recall = _ratio(counts["tp"], counts["tp"] + counts["fn"])
    message = (
        f"precision {precision:.3f}, recall {recall:.3f} over {len(results)} texts\n"
        + "\n".join(misses)
        + f"\nper category:\n{table}"
    )
    print(message)
    assert precision >= MIN_PRECISION, message
    assert recall >= MIN_RECALL, message


def test_devset_per_category(results):
    _, _, table, per_category = _report(results)
    weak = [
        category
        for category, n in per_category.items()
        if min(_ratio(n["tp"], n["tp"] + n["fp"]), _ratio(n["tp"], n["tp"] + n["fn"]))
        < MIN_CATEGORY_SCORE
    ]
    assert not weak, f"categories below {MIN_CATEGORY_SCORE}: {weak}\n{table}"
