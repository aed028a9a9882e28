"""The moderation layer: policy case tables, contract, offsets, gate, errors."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.moderation import (
    CATEGORIES,
    Moderator,
    PolicyError,
    Verdict,
    content_gate,
)
from advisor.moderation._policy import load_policy
from advisor.moderation._syntax import alternatives, guarded
from advisor.moderation._text import (
    EMOJI_WORDS,
    MOST_EMOJI_GROWTH,
    MOST_EMOJI_WORDS,
    MOST_FOLDED,
    normalise,
)

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "rules" / "moderation"
CONTENT = ROOT / "content"


def _yaml(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


REJECTED = _yaml(CONTENT / "rejected.yaml")["rejected"]
CASE_FILES = {c: POLICY / f"{c}.cases.yaml" for c in CATEGORIES}
CASES = [
    pytest.param(category, case, id=f"{category}: {case['name']}")
    for category, path in CASE_FILES.items()
    for case in _yaml(path)["cases"]
]


def _summary(verdict: Verdict) -> str:
    return "; ".join(f"{s.text!r} -> {', '.join(s.harms) or 'ok'}" for s in verdict.sentences)


# --- the case tables beside each policy file ---------------------------------


@pytest.mark.parametrize(("category", "case"), CASES)
def test_policy_case(moderator, category, case):
    verdict = moderator.moderate(case["text"])
    assert verdict.flagged is case["flagged"], _summary(verdict)
    if "categories" in case:
        assert list(verdict.categories) == case["categories"], _summary(verdict)


@pytest.mark.parametrize("category", CATEGORIES)
def test_case_table_has_contrast_pairs(category):
    cases = _yaml(CASE_FILES[category])
    assert cases["category"] == category
    pairs: dict[str, list[dict]] = {}
    for case in cases["cases"]:
        assert {"name", "text", "flagged"} <= case.keys(), case
        if "pair" in case:
            pairs.setdefault(case["pair"], []).append(case)
    assert pairs, f"{category}: no contrast pairs"
    for name, members in pairs.items():
        assert sorted(c["flagged"] for c in members) == [False, True], f"pair {name!r}"


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_harm_has_a_case(moderator, category):
    """Coverage: each harm of a category fires for at least one of its cases."""
    fired = {
        harm
        for case in _yaml(CASE_FILES[category])["cases"]
        for sentence in moderator.moderate(case["text"]).sentences
        for harm in sentence.harms
    }
    harms = {f"{category}/{h.id}" for h in moderator.policy.categories[category].harms}
    assert not harms - fired, f"harms no case exercises: {sorted(harms - fired)}"


# --- the public contract ---------------------------------------------------------


def test_two_sentences_second_flagged(moderator):
    verdict = moderator.moderate(
        "Send a short thank-you email. Then have three pints and drive home."
    )
    first, second = verdict.sentences
    assert (first.text, first.flagged) == ("Send a short thank-you email.", False)
    assert second.text == "Then have three pints and drive home."
    assert second.flagged
    assert second.categories == ("impaired_driving",)
    assert second.matched == "drive-under-influence"
    assert second.instead == ("take-time-out",)
    assert "impaired driving" in second.reason
    assert verdict.flagged
    assert verdict.categories == ("impaired_driving",)
    assert {e.feature for e in second.evidence} >= {"intoxicant", "drive"}


#: Plans whose harm both a harm of the word classes and the model's reading of the same
#: category find: the model's says nothing the named harm's reason does not.
NAMED_AND_LEARNED = [
    "Pay your referees.",
    "Ring them every morning",
    "Have five pints then drive home.",
    "Tell them you have another offer even though you don't.",
]


@pytest.mark.parametrize("text", NAMED_AND_LEARNED)
def test_a_reason_is_given_once_when_the_model_agrees_with_a_named_harm(moderator, text):
    (sentence,) = moderator.moderate(text).sentences
    assert sentence.flagged
    fired = [h.split("/") for h in sentence.harms]
    named = {category for category, harm in fired if harm != "learned"}
    assert any(harm == "learned" and c in named for c, harm in fired)  # both read it
    reasons = {
        (category.id, harm.id): harm.reason
        for category in moderator.policy.categories.values()
        for harm in category.harms
    }
    first = {}
    for c, harm in fired:
        if harm != "learned":
            first.setdefault(c, reasons[(c, harm)])
    assert sentence.reason == "; ".join(first.values())


#: Plans in which two harms of one category tell of the same act.
TWO_HARMS_ONE_CATEGORY = [
    "Wait outside the office to catch the interviewer",
    "Wait in the car park all day and catch the manager as she leaves.",
]


@pytest.mark.parametrize("text", TWO_HARMS_ONE_CATEGORY)
def test_a_category_gives_one_reason_however_many_of_its_harms_fire(moderator, text):
    (sentence,) = moderator.moderate(text).sentences
    named = [h for h in sentence.harms if not h.endswith("/learned")]
    assert len(named) > len({h.split("/")[0] for h in named})  # two harms of one category
    reasons = {
        f"{category.id}/{harm.id}": harm.reason
        for category in moderator.policy.categories.values()
        for harm in category.harms
    }
    assert sentence.reason == reasons[named[0]]
    assert sentence.reason.count("harassment") == 1


@pytest.mark.parametrize(
    "text", ["Never drive after drinking.", "a glass of wine at home to celebrate"]
)
def test_not_flagged(moderator, text):
    verdict = moderator.moderate(text)
    assert not verdict.flagged, _summary(verdict)
    assert all(s.reason is None and s.instead == () for s in verdict.sentences)


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t ", "\u200b\u200b", "...!?"])
def test_nothing_to_judge(moderator, text):
    assert moderator.moderate(text) == Verdict(flagged=False, categories=(), sentences=())


def test_categories_in_contract_order(moderator):
    verdict = moderator.moderate(
        "Slip the recruiter fifty quid. Then drink a whole bottle of vodka and drive home."
    )
    assert verdict.categories == ("impaired_driving", "substance_misuse", "bribery")
    # The contract's eight categories, in its order.
    assert CATEGORIES == tuple(
        "impaired_driving substance_misuse illegal_drugs harassment "
        "violence bribery dishonesty self_punishment".split()
    )


def test_digest_is_sha256_hex(moderator, engine):
    assert len(moderator.digest) == 64
    assert int(moderator.digest, 16) >= 0
    # The engine loaded the same files apart: loading is deterministic.
    assert engine.moderator.digest == moderator.digest


# --- offsets into the original text ------------------------------------------------


def _check_offsets(text: str, verdict: Verdict) -> None:
    end = 0
    for sentence in verdict.sentences:
        assert end <= sentence.start < sentence.end <= len(text)
        assert sentence.text == text[sentence.start : sentence.end]
        assert sentence.text == sentence.text.strip()
        for evidence in sentence.evidence:
            assert 0 <= evidence.start < evidence.end <= len(text)
            assert evidence.text == text[evidence.start : evidence.end]
        end = sentence.end


@pytest.mark.parametrize(
    ("text", "sentences", "flagged_text"),
    [
        ("Don\u2019t stop. Have four pints and then drive home.", 2, "drive"),
        ("Have four p\u200bints and then dri\u200bve home!", 1, "dri\u200bve"),
        ("Have four pints and then \ufb01nally drive home.", 1, "drive"),
        ("\uff28ave four \uff50ints and then \uff44rive home.", 1, "\uff44rive"),
        ("  \u2022 Have four pints,\u00a0then drive home  \n\u2022 Thank them.", 2, "drive"),
        ("d r i v e  home after the pub, ur  fine after 3 pints", 1, "d r i v e"),
        ("\u201cGet hammered, then drive home,\u201d he said. Good plan.", 2, "drive"),
        ("Gonnae huv four pints and then drive hame efter.", 1, "drive"),
    ],
)
def test_offsets_survive_normalisation(moderator, text, sentences, flagged_text):
    verdict = moderator.moderate(text)
    _check_offsets(text, verdict)
    assert len(verdict.sentences) == sentences
    flagged = [s for s in verdict.sentences if s.flagged]
    assert flagged
    assert "impaired_driving" in flagged[0].categories
    assert any(e.text == flagged_text for e in flagged[0].evidence), flagged[0].evidence


_EMOJI = sorted(EMOJI_WORDS) + ["\ufe0f", "\U0001f4a8", "\U0001f602"]
_PIECES = st.one_of(
    st.text(max_size=6),
    st.sampled_from(list(" .!?\n\u2019\u201c\u200b\u200d\u00ad\ufb01\uff21\u0130-'*0134")),
    st.sampled_from(["drink ", "drive ", "never ", "pints ", "recruiter ", "pay ", "d r i v e "]),
    # What the normaliser reads again: camel case, doubled letters, look-alikes of
    # other scripts, accents, letters spelt out far apart or with words run together.
    st.sampled_from(
        ["HaveThreePints", "ddrriivvee ", "\u13aa\u13ac", "dr\u00edv\u00e9 ", "\u0442h"]
    ),
    st.sampled_from(["d    r    i", "h a v e t h r e e ", "d\u2b50r\u2b50i", "Mc", "Do"]),
    st.sampled_from(_EMOJI),
    # Dialect spellings read as another word, longer or shorter than they are.
    st.sampled_from(["hame ", "wi ", "gonnae ", "Dinnae", "owt", "dem'", " tae."]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=60).map("".join))
def test_any_text_gives_valid_offsets(moderator, text):
    verdict = moderator.moderate(text)
    _check_offsets(text, verdict)
    assert verdict.flagged == any(s.flagged for s in verdict.sentences)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet=st.characters(codec="utf-8"), max_size=8), st.sampled_from(_EMOJI)
        ),
        max_size=40,
    ).map("".join)
)
def test_no_text_grows_more_than_fourfold_when_folded(text):
    folded = normalise(text)
    # Every character folds to at most MOST_FOLDED; the emoji read as words add a
    # bounded amount on top, however many a text holds.
    assert len(folded.text) <= MOST_FOLDED * len(text) + MOST_EMOJI_GROWTH
    assert all(0 <= folded.start(i) < len(text) for i in range(len(folded.text)))


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        (
            "\U0001f37a\U0001f37a \u27a1\ufe0f \U0001f697\U0001f4a8",
            " beer beer then car \U0001f4a8",
        ),  # spaces kept at the ends
        ("Done \U0001f942 and a \U0001f695 home", "done champagne and a taxi home"),
        ("\U0001f48a\U0001f48a + \U0001f377", " pill pill + wine "),
        ("no emoji here", "no emoji here"),
        ("\U0001f600 \u2764\ufe0f", "\U0001f600 \u2764"),  # not read as words: kept
    ],
    ids=["drinks then car", "a taxi home", "pills and wine", "plain", "other emoji"],
)
def test_emoji_that_stand_for_a_word_are_read_as_it(text, folded):
    norm = normalise(text)
    assert norm.text == folded
    # Each word read from an emoji maps back to the emoji itself.
    for index, char in enumerate(norm.text):
        if char.isalpha() and not text[norm.start(index)].isascii():
            assert text[norm.start(index)] in EMOJI_WORDS


def test_a_text_of_emoji_grows_by_a_bounded_amount():
    text = "\U0001f37b" * 5000
    norm = normalise(text)
    assert norm.text.count("beers") == MOST_EMOJI_WORDS
    assert len(norm.text) <= len(text) + MOST_EMOJI_GROWTH


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("\ufb01nish", "finish"),  # a ligature of letters is spelt out
        ("\u338f", "kg"),
        ("\ufdfa" * 3, "\ufdfa" * 3),  # a ligature of whole words is kept as it is
        ("\ufdfd", "\ufdfd"),
    ],
    ids=["fi ligature", "kg", "honorific", "basmala"],
)
def test_ligatures_of_letters_are_spelt_out_and_of_words_kept(text, folded):
    assert normalise(text).text == folded


_PLAIN = "Have three pints, then drive home."
_LETTERS = "".join(c for c in _PLAIN if c.isalpha())


def _spelt(text: str, separator: str) -> str:
    """`text` with `separator` between the letters of each word."""
    return " ".join(separator.join(word) for word in text.split(" "))


@pytest.mark.parametrize(
    "text",
    [
        _PLAIN.translate(str.maketrans("eaop", "\u0435\u0430\u043e\u0440")),  # Cyrillic
        _PLAIN.translate(str.maketrans("io", "\u0456\u03bf")),  # Cyrillic and Greek
        "".join(c + "\u0336" for c in _PLAIN),  # struck through
        "".join(c + "\u0301\u0316" for c in _PLAIN),  # stacked marks
        _PLAIN.upper().translate(str.maketrans("AEHOPT", "\u0391\u0395\u0397\u039f\u03a1\u03a4")),
        _PLAIN.replace(" ", "\u200b"),  # zero-width spaces for the spaces
        _PLAIN.replace(" ", "\u2800"),  # Braille blanks
        _PLAIN.replace(" ", "\u3164"),  # Hangul fillers
        _PLAIN.replace("drive", "dri\u200bve"),  # a zero-width space inside a word
        _spelt(_PLAIN, "\u200b"),  # zero-width spaces between letters, spaces between words
        _spelt(_PLAIN, "\u00ad"),  # soft hyphens between letters
        _PLAIN.replace("drive", "dri\u00adve"),  # a soft hyphen where the word may break
        _spelt(_PLAIN, "."),
        _spelt(_PLAIN, "-"),
        _spelt(_PLAIN, "/"),
        _spelt(_PLAIN, ","),
        _spelt(_PLAIN, "\u00b7"),  # middle dots
        _spelt(_PLAIN, "\u2022"),  # bullets
        "Have thr33 p1nt$, then dr1v3 h0m3.",  # leet at the ends of words
        "Have 7hr33 pints, 7h3n drive home.",  # and at their starts
        _PLAIN.translate(str.maketrans("adeinrv", "\u1d00\u1d05\u1d07\u026a\u0274\u0280\u1d20")),
        _PLAIN.translate(str.maketrans("aohnu", "\u0251\u0585\u0570\u0578\u057d")),
        _spelt(
            _PLAIN.lower().translate({c: 0x1F1E6 + c - ord("a") for c in range(97, 123)}), "\u200b"
        ),
        " ".join(_PLAIN.replace(" ", "")),  # one space between every letter, and between words
        ".".join(_LETTERS),
        "\n".join(_LETTERS),  # a letter a line
        "".join(c * 2 if c.isalpha() else c for c in _PLAIN),  # every letter doubled
        _spelt(_PLAIN, ", "),
        _spelt(_PLAIN, "|"),
        _spelt(_PLAIN, "\u2b50"),  # an emoji between letters
        _PLAIN.upper().translate(
            str.maketrans(
                "AEHPTDRVMSO", "\u13aa\u13ac\u13bb\u13e2\u13a2\u13a0\u13d2\u13d9\u13b7\u13da\u13be"
            )
        ),
        _PLAIN.upper().translate(
            str.maketrans(
                "HAVERPNSDM", "\u157c\u15e9\u142f\u15f4\u1587\u146d\u144e\u1515\u15ea\u15f0"
            )
        ),
        _PLAIN.upper().translate(
            str.maketrans(
                "HAVETRPINSDOM",
                "\ua4e7\ua4ee\ua4e6\ua4f0\ua4d4\ua4e3\ua4d1\ua4f2\ua4e0\ua4e2\ua4d3\ua4f3\ua4df",
            )
        ),
        "".join(chr(0x1F170 + ord(c) - 97) if c.isalpha() else c for c in _PLAIN.lower()),
        "".join(chr(0x249C + ord(c) - 97) if c.isalpha() else c for c in _PLAIN.lower()),
        "Hav\u0435 \u0442h\u0433\u0435\u0435 pi\u043f\u0442s, \u0442h\u0435\u043f d\u0433iv\u0435 ho\u043ce.",
        unicodedata.normalize("NFC", "".join(c + "\u0308" if c.isalpha() else c for c in _PLAIN)),
        "H\u00e1v\u00e9 thr\u00e9\u00e9 p\u00ed\u00f1ts, th\u00e9n dr\u00edv\u00e9 h\u00f3m\u00e9.",
        _PLAIN.replace("i", "\u0131"),  # dotless i
        "".join(chr(0x1D41A + ord(c) - 97) if "a" <= c <= "z" else c for c in _PLAIN.lower()),
        "\ufe0f".join(_PLAIN),  # a variation selector after every character
        "\u00ad".join(_PLAIN),  # a soft hyphen after every character
        _spelt(_PLAIN, "    ").replace(" ", "  "),  # letters 8 spaces apart, words 2
        "\u200b".join(_LETTERS),  # zero-width spaces between letters, words run together
        _PLAIN.replace(" ", "\u200d"),  # zero-width joiners for the spaces
        _PLAIN.replace(" ", "\u2060"),  # word joiners for the spaces
        "HaveThreePintsThenDriveHome",  # camel case
    ],
    ids=[
        "cyrillic",
        "cyrillic and greek",
        "struck through",
        "stacked marks",
        "greek capitals",
        "zero-width spaces",
        "braille blanks",
        "hangul fillers",
        "zero-width space in a word",
        "zero-width spaces between letters",
        "soft hyphens between letters",
        "soft hyphen in a word",
        "dotted words",
        "hyphenated letters",
        "slashed letters",
        "commas between letters",
        "middle dots",
        "bullets",
        "leet at word ends",
        "leet at word starts",
        "small capitals",
        "latin alpha and armenian",
        "regional indicators",
        "spaced-out sentence",
        "dotted sentence",
        "a letter a line",
        "doubled letters",
        "commas and spaces between letters",
        "bars between letters",
        "emoji between letters",
        "cherokee",
        "canadian syllabics",
        "lisu",
        "black squared letters",
        "parenthesised letters",
        "cyrillic and latin in one word",
        "marks on every letter",
        "accented letters",
        "dotless i",
        "mathematical bold",
        "variation selectors",
        "soft hyphens",
        "far-apart letters",
        "zero-width spaces between letters, none between words",
        "zero-width joiners",
        "word joiners",
        "camel case",
    ],
)
def test_look_alike_letters_and_combining_marks_do_not_hide_a_harm(moderator, text):
    verdict = moderator.moderate(text)
    assert verdict.categories == ("impaired_driving",)
    _check_offsets(text, verdict)


@pytest.mark.parametrize(
    "text",
    [
        "Спасибо за интервью, я отправлю письмо завтра утром.",
        "Ευχαριστώ για τη συνέντευξη, θα στείλω email αύριο.",
        "Envoyez un mot de remerciement à l’équipe ce soir.",
        "साक्षात्कार के लिए धन्यवाद, मैं कल ईमेल भेजूंगा।",
    ],
    ids=["russian", "greek", "french", "hindi"],
)
def test_text_in_other_scripts_is_not_flagged_for_its_letters(moderator, text):
    assert not moderator.moderate(text).flagged


@pytest.mark.parametrize(
    "text",
    [
        "e\u0301" * 5,
        "Hello e\u0301e\u0301. Drive\u0336 home after three pints\u0301.",
        "coooooool",
        "x\u200b" * 5,
        "D r i v e home. F i n e.",
        "".join(c + "\u0336" for c in _PLAIN),
    ],
    ids=["repeated accented letter", "marks at ends", "repeats", "zero-width", "spaced", "struck"],
)
def test_sentences_cover_every_character_folded_away(moderator, text):
    # Marks, format characters and repeats dropped in reading belong to the
    # sentence of the letter before them: only white space lies between sentences.
    verdict = moderator.moderate(text)
    _check_offsets(text, verdict)
    covered = [False] * len(text)
    for sentence in verdict.sentences:
        covered[sentence.start : sentence.end] = [True] * (sentence.end - sentence.start)
    outside = "".join(c for c, inside in zip(text, covered, strict=True) if not inside)
    assert not outside.strip(" \u200b"), outside


def test_a_text_of_word_ligatures_is_screened_like_any_other(moderator):
    text = "\ufdfa" * 20_000
    verdict = moderator.moderate(text)
    assert not verdict.flagged
    _check_offsets(text, verdict)


def test_long_adversarial_text(moderator):
    text = ("a " * 5000 + "drink " * 1000 + "d r i v e " * 500 + "." * 2000)[:20000]
    _check_offsets(text, moderator.moderate(text))


# --- the first pass loses nothing ---------------------------------------------------

DEVSET_TEXTS = [c["text"] for c in _yaml(ROOT / "tests" / "moderation" / "devset.yaml")["cases"]]
VOCABULARY = sorted({w for text in DEVSET_TEXTS for w in text.split()})


@pytest.fixture(scope="module")
def exhaustive(moderator) -> Moderator:
    return Moderator(moderator.policy, REJECTED, first_pass=False)


def _same_harms(fast: Moderator, slow: Moderator, text: str) -> None:
    expected = [s.harms for s in slow.moderate(text).sentences]
    assert [s.harms for s in fast.moderate(text).sentences] == expected, text


def test_first_pass_loses_nothing(moderator, exhaustive):
    texts = [case.values[1]["text"] for case in CASES] + DEVSET_TEXTS
    texts += [path.read_text(encoding="utf-8") for path in (CONTENT / "articles").glob("*.txt")]
    for text in texts:
        _same_harms(moderator, exhaustive, text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(VOCABULARY), min_size=2, max_size=16).map(" ".join))
def test_first_pass_loses_nothing_on_shuffled_words(moderator, exhaustive, text):
    _same_harms(moderator, exhaustive, text)


def test_no_harm_is_searched_for_everywhere(moderator):
    """Every harm needs some keyword, or the first pass would check it in every sentence."""
    assert moderator.policy.prefilter.harms(()) == ()


def test_no_class_match_starts_between_words(moderator):
    """A class's matches start at a word or a sign, never at a space: its regex
    rules out a position by its first character (`WordClass.first`), and a
    pattern that may open with a space (", so don't") would have every
    alternative tried after every word, doubling the class's cost."""
    opening_space = sorted(
        name
        for name, word_class in moderator.policy.classes.items()
        if word_class.first is not None and any(c.isspace() for c in word_class.first)
    )
    assert opening_space == []


