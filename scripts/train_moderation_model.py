"""Train the moderation model on the labelled development corpus; write ``model.json``.

    python scripts/train_moderation_model.py            # estimate, train, write
    python scripts/train_moderation_model.py --estimate # estimate only

The training texts are every development set in ``tests/moderation/corpus/``
and ``tests/moderation/devset.yaml``, the policy's case tables, and the
product's own content: the
rejected advice and the satire's passages the catalogue quotes for it (unsafe,
under its category), the guidance titles and details (with their variants) and every sentence of the
sincere articles (safe).  The sealed set is
never read.  Before training on everything, the script estimates how the
model does on writers it has not seen: it splits the writers' sets into
five folds, leaves each fold out in turn, trains on the rest and scores the
left-out sets, sentence by sentence with neighbours as the screen does.  Those scores pick each category's
threshold (the best F1 at finding that category), and the estimate at those
thresholds is written into the model beside the weights.

Needs scikit-learn (``pip install -e '.[train]'``); the service does not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from advisor.moderation import CATEGORIES  # noqa: E402
from advisor.moderation._model import (  # noqa: E402
    MODEL_FILE,
    LinearModel,
    learned,
    ngrams,
    score_sentences,
    tokens,
)
from advisor.moderation._text import normalise, split_sentences  # noqa: E402

CORPUS = ROOT / "tests" / "moderation" / "corpus"
DEVSET = ROOT / "tests" / "moderation" / "devset.yaml"
CONTENT = ROOT / "content"
POLICY = ROOT / "rules" / "moderation"
#: Inverse regularisation strength of each category's logistic regression.
C = 10.0
#: The product's own texts (the policy's case tables and devset, the content) count this
#: many times: every start checks the content against the screen (the content gate).
CONTENT_WEIGHT = 3.0
#: The writers' sets are dealt into this many folds, each left out once when estimating.
FOLDS = 5
#: Terms seen in fewer training texts than this are left out.
MIN_DF = 2
THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.15, 0.86, 0.05))


def _terms(text: str) -> list[str]:
    norm = normalise(text).text
    return ngrams([t.text for t in tokens(norm)])


def load_examples() -> dict[str, list[tuple[str, frozenset[str]]]]:
    """Labelled texts grouped by writer (the group left out when estimating)."""
    groups: dict[str, list[tuple[str, frozenset[str]]]] = {}
    for path in sorted(CORPUS.glob("*.jsonl")):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        groups[path.stem] = [(r["text"], frozenset(r["categories"])) for r in rows]
    devset = yaml.safe_load(DEVSET.read_text(encoding="utf-8"))["cases"]
    fixed = [(c["text"], frozenset(c.get("categories") or ())) for c in devset]
    for path in sorted(POLICY.glob("*.cases.yaml")):
        cases = yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]
        fixed += [(c["text"], frozenset(c.get("categories") or ())) for c in cases]
    rejected = yaml.safe_load((CONTENT / "rejected.yaml").read_text(encoding="utf-8"))["rejected"]
    fixed += [(r["advice"], frozenset([r["category"]])) for r in rejected]
    fixed += [(s["quote"], frozenset([r["category"]])) for r in rejected for s in r["sources"]]
    guidance = yaml.safe_load((CONTENT / "guidance.yaml").read_text(encoding="utf-8"))
    for action in guidance["actions"]:
        for item in (action, *action.get("variants", ())):
            fixed += [(item[f], frozenset()) for f in ("title", "detail") if item.get(f)]
            fixed += [(s["quote"], frozenset()) for s in item.get("sources", ())]
    sources = yaml.safe_load((CONTENT / "sources.yaml").read_text(encoding="utf-8"))
    for source in sources["sources"]:
        if source["nature"] != "sincere":
            continue
        text = (CONTENT / "articles" / source["file"]).read_text(encoding="utf-8")
        norm = normalise(text)
        fixed += [(text[a:b], frozenset()) for _, _, a, b in split_sentences(norm, text)]
    groups["_always"] = fixed
    return groups


def train(examples: list[tuple[str, frozenset[str]]], fixed: int = 0) -> dict:
    """The model's data (as written to model.json), without thresholds.

    The last `fixed` examples are the product's own texts (case tables,
    content); each counts CONTENT_WEIGHT times."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectoriser = TfidfVectorizer(
        analyzer=_terms, sublinear_tf=True, min_df=MIN_DF, norm="l2", smooth_idf=True
    )
    features = vectoriser.fit_transform([text for text, _ in examples])
    sample_weight = np.ones(len(examples))
    sample_weight[len(examples) - fixed :] = CONTENT_WEIGHT
    weights, intercepts = [], []
    for category in CATEGORIES:
        labels = np.array([category in cats for _, cats in examples])
        model = LogisticRegression(C=C, max_iter=5000, class_weight="balanced")
        model.fit(features, labels, sample_weight=sample_weight)
        weights.append(model.coef_[0])
        intercepts.append(float(model.intercept_[0]))
    return {
        "categories": list(CATEGORIES),
        "vocabulary": vectoriser.get_feature_names_out().tolist(),
        "idf": [round(float(x), 5) for x in vectoriser.idf_],
        "weights": [[round(float(w), 5) for w in row] for row in np.array(weights).T],
        "intercepts": [round(x, 5) for x in intercepts],
    }


