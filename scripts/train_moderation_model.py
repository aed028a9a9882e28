"""Train the moderation model on the labelled development corpus; write ``model.npz``.

    python scripts/train_moderation_model.py            # estimate, train, write
    python scripts/train_moderation_model.py --estimate # estimate only
    python scripts/train_moderation_model.py --reply-only  # the reply model alone

The training texts are every development set in ``tests/moderation/corpus/``
and ``tests/moderation/devset.yaml``, the policy's case tables, and the
product's own content: the
rejected advice and the satire's passages the catalogue quotes for it, as quoted
and as the whole sentences they fall in (unsafe, under its category), the guidance titles and details (with their variants) and every sentence of the
sincere articles (safe).  The sealed set is
never read.  Before training on everything, the script estimates how the
model does on writers it has not seen: it splits the writers' sets into
five folds, leaves each fold out in turn, trains on the rest and scores the
left-out sets, sentence by sentence with neighbours as the screen does.  Those scores pick each category's
threshold (the best F-beta at finding that category, `BETA`); a category-blind stance
model (does the text around a sentence endorse the harm, or report, mock or
reject it?) is trained beside it, and one shift of every category's threshold
together with the stance threshold is picked for the best F-beta of the flag.
The estimate at those thresholds is written into the model beside the weights.
The reply model (do the sentences after a report of someone else's advice
take it up or turn it down?) is trained on the writers' reported texts, of the
corpus and of the fresh batches in ``tests/moderation/scored/`` (each has
measured its round), its
two scores chosen on left-out writers (`train_reply`); `--reply-only` puts
it into the model file as it is and changes nothing else there, and a full
training keeps the file's reply model (it is trained only where the file has
none): each model is measured blind as it changes. The regressions run to
convergence (`TOL`), so the same corpus gives the same model.

Needs scikit-learn (``pip install -e '.[train]'``); the service does not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from advisor.drafts import SAMPLE_DETAILS  # noqa: E402
from advisor.moderation import CATEGORIES, read_model, write_model  # noqa: E402
from advisor.moderation._model import (  # noqa: E402
    ENDORSES,
    MODEL_FILE,
    TAKES_UP,
    LinearModel,
    endorsement,
    learned,
    ngrams,
    score_sentences,
    stance_window,
    tokens,
)
from advisor.moderation._text import normalise, split_sentences  # noqa: E402

CORPUS = ROOT / "tests" / "moderation" / "corpus"
#: Fresh batches that have measured their round and wait for the next retraining of the
#: category and stance models; the reply model reads them with the corpus.
SCORED = ROOT / "tests" / "moderation" / "scored"
DEVSET = ROOT / "tests" / "moderation" / "devset.yaml"
CONTENT = ROOT / "content"
POLICY = ROOT / "rules" / "moderation"
#: Inverse regularisation strength of each category's logistic regression.
C = 10.0
#: The solver runs until the loss moves less than this (scikit-learn stops at 1e-4 by
#: default, short of the optimum: each retraining would be a draw of its own).
TOL = 1e-7
#: The product's own texts (the policy's case tables and devset, the content) count this
#: many times: every start checks the content against the screen (the content gate).
CONTENT_WEIGHT = 3.0
#: ... and in the category models at least this share of the writers' texts' weight
#: (what three times each came to when 38,310 writers' texts stood beside 1,151 of
#: the product's), so that they keep their say as the writers' sets grow.
CONTENT_SHARE = 0.09
#: The writers' sets are dealt into this many folds, each left out once when estimating.
FOLDS = 5
#: Terms seen in fewer training texts than this are left out.
MIN_DF = 2
#: Thresholds are chosen for the best F-beta on left-out writers: below 1, precision
#: weighs more than recall, as the screen's targets ask more of it (0.97 against
#: 0.95). At 1 (the F1), each retraining on more writers' sets raised recall on new
#: writers and lowered the sealed set's precision; at 0.75 the model trained on 62
#: sets gave eight new writers 15 fewer false alarms and 20 fewer misses than the
#: one trained on 48 sets at 1.
BETA = 0.75
THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.15, 0.86, 0.05))
#: The kinds of text the reply model learns from: a report of someone else's advice
#: that the sentences after it take up, or turn down.
TAKES_UP_KINDS = frozenset({"reported-endorsed", "endorsed-report"})
TURNS_DOWN_KINDS = frozenset({"reported-rejected"})
#: How many sentences after a report the reply model reads, and the fewest words
#: it judges (shorter replies, "No.", "No joke.", are the word classes' to read).
REPLY_WINDOW = 2
REPLY_MIN_WORDS = 4
REPLY_C = 1.0
#: The reply model speaks only where, on writers it had not seen, at least this
#: share of what it decides either way is right.
REPLY_PRECISION = 0.985
#: Safe texts of these kinds name a harm without endorsing it: the stance model's
#: negatives (every unsafe text is a positive).
NOT_ENDORSED = frozenset({"reported-rejected", "negated", "figurative"})
#: Safe texts of these kinds name no harm at all: ordinary plans and chat.
ORDINARY = frozenset({"benign", "unrelated"})
#: Inverse regularisation strength of the stance model.
STANCE_C = 1.0
#: A sentence's stance is read over it and this many sentences either side.
STANCE_WINDOW = 5
#: A sentence the model is this sure of on its own keeps its verdict whatever
#: the stance around it: padding a plain harmful plan with ordinary sentences
#: must not hide it.
CERTAIN = 0.99
#: The stance thresholds tried, and the shifts of every category's threshold tried
#: with them (a stance gate lets the categories' thresholds come down).
STANCE_GATES = (0.3, 0.35, 0.4, 0.45, 0.5)
SHIFTS = (-0.25, -0.2, -0.15, -0.1, -0.05, 0.0)
#: The scores tried at which the model confirms a harm the word classes found.
CONFIRMS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35)


def _terms(text: str) -> list[str]:
    norm = normalise(text).text
    return ngrams([t.text for t in tokens(norm)])


def _corpus_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _writers(folders) -> dict[str, list[dict]]:
    """Each writer's labelled rows in `folders`, by the set's name."""
    return {
        path.stem: _corpus_rows(path)
        for folder in folders
        for path in sorted(folder.glob("*.jsonl"))
    }


def _texts(writers: dict[str, list[dict]]) -> dict[str, list[tuple[str, frozenset[str]]]]:
    """Each writer's (text, categories), by the set's name."""
    return {
        name: [(r["text"], frozenset(r["categories"])) for r in rows]
        for name, rows in writers.items()
    }


def _kinds(writers: dict[str, list[dict]]) -> dict[str, str]:
    """The writers' kind of each text ("explicit", "reported-rejected", ...)."""
    return {r["text"]: r.get("kind", "") for rows in writers.values() for r in rows}