# --- the content gate ---------------------------------------------------------------


@pytest.fixture(scope="module")
def content():
    guidance = [
        {"id": a["id"], "title": a["title"], "detail": a["detail"]}
        for a in _yaml(CONTENT / "guidance.yaml")["actions"]
    ]
    sources = {s["id"]: s for s in _yaml(CONTENT / "sources.yaml")["sources"]}
    articles = {
        sid: (CONTENT / "articles" / s["file"]).read_text(encoding="utf-8")
        for sid, s in sources.items()
    }
    tips = [
        source["quote"]
        for action in _yaml(CONTENT / "guidance.yaml")["actions"]
        for source in action["sources"]
        if sources[source["source"]]["nature"] == "satirical"
    ]
    return guidance, articles, tips


def test_gate_passes_real_content(moderator, content):
    guidance, articles, tips = content
    assert len(tips) >= 2
    assert content_gate(moderator, guidance, REJECTED, articles, tips) == []


def test_gate_names_doctored_guidance(moderator, content):
    guidance, articles, tips = content
    doctored = [dict(g) for g in guidance]
    doctored[3]["detail"] = "Celebrate with a few pints at the pub, then drive yourself home."
    problems = content_gate(moderator, doctored, REJECTED, articles, tips)
    assert len(problems) == 1
    assert repr(doctored[3]["id"]) in problems[0]
    assert "impaired_driving" in problems[0]