def sentence_scores(model: LinearModel, text: str):
    norm = normalise(text)
    spans = [(a, b) for a, b, _, _ in split_sentences(norm, text)]
    return score_sentences(model, norm.text, spans)


def left_out_scores(groups) -> list[tuple[frozenset[str], list]]:
    """Each writer's texts scored by a model trained without that writer.

    The writers' sets are dealt into FOLDS folds; each fold is left out once."""
    results = []
    writers = sorted(g for g in groups if not g.startswith("_"))
    for fold in range(FOLDS):
        held_out = set(writers[fold::FOLDS])
        train_set = [x for g, rows in groups.items() if g not in held_out for x in rows]
        data = train(train_set, fixed=len(groups["_always"]))
        data["thresholds"] = [0.5] * len(CATEGORIES)
        model = LinearModel(data)
        for writer in sorted(held_out):
            results += [(cats, sentence_scores(model, text)) for text, cats in groups[writer]]
        print(f"  left out {', '.join(sorted(held_out))}", file=sys.stderr)
    return results


def _found(scored, thresholds) -> set[str]:
    return set().union(*(learned(scored, i, thresholds) for i in range(len(scored))))


def figures(results, thresholds: dict[str, float]) -> dict:
    """Precision and recall of the flag, and category recall, at `thresholds`."""
    tp = fp = fn = found_right = labelled = 0
    for categories, scored in results:
        found = _found(scored, thresholds)
        flagged, unsafe = bool(found), bool(categories)
        tp += flagged and unsafe
        fp += flagged and not unsafe
        fn += unsafe and not flagged
        labelled += len(categories)
        found_right += len(categories & found)
    precision = tp / max(1, tp + fp)
    recall = tp / max(1, tp + fn)
    return {
        "precision": round(precision, 3),
        "recall": round(recall, 3),
        "category_recall": round(found_right / max(1, labelled), 3),
        "f1": round(2 * precision * recall / max(1e-9, precision + recall), 3),
    }


def choose_thresholds(results) -> dict[str, float]:
    """Per category, the threshold with the best F1 at finding that category."""
    chosen = {}
    for category in CATEGORIES:
        best = None
        for t in THRESHOLDS:
            tp = fp = fn = 0
            for categories, scored in results:
                found = category in _found(scored, {**dict.fromkeys(CATEGORIES, 2.0), category: t})
                tp += found and category in categories
                fp += found and category not in categories
                fn += category in categories and not found
            f1 = 2 * tp / max(1, 2 * tp + fp + fn)
            if best is None or f1 > best[0]:
                best = (f1, t)
        chosen[category] = float(best[1])
    return chosen


def corpus_digest() -> str:
    digest = hashlib.sha256()
    for path in [*sorted(CORPUS.glob("*.jsonl")), DEVSET]:
        digest.update(path.read_bytes())
    return "sha256:" + digest.hexdigest()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--estimate", action="store_true", help="estimate only; write nothing")
    parser.add_argument("--out", type=Path, default=POLICY / MODEL_FILE)
    args = parser.parse_args(argv)
    groups = load_examples()
    results = left_out_scores(groups)
    for t in THRESHOLDS:
        print(f"every category at {t:.2f}: {figures(results, dict.fromkeys(CATEGORIES, t))}")
    thresholds = choose_thresholds(results)
    estimate = figures(results, thresholds)
    print(f"chosen per category: {thresholds}")
    print(f"left-out-writer estimate at those: {estimate}")
    if args.estimate:
        return 0
    examples = [x for rows in groups.values() for x in rows]
    data = train(examples, fixed=len(groups["_always"]))
    data["thresholds"] = [thresholds[c] for c in CATEGORIES]
    data["trained_on"] = {
        "texts": len(examples),
        "corpus": corpus_digest(),
        "left_out_writer_estimate": estimate,
    }
    args.out.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {args.out.relative_to(ROOT)}: {len(data['vocabulary'])} terms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
