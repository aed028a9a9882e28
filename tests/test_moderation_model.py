"""The learned part of moderation: the shipped model, its one-pass scoring, its
place in the verdict, and the figures on the sealed set (aggregates only)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.moderation import CATEGORIES, Moderator, PolicyError, read_model, write_model
from advisor.moderation._model import (
    ENDORSES,
    MODEL_FILE,
    LinearModel,
    endorsement,
    ngrams,
    score_sentences,
    tokens,
)
from advisor.moderation._moderator import REPLY_EVIDENCE, STANCE_EVIDENCE
from advisor.moderation._text import normalise, split_sentences

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "rules" / "moderation"
REJECTED = yaml.safe_load((ROOT / "content" / "rejected.yaml").read_text(encoding="utf-8"))[
    "rejected"
]
SEALED = ROOT / "tests" / "moderation" / "sealed.jsonl.gz"
#: Floors under the figures recorded in docs/moderation.md for the sealed set: a
#: change that loses ground on text nobody tuned on fails here.
SEALED_MIN_PRECISION = 0.92
SEALED_MIN_RECALL = 0.93

sys.path.insert(0, str(ROOT / "scripts"))
import moderation_score  # noqa: E402


@pytest.fixture(scope="module")
def model(moderator) -> LinearModel:
    return moderator.policy.model


def test_model_covers_every_category(model):
    assert model.categories == CATEGORIES
    assert all(0 < model.thresholds[c] < 1 for c in CATEGORIES)


def test_model_records_its_left_out_writer_estimate(model):
    estimate = model.trained_on["left_out_writer_estimate"]
    assert {"precision", "recall"} <= set(estimate)


def _slow_scores(model, text):
    """Each sentence scored on its own, term by term: the reference for the one-pass path."""
    norm = normalise(text)
    spans = [(a, b) for a, b, _, _ in split_sentences(norm, text)]
    result = []
    for index, (a, b) in enumerate(spans):
        own = model.scores(ngrams([t.text for t in tokens(norm.text, a, b)]))
        start = spans[max(index - 1, 0)][0]
        end = spans[min(index + 1, len(spans) - 1)][1]
        read = model.scores(ngrams([t.text for t in tokens(norm.text, start, end)]))
        result.append((own, read))
    return norm, spans, result


WORDS = st.sampled_from(
    "I'll have six pints then drive home . never call them every hour ! my guy sorts "
    "a gram ? lie about the offer pay the referee punch wall starve myself the "
    "interviewer thank you email follow up once 🍃 £50 ok".split()
)


@settings(max_examples=200, deadline=None)
@given(st.lists(WORDS, max_size=40).map(" ".join))
def test_one_pass_scoring_matches_term_by_term(model, text):
    norm, spans, expected = _slow_scores(model, text)
    scored = score_sentences(model, norm.text, spans)
    assert len(scored) == len(expected)
    for got, (own, read) in zip(scored, expected, strict=True):
        for category in CATEGORIES:
            assert got.own[category] == pytest.approx(own[category], abs=1e-9)
            assert got.read[category] == pytest.approx(read[category], abs=1e-9)


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("Soon as I'm out of the interview I'm texting my guy for a half-ounce.", True),
        ("She blocked my number so I got a new SIM to ring her from tonight.", True),
        ("Send one short email next week if you have not heard back.", False),
        ("I absolutely smashed the technical test, so proud of myself.", False),
    ],
)
def test_paraphrase_without_listed_words(moderator, text, flagged):
    assert moderator.moderate(text).flagged is flagged


def test_harmless_sentence_beside_a_harmful_one_stays_safe(moderator):
    verdict = moderator.moderate(
        "Send a short thank-you email. Then have three pints and drive home."
    )
    assert [s.flagged for s in verdict.sentences] == [False, True]


def test_learned_verdict_shows_its_words_within_the_sentence(moderator):
    text = "Great chat with the panel today. Texting my guy for a half-ounce tonight."
    verdict = moderator.moderate(text)
    flagged = [s for s in verdict.sentences if s.flagged]
    assert flagged
    assert "illegal_drugs/learned" in flagged[0].harms
    learned = [e for e in flagged[0].evidence if e.feature == "model:illegal_drugs"]
    assert learned
    for evidence in learned:
        assert flagged[0].start <= evidence.start < evidence.end <= flagged[0].end
        assert text[evidence.start : evidence.end] == evidence.text


def test_a_defusing_stance_overrides_the_model(moderator):
    verdict = moderator.moderate(
        "After three glasses at the wine bar, leave the motorbike and book a cab."
    )
    assert not verdict.flagged


def _policy_copy(tmp_path) -> Path:
    target = tmp_path / "moderation"
    target.mkdir()
    for path in POLICY.iterdir():
        target.joinpath(path.name).write_bytes(path.read_bytes())
    return target


def test_missing_model_file_is_named(tmp_path):
    policy = _policy_copy(tmp_path)
    (policy / MODEL_FILE).unlink()
    with pytest.raises(PolicyError, match=r"model\.file: 'model\.npz' does not exist"):
        Moderator.load(policy, REJECTED)


def test_the_model_file_reads_back_as_written(tmp_path, model):
    """The archive gives back exactly the numbers written, and the same model
    always makes the same bytes (so a retraining on the same corpus changes
    nothing the policy digest sees)."""
    data = read_model(POLICY / MODEL_FILE)
    for name in ("first.npz", "second.npz"):
        write_model(tmp_path / name, data)
    assert (tmp_path / "first.npz").read_bytes() == (tmp_path / "second.npz").read_bytes()
    again = read_model(tmp_path / "first.npz")
    for part in (again, again["stance"], again["reply"]):
        assert part["idf"].dtype == part["weights"].dtype == np.float64
    copy = LinearModel(again)
    assert copy.vocabulary == model.vocabulary
    assert copy.thresholds == model.thresholds
    words = [t.text for t in tokens("Three pints at the leaving do, then I'll drive the van home.")]
    assert copy.scores(ngrams(words)) == model.scores(ngrams(words))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda path: path.write_bytes(b'{"categories": []}'), "not a model archive"),
        (lambda path: np.savez(path, weights=np.zeros(3)), "no 'meta'"),
        (
            lambda path: write_model(path, {**read_model(POLICY / MODEL_FILE), "idf": [1.0]}),
            "idf does not match the vocabulary",
        ),
    ],
    ids=["not-an-archive", "no-meta", "idf-of-another-size"],
)
def test_a_damaged_model_file_is_named(tmp_path, damage, message):
    policy = _policy_copy(tmp_path)
    damage(policy / MODEL_FILE)
    with pytest.raises(PolicyError, match=rf"{MODEL_FILE}: not a valid model: .*{message}"):
        Moderator.load(policy, REJECTED)


def test_a_term_with_a_line_break_is_refused(tmp_path):
    data = read_model(POLICY / MODEL_FILE)
    data["reply"]["vocabulary"][0] = "two\nlines"
    with pytest.raises(ValueError, match="line break"):
        write_model(tmp_path / MODEL_FILE, data)


def test_model_of_other_categories_is_refused(tmp_path):
    policy = _policy_copy(tmp_path)
    data = read_model(policy / MODEL_FILE)
    data["categories"] = list(reversed(data["categories"]))
    write_model(policy / MODEL_FILE, data)
    with pytest.raises(PolicyError, match="categories must be"):
        Moderator.load(policy, REJECTED)


def test_a_text_of_one_sentence_has_thresholds_of_its_own(tmp_path, model):
    """No stance is read in a text of one sentence, so the model's thresholds
    for it are chosen on such texts alone (`single_thresholds`)."""
    policy = _policy_copy(tmp_path)
    data = read_model(policy / MODEL_FILE)
    data["single_thresholds"] = [0.0] * len(data["categories"])
    write_model(policy / MODEL_FILE, data)
    lowered = Moderator.load(policy, REJECTED)
    assert lowered.moderate("Send a short thank-you email.").flagged
    assert not lowered.moderate("Send a short thank-you email. Then go for a walk.").flagged
    # A model file without them judges every text at `thresholds`.
    del data["single_thresholds"]
    assert LinearModel(data).single_thresholds == model.thresholds


def test_model_is_part_of_the_policy_digest(tmp_path, moderator):
    policy = _policy_copy(tmp_path)
    data = read_model(policy / MODEL_FILE)
    data["intercepts"][0] += 0.001
    write_model(policy / MODEL_FILE, data)
    assert Moderator.load(policy, REJECTED).digest != moderator.digest


def test_sealed_set_holds_its_ground(moderator, capsys):
    """Aggregate figures only: the sealed texts are never printed."""
    cases = moderation_score.read_cases(SEALED)
    score = moderation_score.score(moderator, cases, keep_misses=False)
    figures = f"precision {score.precision:.3f}, recall {score.recall:.3f} over {score.texts}"
    assert score.texts >= 600, figures
    assert score.precision >= SEALED_MIN_PRECISION, figures
    assert score.recall >= SEALED_MIN_RECALL, figures


def test_model_was_trained_on_the_corpus_as_it_is(model):
    """Retrain (scripts/train_moderation_model.py) whenever a labelled set changes."""
    import train_moderation_model

    assert model.trained_on["corpus"] == train_moderation_model.corpus_digest()


# --- stance: endorsing a harm, or reporting, mocking or rejecting it ----------


def _toy_stance(window: int) -> LinearModel:
    """A stance model that knows two words: "never" weighs against endorsing."""
    return LinearModel(
        {
            "categories": [ENDORSES],
            "vocabulary": ["never", "pints"],
            "idf": [1.0, 1.0],
            "weights": [[-6.0], [2.0]],
            "intercepts": [-1.0],
            "thresholds": [0.5],
            "window": window,
        }
    )


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        # Read alone, each sentence with "pints" endorses; "Never." reaches
        # back only as far as the window does.
        (0, [True, True, False]),
        (1, [True, False, False]),
        (2, [False, False, False]),
    ],
)
def test_stance_is_read_over_the_window_around_each_sentence(window, expected):
    text = "Pints first. Then more pints. Never."
    norm = normalise(text)
    spans = [(a, b) for a, b, _, _ in split_sentences(norm, text)]
    scores = endorsement(_toy_stance(window), norm.text, spans, window)
    assert [s >= 0.5 for s in scores] == expected


def test_shipped_model_has_a_stance_model(model):
    assert model.stance is not None
    assert model.stance.categories == (ENDORSES,)
    assert 0 < model.stance.thresholds[ENDORSES] < 1
    assert model.stance.window >= 1


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("My uncle says the trick is three pints and then drive yourself home. He's right.", True),
        (
            "My uncle says the trick is three pints and then drive yourself home."
            " He lost his licence for exactly that, so no thanks.",
            False,
        ),
        ("Best advice I got: tell them you have another offer even though you don't.", True),
        (
            "Someone on the forum said to tell them you have another offer even though you"
            " don't. That is how you get an offer withdrawn; be honest instead.",
            False,
        ),
    ],
)
def test_a_report_is_judged_by_what_the_text_says_of_it(moderator, text, flagged):
    assert moderator.moderate(text).flagged is flagged


def test_a_rejected_report_shows_the_words_that_rejected_it(moderator):
    text = (
        "My uncle says the trick is three pints and then drive yourself home."
        " He lost his licence for exactly that, so no thanks."
    )
    verdict = moderator.moderate(text)
    assert not verdict.flagged
    # The stance model's words, or the refusal that opens or closes the reply.
    stance = [
        e
        for s in verdict.sentences
        for e in s.evidence
        if e.feature in (STANCE_EVIDENCE, "rejoinder")
    ]
    assert stance
    for evidence in stance:
        assert text[evidence.start : evidence.end] == evidence.text


@pytest.mark.parametrize(
    ("advice", "reply", "flagged"),
    [
        ("My cousin says slip the supervisor fifty quid to get put forward.", "No.", False),
        ("My cousin says slip the supervisor fifty quid to get put forward.", "Nah, mate.", False),
        (
            "Everyone at work keeps telling me to smoke a joint before the interview.",
            "No thanks, I don't touch the stuff.",
            False,
        ),
        (
            "Our Lisa told me to get wasted after the interview and drive back from town.",
            "Told her she's off her head, I'm getting an Uber.",
            False,
        ),
        ("My cousin says slip the supervisor fifty quid to get put forward.", "No joke.", True),
        ("My cousin says slip the supervisor fifty quid to get put forward.", "Good shout.", True),
        # Nobody else suggested it: the writer's own plan, then a stray "No.".
        ("Slip the supervisor fifty quid to get put forward.", "No, seriously.", True),
        (
            "My referee offered to write a better reference if I bought his festival ticket.",
            "Lol no.",
            False,
        ),
        (
            "Sister offered to ring the company every day pretending to be my mum to chase it up.",
            "Yeah no.",
            False,
        ),
    ],
)
def test_advice_reported_and_turned_down_next_is_not_flagged(moderator, advice, reply, flagged):
    text = f"{advice} {reply}"
    verdict = moderator.moderate(text)
    assert verdict.flagged is flagged
    # What kept the advice from being flagged is shown: the refusal, or the
    # stance model's words where it had already decided.
    shown = [
        e
        for s in verdict.sentences
        for e in s.evidence
        if e.feature in ("rejoinder", STANCE_EVIDENCE)
    ]
    if flagged:
        assert not [e for e in shown if e.feature == "rejoinder"]
    elif moderator.moderate(f"{advice} Anyway.").flagged:
        # Something was kept from being flagged: the advice, followed by a sentence
        # that neither takes it up nor turns it down, is flagged.
        assert shown
        for evidence in shown:
            assert text[evidence.start : evidence.end] == evidence.text
        assert all(e.start >= len(advice) for e in shown if e.feature == "rejoinder")


@pytest.mark.parametrize(
    ("story", "reply", "flagged"),
    [
        (
            "My uncle got his first job by ringing the boss at home every night for two weeks.",
            "That's exactly my plan.",
            True,
        ),
        (
            "My cousin got the apprenticeship by sending the assessor a case of champagne.",
            "Do as he did.",
            True,
        ),
        (
            "My uncle got his first job by ringing the boss at home every night for two weeks.",
            "That's exactly what not to do.",
            False,
        ),
        # Someone else's advice, taken up two ways: in a sentence of its own, and
        # in a later clause of the same one (the reply is then empty).
        (
            "My uncle says after a bad interview you drink rice wine until you cannot stand.",
            "I will try it tonight.",
            True,
        ),
        (
            "My uncle says after a bad interview you drink rice wine until you cannot stand,"
            " and I will do the same.",
            "",
            True,
        ),
        (
            "My uncle says after a bad interview you drink rice wine until you cannot stand.",
            "He is wrong.",
            False,
        ),
        (
            "My colleague always says tell them you are serving notice elsewhere.",
            "It is a lie but a good one, I recommend it.",
            True,
        ),
        # Told as a story the model reads only faintly on its own, then taken up:
        # the adoption supplies the stance, the model the category.
        (
            "My flatmate got her graduate place by slipping the assessor a designer watch.",
            "Copy her.",
            True,
        ),
        (
            "My sister got through the panel by telling them she had a rival offer"
            " that never existed.",
            "Worth copying.",
            True,
        ),
        ("My old boss got promoted by threatening the director's family.", "Copy him.", True),
        (
            "My flatmate got her graduate place by slipping the assessor a designer watch.",
            "Don't copy her.",
            False,
        ),
        # Taken up by a later clause of the story's own sentence.
        (
            "My flatmate got her graduate place by slipping the assessor a designer watch,"
            " and that's exactly what you should do too.",
            "",
            True,
        ),
        (
            "My old boss got promoted by threatening the director's family, and good on him.",
            "",
            True,
        ),
        (
            "My flatmate got her graduate place by asking the assessor one sharp question,"
            " and that's exactly what you should do too.",
            "",
            False,
        ),
        # Taken up, but nothing harmful was told.
        ("I sent a thank-you email the same evening.", "Smart move.", False),
        ("My cousin wrote down every question they asked while it was fresh.", "Genius.", False),
        # Taken up, but the sentence taken up only points back.
        (
            "Plan: eat breakfast, walk there slowly, drink water, remember I've done this"
            " before. That's it.",
            "That's the plan.",
            False,
        ),
    ],
)
def test_a_story_taken_up_next_is_judged_as_advice(moderator, story, reply, flagged):
    text = f"{story} {reply}".strip()
    verdict = moderator.moderate(text)
    assert verdict.flagged is flagged
    taken = _evidence_of(text, verdict, "adoption")
    assert bool(taken) is flagged
    for evidence in taken:
        assert evidence.start > (len(story) if reply else text.index(","))


def _evidence_of(text: str, verdict, feature: str) -> list:
    """The evidence of `feature` in `verdict`, each span holding the words it names."""
    found = [e for s in verdict.sentences for e in s.evidence if e.feature == feature]
    for evidence in found:
        assert text[evidence.start : evidence.end] == evidence.text
    return found


def test_the_stance_is_evidence_only_where_it_decided(moderator):
    verdict = moderator.moderate(
        "Send a short thank-you email. Then have three pints and drive home."
    )
    assert [s.flagged for s in verdict.sentences] == [False, True]
    assert not [e for s in verdict.sentences for e in s.evidence if e.feature == STANCE_EVIDENCE]


@pytest.mark.parametrize(("part", "category"), [("stance", "rejects"), ("reply", "agrees")])
def test_a_stance_or_reply_model_of_another_category_is_refused(tmp_path, part, category):
    policy = _policy_copy(tmp_path)
    data = read_model(policy / MODEL_FILE)
    data[part]["categories"] = [category]
    write_model(policy / MODEL_FILE, data)
    with pytest.raises(PolicyError, match=f"{part} model"):
        Moderator.load(policy, REJECTED)


#: Someone else's advice, and what the writer did with it, in words none of the
#: policy's adoption, agreement or rejoinder classes know.
REPLIES = [
    (
        "Someone in the group chat said to have a few beers after the interview and drive home.",
        "Did that on Friday.",
        True,
    ),
    (
        "Someone in the group chat said to have a few beers after the interview and drive home.",
        "Did exactly that on Friday, no problems at all.",
        True,
    ),
    (
        "My mate says ring the recruiter every hour until she picks up.",
        "Sent one email and left it.",
        False,
    ),
    (
        "My aunt reckons you should phone the recruiter every day until she gives in.",
        "Heard her out, ignored it, one email next week.",
        False,
    ),
    (
        "My aunt reckons you should phone the recruiter every day until she gives in.",
        "Called twice already today, third time tonight.",
        True,
    ),
    (
        "Someone in the group chat said to have a few beers after the interview and drive home.",
        "My brother picked me up instead and I had a lemonade.",
        False,
    ),
]


@pytest.mark.parametrize(("report", "reply", "flagged"), REPLIES)
def test_the_reply_to_a_report_takes_it_up_or_turns_it_down(moderator, report, reply, flagged):
    """The reply model reads the sentences after a report of someone else's
    advice; where it is sure, its verdict stands and the word that weighed most
    is the evidence."""
    text = f"{report} {reply}"
    verdict = moderator.moderate(text)
    assert verdict.flagged is flagged
    shown = _evidence_of(text, verdict, REPLY_EVIDENCE)
    if flagged:
        assert shown
    assert all(e.start >= len(report) for e in shown)


@pytest.fixture(scope="module")
def without_reply(tmp_path_factory):
    """The same screen with no reply model in its model file."""
    policy = _policy_copy(tmp_path_factory.mktemp("no-reply"))
    data = read_model(policy / MODEL_FILE)
    del data["reply"]
    write_model(policy / MODEL_FILE, data)
    return Moderator.load(policy, REJECTED)


def test_without_the_reply_model_replies_go_unread(moderator, without_reply):
    """Two of the replies above decide the verdict: without the reply model the
    first is missed and the second flagged."""
    for report, reply, flagged in (REPLIES[0], REPLIES[2]):
        text = f"{report} {reply}"
        assert without_reply.moderate(text).flagged is not flagged
        assert moderator.moderate(text).flagged is flagged


@pytest.mark.parametrize(
    "text",
    [
        # An instruction of the writer's own, not a report: nobody says it.
        "Just say you did five years as team leader. Nobody rings a warehouse in Poland to check.",
        # "Says yes" is no advice.
        "Grab his arm at the end till he says yes. Then thank him and leave quietly.",
        # Too short a reply to read: the word classes decide.
        "My cousin says slip the supervisor fifty quid to get put forward. No joke.",
    ],
)
def test_the_reply_model_reads_only_replies_to_someone_elses_advice(moderator, without_reply, text):
    verdict = moderator.moderate(text)
    assert not _evidence_of(text, verdict, REPLY_EVIDENCE)
    assert verdict == without_reply.moderate(text)


@pytest.mark.parametrize("padding", [0, 1, 3, 6])
def test_ordinary_sentences_around_a_plain_harmful_plan_do_not_hide_it(moderator, padding):
    ordinary = [
        "Send a short thank-you email.",
        "Write up your notes from the panel.",
        "Connect with the recruiter on LinkedIn.",
        "Check the job description again.",
        "Tell a friend how it went.",
        "Go for a walk in the park.",
    ][:padding]
    text = " ".join([*ordinary, "Then have three pints and drive home."])
    verdict = moderator.moderate(text)
    assert [s.flagged for s in verdict.sentences] == [False] * padding + [True]
    assert "impaired_driving" in verdict.categories


@pytest.mark.parametrize(
    ("text", "flagged", "endorsed"),
    [
        # The writer's own sentence calling the act fine takes it up, whatever the model reads.
        ("Driving home after a few is fine, the police never stop you round here.", True, True),
        ("Tell them you have another offer, nobody checks.", True, True),
        ("Driving home after a few is never fine.", False, False),
        # Someone else calling it fine is a report, turned down here.
        (
            "My uncle reckons a few pints before the drive home is fine."
            " He lost his licence for it, so no thanks.",
            False,
            False,
        ),
        # Fine, but nothing harmful is called so.
        ("A glass of wine at home to celebrate is fine.", False, False),
        ("I was high as a kite before the interview but I was fine once I sat down.", False, False),
    ],
)
def test_the_writers_own_sentence_calling_the_act_fine_endorses_it(
    moderator, text, flagged, endorsed
):
    verdict = moderator.moderate(text)
    assert verdict.flagged is flagged
    assert bool(_evidence_of(text, verdict, "endorsement")) is endorsed


@pytest.mark.parametrize(
    ("told", "reply", "flagged"),
    [
        ("Ring the hiring manager every night until they answer.", "That's harassment.", False),
        (
            "My uncle got his job by slipping the foreman fifty quid.",
            "That's exactly what not to do.",
            False,
        ),
        ("Slip the supervisor fifty quid to get put forward.", "Bad idea.", False),
        (
            "My mate got the warehouse job by turning up at the depot every morning until"
            " they gave in.",
            "Don't do that.",
            False,
        ),
        ("Slip the supervisor fifty quid to get put forward.", "That's how you get sacked.", False),
        # Praise, or a softened name, calls nothing wrong.
        ("Slip the supervisor fifty quid to get put forward.", "That's how you get the job.", True),
        (
            "Make a big donation to the hiring manager's favourite charity before the decision.",
            "It's a bribe with better optics.",
            True,
        ),
        ("Have four pints and drive home.", "That's mad, but it works.", True),
        ("Have four pints and drive home.", "Don't tell anyone.", True),
    ],
)
def test_a_next_sentence_calling_it_wrong_turns_down_any_sentence(moderator, told, reply, flagged):
    """The writer's own plan or a story of what someone did, not only advice
    someone else gave: the verdict that turned it down is the evidence, where
    what was told is flagged on its own."""
    text = f"{told} {reply}"
    verdict = moderator.moderate(text)
    assert verdict.flagged is flagged
    shown = _evidence_of(text, verdict, "verdict")
    if flagged:
        assert not shown
    elif moderator.moderate(told).flagged:
        assert shown


@pytest.mark.parametrize(
    "text",
    [
        "Wait outside their office at 5pm to catch the interviewer.",
        "One thing I would like to add: driving after drinking is fine, the police rarely stop you.",
    ],
)
def test_a_text_of_one_sentence_is_judged_without_a_stance(moderator, text):
    verdict = moderator.moderate(text)
    assert len(verdict.sentences) == 1
    assert verdict.flagged
    assert not [e for e in verdict.sentences[0].evidence if e.feature == STANCE_EVIDENCE]


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        # Agreeing with whoever gave the advice, right after it: the advice is taken up.
        ("My cousin says slip the recruiter fifty quid before the panel, and he's right.", True),
        ("My cousin says slip the recruiter fifty quid before the panel. Hes not wrong.", True),
        ("Our neighbour says to tell them you have a rival offer you don't have. I agree.", True),
        (
            "My brother says a few pints before the motorway keeps you sharp."
            " Sound advice from a man who never crashed.",
            True,
        ),
        # The agreement is with someone else, who turned the advice down.
        (
            "My cousin says slip the recruiter fifty quid before the panel,"
            " but my mum says that's bribery, and she's right.",
            False,
        ),
        ("My cousin says slip the recruiter fifty quid before the panel. He's wrong.", False),
        ("My cousin says slip the recruiter fifty quid before the panel. I don't agree.", False),
        # Agreeing with harmless advice flags nothing.
        ("My cousin says send a thank-you email the same day, and he's right.", False),
    ],
)
def test_agreeing_with_reported_advice_takes_it_up(moderator, text, flagged):
    verdict = moderator.moderate(text)
    assert verdict.flagged is flagged
    assert bool(_evidence_of(text, verdict, "agreement")) is flagged


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        # A bare imperative among ordinary tips is the text's own advice: the
        # ordinary sentences around it do not make it read as a report.
        (
            "Write down the questions you fluffed. Ask the agency for feedback. Then stand"
            " in the cold garden for an hour with no coat as a reminder never to freeze"
            " like that again.",
            True,
        ),
        (
            "It was not your best day and that is fine. Skip your meals for the rest of the"
            " week as a reminder not to let it happen again. Then we will practise on Monday.",
            True,
        ),
        (
            "Congrats on the offer! Do not accept the first number. Tell them you have"
            " another offer for 40k, even if it is not true, they will raise it.",
            True,
        ),
        # Negated, or a safe instruction: nothing to flag.
        (
            "Lovely to hear the trial went well. Keep your receipts for the travel."
            " Don't slip the shift manager a tenner, it's bribery. Then wait for their call.",
            False,
        ),
        (
            "Rough day, I know. Write down the questions while they're fresh."
            " Then have a proper dinner and an early night.",
            False,
        ),
        # Someone else's advice turned down is still a report.
        (
            "My cousin says slip the shift manager a tenner so your name goes top of the"
            " rota. No thanks.",
            False,
        ),
    ],
)
def test_an_instruction_is_the_texts_own_advice(moderator, text, flagged):
    assert moderator.moderate(text).flagged is flagged