def test_gate_names_unflagged_rejected_advice(moderator, content):
    guidance, articles, tips = content
    rejected = [dict(r) for r in REJECTED]
    rejected[0]["advice"] = "Take half an hour to unwind with a cup of tea."
    problems = content_gate(moderator, guidance, rejected, articles, tips)
    assert problems == [
        f"rejected advice {rejected[0]['id']!r} is not flagged as {rejected[0]['category']}"
        " (got nothing)"
    ]


def test_gate_checks_quotes_and_sound_tips(moderator, content):
    guidance, articles, _ = content
    rejected = [dict(r) for r in REJECTED]
    rejected[1]["sources"] = [{"source": "accolade", "quote": "Follow up after every interview."}]
    bad_tip = "Use physical force if necessary to push the sale through."
    problems = content_gate(moderator, guidance, rejected, articles, [bad_tip])
    assert any(rejected[1]["id"] in p and "quote 0" in p for p in problems), problems
    assert any("sound tip" in p and "violence" in p for p in problems), problems


# --- broken policy files ----------------------------------------------------------------


@pytest.fixture
def policy_copy(tmp_path) -> Path:
    target = tmp_path / "moderation"
    shutil.copytree(POLICY, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "field"),
    [
        ("violence.yaml", "all: [assault]", "all: [asault]", "harms.0.all.0"),
        ("bribery.yaml", "title: Bribery\n", "", "title"),
        ("harassment.yaml", "matched: ambush-interviewer", "matched: nobody", "harms.1.matched"),
        ("dishonesty.yaml", "matched: inflate-competing-offer", "matched: pay-referees", "matched"),
        ("self_punishment.yaml", "kind: harm", "kind: harmful", "classes.punish.kind"),
        ("illegal_drugs.yaml", "'weed(", "'weed((", "classes.drug_name.patterns.0"),
        ("shared.yaml", "['{someone_in_role}|", "['{someone_in_rol}|", "classes.person.patterns.0"),
        ("violence.yaml", "defused_by: [condemnation,", "defused_by: [assault,", "defused_by.0"),
        ("substance_misuse.yaml", "  binge:\n", "  drink:\n", "drink"),
        ("impaired_driving.yaml", 'version: "1.0.0"', "version: one", "version"),
        # A word in both of the language check's lists; a YAML boolean for a word.
        ("shared.yaml", "    ng, mga,", "    the, ng, mga,", "language.other"),
        ("shared.yaml", "    ng, mga,", "    ng, ng, mga,", "language.other"),
        ("shared.yaml", '"on", at,', "on, at,", "language.english.11"),
        ("shared.yaml", "  min_other: 3\n", "  min_other: 0\n", "language.min_other"),
        ("shared.yaml", "  min_words: 3\n", "  min_words: 0\n", "model.min_words"),
    ],
)
def test_broken_policy_names_file_and_field(policy_copy, file, old, new, field):
    _edit(policy_copy / file, old, new)
    with pytest.raises(PolicyError) as error:
        Moderator.load(policy_copy, REJECTED)
    assert file in str(error.value)
    assert field in str(error.value)


