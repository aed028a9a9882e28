"""The moderation normaliser (`advisor.moderation._text`): text spelt to slip past the
screen is read as the plain words, and ordinary text is read as it was.

The harms these spellings hid are in `test_moderation.py`
(`test_look_alike_letters_and_combining_marks_do_not_hide_a_harm`); here, what the
normaliser makes of them, drawn by Hypothesis from the words it knows, and a table
of ordinary texts (English, names, accented words, other languages, emoji, code,
URLs) with the reading each keeps.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from advisor.moderation import _text
from advisor.moderation._language import _OPENING, _lower_opening
from advisor.moderation._text import normalise

from .strategies import examples

ROOT = Path(__file__).resolve().parent.parent
#: Words the normaliser knows, plain ASCII, less the dialect spellings it reads as
#: the standard word (`DIALECT_WORDS`).
KNOWN = sorted(
    word for word in _text._lexicon().known if word.isascii() and word not in _text.DIALECT_WORDS
)
#: The ones of two letters or more, with no letter three times in a row ("aa" written
#: with each letter twice is "aaaa", one letter drawn out).
WORDS = [word for word in KNOWN if len(set(word)) > 1 and not re.search(r"(.)\1\1", word)]


def _read(words: list[str]) -> str:
    return normalise(" ".join(words)).text


# --- ordinary text keeps its verdict --------------------------------------------------

#: Ordinary texts and how each is read: none of them is flagged. A word the normaliser
#: knows with its accents keeps them ("café", "rosé", "résumé"); any other accented
#: word is read without ("Łukasz", "naïve"); single letters listed with the same
#: separator are run together ("a + b + c"), as single letters spelt out are.
ORDINARY = [
    pytest.param(
        "Send a short thank-you email to the panel tonight, then write up my notes.",
        "send a short thank-you email to the panel tonight, then write up my notes.",
        id="plain English",
    ),
    pytest.param(
        "Plan: a) thank the panel, b) write notes, c) wait a week.",
        "plan: a) thank the panel, b) write notes, c) wait a week.",
        id="a list",
    ),
    pytest.param(
        "I got an A, a B and a C in my exams; the role needs a B or better.",
        "i got an a, a b and a c in my exams; the role needs a b or better.",
        id="grades",
    ),
    pytest.param(
        "Book a coffee with the bookkeeper and the committee; success feels good.",
        "book a coffee with the bookkeeper and the committee; success feels good.",
        id="double letters",
    ),
    pytest.param(
        "Call Siobhán, Zoë and Łukasz Wróbel; copy in Søren and Nguyễn Thị Minh.",
        "call siobhán, zoe and lukasz wrobel; copy in soren and nguyen thi minh.",
        id="names",
    ),
    pytest.param(
        "Meet at the café for a rosé after the résumé review, then the naïve fiancé leaves.",
        "meet at the café for a rosé after the résumé review, then the naive fiancé leaves.",
        id="accented words",
    ),
    pytest.param(
        "Envoyez un mot de remerciement à l\u2019équipe ce soir, après le déjeuner.",
        "envoyez un mot de remerciement a l'equipe ce soir, après le dejeuner.",
        id="French",
    ),
    pytest.param(
        "Спасибо за интервью, я отправлю письмо завтра.",
        "cпacибo зa интepвью, я oтпpaвлю пиcьмo зaвтpa.",
        id="Russian",
    ),
    pytest.param(
        "Interview done \U0001f389\U0001f64c sending a thank-you \u2709\ufe0f tonight \U0001f91e",
        "interview done \U0001f389\U0001f64c sending a thank-you \u2709 tonight \U0001f91e",
        id="emoji",
    ),
    pytest.param(
        "Fix it: for i, j, k in zip(a, b, c): total = a + b + c",
        "fix it: for ijk in zip(abc): total = abc",
        id="code",
    ),
    pytest.param(
        "Read https://example.com/jobs/2026/a/b/c?x=1&y=2#top before 5pm.",
        "read https://example.com/jobs/2026/abc?x=1&y=2#top before 5pm.",
        id="a URL",
    ),
    pytest.param(
        "Connect on LinkedIn from an iPhone, then read about JavaScript at McDonald's.",
        "connect on linkedin from an iphone, then read about javascript at mcdonald's.",
        id="names in two parts",
    ),
    pytest.param(
        "SEND THE THANK-YOU NOTE TODAY AND ASK ABOUT NEXT STEPS!",
        "send the thank-you note today and ask about next steps!",
        id="capitals",
    ),
]


@pytest.mark.parametrize(("text", "read"), ORDINARY)
def test_ordinary_text_keeps_its_verdict_and_is_read_as_shown(moderator, text, read):
    assert normalise(text).text == read
    assert not moderator.moderate(text).flagged


# --- spelt to slip past ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("s e n d a t h a n k y o u e m a i l t o n i g h t", "send a thank you email tonight"),
        ("g.e.t.h.a.m.m.e.r.e.d.t.h.e.n.d.r.i.v.e", "get hammered then drive"),
        ("d\nr\ni\nn\nk\nt\nh\ne\nn\nd\nr\ni\nv\ne", "drink then drive"),
        ("H a v e 3 p i n t s t h e n d r 1 v e", "have 3 pints then drive"),
        (
            "t a k e a p i l l b e f o r e t h e i n t e r v i e w",
            "take a pill before the interview",
        ),
        (
            "s l i p t h e r e c e p t i o n i s t f i f t y q u i d",
            "slip the receptionist fifty quid",
        ),
        ("d r i v e b a c k t o h a r r o g a t e", "drive back to harrogate"),
        ("r-i-d-i-n-g t-h-e h-a-r-l-e-y h-o-m-e", "riding the harley home"),
        ("d r i v e", "drive"),
        ("d    r    i    n    k        t    h    e    n", "drink then"),
        ("d\u200br\u200bi\u200bn\u200bk\u200bt\u200bh\u200be\u200bn", "drink then"),
        ("#DrinkAndDrive tonight", "#drink and drive tonight"),
    ],
    ids=[
        "one space",
        "one dot",
        "a letter a line",
        "digits and leet",
        "pill",
        "bribe",
        "a name stays whole",
        "words spelt apart",
        "one word",
        "far apart",
        "zero-width spaces",
        "camel case",
    ],
)
def test_a_sentence_spelt_out_with_its_words_run_together_is_read_as_its_words(text, read):
    norm = normalise(text)
    assert norm.text == read
    # A space put between two words stands for the separator it replaced, or for the
    # capital a part of a word in camel case starts with.
    for index, char in enumerate(norm.text):
        if char == " ":
            written = text[norm.start(index)]
            assert not written.isalnum() or written.isupper()


def _doubled(word: str) -> str:
    return "".join(letter * 2 for letter in word)


@settings(max_examples=examples(300))
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=8), st.booleans())
def test_every_letter_doubled_is_read_as_written_once(words, shout):
    doubled = [_doubled(word.upper() if shout else word) for word in words]
    assert _read(doubled) == _read(words)


#: Each Latin letter and the characters of other scripts (and the boxed and bracketed
#: forms) read as it everywhere.
LOOKALIKES = {
    letter: [
        char
        for char, read in _text._ONE_TO_ONE.items()
        if read == letter and not chr(char).isascii()
    ]
    for letter in "abcdefghijklmnopqrstuvwxyz"
}


def test_every_known_word_is_read_as_written():
    """The look-alike properties below draw from these words: one the normaliser
    changes ("sooo", read drawn out) could never be read as itself."""
    assert [word for word in KNOWN if normalise(word).text != word] == []


@settings(max_examples=examples(300))
@given(st.sampled_from(KNOWN), st.data())
def test_letters_drawn_like_latin_ones_are_read_as_them(word, data):
    written = "".join(
        chr(data.draw(st.sampled_from(LOOKALIKES[letter])))
        if LOOKALIKES[letter] and data.draw(st.booleans())
        else letter
        for letter in word
    )
    assert normalise(written).text == word


#: Combining marks that make a precomposed letter with some Latin letters.
MARKS = "\u0300\u0301\u0302\u0303\u0308\u030a\u0307\u0323\u0327\u0331"


@settings(max_examples=examples(300))
@given(st.sampled_from(KNOWN), st.data())
def test_marks_on_a_words_letters_are_read_off_unless_the_word_is_known_so(word, data):
    marked = unicodedata.normalize(
        "NFC",
        "".join(letter + data.draw(st.sampled_from(["", "", *MARKS])) for letter in word),
    )
    assume(marked not in _text._lexicon().known)
    assert normalise(marked).text == word


@settings(max_examples=examples(300))
@given(st.sampled_from([w for w in KNOWN if set(w) & set(_text._MIXED_LOOKALIKES)]), st.data())
def test_cyrillic_and_greek_in_a_mostly_latin_word_are_read_as_latin(word, data):
    replaceable = [i for i, letter in enumerate(word) if letter in _text._MIXED_LOOKALIKES]
    chosen = data.draw(st.lists(st.sampled_from(replaceable), unique=True, max_size=len(word) // 2))
    written = "".join(
        data.draw(st.sampled_from(_text._MIXED_LOOKALIKES[letter])) if i in chosen else letter
        for i, letter in enumerate(word)
    )
    assert normalise(written).text == word


#: The Cyrillic and Greek letters read as Latin ones only beside a Latin letter.
MIXED = set("".join(_text._MIXED_LOOKALIKES.values()))


@pytest.mark.parametrize(
    "text",
    ["Спасибо, до завтра", "телефон и письмо", "Ευχαριστώ, θα στείλω email αύριο"],
    ids=["Russian", "Russian words", "Greek beside an English word"],
)
def test_a_word_of_another_script_keeps_the_letters_read_as_latin_only_beside_latin(text):
    assert set(normalise(text).text) & MIXED == set(text.lower()) & MIXED


# --- the words the normaliser knows ---------------------------------------------------


def test_the_words_file_holds_lower_case_words_each_once():
    lines = _text.WORDS_FILE.read_text(encoding="utf-8").splitlines()
    words = [line for line in lines if not line.startswith("#")]
    assert len(words) == len(set(words))
    assert all(re.fullmatch(r"[^\W\d_]+", word) and word == word.lower() for word in words)


def test_every_accented_word_of_the_policy_keeps_its_accents():
    """A word of the policy's patterns written with accents ("rosé", "jäger") would
    not match a text whose accents the normaliser took off."""
    patterns = "\n".join(
        path.read_text(encoding="utf-8")
        for path in sorted((ROOT / "rules" / "moderation").glob("*.yaml"))
        if not path.name.endswith(".cases.yaml")
    )
    words = re.findall(r"[^\W\d_]+", re.sub(r"\[[^\]]*\]", "", patterns.lower()))
    accented = {word for word in words if word != word.translate(_text._UNMARKED)}
    assert accented
    assert all(normalise(word).text == word for word in accented), accented


# --- every look at a text costs its length, not its square ----------------------------
#
# The readings below once walked back to the start of the word, or tried a run of line
# breaks, from every place in it: 20,000 characters of one letter took 25 s, time a
# client could spend many times over within its text budget. They now remember where
# the last walk began; here, each against the plain walk it replaced, on text drawn
# from the characters it looks at.


def _doubled_walking_back(text: str) -> list[tuple[int, int]]:
    found = []
    for end in _text._repeats(text).get(_text._PAIRS, ()):
        start = end - 3
        while start and "a" <= text[start - 1] <= "z":
            start -= 1
        if found and start < found[-1][1]:
            continue
        if word := _text._DOUBLED.match(text, start):
            found.append(word.span())
    return found


def _camel_walking_back(text: str) -> list[tuple[int, int]]:
    found = []
    for hint in _text._CAMEL_HINT.finditer(text):
        if found and hint.start() < found[-1][1]:
            continue
        start = hint.start()
        while start and text[start - 1].isascii() and text[start - 1].isalpha():
            start -= 1
        if word := _text._CAMEL.match(text, start):
            found.append(word.span())
    return found


_WORDISH = st.text(st.sampled_from("aabbcxAABZ' -.\n0é"), max_size=60)


@settings(max_examples=examples(1000))
@given(_WORDISH)
def test_doubled_letters_are_found_where_walking_back_finds_them(text):
    pairs = _text._repeats(text).get(_text._PAIRS, ())
    assert [m.span() for m in _text._doubled(text, pairs)] == _doubled_walking_back(text)


@settings(max_examples=examples(1000))
@given(_WORDISH)
def test_words_in_camel_case_are_found_where_walking_back_finds_them(text):
    assert [m.span() for m in _text._camel_words(text)] == _camel_walking_back(text)


#: A sentence's opening as the language check read it before: tried from each line
#: break of a run of them.
_OPENING_FROM_EACH_BREAK = re.compile(r"(^|[.!?\n][\"')\]]*\s+)([A-Z])(?=[a-z'])")


@settings(max_examples=examples(1000))
@given(st.text(st.sampled_from(".!?\n\r \t\u00a0\"')]AZab'x"), max_size=40))
def test_sentence_openings_are_found_where_trying_each_line_break_finds_them(text):
    assert _OPENING.sub(_lower_opening, text) == _OPENING_FROM_EACH_BREAK.sub(_lower_opening, text)


@pytest.mark.parametrize(
    ("reading", "letter", "run"),
    [
        ("_doubled", "_is_lower", "x"),
        ("_doubled", "_is_lower", "aabb"),
        ("_camel_words", "_is_ascii_letter", "aA"),
        ("_camel_words", "_is_ascii_letter", "HaveThreePints"),
    ],
)
def test_a_word_twice_as_long_costs_twice_the_looks(monkeypatch, reading, letter, run):
    """Counted, not timed: how many characters the walks back look at, for one long
    word and for one twice as long."""
    looks = []
    counted = getattr(_text, letter)
    monkeypatch.setattr(_text, letter, lambda char: looks.append(char) or counted(char))

    def cost(size: int) -> int:
        looks.clear()
        text = run * (size // len(run))
        if reading == "_doubled":
            _text._doubled(text, _text._repeats(text).get(_text._PAIRS, ()))
        else:
            _text._camel_words(text)
        return len(looks)

    assert cost(8_000) <= 2 * cost(4_000) + 8
