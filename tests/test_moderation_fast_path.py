"""The fast moderation path gives the verdicts of the slow reference path.

The reference (`Moderator(first_pass=False)`) looks for every harm in every
sentence, scores each passage with the model term by term and asks the rules
engine every time; the fast path skips sentences by keywords, scores a whole
text in one pass and remembers the engine's answers.  Every field of every
sentence's verdict (flags, categories, harms, reasons, evidence spans) must
be the same.  The steps both paths share and that were written for speed
(folding, a keyword scan of a stretch, one vocabulary for both models) are
held to their plain forms.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.moderation import Moderator, _text
from advisor.moderation._features import _block_matches
from advisor.moderation._model import (
    _matrix,
    _words_and_starts,
    endorsement,
    score_text,
    tokens,
)
from advisor.moderation._policy import WordClass, _whole_words
from advisor.moderation._text import normalise, split_sentences

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "rules" / "moderation"
REJECTED = yaml.safe_load((ROOT / "content" / "rejected.yaml").read_text(encoding="utf-8"))[
    "rejected"
]
CORPUS = [
    json.loads(line)["text"]
    for path in sorted((ROOT / "tests" / "moderation" / "corpus").glob("*.jsonl"))
    for line in path.read_text(encoding="utf-8").splitlines()
    if line.strip()
]
#: Every 25th text of the labelled corpus: all its writers and categories, in a few seconds.
SAMPLE = CORPUS[::25]
ARTICLES = sorted((ROOT / "content" / "articles").glob("*.txt"))
WORDS = sorted({w for text in SAMPLE for w in text.split()})


@pytest.fixture(scope="module")
def fast(moderator) -> Moderator:
    return moderator


@pytest.fixture(scope="module")
def reference(fast) -> Moderator:
    return Moderator(fast.policy, REJECTED, first_pass=False)


def _same(fast: Moderator, reference: Moderator, text: str):
    expected = reference.moderate(text)
    assert fast.moderate(text) == expected, text
    return expected


def test_corpus_sample_has_the_reference_verdicts(fast, reference):
    verdicts = [_same(fast, reference, text) for text in SAMPLE]
    # The sample exercises both kinds of flag and their evidence.
    harms = {h for v in verdicts for s in v.sentences for h in s.harms}
    assert any(h.endswith("/learned") for h in harms)
    assert any(not h.endswith("/learned") for h in harms)
    assert any(
        e.feature.startswith("model:") for v in verdicts for s in v.sentences for e in s.evidence
    )
    assert not all(v.flagged for v in verdicts)


def test_articles_have_the_reference_verdicts(fast, reference):
    for path in sorted((ROOT / "content" / "articles").glob("*.txt")):
        _same(fast, reference, path.read_text(encoding="utf-8"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(WORDS), st.sampled_from([" ", " ", " ", ". ", "! ", "\n", ", "])),
        min_size=1,
        max_size=40,
    ).map(lambda pairs: "".join(w + sep for w, sep in pairs))
)
def test_generated_texts_have_the_reference_verdicts(fast, reference, text):
    _same(fast, reference, text)


def test_remembered_answers_do_not_change_a_verdict(fast):
    """The same text judged with the engine's answers remembered and forgotten."""
    for text in SAMPLE[:40]:
        remembered = fast.moderate(text)
        fast.clear_cache()
        assert fast.moderate(text) == remembered, text


@pytest.fixture(scope="module")
def plain_regexes(fast):
    """Each class's regex without the look at a position's first character."""
    return {
        name: (word_class.regex, _whole_words(word_class.source))
        for name, word_class in fast.policy.classes.items()
        if word_class.kind != "part"
    }


def _same_matches(plain_regexes, text: str) -> None:
    folded = normalise(text).text
    for name, (quick, plain) in plain_regexes.items():
        expected = [m.span() for m in plain.finditer(folded)]
        assert [m.span() for m in quick.finditer(folded)] == expected, (name, text)


def test_first_character_look_loses_no_match(fast, plain_regexes):
    assert sum(c.first is not None for c in fast.policy.classes.values()) > len(plain_regexes) // 2
    for text in SAMPLE[::4]:
        _same_matches(plain_regexes, text)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=20).map(" ".join))
def test_first_character_look_loses_no_match_in_generated_texts(plain_regexes, text):
    _same_matches(plain_regexes, text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=200))
def test_ascii_text_is_folded_as_any_other_text(text):
    """Plain ASCII takes a byte-table path; a text with a character outside
    ASCII takes the general one.  A closing curly quote folds to a straight
    one, so the two must agree up to it."""
    assert normalise(text + "\n\u201d").text == normalise(text + '\n"').text