@pytest.mark.parametrize(
    "text",
    ["Drive.", "Drive home.", "Wine.", "Cash.", "Pills.", "Never.", "Bribe them.", "Stalk her."],
)
def test_a_text_of_one_or_two_words_is_left_to_the_word_classes(moderator, policy_copy, text):
    """The model does not read a text shorter than `model.min_words`: no
    verdict of it, no evidence of its words. With the limit at one word the
    model reads "Drive." again, and flags it."""
    verdict = moderator.moderate(text)
    assert not any(e.feature.startswith("model:") for s in verdict.sentences for e in s.evidence)
    assert all("learned" not in h for s in verdict.sentences for h in s.harms)
    if text == "Drive.":
        _edit(policy_copy / "shared.yaml", "  min_words: 3\n", "  min_words: 1\n")
        assert Moderator.load(policy_copy, REJECTED).moderate(text).flagged
        assert not verdict.flagged


def test_missing_and_stray_policy_files(policy_copy):
    (policy_copy / "bribery.yaml").unlink()
    with pytest.raises(PolicyError, match=r"bribery\.yaml: missing policy file"):
        load_policy(policy_copy)
    shutil.copy(POLICY / "bribery.yaml", policy_copy / "bribery.yaml")
    (policy_copy / "extra.yaml").write_text("title: x\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"extra\.yaml: not a policy file"):
        load_policy(policy_copy)


def test_policy_error_is_a_value_error():
    assert issubclass(PolicyError, ValueError)


# --- no web framework in the engine ---------------------------------------------------------


def test_importing_moderation_does_not_import_flask():
    code = "import sys, advisor.moderation; sys.exit('flask' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def _negate_by_pairs(policy, text, matches):
    """The definition of `negate`, comparing every pair (quadratic): the reference."""
    from advisor.moderation._features import _words, find_matches

    end = len(text)
    cues = find_matches(policy, text, 0, end, policy.of_kind("negation"))
    phrases = find_matches(policy, text, 0, end, policy.absorbing)
    cues = [c for c in cues if not any(p.start < c.end and c.start < p.end for p in phrases)]
    stops = [m.start for m in find_matches(policy, text, 0, end, policy.of_kind("boundary"))]
    conditions = find_matches(policy, text, 0, end, policy.of_kind("condition"))
    scopes = []
    for cue in cues:
        window = _words(policy.classes[cue.name].window or policy.negation_window)
        found = window.match(text, cue.end, end)
        stop = min([s for s in stops if s >= cue.end], default=end)
        # Inside a condition clause, no further than the clause's end.
        clause = max([c.end for c in conditions if c.start <= cue.start < c.end], default=end)
        scopes.append((cue.end, min(found.end() if found else cue.end, stop, clause)))
    return [m.start for m in matches if any(b <= m.start < f for b, f in scopes)] + cues


NEGATION_TEXTS = [
    "Never drive after three pints, but do drive home after a coffee.",
    "Don't phone them daily; call once, and never wait outside their office.",
    ("pints then drive don't " * 60) + "so they can't leave, never pay a referee",
    ("three pints and drive home but never " * 40),
    "No. Not. Never; avoid, don't — drive, drink, pay, phone: don't.",
    "If they don't call back go and wait outside their office every day.",
    "If you don't drink you can drive, and since you didn't pass just say you did.",
    ("if the manager won't answer drive home after three pints " * 30),
    ("if they don't reply I'll phone daily but never wait outside " * 30),
]


@pytest.mark.parametrize("text", NEGATION_TEXTS)
def test_negation_scopes_match_their_pairwise_definition(moderator, text):
    from advisor.moderation._features import find_matches, negate

    policy = moderator.policy
    harms = find_matches(policy, text, 0, len(text), policy.of_kind("harm"))
    got = negate(policy, text, 0, len(text), harms)
    expected = _negate_by_pairs(policy, text, harms)
    assert [m.start for m in got if m.negated] + got[len(harms) :] == expected


# --- the first pass's reading of the patterns --------------------------------------------


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=st.data())
def test_first_pass_loses_nothing_on_texts_the_patterns_match(moderator, exhaustive, data):
    """The first pass reads keywords out of the patterns with a parser of its own;
    a text made of matches that `re` draws from the patterns loses nothing by it."""
    harms = [harm for category in moderator.policy.categories.values() for harm in category.harms]
    harm = data.draw(st.sampled_from(harms))
    classes = moderator.policy.classes
    names = [*harm.all, *([data.draw(st.sampled_from(harm.any))] if harm.any else [])]
    parts = [data.draw(st.from_regex(classes[name].source, fullmatch=True)) for name in names]
    _same_harms(moderator, exhaustive, " ".join(parts))


