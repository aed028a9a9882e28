"""The fast moderation path gives the verdicts of the slow reference path.

The reference (`Moderator(first_pass=False)`) looks for every harm in every
sentence, scores each passage with the model term by term and asks the rules
engine every time; the fast path skips sentences by keywords, scores a whole
text in one pass and remembers the engine's answers.  Every field of every
sentence's verdict (flags, categories, harms, reasons, evidence spans) must
be the same.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.moderation import Moderator
from advisor.moderation._policy import _whole_words
from advisor.moderation._text import normalise

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