#: Characters that make or break the spaced-out words, leet runs and folds of `normalise`.
FOLDING = "aab rdk.*_,/+~-|:013457@$!'\u2019\u201c\u2014\u00e9\u00a0\u00b7\u2022\u2b50\n\t"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=FOLDING, max_size=40))
def test_quick_folding_steps_do_what_the_plain_ones_do(text):
    """The steps of `normalise` written for speed against their plain forms."""
    plain_leet = re.compile(r"(?<=[a-z])[013457@$!]+(?=[a-z])")
    assert [m.span() for m in _text._LEET_RUN.finditer(text)] == [
        m.span() for m in plain_leet.finditer(text)
    ]
    assert _text._has_spaced(text) == bool(_text._SPACED.search(text))
    assert _text._one_to_one(text) == text.translate(_text._ONE_TO_ONE)
    pairs = _text._repeats(text).get(_text._PAIRS, ())
    assert [m.span() for m in _text._doubled(text, pairs)] == [
        m.span() for m in _text._DOUBLED.finditer(text)
    ]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(sorted(_text.DIALECT_WORDS)),
            st.sampled_from([" ", "-", "'", ".", "s", "x", "\u00e9", "_", "1", "\n"]),
        ),
        max_size=20,
    ).map("".join)
)
def test_dialect_spellings_are_found_where_the_plain_pattern_finds_them(text):
    assert [m.span() for m in _text._dialect_words(text)] == [
        m.span() for m in _text._DIALECT.finditer(text)
    ]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="aAbBhHtT ,'_0\u00e9", max_size=30))
def test_words_in_camel_case_are_found_where_the_plain_pattern_finds_them(text):
    assert [m.span() for m in _text._camel_words(text)] == [
        m.span() for m in _text._CAMEL.finditer(text)
    ]


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("D r i n k and drive", "drink and drive"),
        ("dr1nk, then d.r.i.v.e home", "drink, then drive home"),
        ("Sooo many p!lls \u2014 \u201cfine\u201d", 'so many pills \u2014 "fine"'),
        ("Be a pro at 10 a.m.", "be a pro at 10 a.m."),
        ("Caf\u00e9  at 5", "caf\u00e9 at 5"),
        ("h.a.v.e t.h.r.e.e p-i-n-t-s", "have three pints"),
        ("d/r/i/v/e, d,r,i,v,e, d+r+i+v+e", "drive, drive, drive"),
        ("dr1v3 h0m3 after thr33 p1nt$", "drive home after three pints"),
        ("7h3n 0ff3r 7h3m", "then offer them"),
        (
            "Taking the car HAME efter a few wi Dougie",
            "taking the car home after a few with dougie",
        ),
        ("Dinnae gie him owt, gonnae no", "don't give him anything, going to no"),
        ("Divvent gan yem, abeg", "don't gan home, please"),
        # Spellings that are other words or names too are kept.
        ("Ken said aw no, am wid it", "ken said aw no, am wid it"),
        ("Hame's dem's tae-kwon-do", "hame's dem's tae-kwon-do"),
    ],
)
def test_spaced_leet_and_curly_text_is_still_folded(text, folded):
    assert normalise(text).text == folded


#: Words of letters and digits that are no leet, kept as written.
NOT_LEET = [
    "Meet on the 3rd, the 5th or the 21st at 3pm or 10am",
    "covid19, h264 and b2b",
    "Pay us$50 or $100, 50$ each",
    "5km in 3days, 10k a year",
    "Ask @john or 4 people, 1 of 3",
    "Great! Wow!!",
]


@pytest.mark.parametrize("text", NOT_LEET)
def test_numbers_with_units_sums_and_handles_are_not_read_as_leet(text):
    assert normalise(text).text == text.lower()


