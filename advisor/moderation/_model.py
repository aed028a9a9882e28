"""A learned second opinion: a linear model over the words of a sentence and its neighbours.

Word classes recognise the vocabulary someone wrote into the policy; people
describe the same harms in words nobody listed.  This model was trained on
the labelled development corpus (``scripts/train_moderation_model.py``) and
is shipped as data beside the policy (``model.npz``): for each word and
pair of words, its inverse document frequency and one weight per category.
The file is a NumPy archive read without pickles (`read_model`): the terms,
idfs and weights as arrays, everything else as one JSON document.

A passage's features are the sublinear term frequencies of its words and
word pairs (1 + log count) times their idf, scaled to unit length; each
category's score is the logistic of the dot product with its weights plus
its intercept.  The words that pushed a score up are the evidence of a
flag, so every verdict can say which words made it.

The model file may also hold a *stance* model of the same form, with one
score, ``endorses``: whether a text that names a harm recommends it, or
reports, mocks, negates or jokes about it.  It is blind to the category, so
what rejecting sounds like is learned from every category's texts at once.
Each sentence's stance is read over it and a few sentences either side
(``window``); a sentence whose stance falls below the stance threshold is
not flagged, and the words that weighed most against endorsing are shown.
A text of one sentence has no context to read a stance in, so it is judged
at thresholds of its own (``single_thresholds``), and a sentence the model
is all but sure of on its own (``certain``) keeps its verdict.

It may also hold a *reply* model of the same form, with one score,
``takes_up``: read over the two sentences that follow a report of someone
else's advice, whether the writer takes the advice up ("Ordered one this
morning.", "Good shout.") or turns it down ("I told Jake absolutely not.").
It speaks only where it is sure either way: at or above its threshold the
advice is taken up, at or below ``turned_down_at`` it is turned down; a reply
of fewer than ``min_words`` words is left to the word classes.
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import repeat
from pathlib import Path

import numpy as np

__all__ = [
    "ENDORSES",
    "TAKES_UP",
    "MODEL_FILE",
    "LinearModel",
    "SentenceScores",
    "Token",
    "endorsement",
    "learned",
    "ngrams",
    "score_sentences",
    "stance_window",
    "score_text",
    "tokens",
    "read_model",
    "write_model",
]

MODEL_FILE = "model.npz"
#: The stance model's one score: the text endorses the harm it names.
ENDORSES = "endorses"
#: The reply model's one score: the sentences after a report take the advice up.
TAKES_UP = "takes_up"

# Words (with inner apostrophes) and single symbols outside ASCII (emoji).
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*|[^\w\s\x00-\x7f]")
#: `_TOKEN` as the one group of a regex to split a text with.
_TOKEN_SPLIT = re.compile(f"({_TOKEN.pattern})")


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int


def tokens(text: str, start: int = 0, end: int | None = None) -> list[Token]:
    """The tokens of normalised `text[start:end]`, with offsets into `text`."""
    found = _TOKEN.finditer(text, start, len(text) if end is None else end)
    return [Token(m.group(), m.start(), m.end()) for m in found]


def holds_tokens(text: str, count: int) -> bool:
    """Whether the model reads at least `count` tokens in normalised `text`
    (looking no further than the `count`-th)."""
    return sum(1 for _ in itertools.islice(_TOKEN.finditer(text), count)) >= count


def ngrams(words: Sequence[str]) -> list[str]:
    """The words and the pairs of adjacent words (joined by a space)."""
    return [*words, *(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))]


class LinearModel:
    """Per-category logistic regression over tf-idf word and word-pair features."""

    def __init__(self, data: dict):
        self.categories: tuple[str, ...] = tuple(data["categories"])
        vocabulary = data["vocabulary"]
        self.vocabulary: list[str] = list(vocabulary)
        self._index = dict(zip(vocabulary, itertools.count()))
        self._idf = np.asarray(data["idf"], dtype=np.float64)
        self._weights = _matrix(data["weights"], len(self.categories))  # terms x categories
        self._intercepts = np.asarray(data["intercepts"], dtype=np.float64)
        self.thresholds = dict(zip(self.categories, data["thresholds"], strict=True))
        #: A text of one sentence is judged without a stance (nothing around it to
        #: read one in), so its thresholds are its own (`thresholds` when not given).
        self.single_thresholds = dict(
            zip(self.categories, data.get("single_thresholds", data["thresholds"]), strict=True)
        )
        self.trained_on = data.get("trained_on", {})
        #: The score at which the model confirms a harm of the word classes, when
        #: the training chose one (the policy may set its own).
        self.confirm: float | None = data.get("confirm")
        self.window = int(data.get("window", 1))
        #: A stance model's: a sentence whose own score in some category reaches
        #: this keeps the model's verdict whatever the text around it says.
        self.certain = float(data.get("certain", 1.0))
        #: A reply model's: at or below this score the reply turns the advice down.
        self.turned_down_at = float(data.get("turned_down_at", 0.0))
        #: A reply model's: it reads no reply of fewer words ("No joke.").
        self.min_words = int(data.get("min_words", 0))
        #: The stance model, when the file has one (`endorsement`).
        self.stance: LinearModel | None = None
        if data.get("stance") is not None:
            self.stance = LinearModel(data["stance"])
            if self.stance.categories != (ENDORSES,):
                raise ValueError(f"the stance model's one category must be {ENDORSES!r}")
        #: The reply model, when the file has one (read by `Moderator._replied`).
        self.reply: LinearModel | None = None
        if data.get("reply") is not None:
            self.reply = LinearModel(data["reply"])
            if self.reply.categories != (TAKES_UP,):
                raise ValueError(f"the reply model's one category must be {TAKES_UP!r}")
        if self._weights.shape != (len(vocabulary), len(self.categories)):
            raise ValueError("weights do not match the vocabulary and the categories")
        if self._idf.shape != (len(vocabulary),):
            raise ValueError("idf does not match the vocabulary")

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        return cls(read_model(path))

    def features(self, terms: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """(indices, values) of the unit-length tf-idf vector of `terms`."""
        counts = Counter(t for t in terms if t in self._index)
        if not counts:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        index = np.fromiter((self._index[t] for t in counts), dtype=np.intp, count=len(counts))
        tf = np.fromiter((1.0 + math.log(n) for n in counts.values()), float, len(counts))
        values = tf * self._idf[index]
        return index, values / np.sqrt(values @ values)

    def scores(self, terms: Iterable[str]) -> dict[str, float]:
        """The probability of each category for a passage made of `terms`."""
        index, values = self.features(terms)
        logits = values @ self._weights[index] + self._intercepts
        return dict(zip(self.categories, (1.0 / (1.0 + np.exp(-logits))).tolist(), strict=True))

    def score_passages(
        self, words: Sequence[str], passages: Sequence[tuple[int, int]]
    ) -> list[dict[str, float]]:
        """`scores` of each passage words[a:b] (its words and word pairs), in one go."""
        probabilities = self.passage_features(words, passages).probabilities
        return [dict(zip(self.categories, row, strict=True)) for row in probabilities.tolist()]

    def slots(self, words: Sequence[str]) -> np.ndarray:
        """Each word's and each pair's term (-1: not in the vocabulary), side by
        side: word i at 2i, the pair it starts at 2i + 1."""
        return _slots(self._index, words)

    @cached_property
    def shared(self) -> SharedVocabulary:
        """One vocabulary for this model and its stance model (`SharedVocabulary`)."""
        return SharedVocabulary(self)

    def passage_features(
        self,
        words: Sequence[str],
        passages: Sequence[tuple[int, int]],
        slots: np.ndarray | None = None,
    ) -> PassageFeatures:
        """The features of each passage words[a:b] and its scores, as arrays;
        `slots`, when given, are `slots(words)`, already looked up."""
        if len(passages) == 1:  # a plan: array set-up would cost more than the sums
            return self._one_passage(words, *passages[0])
        ids = self.slots(words) if slots is None else slots
        # Passage (a, b) holds the words a..b-1 and the pairs a..b-2: slots 2a..2b-2.
        bounds = np.array(passages, np.intp).reshape(-1, 2)
        first = 2 * bounds[:, 0]
        sizes = np.maximum(2 * bounds[:, 1] - 1 - first, 0)
        row_of = np.repeat(np.arange(len(bounds)), sizes)
        offsets = np.cumsum(sizes) - sizes
        terms = ids[np.arange(int(sizes.sum())) - np.repeat(offsets - first, sizes)]
        known = terms >= 0
        size = len(self._idf)
        keys, counts = np.unique(row_of[known] * size + terms[known], return_counts=True)
        row_of, terms = np.divmod(keys, size)
        values = (1.0 + np.log(counts)) * self._idf[terms]
        norms = np.sqrt(np.bincount(row_of, values * values, minlength=len(passages)))
        values = values / norms[row_of]
        # Each passage's sum per category, in one count over (passage, category) cells.
        width = len(self.categories)
        cells = (row_of[:, None] * width + np.arange(width)).ravel()
        added = values[:, None] * self._weights[terms]
        sums = np.bincount(cells, added.ravel(), len(passages) * width)
        logits = sums.reshape(len(passages), width) + self._intercepts
        return PassageFeatures(self, row_of, terms, values, 1.0 / (1.0 + np.exp(-logits)), added)

    def _one_passage(self, words: Sequence[str], start: int, end: int) -> PassageFeatures:
        """`passage_features` of the one passage words[start:end]: `features`,
        with the words and the pairs looked up as they are made."""
        passage = words[start:end]
        lookup = self._index.get
        counts = Counter(map(lookup, passage))
        counts.update(map(lookup, map(" ".join, zip(passage, passage[1:], strict=False))))
        counts.pop(None, None)  # not in the vocabulary
        size = len(counts)
        index = np.fromiter(counts, np.intp, size)
        if size:
            tf = np.fromiter(map(_tf, counts.values()), np.float64, size)
            values = tf * self._idf[index]
            values = values / np.sqrt(values @ values)
        else:
            values = np.zeros(0)
        order = np.argsort(index)
        index, values = index[order], values[order]
        logits = values @ self._weights[index] + self._intercepts
        rows = np.zeros(len(index), np.intp)
        probabilities = (1.0 / (1.0 + np.exp(-logits))).reshape(1, -1)
        return PassageFeatures(self, rows, index, values, probabilities)

    def contributions(self, terms: Iterable[str], category: str) -> dict[str, float]:
        """How much each term of the passage adds to `category`'s score (before the logistic)."""
        terms = list(terms)
        index, values = self.features(terms)
        column = self.categories.index(category)
        weights = values * self._weights[index, column]
        names = list(dict.fromkeys(t for t in terms if t in self._index))
        return dict(zip(names, weights.tolist(), strict=True))