@pytest.mark.parametrize(
    ("new", "why"),
    [
        ("'(w)\\1eed(", "back-references"),
        ("'we(?#note)ed(", "unsupported group syntax"),
        ("'(?i:weed)(", "unsupported group syntax"),
    ],
)
def test_a_pattern_outside_the_syntax_the_first_pass_reads_is_refused(policy_copy, new, why):
    """Valid regular expressions, but the first pass could not read their keywords."""
    _edit(policy_copy / "illegal_drugs.yaml", "'weed(", new)
    with pytest.raises(PolicyError, match=why) as error:
        Moderator.load(policy_copy, REJECTED)
    assert "illegal_drugs.yaml: classes.drug_name.patterns" in str(error.value)


#: Patterns whose alternatives open with look-behinds, and the look-ahead each gets.
GUARDS = [
    (r"(?<!\bnot )(?<!\bnever )drunk", r"(?=[d])(?<!\bnot )(?<!\bnever )drunk"),
    (r"a|(?<!x )b(?:c|d)", r"a|(?=[b])(?<!x )b(?:c|d)"),
    (r"(?:(?<=y )z|q)", r"(?:(?=[z])(?<=y )z|q)"),
    (r"(?<!x )(?:bo|co)t", r"(?=[bc])(?<!x )(?:bo|co)t"),
    (r"(?<!x )(?:(?<!y )b|c)d", r"(?=[bc])(?<!x )(?:(?=[b])(?<!y )b|c)d"),
    # Left as they are: the rest may match nothing, or start with almost anything.
    (r"(?<!x )(?:b|c)?", r"(?<!x )(?:b|c)?"),
    (r"(?<!x )\w+", r"(?<!x )\w+"),
    (r"b(?<!x )c", r"b(?<!x )c"),
]