def load_kinds() -> dict[str, str]:
    """The writers' kind of each corpus text."""
    return _kinds(_writers((CORPUS,)))


def reply_sets() -> tuple[dict[str, list[tuple[str, frozenset[str]]]], dict[str, str]]:
    """What the reply model learns from: every writer's set that has measured a round,
    the corpus's and the scored batches' (`SCORED`), grouped by writer, and their kinds.
    Only the writers' reported texts count (`replies`), so the case tables and the
    content, which `load_examples` adds, are not read."""
    writers = _writers((CORPUS, SCORED))
    return _texts(writers), _kinds(writers)


def load_examples() -> dict[str, list[tuple[str, frozenset[str]]]]:
    """Labelled texts grouped by writer (the group left out when estimating)."""
    groups = _texts(_writers((CORPUS,)))
    devset = yaml.safe_load(DEVSET.read_text(encoding="utf-8"))["cases"]
    fixed = [(c["text"], frozenset(c.get("categories") or ())) for c in devset]
    for path in sorted(POLICY.glob("*.cases.yaml")):
        cases = yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]
        fixed += [(c["text"], frozenset(c.get("categories") or ())) for c in cases]
    rejected = yaml.safe_load((CONTENT / "rejected.yaml").read_text(encoding="utf-8"))["rejected"]
    fixed += [(r["advice"], frozenset([r["category"]])) for r in rejected]
    fixed += [(s["quote"], frozenset([r["category"]])) for r in rejected for s in r["sources"]]
    # As the screen and the content gate judge them: the whole sentence a quote falls in,
    # under the categories of every quote it holds.
    covering: dict[str, set[str]] = {}
    for text, a, b, category in satire_sentences(0):
        covering.setdefault(text[a:b], set()).add(category)
    fixed += [(sentence, frozenset(categories)) for sentence, categories in covering.items()]
    guidance = yaml.safe_load((CONTENT / "guidance.yaml").read_text(encoding="utf-8"))
    for action in guidance["actions"]:
        for item in (action, *action.get("variants", ())):
            fixed += [(item[f], frozenset()) for f in ("title", "detail") if item.get(f)]
            fixed += [(s["quote"], frozenset()) for s in item.get("sources", ())]
    fixed += [(text, frozenset()) for text in draft_texts()]
    sources = yaml.safe_load((CONTENT / "sources.yaml").read_text(encoding="utf-8"))
    for source in sources["sources"]:
        if source["nature"] != "sincere":
            continue
        text = (CONTENT / "articles" / source["file"]).read_text(encoding="utf-8")
        norm = normalise(text)
        fixed += [(text[a:b], frozenset()) for _, _, a, b in split_sentences(norm, text)]
    groups["_always"] = fixed
    return groups