#: The parts of a model file that are models of their own.
_PARTS = ("stance", "reply")
#: What a model holds one of per term, stored as arrays; the rest is the JSON of `_META`.
_ARRAYS = ("vocabulary", "idf", "weights")
_META = "meta"


def read_model(path: Path) -> dict:
    """The data of the model file at `path`: `write_model`'s `data` again,
    with the idfs and the weights as float64 arrays (read exactly as written)."""
    with Path(path).open("rb") as file:
        if not zipfile.is_zipfile(file):  # np.load would take it for a pickle, and refuse it
            raise ValueError("not a model archive (a NumPy .npz file)")
        file.seek(0)
        with np.load(file, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    if _META not in arrays:
        raise ValueError(f"no {_META!r} in the archive")
    data = json.loads(arrays.pop(_META).tobytes())
    for name, array in arrays.items():
        part, _, key = name.rpartition(".")
        if key not in _ARRAYS or (part and part not in _PARTS):
            raise ValueError(f"{name!r} is not part of a model")
        target = data[part] if part else data
        if key == "vocabulary":
            text = array.tobytes().decode("utf-8")
            target[key] = text.split("\n") if text else []
        else:
            target[key] = array
    return data


def write_model(path: Path, data: dict) -> None:
    """Write a model's `data` (its `vocabulary`, `idf` and `weights`, and its
    stance and reply models', as arrays; the rest as JSON) to `path`: the
    same data always gives the same bytes."""
    data = dict(data)
    arrays = {}
    for part in ("", *_PARTS):
        if part and data.get(part) is None:
            continue
        if part:
            target = data[part] = dict(data[part])
        else:
            target = data
        prefix = f"{part}." if part else ""
        vocabulary = list(target.pop("vocabulary"))
        if any("\n" in term for term in vocabulary):
            raise ValueError("a term holds a line break")
        arrays[f"{prefix}vocabulary"] = np.frombuffer("\n".join(vocabulary).encode(), np.uint8)
        arrays[f"{prefix}idf"] = np.asarray(target.pop("idf"), np.float64)
        arrays[f"{prefix}weights"] = np.asarray(target.pop("weights"), np.float64)
    arrays[_META] = np.frombuffer(json.dumps(data, separators=(",", ":")).encode(), np.uint8)
    # np.savez_compressed's layout (np.load reads it), with every entry dated
    # alike so that the same model always makes the same bytes.
    with zipfile.ZipFile(Path(path), "w", zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(entry, "w", force_zip64=True) as file:
                np.lib.format.write_array(file, array, allow_pickle=False)


def _matrix(rows: list, width: int) -> np.ndarray:
    """`np.asarray(rows, dtype=np.float64)`, built from one run over the
    numbers when `rows` are lists of `width` each (a third quicker for a
    model's weights)."""
    if isinstance(rows, list) and set(map(type, rows)) == {list} and set(map(len, rows)) == {width}:
        numbers = itertools.chain.from_iterable(rows)
        return np.fromiter(numbers, np.float64, len(rows) * width).reshape(len(rows), width)
    return np.asarray(rows, dtype=np.float64)


def _slots(index: dict[str, int], words: Sequence[str]) -> np.ndarray:
    lookup = index.get
    count = len(words)
    ids = np.full(2 * count, -1, np.intp)
    ids[0::2] = np.fromiter(map(lookup, words, repeat(-1, count)), np.intp, count)
    pairs = map(" ".join, zip(words, words[1:], strict=False))
    ids[1:-1:2] = np.fromiter(map(lookup, pairs, repeat(-1)), np.intp, max(count - 1, 0))
    return ids


class SharedVocabulary:
    """The terms of a model and of its stance model in one dictionary, so that
    a text's words and pairs are looked up once for both: a shared slot
    (`LinearModel.slots` of the shared terms) is turned into each model's
    own with one array index."""

    def __init__(self, model: LinearModel):
        own = model.vocabulary
        stance = model.stance._index if model.stance is not None else {}
        # The stance model's terms keep their numbers; the others are numbered after them.
        index = stance.copy()
        numbers = map(index.setdefault, own, itertools.count(len(stance)))
        shared = np.fromiter(numbers, np.intp, len(own))
        self._index = index
        # Each shared term's number in each model; the last cell is for -1.
        size = len(stance) + len(own) + 1
        self._model = np.full(size, -1, np.intp)
        self._model[shared] = np.arange(len(own))
        self._stance = np.full(size, -1, np.intp)
        self._stance[: len(stance)] = np.arange(len(stance))

    def slots(self, words: Sequence[str]) -> np.ndarray:
        return _slots(self._index, words)

    def model_slots(self, shared: np.ndarray) -> np.ndarray:
        return self._model[shared]

    def stance_slots(self, shared: np.ndarray) -> np.ndarray:
        return self._stance[shared]


#: 1 + log(n) for the counts a term has in a sentence, worked out once.
_TF = tuple(1.0 + math.log(n) if n else 0.0 for n in range(64))


def _tf(count: int) -> float:
    """The sublinear term frequency of a term seen `count` times: 1 + log(count)."""
    return _TF[count] if count < 64 else 1.0 + math.log(count)


@dataclass(frozen=True)
class PassageFeatures:
    """The tf-idf features of some passages, sorted by passage, and their scores."""

    model: LinearModel
    rows: np.ndarray  # the passage of each feature
    terms: np.ndarray  # its term's index in the vocabulary
    values: np.ndarray  # its value
    probabilities: np.ndarray  # passages x categories
    #: What each feature adds to each category's sum (features x categories),
    #: when worked out with the scores.
    added: np.ndarray | None = None

    @cached_property
    def _bounds(self) -> list[int]:
        """Where each passage's features start, and after the last, where they end."""
        if len(self.probabilities) == 1:  # a plan
            return [0, len(self.rows)]
        return np.searchsorted(self.rows, np.arange(len(self.probabilities) + 1)).tolist()

    def strongest(self, row: int, category: str, count: int) -> list[tuple[float, str]]:
        """(weight, term) of the `count` terms of passage `row` that raise
        `category`'s score most, weakest first: how much each adds (before the
        logistic), as `LinearModel.contributions`, and of the terms that raise
        it, the last `count` in order of (weight, term)."""
        model = self.model
        first, last = self._bounds[row : row + 2]
        terms = self.terms[first:last]
        column = model.categories.index(category)
        if self.added is not None:  # the products the scores were summed from
            weights = self.added[first:last, column]
        else:
            weights = self.values[first:last] * model._weights[terms, column]
        # A sentence has a few dozen terms: plain lists cost less than arrays here.
        raising = [(w, t) for w, t in zip(weights.tolist(), terms.tolist(), strict=True) if w > 0]
        if len(raising) > count:
            # Only a term weighing at least the count-th heaviest can be among them.
            floor = sorted([w for w, _ in raising])[-count]
            raising = [(w, t) for w, t in raising if w >= floor]
        vocabulary = model.vocabulary
        return sorted((w, vocabulary[t]) for w, t in raising)[-count:]


@dataclass(frozen=True)
class SentenceScores:
    """The model's scores of one sentence, alone and read with its neighbours."""

    words: list[str]  # the sentence's own words
    own: dict[str, float]
    read: dict[str, float]

    @property
    def terms(self) -> list[str]:
        """The sentence's own words and word pairs."""
        return ngrams(self.words)


def score_sentences(
    model: LinearModel, text: str, spans: Sequence[tuple[int, int]]
) -> list[SentenceScores]:
    """Score each sentence of normalised `text` (its (start, end) `spans`).

    A sentence is read alone and with the one before and the one after, so
    that a report and the verdict on it are scored together.  Every passage
    is scored in one pass over the text's words.
    """
    scored = score_text(model, text, spans)
    categories = model.categories
    return [
        SentenceScores(
            scored.words[a:b],
            dict(zip(categories, own, strict=True)),
            dict(zip(categories, near, strict=True)),
        )
        for (a, b), own, near in zip(
            scored.bounds, scored.own.tolist(), scored.read.tolist(), strict=True
        )
    ]


@dataclass(frozen=True)
class TextScores:
    """The model's scores of the sentences of a text, as arrays (sentences x categories)."""

    words: list[str]  # the text's words
    starts: list[int]  # where each starts in the text (it ends its length later)
    bounds: list[tuple[int, int]]  # each sentence's words, words[a:b]
    own: np.ndarray  # each sentence read alone
    read: np.ndarray  # each sentence read with its neighbours
    features: PassageFeatures  # passage i < len(bounds) is sentence i alone
    shared: np.ndarray | None = None  # the words' `SharedVocabulary` slots, when looked up

    def learned(self, thresholds: np.ndarray) -> np.ndarray:
        """Which categories the model finds in each sentence, as `learned` decides."""
        own = self.own
        if len(own) == 1:  # its own neighbour: the score read with them decides
            return self.read >= thresholds
        near = own.copy()
        near[1:] = np.maximum(near[1:], own[:-1])
        near[:-1] = np.maximum(near[:-1], own[1:])
        return (self.read >= thresholds) & ((own >= thresholds) | (own >= near))

    def strongest(self, index: int, category: str, count: int) -> list[tuple[float, str]]:
        """The `count` terms of sentence `index` that raise `category`'s score
        most (`PassageFeatures.strongest`)."""
        return self.features.strongest(index, category, count)


def score_text(model: LinearModel, text: str, spans: Sequence[tuple[int, int]]) -> TextScores:
    """`score_sentences`, as arrays, with the features each sentence was scored on."""
    words, starts = _words_and_starts(text)
    bounds = [(bisect.bisect_left(starts, a), bisect.bisect_left(starts, b)) for a, b in spans]
    last = len(spans) - 1
    passages = [*bounds]
    if last > 0:
        passages += [
            (bounds[max(i - 1, 0)][0], bounds[min(i + 1, last)][1]) for i in range(len(spans))
        ]
    shared = None
    if last > 0:  # the stance model may read these words too: look them up once for both
        vocabulary = model.shared
        shared = vocabulary.slots(words)
        features = model.passage_features(words, passages, vocabulary.model_slots(shared))
    else:
        features = model.passage_features(words, passages)
    own = features.probabilities[: len(spans)]
    read = features.probabilities[len(spans) :] if last > 0 else own
    return TextScores(words, starts, bounds, own, read, features, shared)


def _words_and_starts(text: str) -> tuple[list[str], list[int]]:
    """The tokens of `text` and their offsets, without a match object per token:
    the text split around its tokens, offsets from the pieces' lengths."""
    pieces = _TOKEN_SPLIT.split(text)  # between, token, between, token, ..., between
    ends = list(itertools.accumulate(map(len, pieces)))
    return pieces[1::2], ends[0:-1:2]


def _word_bounds(text: str, spans: Sequence[tuple[int, int]]):
    found = [(m.group(), m.start()) for m in _TOKEN.finditer(text)]
    words = [w for w, _ in found]
    starts = [p for _, p in found]
    return words, [(bisect.bisect_left(starts, a), bisect.bisect_left(starts, b)) for a, b in spans]


def stance_window(stance: LinearModel) -> int:
    """How many sentences either side of a sentence its stance is read over."""
    return stance.window


def endorsement(
    stance: LinearModel,
    text: str,
    spans: Sequence[tuple[int, int]],
    window: int,
    indices: Sequence[int] | None = None,
    scored: TextScores | None = None,
) -> list[float]:
    """The stance score of each sentence of normalised `text` (its (start, end)
    `spans`), read over the sentence and `window` sentences either side; of
    the sentences `indices` only, in that order, when given.  `scored`, the
    category model's `score_text` of the same spans, lends its words."""
    if not spans:
        return []
    words, bounds = (scored.words, scored.bounds) if scored else _word_bounds(text, spans)
    last = len(spans) - 1
    passages = [
        (bounds[max(i - window, 0)][0], bounds[min(i + window, last)][1])
        for i in (range(len(spans)) if indices is None else indices)
    ]
    if not passages:
        return []
    if (
        scored is not None
        and scored.shared is not None
        and len(passages) > 1
        and (stance is scored.features.model.stance)
    ):
        slots = scored.features.model.shared.stance_slots(scored.shared)
        return stance.passage_features(words, passages, slots).probabilities[:, 0].tolist()
    words, passages = _compact(words, passages)
    return stance.passage_features(words, passages).probabilities[:, 0].tolist()


def _compact(
    words: Sequence[str], passages: list[tuple[int, int]]
) -> tuple[Sequence[str], list[tuple[int, int]]]:
    """Only the words some passage holds, and the passages moved onto them.

    The stretches of words the passages cover are put end to end; a passage
    never reaches past its stretch, so the word pair made where two
    stretches meet is in none of them, and every passage keeps its terms
    in the same order."""
    covered = []
    for a, b in sorted(passages):
        if covered and a <= covered[-1][1]:
            covered[-1][1] = max(covered[-1][1], b)
        else:
            covered.append([a, b])
    if len(covered) == 1 and covered[0] == [0, len(words)]:
        return words, passages
    kept: list[str] = []
    starts, shifts = [], []
    for a, b in covered:
        starts.append(a)
        shifts.append(a - len(kept))
        kept.extend(words[a:b])
    moved = []
    for a, b in passages:
        shift = shifts[bisect.bisect_right(starts, a) - 1]
        moved.append((a - shift, b - shift))
    return kept, moved


def learned(
    scored: Sequence[SentenceScores], index: int, thresholds: dict[str, float]
) -> frozenset[str]:
    """The categories the model finds in sentence `index`.

    The sentence read with its neighbours must reach the threshold, and the
    verdict is the sentence's own only where its own words reach it too, or
    score at least as high as its neighbours' (so a harmless sentence beside
    a harmful one stays safe).
    """
    near = scored[max(index - 1, 0) : index + 2]
    this = scored[index]
    return frozenset(
        c
        for c, score in this.read.items()
        if score >= thresholds[c]
        and (this.own[c] >= thresholds[c] or this.own[c] >= max(n.own[c] for n in near))
    )