@pytest.mark.parametrize(("pattern", "expected"), GUARDS)
def test_an_alternative_that_opens_with_look_behinds_is_guarded(pattern, expected):
    assert guarded(pattern)[0] == expected


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([pattern for pattern, _ in GUARDS]),
    st.text(alphabet="abcdqtxyz nroveuk", max_size=40),
)
def test_a_guarded_pattern_matches_what_the_pattern_matches(pattern, text):
    plain, guarded_pattern = re.compile(pattern), re.compile(guarded(pattern)[0])
    assert [m.span() for m in guarded_pattern.finditer(text)] == [
        m.span() for m in plain.finditer(text)
    ]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("a", ["a"]),
        ("a|(?:b|c)|d", ["a", "(?:b|c)", "d"]),
        (r"[|]\||(?<!x |y )z{1,2}|{name}s", [r"[|]\|", "(?<!x |y )z{1,2}", "{name}s"]),
        ("(?:a|b)c|", ["(?:a|b)c", ""]),
    ],
)
def test_a_pattern_is_cut_into_its_top_level_alternatives(pattern, expected):
    assert alternatives(pattern) == expected
    assert "|".join(expected) == pattern


def test_the_policy_guards_its_look_behinds(moderator):
    # "think twice" is a condemnation unless he, she or they are to think twice.
    source = moderator.policy.classes["condemnation"].regex.pattern
    assert r"(?=[t])(?<!\bhe )" in source
