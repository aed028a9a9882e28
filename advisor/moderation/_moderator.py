"""Moderating text: sentences, features, a durable_rules ruleset, verdicts.

`Moderator.moderate` normalises the text and splits it into sentences.  When
the policy declares a model (`_model`), it scores each sentence read with its
neighbours, per category; a sentence no category scores high enough for is
safe at once.  One pass of the keyword prefilter tells which harms each
sentence could hold.
For those, it matches the word classes the harms need (compiled regexes, one
per class); where every class of some harm is present it also matches the
stances that defuse it and applies negation.  A sentence whose live features
include a harm feature is then asserted as one fact (a boolean property per
class present) into a durable_rules ruleset with one rule per harm; the rules
that fire decide the sentence's categories.  The model's verdicts are facts
of the same assertion: each category has a rule ``learned`` that fires when
the model's score reaches the category's threshold, and every harm of the
policy also needs the model's score to reach the policy's ``confirm`` level.
Around those, readings of neighbouring sentences and clauses: a sentence taken
up as advice by what follows (``adoption`` classes, or ``agreement`` with whoever
gave reported advice, right after it) keeps the harms of its word classes
whatever the model reads; advice someone else gives, or an act only thought of
(``reported``), or a question, turned down by a later clause or the next
sentence's opening (``rejoinder``) is not flagged, nor is anything a next
sentence opens by calling wrong (``verdict``); a sentence opening with a
bare imperative (``instruction``) is the text's own advice, which the stance
model does not weigh.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import ahocorasick
import numpy as np

from .._data import collector_paused
from .._durable import RuleSession
from ._features import Match, conditions, find_matches, in_sequence, negate, outside_conditions
from ._model import (
    ENDORSES,
    TAKES_UP,
    SentenceScores,
    TextScores,
    endorsement,
    holds_tokens,
    ngrams,
    score_text,
    tokens,
)
from ._model import learned as learned_categories
from ._policy import CATEGORIES, Category, Harm, Policy, PolicyError, load_policy
from ._text import normalise, split_sentences

__all__ = ["Evidence", "Moderator", "SentenceVerdict", "Verdict"]

#: Fact properties of kinds the rules test.
_FACT_KINDS = ("harm", "context", "stance")
#: The classes of a noun phrase that is a clause's own subject and of the verb after
#: it, and the stances that, opened by that verb, judge the subject before them, not
#: an act named earlier in the sentence.
_OWN_SUBJECT, _COPULA = "own_subject", "copula"
_JUDGES_ITS_SUBJECT = frozenset({"condemnation"})
#: How many distinct facts to remember the rules' answer for.
_CACHE_SIZE = 4096
#: The id of each category's rule that fires on the model's verdict.
LEARNED = "learned"
#: The feature named by the evidence of a stance that defused the model's verdict.
STANCE_EVIDENCE = "model:stance"
#: The feature named by the evidence of a reply the reply model read as taking a
#: report's advice up, or turning it down.
REPLY_EVIDENCE = "model:reply"
#: Where a clause starts inside a sentence (after a comma, a semicolon, or "and",
#: "so", "but", "then"), for advice taken up in the clause.
_CLAUSE = re.compile(r"(?:[,;:]|\s-+|\b(?:and|so|but|then)\b)\s*")
#: Words that set a clause against the one before ("…, but my mum said no").
_CONTRAST = re.compile(r"\b(?:but|though|although|however|whereas|except)\b")
#: A report's verb in its bare form ("say", "tell"): an instruction of the writer's
#: own where nobody stands before it ("Just say you did", ", tell them"), and a
#: report where someone does ("my cousins say").
_BARE_REPORT = re.compile(
    r"(?:say|tell|want|suggest|recommend|advise|urge|dare|insist|swear|reckon|think|believe)\b"
)
#: What may stand before a bare report verb without being the one who reports.
_NOBODY = re.compile(
    r"(?:^|[,;:(—–-]|\b(?:just|then|and|so|also|simply|please|only|to|or|if)\b)\s*$"
)
#: How many words may open a sentence before its report verb ("Someone in the
#: WhatsApp group at work said").
_REPORT_OPENING = 10
#: A line quoted from someone else, as forums and e-mail replies mark it ("> Just grab
#: his arm"): every sentence on it reports their words.
_QUOTED_LINE = re.compile(r"[ \t]*>")
_QUOTE = re.compile("")  # the report of a quoted line: an empty match at its start
#: A sentence's `reported` before it is looked at.
_UNSEEN = -1
#: A sentence taken up as advice tells the categories the model reads in it with its
#: neighbours at the policy's `confirm` level only if, read alone, it scores at least
#: this in them.
_TOLD = 0.1
#: What may follow a stance that closes its sentence.
_CLOSING = " .!?\"')"
#: How many words of a sentence are shown as the evidence of a learned verdict.
_LEARNED_EVIDENCE = 3


@dataclass(frozen=True)
class Evidence:
    """A span of the original text that triggered a feature (or defused one)."""

    start: int
    end: int
    text: str
    feature: str


@dataclass(frozen=True)
class SentenceVerdict:
    """The verdict on one sentence; offsets are into the original text."""

    text: str
    start: int
    end: int
    flagged: bool
    categories: tuple[str, ...]
    reason: str | None
    instead: tuple[str, ...]
    matched: str | None
    evidence: tuple[Evidence, ...]
    harms: tuple[str, ...] = ()  # "category/harm-id" of each harm found


@dataclass(frozen=True)
class Verdict:
    """The verdict on a text: flagged if any sentence is."""

    flagged: bool
    categories: tuple[str, ...]
    sentences: tuple[SentenceVerdict, ...]
    #: Whether the text reads as English, the only language the screen reads
    #: (the policy's `language`); where it does not, `ok` is no verdict.
    english: bool = True


@dataclass
class _Sentence:
    norm_start: int
    norm_end: int
    start: int
    end: int
    harms: tuple[str, ...] = ()  # rule ids of the harms it could hold
    ruled_out: frozenset[str] = frozenset()  # classes its keywords rule out
    # The keyword sets found in it, once scanned (`Prefilter.scan`).
    keywords: frozenset[int] | None = None
    # The blocks of classes its keywords let match (`Prefilter.alive`), once looked at.
    alive: dict[str, tuple[int, ...]] | None = None
    # Whether it opens by pointing back, and whether it leads in to the next
    # (`Moderator._carries_on`), once looked at.
    opens: bool | None = None
    leads_in: bool | None = None
    # Where words saying someone else suggests the act end in it, or None; _UNSEEN
    # until looked at (`Moderator._reports`).
    reported: int | None = -1  # _UNSEEN
    # The negated condition clauses in it (`_features.conditions`), once looked for.
    clauses: object = None
    # The report's words that start first, once looked at with `reported`.
    voice: re.Match | None = None
    # The reply model's reading of the sentences after it, once looked at
    # (`Moderator._reply`): its score, the reply's words and their weights.
    reply: tuple | None = None


class Moderator:
    """The compiled moderation policy."""

    def __init__(self, policy: Policy, rejected: Sequence[Mapping], first_pass: bool = True):
        """Compile `policy`; `first_pass=False` is the slow reference the fast
        paths are checked against: it looks for every harm in every sentence,
        scores each passage with the model term by term and asks the rules
        engine every time (no remembered answers)."""
        self.policy = policy
        self._first_pass = first_pass
        self._rejected = {r["id"]: r for r in rejected}
        self._fallback_instead = {
            category: tuple(
                dict.fromkeys(
                    a for r in rejected if r["category"] == category for a in r["instead"]
                )
            )
            for category in CATEGORIES
        }
        self._harms: dict[str, Harm] = {
            harm.rule_id: harm for c in policy.categories.values() for harm in c.harms
        }
        self._policy_harms = tuple(self._harms)
        # The categories whose model verdicts let some harm of each category stand.
        self._confirmers = {
            c.id: frozenset(x for h in c.harms for x in h.confirming) | {c.id}
            for c in policy.categories.values()
        }
        self._learned = {c.id: _learned_harm(c) for c in policy.categories.values()}
        if policy.model is not None:
            self._harms.update({h.rule_id: h for h in self._learned.values()})
        self._sessions = _sessions(policy)
        self._cache: dict[tuple, tuple[str, ...]] = {}
        self._cache_lock = threading.Lock()
        self._openers = policy.of_kind("opener")
        if policy.model is not None:
            self._thresholds = np.array([policy.model.thresholds[c] for c in CATEGORIES])
            self._single = np.array([policy.model.single_thresholds[c] for c in CATEGORIES])
            self._confirm = np.array([policy.confirm[c] for c in CATEGORIES])
            # A sentence read with its neighbours below both is neither learned nor confirmed.
            self._floor = np.minimum(self._thresholds, self._confirm)
            self._single_floor = np.minimum(self._single, self._confirm)
        self._lead_ins = policy.of_kind("lead_in")
        self._reported = policy.of_kind("reported")
        self._rejoinders = policy.of_kind("rejoinder")
        self._verdicts = policy.of_kind("verdict")
        self._adoptions = policy.of_kind("adoption")
        self._agreements = policy.of_kind("agreement")
        self._endorsements = policy.of_kind("endorsement")
        self._instructions = policy.of_kind("instruction")
        subject, copula = (policy.classes.get(n) for n in (_OWN_SUBJECT, _COPULA))
        self._own_subject = (subject, copula) if subject and copula else None
        self._cues = {name: _automaton(words) for name, words in policy.cues.items() if words}

    @classmethod
    def load(cls, policy_dir: Path, rejected: Sequence[Mapping]) -> Moderator:
        """Load and validate the policy in `policy_dir` and compile its rules.

        `rejected` is the catalogue of rejected advice (dicts with at least
        ``id``, ``category`` and ``instead``); each harm's ``matched`` must
        name an item of its own category.
        """
        with collector_paused():
            policy = load_policy(Path(policy_dir))
            _check_matched(policy, rejected)
            return cls(policy, rejected)

    @property
    def digest(self) -> str:
        """The sha256 (hex) of the policy files."""
        return self.policy.digest

    def moderate(self, text: str) -> Verdict:
        """Split `text` into sentences and give each a verdict."""
        norm = normalise(text)
        sentences = [_Sentence(*span) for span in split_sentences(norm, text)]
        opinions = self._opinions(norm.text, sentences)
        adopted = self._adopted(text, norm, sentences, opinions)
        self._find_candidates(norm.text, sentences, opinions)
        # An endorsement is the sentence's own: the text around it may still report
        # or reject it, so the stance is weighed there as anywhere.
        taken_up = {i: e for i, e in adopted.items() if e.feature not in self._endorsements}
        defused = self._weigh_stance(norm.text, sentences, opinions, taken_up)
        turned_down = self._turned_down(text, norm, sentences, opinions)
        verdicts = []
        for index, sentence in enumerate(sentences):
            previous = sentences[index - 1] if index else None
            verdict = self._judge(text, norm, sentence, previous, opinions[index])
            if index in defused and (
                self._judge(text, norm, sentence, previous, defused[index]).flagged
            ):
                # The stance is the evidence only where it decided the verdict.
                evidence = self._stance_evidence(text, norm, sentences, index)
                verdict = replace(verdict, evidence=(*verdict.evidence, *evidence))
            if index in turned_down:
                before, refusal = turned_down[index]
                if self._judge(text, norm, sentence, previous, before).flagged:
                    verdict = replace(verdict, evidence=(*verdict.evidence, refusal))
            if index in adopted and verdict.flagged:
                verdict = replace(verdict, evidence=(*verdict.evidence, adopted[index]))
            verdicts.append(verdict)
        flagged = tuple(v for v in verdicts if v.flagged)
        categories = {c for v in flagged for c in v.categories}
        return Verdict(
            flagged=bool(flagged),
            categories=tuple(c for c in CATEGORIES if c in categories),
            sentences=tuple(verdicts),
            english=self.policy.language is None or self.policy.language.reads_english(text),
        )

    def _find_candidates(self, text: str, sentences: list[_Sentence], opinions) -> None:
        """Mark the harms each sentence could hold.

        Only the sentences `_judge` looks at need them: with a model, those
        it finds something in (before the stance is weighed).  A sentence's
        harms come from the keywords of its own text and, when it carries
        on the one before, of that one's, so only those sentences are
        scanned, in stretches of consecutive sentences."""
        if not self._first_pass:
            for sentence in sentences:
                sentence.harms = self._policy_harms
            return
        prefilter = self.policy.prefilter
        wanted = [
            index
            for index, opinion in enumerate(opinions)
            if opinion is None or opinion.learned or opinion.confirmed or opinion.alone_confirmed
        ]
        if not wanted:
            return
        scanned = sorted({i for index in wanted for i in (index - 1, index) if i >= 0})
        found: dict[int, set[int]] = {i: set() for i in scanned}
        starts = [s.norm_start for s in sentences]
        first = 0
        for at, index in enumerate(scanned):
            if at + 1 < len(scanned) and scanned[at + 1] == index + 1:
                continue  # the stretch goes on
            stretch = (sentences[scanned[first]].norm_start, sentences[index].norm_end)
            first = at + 1
            for position, keyword_sets in prefilter.scan(text, *stretch):
                owner = bisect.bisect_right(starts, position) - 1
                if owner >= 0 and position < sentences[owner].norm_end:
                    found[owner].update(keyword_sets)
        present = {i: prefilter.present(found[i]) for i in scanned}
        for index in scanned:
            sentences[index].ruled_out = prefilter.ruled_out(present[index])
            sentences[index].keywords = frozenset(found[index])
        for index in wanted:
            # A sentence that opens by pointing back carries on the previous one.
            if (
                index
                and found[index - 1]
                and self._carries_on(text, sentences[index - 1], sentences[index])
            ):
                sentences[index].harms = prefilter.harms(found[index] | found[index - 1])
            else:
                sentences[index].harms = prefilter.possible(present[index])

    def _opinions(self, text: str, sentences: list[_Sentence]) -> list[_Opinion | None]:
        """The model's verdict on each sentence (None for every sentence when
        the policy declares no model)."""
        model = self.policy.model
        # One or two words give the model too little to read: the word classes judge alone.
        if model is None or not holds_tokens(text, self.policy.model_min_words):
            return [None] * len(sentences)
        if not self._first_pass:
            return self._reference_opinions(text, sentences)
        scored = score_text(model, text, [(s.norm_start, s.norm_end) for s in sentences])
        # A text of one sentence has its own thresholds (no stance is read in it).
        thresholds, floor = (
            (self._single, self._single_floor)
            if len(sentences) == 1
            else (self._thresholds, self._floor)
        )
        alone = scored.own >= thresholds
        sure_alone = scored.own >= self._confirm
        if not ((scored.read >= floor).any() or alone.any() or sure_alone.any()):
            return [_NO_OPINION] * len(sentences)  # nothing reaches one
        learned = scored.learned(thresholds)
        confirmed = scored.read >= self._confirm
        beside = _beside(alone)
        opinions = []
        for index, (found, sure, by_itself, sure_by_itself, near, any_found) in enumerate(
            zip(
                learned.tolist(),
                confirmed.tolist(),
                alone.tolist(),
                sure_alone.tolist(),
                beside.tolist(),
                (learned | confirmed | alone | sure_alone).any(axis=1).tolist(),
                strict=True,
            )
        ):
            if not any_found:
                opinions.append(_NO_OPINION)
                continue
            opinions.append(
                _Opinion(
                    scores=scored,
                    index=index,
                    learned=frozenset(c for c, x in zip(CATEGORIES, found, strict=True) if x),
                    confirmed=frozenset(c for c, x in zip(CATEGORIES, sure, strict=True) if x),
                    alone=frozenset(c for c, x in zip(CATEGORIES, by_itself, strict=True) if x),
                    alone_confirmed=frozenset(
                        c for c, x in zip(CATEGORIES, sure_by_itself, strict=True) if x
                    ),
                    beside=frozenset(c for c, x in zip(CATEGORIES, near, strict=True) if x),
                )
            )
        return opinions

    def _reference_opinions(self, text: str, sentences: list[_Sentence]) -> list[_Opinion]:
        """`_opinions` the straightforward way: each passage scored term by term."""
        model = self.policy.model
        spans = [(s.norm_start, s.norm_end) for s in sentences]
        scored = []
        for index, (start, end) in enumerate(spans):
            near = (spans[max(index - 1, 0)][0], spans[min(index + 1, len(spans) - 1)][1])
            words = [t.text for t in tokens(text, start, end)]
            read = model.scores(ngrams([t.text for t in tokens(text, *near)]))
            scored.append(SentenceScores(words, model.scores(ngrams(words)), read))
        confirm = self.policy.confirm
        thresholds = model.single_thresholds if len(spans) == 1 else model.thresholds
        alone = [frozenset(c for c, v in s.own.items() if v >= thresholds[c]) for s in scored]
        return [
            _Opinion(
                scores=scores,
                index=index,
                learned=learned_categories(scored, index, thresholds),
                confirmed=frozenset(c for c, v in scores.read.items() if v >= confirm[c]),
                alone=alone[index],
                alone_confirmed=frozenset(c for c, v in scores.own.items() if v >= confirm[c]),
                beside=frozenset(
                    c
                    for c in alone[index]
                    if any(alone[j] - {c} for j in (index - 1, index + 1) if 0 <= j < len(alone))
                ),
            )
            for index, scores in enumerate(scored)
        ]

    def _weigh_stance(
        self, text: str, sentences: list[_Sentence], opinions: list, adopted=()
    ) -> dict[int, _Opinion]:
        """Drop the model's verdicts on sentences whose text, read around them,
        reports, mocks or rejects the harm rather than endorsing it (the
        stance model, `_model.endorsement`), unless the sentence read alone is
        all but certain (`LinearModel.certain`): ordinary sentences around a
        plain harmful one must not hide it.  The model's opinions on those
        sentences before the stance, by index."""
        model = self.policy.model
        stance = None if model is None else model.stance
        held = [
            i
            for i, o in enumerate(opinions)
            if o is not None
            and (o.learned or o.confirmed)
            and i not in adopted
            and not self._instructs(text, sentences[i])
        ]
        # A text of one sentence has no context to report or reject it in: its
        # stance is the word classes' and the category model's to read.
        if stance is None or not held or len(sentences) < 2:
            return {}
        spans = [(s.norm_start, s.norm_end) for s in sentences]
        scored = opinions[held[0]].scores
        scored = scored if isinstance(scored, TextScores) else None  # the reference path's
        scores = endorsement(stance, text, spans, stance.window, held, scored)
        gate = stance.thresholds[ENDORSES]
        defused = {
            i
            for i, score in zip(held, scores, strict=True)
            if score < gate and _surest(opinions[i]) < stance.certain
        }
        before = {i: opinions[i] for i in defused}
        for i in defused:
            opinions[i] = replace(opinions[i], learned=frozenset(), confirmed=frozenset())
        return before

    def _instructs(self, text: str, sentence: _Sentence) -> bool:
        """Whether `sentence` opens with a bare imperative ("Slip the interviewer
        …", "Then skip your meals …"): it gives the text's own advice, so the
        stance model, which tells a report, quote or joke from endorsement, has
        nothing to weigh there."""
        return any(
            self.policy.classes[name].regex.match(text, sentence.norm_start, sentence.norm_end)
            for name in self._instructions
        )

    def _adopted(self, text: str, norm, sentences: list[_Sentence], opinions: list) -> dict:
        """Let the harms of the word classes, and the categories the model reads at
        the `confirm` level, stand in a sentence taken up as advice: by one of its
        own later clauses ("…, and that's exactly what you should do too") or the
        next sentence's opening ("My uncle got his job by ringing the boss at home
        every night. That's exactly my plan."), or, where the sentence reports
        someone else's advice ("my uncle says", "told me to"), by a clause of the
        next two sentences as well ("He has done it for years, so I will try
        it.").  Told as a story or as someone else's, the act reads to the model
        and to the stance model as a report, but the text recommends it.  The
        writer's own sentence that calls the act fine or safe (``endorsement``:
        "driving after a few is fine, the police rarely stop you") takes it up
        too: the harm of its word classes stands whatever the model reads, but
        the stance of the text around it is still weighed.  The adoption, as
        evidence, by index."""
        found = {}
        if not self._adoptions:
            return found
        for index, opinion in enumerate(opinions):
            if opinion is None:
                continue
            sentence = sentences[index]
            reported = self._reports(norm.text, sentence)
            if reported is not None:
                # The report's own later clauses, then every clause of the next two sentences.
                places = [(sentence, reported, True)]
                places += [(s, 0, True) for s in sentences[index + 1 : index + 3]]
            else:
                # Its own later clauses ("…, and that's what you should do too"),
                # then the next sentence's opening.
                places = [(sentence, 1, True)]
                places += [(s, 0, False) for s in sentences[index + 1 : index + 2]]
            taken = next(
                (t for p in places if (t := self._taken_up(norm.text, *p, self._adoptions))),
                None,
            )
            if taken is None and reported is not None:
                taken = self._agreed(norm.text, sentences, index, reported)
            if taken is None and reported is not None:
                taken = self._replied(norm.text, sentences, index, up=True)
            if taken is None and reported is None and not _asks(norm.text, sentence):
                taken = self._endorsed(norm.text, sentence)
            if taken:
                a, b = norm.span(*taken[:2])
                found[index] = Evidence(a, b, text[a:b], taken[2])
                if taken[2] == REPLY_EVIDENCE:
                    # The reply model says only that the advice was taken up, not
                    # what it was: the sentence keeps what the model reads in it,
                    # with neighbours or alone, and the stance is not weighed.
                    # Read alone at the confirm level counts only in a sentence the
                    # model reaches otherwise.
                    reached = opinion.learned or opinion.confirmed or opinion.alone
                    opinions[index] = replace(
                        opinion,
                        learned=opinion.learned | opinion.alone,
                        confirmed=opinion.confirmed
                        | (opinion.alone_confirmed if reached else frozenset()),
                    )
                    continue
                # What the model reads there at the confirm level is the text's
                # own advice (the adoption supplies the stance), if the sentence
                # read alone says something of it: one that only points back
                # ("That's it.") tells nothing.
                told = frozenset()
                if (
                    taken[2] not in self._agreements
                    and taken[2] not in self._endorsements
                    and opinion.confirmed
                    and not (index and self._carries_on(norm.text, sentences[index - 1], sentence))
                ):
                    own = _own(opinion)
                    told = frozenset(c for c in opinion.confirmed if own[c] >= _TOLD)
                opinions[index] = replace(
                    opinion, learned=opinion.learned or told, confirmed=frozenset(CATEGORIES)
                )
        return found

    def _endorsed(self, text: str, sentence: _Sentence):
        """Where the writer's own `sentence` calls an act fine or safe
        ("driving after a few is fine", "nobody checks"), as `_taken_up` gives it."""
        segment = text[sentence.norm_start : sentence.norm_end]
        for name in self._endorsements:
            if self._may_hold(name, segment) and (
                found := self.policy.classes[name].regex.search(segment)
            ):
                return sentence.norm_start + found.start(), sentence.norm_start + found.end(), name
        return None

    def _reports(self, text: str, sentence: _Sentence) -> int | None:
        """Where the first words saying someone else suggests the act end in
        `sentence` (an offset into it), if it holds any; looked at once."""
        if sentence.reported == _UNSEEN:
            own = text[sentence.norm_start : sentence.norm_end]
            found = [
                m
                for name in self._reported
                if self._may_hold(name, own) and (m := self.policy.classes[name].regex.search(own))
            ]
            if not found and _QUOTED_LINE.match(text, text.rfind("\n", 0, sentence.norm_start) + 1):
                found = [_QUOTE.match(own)]
            sentence.reported = min((m.end() for m in found), default=None)
            sentence.voice = min(found, key=lambda m: m.start(), default=None)
        return sentence.reported

    def _may_hold(self, name: str, segment: str) -> bool:
        """Whether `segment` holds one of the words every match of class `name` needs."""
        cues = self._cues.get(name)
        return cues is None or next(cues.iter(segment), None) is not None

    def _agreed(self, text: str, sentences: list[_Sentence], index: int, reported: int):
        """Where someone's advice, reported in sentence `index` (its report ending
        at offset `reported`), is agreed with ("My cousin says …, and he's
        right.", "… Hes not wrong."): a later clause of the report's own sentence,
        with no other voice or a "but" between them ("…, but my mum said no, and
        she's right" agrees with the mum), or the next sentence's opening; as
        `_taken_up` gives it."""
        if not self._agreements:
            return None
        sentence = sentences[index]
        segment = text[sentence.norm_start : sentence.norm_end]
        for clause in _CLAUSE.finditer(segment, reported):
            between = segment[reported : clause.start()] + " " + clause.group()
            if _CONTRAST.search(between) or any(
                self.policy.classes[name].regex.search(between) for name in self._reported
            ):
                break
            taken = self._taken_up(text, sentence, clause.end(), False, self._agreements)
            if taken:
                return taken
        following = sentences[index + 1 : index + 2]
        return following and self._taken_up(text, following[0], 0, False, self._agreements)

    def _taken_up(self, text: str, sentence: _Sentence, after: int, clauses: bool, names):
        """Where `sentence` takes up advice as the classes `names` say: at its
        opening (`after` 0), at offset `after` (with no `clauses`), or
        (`clauses`) at the start of any clause from offset `after` on; the span,
        in the normalised text, and the class."""
        segment = text[sentence.norm_start : sentence.norm_end]
        starts = [after] if after == 0 or not clauses else []
        if clauses:
            starts += [m.end() for m in _CLAUSE.finditer(segment, after)]
        for at in starts:
            for name in names:
                taken = self.policy.classes[name].regex.match(segment[at:])
                if taken:
                    base = sentence.norm_start + at
                    return base + taken.start(), base + taken.end(), name
        return None

    def _turned_down(
        self, text: str, norm, sentences: list[_Sentence], opinions: list
    ) -> dict[int, tuple[_Opinion, Evidence]]:
        """Drop the model's verdicts on a sentence that reports someone else
        suggesting the act, or asks about it, when a later clause of its own
        ("Kyle says wait outside to catch the manager - no way, emailing
        instead") or the next sentence opens by turning it down ("My cousin says
        slip the supervisor fifty quid. No.", "Cold showers as punishment? No."):
        the text tells of advice it refuses, however sure the model is of the
        advice itself.  Any other sentence is turned down by a next sentence
        that opens by calling it wrong (``verdict``: "My uncle rang the boss
        every night. That's exactly what not to do.").  A sentence the model
        finds harmful, or a harm of whose word classes it would confirm, only
        read alone (its neighbours already tell it is turned down: "My referee
        offered to write a better reference if I bought his festival ticket.
        Lol no.") keeps the refusal as the evidence of why it is not flagged.  The
        opinions before (for those, the model's reading of the sentence alone),
        by index, with the refusal as their evidence."""
        found = {}
        for index, opinion in enumerate(opinions):
            if opinion is None or not (
                opinion.learned or opinion.confirmed or opinion.alone or opinion.alone_confirmed
            ):
                continue
            sentence = sentences[index]
            reported = self._reports(norm.text, sentence)
            places = []
            if reported is None and not _asks(norm.text, sentence):
                # Told plainly, by the writer or of anyone: only the next
                # sentence calling it wrong turns it down.
                names = self._verdicts
            else:
                names = self._rejoinders + self._verdicts
                own = norm.text[sentence.norm_start : sentence.norm_end]
                places = [
                    (sentence.norm_start + clause.end(), own[clause.end() :])
                    for clause in _CLAUSE.finditer(own, reported or 0)
                ]
            if index + 1 < len(sentences):
                after = sentences[index + 1]
                places.append((after.norm_start, norm.text[after.norm_start : after.norm_end]))
            refusal = next(
                (
                    (start + m.start(), start + m.end(), name)
                    for start, reply in places
                    for name in names
                    if (m := self.policy.classes[name].regex.match(reply))
                ),
                None,
            )
            if refusal is None and reported is not None:
                refusal = self._replied(norm.text, sentences, index, up=False)
            if refusal:
                a, b = norm.span(*refusal[:2])
                before = opinion
                if not (opinion.learned or opinion.confirmed):
                    before = replace(
                        opinion, learned=opinion.alone, confirmed=opinion.alone_confirmed
                    )
                found[index] = (before, Evidence(a, b, text[a:b], refusal[2]))
                opinions[index] = replace(opinion, learned=frozenset(), confirmed=frozenset())
        return found

    def _voiced(self, text: str, sentence: _Sentence) -> bool:
        """Whether `sentence` opens by telling what someone else advised ("My
        cousin says", "Someone on TikTok said"): its report verb within the
        first words, with someone before a bare one, and not "says yes"."""
        self._reports(text, sentence)
        first = sentence.voice
        if first is None:
            return False
        segment = text[sentence.norm_start : sentence.norm_end]
        before = segment[: first.start()]
        if len(before.split()) > _REPORT_OPENING or segment.startswith(" yes", first.end()):
            return False
        return not (_BARE_REPORT.match(first.group()) and _NOBODY.search(before))

    def report_replies(self, text: str, window: int) -> list[str]:
        """The replies to the reports of someone else's advice in `text`, as the
        reply model reads them: for each sentence that opens by telling what
        someone else advised, the `window` sentences after it, normalised; in
        order. (What the reply model is trained on.)"""
        norm = normalise(text)
        sentences = [_Sentence(*span) for span in split_sentences(norm, text)]
        return [
            norm.text[
                sentences[index + 1].norm_start : sentences[
                    min(index + window, len(sentences) - 1)
                ].norm_end
            ]
            for index in range(len(sentences) - 1)
            if self._voiced(norm.text, sentences[index])
        ]

    def _replied(self, text: str, sentences: list[_Sentence], index: int, up: bool):
        """Where the sentences after the report in sentence `index` (the reply
        model's `window` of them) take its advice up (`up`) or turn it down, as
        the reply model reads them when it is sure: the word that weighed most
        that way, in the normalised text, and `REPLY_EVIDENCE`; or None."""
        sentence = sentences[index]
        if sentence.reply is None:
            sentence.reply = self._reply(text, sentences, index)
        if not sentence.reply:
            return None
        reply = self.policy.model.reply
        score, words, weights = sentence.reply
        if (score < reply.thresholds[TAKES_UP]) if up else (score > reply.turned_down_at):
            return None
        if weights:
            term = (max if up else min)(weights, key=weights.get)
            for at, word in enumerate(words):
                if word.text == term:
                    return word.start, word.end, REPLY_EVIDENCE
                pair = at + 1 < len(words) and f"{word.text} {words[at + 1].text}"
                if pair == term:
                    return word.start, words[at + 1].end, REPLY_EVIDENCE
        return words[0].start, words[-1].end, REPLY_EVIDENCE

    def _reply(self, text: str, sentences: list[_Sentence], index: int) -> tuple:
        """The reply model's score of the sentences after sentence `index`, their
        words and each term's weight; empty where it reads none (no reply model,
        no report of someone else's advice, a reply too short)."""
        model = self.policy.model
        reply = model.reply if model is not None else None
        if reply is None or index + 1 >= len(sentences) or not self._voiced(text, sentences[index]):
            return ()
        start = sentences[index + 1].norm_start
        end = sentences[min(index + reply.window, len(sentences) - 1)].norm_end
        words = tokens(text, start, end)
        if len(words) < max(reply.min_words, 1):
            return ()
        terms = ngrams([w.text for w in words])
        return reply.scores(terms)[TAKES_UP], words, reply.contributions(terms, TAKES_UP)

    def _judged_apart(self, text: str, sentence: _Sentence, matches: list[Match]) -> list[Match]:
        """`matches` less the condemnations opened by a copula whose subject is a noun
        phrase of their own at the opening of a clause (`_OWN_SUBJECT`: "…, the
        waiting is too much"): they judge that, not the act the sentence named
        before."""
        if self._own_subject is None:
            return matches
        subject, copula = self._own_subject
        return [
            m
            for m in matches
            if m.name not in _JUDGES_ITS_SUBJECT
            or not copula.regex.match(text, m.start, m.end)
            or not subject.regex.search(text, sentence.norm_start, m.start)
        ]

    def _stance_evidence(self, text, norm, sentences: list[_Sentence], index: int):
        """The words around sentence `index` that weighed most against endorsing."""
        stance = self.policy.model.stance
        window = stance.window
        start = sentences[max(index - window, 0)].norm_start
        end = sentences[min(index + window, len(sentences) - 1)].norm_end
        words = tokens(norm.text, start, end)
        weights = stance.contributions(ngrams([w.text for w in words]), ENDORSES)
        against = {term for w, term in sorted((w, t) for t, w in weights.items())[:3] if w < 0}
        found = []
        for at, word in enumerate(words):
            ends = [word] if word.text in against else []
            if at + 1 < len(words) and f"{word.text} {words[at + 1].text}" in against:
                ends.append(words[at + 1])
            for last in ends:
                a, b = norm.span(word.start, last.end)
                found.append(Evidence(a, b, text[a:b], STANCE_EVIDENCE))
        return found

    def _carries_on(self, text: str, previous: _Sentence, sentence: _Sentence) -> bool:
        """Whether `sentence` carries on `previous`: it opens by pointing back
        ("The first one…", "I don't."), or `previous` leads in to it.  Each
        sentence's opening is looked at once."""
        if sentence.opens is None:
            sentence.opens = self._starts(text, sentence, self._openers)
        if sentence.opens:
            return True
        if previous.leads_in is None:
            previous.leads_in = self._starts(text, previous, self._lead_ins)
        return previous.leads_in

    def _starts(self, text: str, sentence: _Sentence, names) -> bool:
        segment = text[sentence.norm_start : sentence.norm_end]
        return any(self.policy.classes[n].regex.match(segment) for n in names)

    def _judge(
        self, text, norm, sentence: _Sentence, previous: _Sentence | None, opinion: _Opinion | None
    ):
        unflagged = SentenceVerdict(
            text[sentence.start : sentence.end],
            sentence.start,
            sentence.end,
            flagged=False,
            categories=(),
            reason=None,
            instead=(),
            matched=None,
            evidence=(),
        )
        if opinion is not None and not (opinion.learned or opinion.confirmed):
            return unflagged
        # A harm of a category the model leaves out (and no category that confirms
        # one of its harms) can neither stand nor defuse.
        wanted = None
        if opinion is not None:
            found = opinion.learned | opinion.confirmed | opinion.beside
            wanted = {c for c, confirmers in self._confirmers.items() if confirmers & found}
        harms, matches = [], []
        if sentence.harms:
            harms, matches = self._complete_harms(norm.text, sentence, previous, wanted)
        complete = {h.category for h in harms}
        if opinion is not None:
            harms += [self._learned[c] for c in CATEGORIES if c in opinion.learned]
        if not harms:
            return unflagged
        # Only a harm whose features are all there needs its stances looked at.
        stances = dict.fromkeys(
            n for h in harms for n in (*self.policy.categories[h.category].defused_by, *h.unless)
        )
        span = (norm.text, sentence.norm_start, sentence.norm_end)
        if stances or matches:
            # A stance inside a negated condition clause is the condition's ("I'll
            # break his nose if he doesn't fix it"), not the sentence's, unless it
            # closes the sentence ("... because the interview went rough ain't.").
            found = find_matches(self.policy, *span, stances, self._alive(sentence))
            if found:
                kept = set(outside_conditions(self._clauses(norm.text, sentence), found))
                found = [
                    m
                    for m in found
                    if m in kept or not norm.text[m.end : sentence.norm_end].strip(_CLOSING)
                ]
            matches = negate(
                self.policy,
                *span,
                matches + found,
                sentence.ruled_out,
                self._clauses(norm.text, sentence),
                self._alive(sentence),
            )
            matches = self._judged_apart(norm.text, sentence, matches)
        fired = [self._harms[rule_id] for rule_id in self._evaluate(harms, matches, opinion)]
        if opinion is not None:
            fired = _combine(fired, complete, opinion)
        evidence = self._evidence(text, norm, matches, fired)
        if any(h.id == LEARNED for h in fired):
            evidence = tuple(
                sorted(
                    {*evidence, *self._learned_evidence(text, norm, sentence, opinion, fired)},
                    key=lambda e: (e.start, e.end, e.feature),
                )
            )
        if not fired:
            return replace(unflagged, evidence=evidence)
        order = {c: i for i, c in enumerate(CATEGORIES)}
        fired.sort(key=lambda h: order[h.category])
        # A learned verdict beside a harm of the word classes of its category adds
        # no reason or alternatives of its own: the word classes know which
        # catalogue item it is, and say why.
        named = {h.category for h in fired if h.id != LEARNED}
        told = [h for h in fired if h.id != LEARNED or h.category not in named]
        # One reason a category, its first harm's: two harms of one category
        # ("wait outside the office to catch her": lurking at the workplace, an
        # ambush) tell of the same act, and their reasons would say it twice.
        reasons: dict[str, str] = {}
        for h in told:
            reasons.setdefault(h.category, h.reason)
        instead = [
            action
            for h in told
            for action in (
                self._rejected[h.matched]["instead"]
                if h.matched
                else self._fallback_instead[h.category]
            )
        ]
        return SentenceVerdict(
            unflagged.text,
            sentence.start,
            sentence.end,
            flagged=True,
            categories=tuple(dict.fromkeys(h.category for h in fired)),
            reason="; ".join(dict.fromkeys(reasons.values())),
            instead=tuple(dict.fromkeys(instead)),
            matched=next((h.matched for h in fired if h.matched), None),
            evidence=evidence,
            harms=tuple(f"{h.category}/{h.id}" for h in fired),
        )

    def _complete_harms(
        self, text: str, sentence: _Sentence, previous: _Sentence | None, categories=None
    ) -> tuple[list[Harm], list[Match]]:
        """The sentence's candidate harms (of `categories`, when given) whose
        every class is present, and the matches of their classes (some
        carried from `previous`)."""
        harms = [self._harms[rule_id] for rule_id in sentence.harms]
        if categories is not None:
            harms = [h for h in harms if h.category in categories]
        carried: dict[str, list[Match]] = {}
        if previous is not None and self._carries_on(text, previous, sentence):
            names = dict.fromkeys(n for h in harms for n in h.features)
            for match in self._carried(text, previous, names):
                carried.setdefault(match.name, []).append(match)
        found: dict[str, list[Match]] = {}

        def present(name: str) -> bool:
            if name not in found:
                found[name] = carried.get(name, [])
                if name not in sentence.ruled_out:
                    span = (text, sentence.norm_start, sentence.norm_end)
                    own = find_matches(self.policy, *span, (name,), self._alive(sentence))
                    if own:
                        own = outside_conditions(self._clauses(text, sentence), own)
                    found[name] = found[name] + own
            return bool(found[name])

        # Classes are looked for lazily: a harm is dropped at its first missing class,
        # or when its classes are out of the order it needs (not a harm, so nothing
        # for a negation to have defused).
        complete = [
            h
            for h in harms
            if all(map(present, h.all))
            and (not h.any or any(map(present, h.any)))
            and (not h.sequence or _ordered(found, h.sequence))
        ]
        matches = dict.fromkeys(m for h in complete for n in h.features for m in found.get(n, ()))
        return complete, sorted(matches, key=lambda m: (m.start, m.end, m.name))

    def _alive(self, sentence: _Sentence) -> dict[str, tuple[int, ...]] | None:
        """The blocks of classes its keywords let match (`Prefilter.alive`),
        worked out once; None when it was not scanned."""
        if sentence.alive is None and sentence.keywords is not None:
            sentence.alive = self.policy.prefilter.alive(sentence.keywords)
        return sentence.alive

    def _clauses(self, text: str, sentence: _Sentence):
        """The negated condition clauses of `sentence` (`_features.conditions`),
        looked for once."""
        if sentence.clauses is None:
            sentence.clauses = conditions(
                self.policy, text, sentence.norm_start, sentence.norm_end, self._alive(sentence)
            )
        return sentence.clauses

    def _carried(self, text: str, previous: _Sentence, names) -> list[Match]:
        """Live matches of the carried-over classes in the previous sentence."""
        carry = [name for name in names if self.policy.classes[name].carry]
        if not carry:
            return []
        start, end = previous.norm_start, previous.norm_end
        clauses = self._clauses(text, previous)
        alive = self._alive(previous)
        live = outside_conditions(
            clauses, find_matches(self.policy, text, start, end, carry, alive)
        )
        found = negate(self.policy, text, start, end, live, previous.ruled_out, clauses, alive)
        return [m for m in found if m.name in carry and not m.negated]

    def _evaluate(
        self, harms: list[Harm], matches: list[Match], opinion: _Opinion | None
    ) -> list[str]:
        """The ids of the harm rules the sentence's fact fires."""
        live = {m.name for m in matches if m.kind in _FACT_KINDS and not m.negated}
        learned = opinion.learned if opinion is not None else frozenset()
        if not learned and not any(self.policy.classes[n].kind == "harm" for n in live):
            return []
        fact = dict.fromkeys(sorted(live), True)
        if opinion is not None:
            fact.update({f"{LEARNED}__{c}": True for c in sorted(opinion.learned)})
        for harm in harms:
            if harm.any and live.intersection(harm.any):
                fact[harm.any_key] = True
            if harm.sequence and live.issuperset(harm.sequence):
                if in_sequence(matches, harm.sequence):
                    fact[harm.sequence_key] = True
        candidates = {h.rule_id for h in harms}
        fired: list[str] = []
        for category in dict.fromkeys(h.category for h in harms):
            fired.extend(r for r in self._fire(self._sessions[category], fact) if r in candidates)
        return fired

    def _fire(self, session: RuleSession, fact: dict) -> tuple[str, ...]:
        if not self._first_pass:
            return tuple(session.evaluate(fact))
        key = (id(session), tuple(fact))
        answer = self._cache.get(key)
        if answer is None:
            answer = tuple(session.evaluate(fact))
            with self._cache_lock:
                if len(self._cache) >= _CACHE_SIZE:
                    self._cache.clear()
                self._cache[key] = answer
        return answer

    def _evidence(
        self, text, norm, matches: list[Match], fired: list[Harm]
    ) -> tuple[Evidence, ...]:
        """The spans of the features of the harms found or, when none was,
        of the negations and stances that defused them."""
        if fired:
            wanted = {n for h in fired for n in h.features}
            chosen = [m for m in matches if m.name in wanted and not m.negated]
        else:
            chosen = [m for m in matches if m.kind in ("negation", "stance")]
        spans = {}
        for m in chosen:
            start, end = norm.span(m.start, m.end)
            spans[(start, end, m.name)] = Evidence(start, end, text[start:end], m.name)
        return tuple(spans[k] for k in sorted(spans))

    def _learned_evidence(self, text, norm, sentence: _Sentence, opinion, fired):
        """The words of the sentence that weigh most towards each learned category."""
        if not self._first_pass:
            return self._reference_learned_evidence(text, norm, sentence, opinion, fired)
        scored: TextScores = opinion.scores
        first, last = scored.bounds[opinion.index]
        words, starts = scored.words, scored.starts
        found = []
        for harm in fired:
            if harm.id != LEARNED:
                continue
            for _, term in scored.strongest(opinion.index, harm.category, _LEARNED_EVIDENCE):
                parts = term.split(" ")
                size, head = len(parts), parts[0]
                for at in _positions(words, head, first, last - size + 1):
                    if words[at : at + size] == parts:
                        close = at + size - 1
                        start, end = norm.span(starts[at], starts[close] + len(words[close]))
                        found.append(
                            Evidence(start, end, text[start:end], f"model:{harm.category}")
                        )
        return found

    def _reference_learned_evidence(self, text, norm, sentence: _Sentence, opinion, fired):
        """`_learned_evidence` the straightforward way: every term's weight worked
        out again from the sentence's words."""
        model = self.policy.model
        words = tokens(norm.text, sentence.norm_start, sentence.norm_end)
        spans: dict[str, list[tuple[int, int]]] = {}
        for first, second in zip(words, [*words[1:], None], strict=True):
            spans.setdefault(first.text, []).append((first.start, first.end))
            if second is not None:
                spans.setdefault(f"{first.text} {second.text}", []).append(
                    (first.start, second.end)
                )
        found = []
        for harm in fired:
            if harm.id != LEARNED:
                continue
            weights = model.contributions(opinion.scores.terms, harm.category)
            best = sorted((w, term) for term, w in weights.items() if w > 0 and term in spans)[
                -_LEARNED_EVIDENCE:
            ]
            for _, term in best:
                for start, end in spans[term]:
                    first, last = norm.span(start, end)
                    found.append(Evidence(first, last, text[first:last], f"model:{harm.category}"))
        return found

    def clear_cache(self) -> None:
        """Forget the remembered answers of the rules engine."""
        with self._cache_lock:
            self._cache.clear()


def _positions(words: list[str], word: str, start: int, stop: int):
    """Where `word` is in words[start:stop], in order."""
    at = start
    while True:
        try:
            at = words.index(word, at, stop)
        except ValueError:
            return
        yield at
        at += 1


def _automaton(words) -> ahocorasick.Automaton:
    """An automaton that finds any of `words` in one pass."""
    automaton = ahocorasick.Automaton()
    for word in words:
        automaton.add_word(word, word)
    automaton.make_automaton()
    return automaton


def _ordered(found: dict[str, list[Match]], names: Sequence[str]) -> bool:
    """Whether matches of `names` (found, negated or not) occur in that order."""
    matches = sorted(
        (m for n in dict.fromkeys(names) for m in found.get(n, ())),
        key=lambda m: (m.start, m.end, m.name),
    )
    return in_sequence(matches, names)


def _asks(text: str, sentence: _Sentence) -> bool:
    """Whether `sentence` is a question: put to the reader, the act is an idea the
    next sentence may turn down ("Cold showers as punishment? No.")."""
    return text[sentence.norm_start : sentence.norm_end].rstrip().endswith("?")


def _own(opinion: _Opinion) -> dict[str, float]:
    """The model's score of each category for the opinion's sentence read alone
    (none, where the model found nothing in the text)."""
    if opinion.scores is None:
        return dict.fromkeys(CATEGORIES, 0.0)
    if isinstance(opinion.scores, TextScores):
        return dict(zip(CATEGORIES, opinion.scores.own[opinion.index].tolist(), strict=True))
    return opinion.scores.own


def _beside(alone: np.ndarray) -> np.ndarray:
    """Which categories each sentence (a row of `alone`: the categories it
    reaches read alone) confirms beside a neighbour that, read alone, reaches
    another category: read together, the two dilute each other's scores
    ("Slip the recruiter fifty quid. Then drink a whole bottle of vodka and
    drive home.")."""
    found = np.zeros_like(alone)
    if len(alone) < 2:
        return found
    count = alone.sum(axis=1, keepdims=True)
    other = (count - alone) > 0  # the sentence reaches a category other than each
    found[1:] |= other[:-1]
    found[:-1] |= other[1:]
    return alone & found


def _surest(opinion: _Opinion) -> float:
    """The highest score the model gives the opinion's sentence read alone."""
    return max(_own(opinion).values())


def _combine(fired: list[Harm], complete: set[str], opinion: _Opinion) -> list[Harm]:
    """The verdicts of the word classes and of the model, combined.

    A harm of the word classes stands where the model gives its category (or
    one the harm names as `confirmed_by`) at least the policy's `confirm`
    score, or where the sentence reaches the category read alone beside a
    neighbour of another category (`_beside`); the model's own verdict stands unless the word classes found that
    category's harm complete in the sentence and defused every one (a
    negation, a condemnation, a safe alternative).
    """
    by_rules = {h.category for h in fired if h.id != LEARNED}
    defused = complete - by_rules
    return [
        h
        for h in fired
        if (h.id == LEARNED and h.category not in defused)
        or (h.id != LEARNED and not (opinion.confirmed | opinion.beside).isdisjoint(h.confirming))
    ]


@dataclass(frozen=True)
class _Opinion:
    """The model's verdict on a sentence read with its neighbours."""

    scores: TextScores | SentenceScores | None  # the text's (the sentence's, for the reference)
    index: int  # the sentence's
    learned: frozenset[str]  # categories whose score reaches their threshold
    confirmed: frozenset[str]  # categories whose score confirms a rule's harm
    alone: frozenset[str] = frozenset()  # categories the sentence read alone reaches
    # Categories the sentence read alone confirms: where its neighbours turn it down,
    # the refusal is the evidence of why a harm of its word classes is not flagged.
    alone_confirmed: frozenset[str] = frozenset()
    # Categories the sentence reaches read alone beside a neighbour that, read alone,
    # reaches another (`_beside`): a harm of their word classes stands there too.
    beside: frozenset[str] = frozenset()


#: The opinion on a sentence the model finds nothing in.
_NO_OPINION = _Opinion(None, -1, frozenset(), frozenset())


def _learned_harm(category: Category) -> Harm:
    return Harm(
        category=category.id,
        id=LEARNED,
        description="the model finds this category's harm in the sentence and its neighbours",
        all=(),
        any=(),
        sequence=(),
        unless=(),
        reason=category.reason,
        matched=None,
    )


def _check_matched(policy: Policy, rejected: Sequence[Mapping]) -> None:
    by_id = {}
    for index, item in enumerate(rejected):
        for key in ("id", "category", "instead"):
            if key not in item:
                raise PolicyError(f"rejected advice {index}: missing {key!r}")
        by_id[item["id"]] = item
    for category in policy.categories.values():
        for index, harm in enumerate(category.harms):
            if harm.matched is None:
                continue
            field = f"{category.path}: harms.{index}.matched"
            item = by_id.get(harm.matched)
            if item is None:
                raise PolicyError(f"{field}: {harm.matched!r} is not a rejected advice id")
            if item["category"] != category.id:
                raise PolicyError(
                    f"{field}: {harm.matched!r} is rejected advice of category"
                    f" {item['category']!r}, not {category.id!r}"
                )


def _sessions(policy: Policy) -> dict[str, RuleSession]:
    """One rule session per category: an evaluation costs more the more rules
    its session has, and most sentences concern one category."""
    sessions = {}
    for category in policy.categories.values():
        rules = {
            harm.rule_id: {
                "when": _condition(category, harm),
                "priority": priority,
            }
            for priority, harm in enumerate(category.harms)
        }
        if policy.model is not None:
            learned = _learned_harm(category)
            rules[learned.rule_id] = {
                "when": _condition(category, learned, f"{LEARNED}__{category.id}"),
                "priority": len(rules),
            }
        sessions[category.id] = RuleSession(rules)
    return sessions


def _condition(category: Category, harm: Harm, verdict: str | None = None) -> dict:
    """The durable_rules condition of a harm: its features present (or the
    model's `verdict`), no stance against it."""
    terms: list[dict] = [{name: True} for name in dict.fromkeys(harm.all)]
    if verdict is not None:
        terms.append({verdict: True})
    if harm.any:
        terms.append({harm.any_key: True})
    if harm.sequence:
        terms.append({harm.sequence_key: True})
    for stance in dict.fromkeys((*category.defused_by, *harm.unless)):
        terms.append({"$nex": {stance: 1}})
    return {"$and": terms}