#: Words the normaliser knows, of three to eight letters, none repeated (nothing to
#: squeeze), less the dialect spellings it reads as the standard word.
KNOWN_WORDS = sorted(
    word
    for word in _text._lexicon().known
    if word.isascii()
    and 3 <= len(word) <= 8
    and len(set(word)) == len(word)
    and word not in _text.DIALECT_WORDS
)
#: What parts letters spelt out one by one: one or more characters that are no letter.
LETTER_SEPARATORS = [
    *" .*_,/+~\u00b7\u2022-|:\u2014\u2b50\n",
    *(", ", ". ", " - ", " | ", "\u2b50\u2b50"),
]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(KNOWN_WORDS), min_size=1, max_size=6),
    st.sampled_from(LETTER_SEPARATORS),
)
def test_words_spelt_out_letter_by_letter_are_read_as_words(words, separator):
    """However the letters are parted, each word is read on its own when the words
    are parted otherwise."""
    between = separator * 2 if separator in (" ", "\n") else " "
    spelt = between.join(separator.join(word) for word in words)
    joined = "\n\n" if separator == "\n" else " "
    assert normalise(spelt).text == joined.join(words)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=30).map(" ".join),
    st.integers(0, 200),
    st.integers(0, 200),
)
def test_a_stretch_is_scanned_for_the_keywords_a_whole_scan_finds_in_it(fast, text, a, b):
    """Keywords are looked for only in the sentences that need them: a scan
    of a stretch finds what a scan of the whole text finds starting there."""
    folded = normalise(text).text
    start, end = sorted((a % (len(folded) + 1), b % (len(folded) + 1)))
    prefilter = fast.policy.prefilter
    whole = [hit for hit in prefilter.scan(folded) if start <= hit[0] < end]
    assert sorted(prefilter.scan(folded, start, end)) == sorted(whole)


@pytest.mark.parametrize("text", [*SAMPLE[:40], *(p.read_text("utf-8") for p in ARTICLES)])
def test_a_sentences_strongest_terms_are_the_heaviest_of_its_contributions(fast, text):
    """The evidence of a learned verdict: the terms that raise a category's
    score most, picked from the text's arrays, are the last of every term's
    contribution (`LinearModel.contributions`) sorted by weight."""
    model = fast.policy.model
    norm = normalise(text)
    spans = [(a, b) for a, b, _, _ in split_sentences(norm, text)]
    scored = score_text(model, norm.text, spans)
    for index, (first, last) in enumerate(scored.bounds):
        words = scored.words[first:last]
        terms = [*words, *(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))]
        for category in model.categories:
            weights = model.contributions(terms, category)
            expected = sorted((w, t) for t, w in weights.items() if w > 0)[-3:]
            found = scored.strongest(index, category, 3)
            assert [t for _, t in found] == [t for _, t in expected], (category, words)
            assert [w for w, _ in found] == pytest.approx([w for w, _ in expected])


def _ruled_out_yet_found(fast: Moderator, text: str) -> tuple[int, int]:
    """Check every class the keyword pass rules out in a sentence of `text`
    against its regex there, and every block of a class it rules out
    against the block's regex; (classes and blocks ruled out, keyed classes
    and blocks found).  The blocks the keywords leave must find what the
    class's regex finds, as must all its blocks."""
    prefilter = fast.policy.prefilter
    classes = fast.policy.classes
    norm = normalise(text)
    ruled, found = 0, 0
    for start, end, _, _ in split_sentences(norm, text):
        keyword_sets = {i for _, ids in prefilter.scan(norm.text, start, end) for i in ids}
        ruled_out = prefilter.ruled_out(prefilter.present(keyword_sets))
        alive = prefilter.alive(keyword_sets)
        sentence = norm.text[start:end]
        for name in prefilter.keyed:
            matched = any(m.end() > m.start() for m in classes[name].regex.finditer(sentence))
            assert not (matched and name in ruled_out), (name, sentence)
            found += matched
        ruled += len(ruled_out)
        for name, blocks in prefilter.blocks.items():
            word_class = classes[name]
            assert len(word_class.blocks) == len(blocks)
            left = alive.get(name, word_class.always)
            for index, block in enumerate(word_class.blocks):
                matched = any(m.end() > m.start() for m in block.finditer(sentence))
                assert not (matched and index not in left), (name, index, sentence)
                found += matched and index not in word_class.always
                ruled += index not in left
            expected = [m.span() for m in word_class.regex.finditer(sentence)]
            assert [m.span() for m in _block_matches(word_class, left, sentence)] == expected
            every = range(len(blocks))
            assert [m.span() for m in _block_matches(word_class, every, sentence)] == expected
    return ruled, found