def draft_texts() -> list[str]:
    """The draft templates as a candidate gets them, filled with the sample details
    and with the placeholders of details left out ("[your name]"), whole and
    sentence by sentence: the product's own texts, which start-up checks pass."""
    raw = yaml.safe_load((CONTENT / "drafts.yaml").read_text(encoding="utf-8"))
    texts = []
    for item in raw["drafts"]:
        for variant in item["variants"]:
            templates = [variant[k] for k in ("subject", "body") if variant.get(k)]
            templates += variant.get("shorter", [])
            recipient = variant.get("recipient", "interviewer")
            left_out = {n: p.format(recipient=recipient) for n, p in raw["placeholders"].items()}
            for values in (SAMPLE_DETAILS, left_out):
                for template in templates:
                    text = template.format_map(values)
                    norm = normalise(text)
                    texts.append(text)
                    texts += [text[a:b] for _, _, a, b in split_sentences(norm, text)]
    return list(dict.fromkeys(texts))


def train(examples: list[tuple[str, frozenset[str]]], fixed: int = 0) -> dict:
    """The model's data (as written to the model file), without thresholds.

    The last `fixed` examples are the product's own texts (case tables,
    content); each counts CONTENT_WEIGHT times, or more, so that together they
    weigh CONTENT_SHARE of the writers' texts."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectoriser = TfidfVectorizer(
        analyzer=_terms, sublinear_tf=True, min_df=MIN_DF, norm="l2", smooth_idf=True
    )
    features = vectoriser.fit_transform([text for text, _ in examples])
    sample_weight = np.ones(len(examples))
    if fixed:
        writers = len(examples) - fixed
        sample_weight[writers:] = max(CONTENT_WEIGHT, CONTENT_SHARE * writers / fixed)
    weights, intercepts = [], []
    for category in CATEGORIES:
        labels = np.array([category in cats for _, cats in examples])
        model = LogisticRegression(C=C, max_iter=20000, tol=TOL, class_weight="balanced")
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


def train_stance(examples: list[tuple[str, frozenset[str]]], kinds: dict[str, str]) -> dict:
    """The stance model's data: does a text that names a harm endorse it?

    Its positives are the unsafe texts (the product's own unsafe texts, the
    rejected advice and the satire's passages, among them), its negatives the
    writers' safe texts that report, quote, negate or joke about a harm
    (`NOT_ENDORSED`).  Category-blind, it learns from all of them what
    rejecting, mocking or reporting sounds like."""
    chosen = [(t, bool(cats)) for t, cats in examples if cats or kinds.get(t) in NOT_ENDORSED]
    # Each text again beside an ordinary one (a plan, a thank-you): ordinary
    # words say nothing of the stance, so padding a harmful plan with them
    # cannot hide it, nor padding a rejection make it endorse.
    ordinary = [t for t, cats in examples if not cats and kinds.get(t) in ORDINARY]
    if ordinary:
        draw = random.Random(0)
        chosen += [
            (f"{t} {o}" if draw.random() < 0.5 else f"{o} {t}", y)
            for (t, y), o in zip(chosen, draw.choices(ordinary, k=len(chosen)), strict=True)
        ]
    satire = satire_windows()
    chosen += [(t, True) for t in satire]
    weight = np.ones(len(chosen))
    weight[len(chosen) - len(satire) :] = CONTENT_WEIGHT
    return {
        **_one_score(chosen, ENDORSES, STANCE_C, weight),
        "thresholds": [0.5],
        "window": STANCE_WINDOW,
        "certain": CERTAIN,
    }


def replies(groups, kinds) -> dict[str, list[tuple[str, bool]]]:
    """Per writer, the sentences after the first report of someone else's
    advice (`REPLY_WINDOW` of them, normalised, as the screen reads them) in
    each text of the reply kinds, and whether they take the advice up."""
    from advisor.moderation import Moderator
    from advisor.moderation._policy import load_policy

    rejected = yaml.safe_load((CONTENT / "rejected.yaml").read_text(encoding="utf-8"))["rejected"]
    screen = Moderator(load_policy(POLICY), rejected)
    found = {}
    for writer, rows in groups.items():
        if writer.startswith("_"):
            continue
        for text, _ in rows:
            kind = kinds.get(text)
            if kind not in TAKES_UP_KINDS | TURNS_DOWN_KINDS:
                continue
            # The reply to the first report only.
            reply = next(iter(screen.report_replies(text, REPLY_WINDOW)), None)
            if reply is not None and len(tokens(reply)) >= REPLY_MIN_WORDS:
                found.setdefault(writer, []).append((reply, kind in TAKES_UP_KINDS))
    return found


def _one_score(rows: list[tuple[str, bool]], category: str, c: float, weight=None) -> dict:
    """A model of one score, `category`, over `rows` of (text, yes or no), as
    written to the model file (without thresholds)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectoriser = TfidfVectorizer(
        analyzer=_terms, sublinear_tf=True, min_df=MIN_DF, norm="l2", smooth_idf=True
    )
    features = vectoriser.fit_transform([text for text, _ in rows])
    model = LogisticRegression(C=c, max_iter=20000, tol=TOL, class_weight="balanced")
    model.fit(features, np.array([y for _, y in rows]), sample_weight=weight)
    return {
        "categories": [category],
        "vocabulary": vectoriser.get_feature_names_out().tolist(),
        "idf": [round(float(x), 5) for x in vectoriser.idf_],
        "weights": [[round(float(w), 5)] for w in model.coef_[0]],
        "intercepts": [round(float(model.intercept_[0]), 5)],
    }


def _reply_model(rows: list[tuple[str, bool]]):
    return {
        **_one_score(rows, TAKES_UP, REPLY_C),
        "window": REPLY_WINDOW,
        "min_words": REPLY_MIN_WORDS,
    }


def train_reply(groups, kinds) -> dict:
    """The reply model's data: trained on every writer's replies, with the two
    scores at which it takes advice up or turns it down chosen on writers it
    had not seen (five folds of whole writers): the least sure each way at
    which `REPLY_PRECISION` of its decisions are right."""
    by_writer = replies(groups, kinds)
    writers = sorted(by_writer)
    scored = []
    for fold in range(FOLDS):
        held_out = set(writers[fold::FOLDS])
        model = LinearModel(
            {
                **_reply_model([r for w in writers if w not in held_out for r in by_writer[w]]),
                "thresholds": [0.5],
            }
        )
        scored += [
            (model.scores(_terms(text))[TAKES_UP], up)
            for w in sorted(held_out)
            for text, up in by_writer[w]
        ]
    grid = [round(x, 2) for x in np.arange(0.01, 1.0, 0.01)]

    def precise(picked) -> bool:
        return bool(picked) and sum(picked) / len(picked) >= REPLY_PRECISION

    up_at = next((t for t in grid if precise([up for s, up in scored if s >= t])), 1.0)
    down_at = next(
        (t for t in reversed(grid) if precise([not up for s, up in scored if s <= t])), 0.0
    )
    decided = [(s, up) for s, up in scored if s >= up_at or s <= down_at]
    right = int(sum((s >= up_at) == up for s, up in decided))
    print(
        f"reply model: takes up at {up_at}, turns down at {down_at}; on left-out writers it"
        f" decides {len(decided)} of {len(scored)} replies, {right} of them rightly"
    )
    data = _reply_model([r for w in writers for r in by_writer[w]])
    data["thresholds"] = [float(up_at)]
    data["turned_down_at"] = float(down_at)
    data["trained_on"] = {
        "replies": len(scored),
        "left_out_writer_estimate": {"decided": len(decided), "right": right},
    }
    return data


def satire_windows() -> list[str]:
    """The satirical article's unsafe passages as the screen reads their stance:
    each sentence a rejected advice's quote falls in, with `STANCE_WINDOW`
    sentences either side.  The satire recommends them in earnest tones, and
    the content gate wants them flagged where they stand."""
    return [text[a:b] for text, a, b, _ in satire_sentences(STANCE_WINDOW)]


def satire_sentences(window: int) -> list[tuple[str, int, int, str]]:
    """(article text, start, end, category) of each sentence of a satirical
    article that a rejected advice's quote falls in, with `window` sentences
    either side."""
    rejected = yaml.safe_load((CONTENT / "rejected.yaml").read_text(encoding="utf-8"))["rejected"]
    sources = yaml.safe_load((CONTENT / "sources.yaml").read_text(encoding="utf-8"))["sources"]
    files = {s["id"]: s["file"] for s in sources if s["nature"] != "sincere"}
    found_spans = []
    for source_id, file in files.items():
        text = (CONTENT / "articles" / file).read_text(encoding="utf-8")
        spans = [(a, b) for _, _, a, b in split_sentences(normalise(text), text)]
        for item in rejected:
            for quoted in item.get("sources", ()):
                if quoted.get("source") not in (None, source_id):
                    continue
                words = quoted["quote"].split()[:8]
                found = re.search(r"\s+".join(map(re.escape, words)), text)
                at = found.start() if found else -1
                hit = [i for i, (a, b) in enumerate(spans) if a <= at < b] if at >= 0 else []
                for i in hit:
                    first = spans[max(i - window, 0)][0]
                    last = spans[min(i + window, len(spans) - 1)][1]
                    found_spans.append((text, first, last, item["category"]))
    return found_spans


def sentence_scores(model: LinearModel, text: str):
    norm = normalise(text)
    spans = [(a, b) for a, b, _, _ in split_sentences(norm, text)]
    return score_sentences(model, norm.text, spans)


def stance_scores(stance: LinearModel, text: str) -> list[float]:
    """Each sentence's stance score, read over its window (as the screen reads it)."""
    norm = normalise(text)
    spans = [(a, b) for a, b, _, _ in split_sentences(norm, text)]
    return endorsement(stance, norm.text, spans, stance_window(stance))


def left_out_scores(groups, kinds) -> tuple[list, list]:
    """Each writer's texts scored by models trained without that writer, and
    each fold's models (data) with the texts they left out.

    The writers' sets are dealt into FOLDS folds; each fold is left out once."""
    results, folds = [], []
    writers = sorted(g for g in groups if not g.startswith("_"))
    for fold in range(FOLDS):
        held_out = set(writers[fold::FOLDS])
        train_set = [x for g, rows in groups.items() if g not in held_out for x in rows]
        data = train(train_set, fixed=len(groups["_always"]))
        data["thresholds"] = [0.5] * len(CATEGORIES)
        model = LinearModel(data)
        data["stance"] = train_stance(train_set, kinds)
        stance = LinearModel(data["stance"])
        left_out = [x for writer in sorted(held_out) for x in groups[writer]]
        results += [
            (cats, sentence_scores(model, text), stance_scores(stance, text))
            for text, cats in left_out
        ]
        folds.append((data, left_out))
        print(f"  left out {', '.join(sorted(held_out))}", file=sys.stderr)
    return results, folds


def screen_figures(
    folds, policy, rejected, thresholds, single, gate: float, confirm: float
) -> dict:
    """Precision and recall of the whole screen (word classes, stance, model)
    on left-out writers, each fold's model at these thresholds and gate, and
    the word classes' harms confirmed at `confirm`."""
    from advisor.moderation._moderator import Moderator

    tp = fp = fn = 0
    for data, left_out in folds:
        data = {
            **data,
            "thresholds": [thresholds[c] for c in CATEGORIES],
            "single_thresholds": [single[c] for c in CATEGORIES],
            "stance": {**data["stance"], "thresholds": [gate]},
        }
        screen = Moderator(
            replace(policy, model=LinearModel(data), confirm=dict.fromkeys(CATEGORIES, confirm)),
            rejected,
        )
        for text, categories in left_out:
            flagged, unsafe = screen.moderate(text).flagged, bool(categories)
            tp += flagged and unsafe
            fp += flagged and not unsafe
            fn += unsafe and not flagged
    precision, recall = tp / max(1, tp + fp), tp / max(1, tp + fn)
    return {"precision": round(precision, 3), "recall": round(recall, 3)}


def choose_confirm(folds, thresholds, single, gate: float) -> tuple[float, dict]:
    """The score at which the model confirms a harm of the word classes, with
    the whole screen's best F-beta on left-out writers, and its figures."""
    from advisor.moderation._policy import load_policy

    policy = load_policy(POLICY)
    rejected = yaml.safe_load((CONTENT / "rejected.yaml").read_text(encoding="utf-8"))["rejected"]
    best = None
    for confirm in CONFIRMS:
        found = screen_figures(folds, policy, rejected, thresholds, single, gate, confirm)
        print(f"the screen, harms confirmed at {confirm}: {found}")
        score = _f_beta(found["precision"], found["recall"])
        if best is None or score > best[0]:
            best = (score, confirm, found)
    return best[1], best[2]


def _found(scored, thresholds, stance=None, gate: float = 0.0, single=None) -> set[str]:
    if single is not None and len(scored) < 2:
        thresholds = single
    return set().union(
        *(
            learned(scored, i, thresholds)
            for i in range(len(scored))
            if stance is None
            or len(scored) < 2
            or stance[i] >= gate
            or max(scored[i].own.values()) >= CERTAIN
        )
    )


def figures(results, thresholds: dict[str, float], gate: float | None = None, single=None) -> dict:
    """Precision and recall of the flag, and category recall, at `thresholds`
    (and the stance `gate`, when given; `single`, when given, for texts of
    one sentence)."""
    tp = fp = fn = found_right = labelled = 0
    for categories, scored, stance in results:
        found = _found(scored, thresholds, None if gate is None else stance, gate or 0.0, single)
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


def _f_beta(precision: float, recall: float) -> float:
    return (1 + BETA**2) * precision * recall / max(1e-9, BETA**2 * precision + recall)


def choose_thresholds(results) -> dict[str, float]:
    """Per category, the threshold with the best F-beta at finding that category."""
    chosen = {}
    for category in CATEGORIES:
        best = None
        for t in THRESHOLDS:
            tp = fp = fn = 0
            for categories, scored, _ in results:
                found = category in _found(scored, {**dict.fromkeys(CATEGORIES, 2.0), category: t})
                tp += found and category in categories
                fp += found and category not in categories
                fn += category in categories and not found
            score = (1 + BETA**2) * tp / max(1, (1 + BETA**2) * tp + fp + BETA**2 * fn)
            if best is None or score > best[0]:
                best = (score, t)
        chosen[category] = float(best[1])
    return chosen


def choose_gate(results, thresholds: dict[str, float]) -> tuple[dict[str, float], float]:
    """The stance gate, and the shift of every category's threshold, with the
    best F-beta of the flag on left-out writers."""
    best = None
    for shift in SHIFTS:
        shifted = {c: round(max(THRESHOLDS[0], t + shift), 2) for c, t in thresholds.items()}
        for gate in STANCE_GATES:
            found = figures(results, shifted, gate)
            score = _f_beta(found["precision"], found["recall"])
            if best is None or score > best[0]:
                best = (score, shifted, gate)
    return best[1], best[2]


def corpus_digest() -> str:
    digest = hashlib.sha256()
    for path in [*sorted(CORPUS.glob("*.jsonl")), DEVSET]:
        digest.update(path.read_bytes())
    return "sha256:" + digest.hexdigest()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--estimate", action="store_true", help="estimate only; write nothing")
    parser.add_argument("--out", type=Path, default=POLICY / MODEL_FILE)
    parser.add_argument(
        "--reply-only",
        action="store_true",
        help="train the reply model alone and put it into the model file as it is",
    )
    args = parser.parse_args(argv)
    args.out = args.out.resolve()
    if args.reply_only:
        data = read_model(args.out)
        data["reply"] = train_reply(*reply_sets())
        write_model(args.out, data)
        print(f"wrote the reply model into {args.out}")
        return 0
    groups = load_examples()
    kinds = load_kinds()
    results, folds = left_out_scores(groups, kinds)
    for t in THRESHOLDS:
        print(f"every category at {t:.2f}: {figures(results, dict.fromkeys(CATEGORIES, t))}")
    alone = choose_thresholds(results)
    print(f"chosen per category: {alone}")
    print(f"left-out-writer estimate at those, no stance: {figures(results, alone)}")
    # A text of one sentence is judged without a stance (nothing around it to
    # read one in): its thresholds are chosen on such texts alone, and the
    # stance gate's, with the shift it allows, on the texts it weighs.
    single = choose_thresholds([r for r in results if len(r[1]) < 2])
    several = [r for r in results if len(r[1]) >= 2]
    thresholds, gate = choose_gate(several, choose_thresholds(several))
    estimate = figures(results, thresholds, gate, single)
    print(f"texts of one sentence: {single}")
    print(f"with the stance gate at {gate}: {thresholds}")
    print(f"left-out-writer estimate with the stance gate: {estimate}")
    confirm, screen = choose_confirm(folds, thresholds, single, gate)
    print(f"harms of the word classes confirmed at {confirm}: the screen {screen}")
    if args.estimate:
        return 0
    examples = [x for rows in groups.values() for x in rows]
    data = train(examples, fixed=len(groups["_always"]))
    data["thresholds"] = [thresholds[c] for c in CATEGORIES]
    data["single_thresholds"] = [single[c] for c in CATEGORIES]
    data["confirm"] = confirm
    data["stance"] = train_stance(examples, kinds)
    data["stance"]["thresholds"] = [gate]
    # The reply model is trained on its own (`--reply-only`): each model is measured
    # blind as it changes, so retraining the others keeps the file's.
    kept = read_model(args.out).get("reply") if args.out.exists() else None
    if kept:
        print(f"the reply model of {args.out} kept (--reply-only retrains it)")
        data["reply"] = kept
    else:
        print(f"{args.out} holds no reply model: trained")
        data["reply"] = train_reply(*reply_sets())
    data["trained_on"] = {
        "texts": len(examples),
        "corpus": corpus_digest(),
        "left_out_writer_estimate": estimate,
        "left_out_writer_screen": screen,
    }
    write_model(args.out, data)
    print(f"wrote {args.out}: {len(data['vocabulary'])} terms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