def test_a_class_the_keywords_rule_out_has_no_match(fast):
    """A sentence's keywords rule classes out (so that negation is not looked
    for inside phrases that cannot be there), and blocks of the classes of
    harms: none of them may match it."""
    assert len(fast.policy.prefilter.blocks) > 10
    assert sum(len(b) > 1 for b in fast.policy.prefilter.blocks.values()) > 10
    ruled, found = 0, 0
    for text in [*SAMPLE, *(p.read_text("utf-8") for p in ARTICLES)]:
        counts = _ruled_out_yet_found(fast, text)
        ruled, found = ruled + counts[0], found + counts[1]
    assert ruled
    assert found


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(WORDS), st.sampled_from([" ", " ", " ", ". ", "\n", ", "])),
        min_size=1,
        max_size=30,
    ).map(lambda pairs: "".join(w + sep for w, sep in pairs))
)
def test_a_class_the_keywords_rule_out_has_no_match_in_generated_texts(fast, text):
    _ruled_out_yet_found(fast, text)


def _blocked(*sources: str) -> WordClass:
    """A class of harms cut into one block per source."""
    return WordClass(
        name="made_up",
        kind="harm",
        path=Path("made_up.yaml"),
        description=None,
        patterns=sources,
        carry=False,
        absorbs_negation=False,
        window=None,
        source="(?:" + "|".join(sources) + ")",
        blocks=tuple(_whole_words(source) for source in sources),
    )


@pytest.mark.parametrize(
    ("sources", "text"),
    [
        # Two blocks matching at one place: the earlier block's match, as in the regex.
        (("drink", "drink and drive", "and"), "drink and drive and drink"),
        (("drink and drive", "drink", "and"), "drink and drive and drink"),
        # Overlaps: a later block's match inside an earlier match is passed over.
        (("pints? of beer", "beer and", "drive"), "two pints of beer and drive"),
        # Blocks that may be empty: the class's own regex answers.
        (("x?", "drink"), "drink and drink"),
        (("a(?=b)|", "ab"), "aab ab b"),
    ],
)
def test_blocks_find_what_their_class_finds(sources, text):
    word_class = _blocked(*sources)
    expected = [m.span() for m in word_class.regex.finditer(text)]
    every = range(len(sources))
    assert [m.span() for m in _block_matches(word_class, every, text)] == expected


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "ab", "b ?a", "a b", "ba", "b?", "(?<!b )a"]), min_size=2),
    st.text(alphabet="ab ", max_size=20),
)
def test_blocks_find_what_their_class_finds_in_generated_texts(sources, text):
    word_class = _blocked(*sources)
    expected = [m.span() for m in word_class.regex.finditer(text)]
    every = range(len(sources))
    assert [m.span() for m in _block_matches(word_class, every, text)] == expected


@pytest.mark.parametrize("text", [*SAMPLE[:60], *(p.read_text("utf-8") for p in ARTICLES)])
def test_the_shared_vocabulary_gives_each_model_its_own_terms(fast, text):
    """A text's words are looked up once for the category model and the
    stance model; each must get exactly the terms of its own vocabulary,
    and the stance read from them must be the stance read from the words."""
    model = fast.policy.model
    folded = normalise(text).text
    words = [t.text for t in tokens(folded)]
    shared = model.shared.slots(words)
    assert model.shared.model_slots(shared).tolist() == model.slots(words).tolist()
    assert model.shared.stance_slots(shared).tolist() == model.stance.slots(words).tolist()
    spans = [(a, b) for a, b, _, _ in split_sentences(normalise(text), text)]
    if len(spans) < 2:
        return
    scored = score_text(model, folded, spans)
    every = list(range(len(spans)))
    window = model.stance.window
    read = endorsement(model.stance, folded, spans, window, every, scored)
    assert read == endorsement(model.stance, folded, spans, window, every)
    passages = [
        (scored.bounds[max(i - window, 0)][0], scored.bounds[min(i + window, len(spans) - 1)][1])
        for i in every
    ]
    assert read == model.stance.passage_features(words, passages).probabilities[:, 0].tolist()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab' _.-1\u00e9\u2014\U0001f600\n", max_size=40))
def test_a_text_split_around_its_tokens_gives_each_token_and_its_offset(text):
    assert _words_and_starts(text) == (
        [t.text for t in tokens(text)],
        [t.start for t in tokens(text)],
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(st.floats(allow_nan=False), max_size=4), max_size=6),
    st.integers(0, 4),
)
def test_a_models_weights_are_read_as_numpy_reads_them(rows, width):
    """The model's weights are read in one run over their numbers when every
    row has the categories' width; the result is numpy's own reading."""
    try:
        expected = np.asarray(rows, dtype=np.float64)
    except ValueError:  # rows of different lengths
        with pytest.raises(ValueError, match="inhomogeneous"):
            _matrix(rows, width)
        return
    got = _matrix(rows, width)
    assert got.shape == expected.shape
    assert got.tolist() == expected.tolist()
