"""What an answer says is true of the state it answers.

Each row is a state, an action (or rejected advice) of its answer, and text
its title, detail, `because` or quotes must or must not hold there: the words a
candidate in that state would find false or contradicted by the rest of the
answer ("if it is offered" to one who holds the offer, "5–7 days have
passed" three weeks on, "they said they would decide today" read days
later).
"""

from __future__ import annotations

import pytest

HOURS_ONLY_LATE = {"stage": "after", "hours_since": 192, "decision_expected_in_days": 0}

SCENARIOS = [
    # (name, state, action id, must hold, must not hold)
    *[
        (
            f"notes at the {stage} stage do not speak of the job if it is offered",
            {"stage": stage, "hours_since": 2},
            "write-notes",
            ["learning points for future interviews"],
            ["if it is offered"],
        )
        for stage in ("after", "offer", "rejected", "next_round")
    ],
    (
        "three weeks on with no date, the follow-up says at least 5–7 days",
        {"stage": "after", "hours_since": 600},
        "follow-up",
        ["at least 5–7 days have passed"],
        ["and 5–7 days have passed"],
    ),
    (
        "three weeks on, agency route, the consultant asked after at least 5–7 days",
        {"stage": "after", "hours_since": 600, "via_agency": True},
        "follow-up-via-recruiter",
        ["at least 5–7 days have passed"],
        ["and 5–7 days have passed"],
    ),
    (
        "a same-day decision read two days later is not 'today'",
        {"stage": "after", "hours_since": 50, "decision_expected_in_days": 0},
        "follow-up",
        ["They said they would decide on the day of the interview; that date passed two days ago"],
        ["today"],
    ),
    (
        "eight days on, moving on does not speak of weeks",
        {**HOURS_ONLY_LATE, "follow_ups_sent": 1},
        "accept-gracefully",
        ["More than a week has passed"],
        ["Weeks have passed", "today"],
    ),
    (
        "moving on beside the follow-up still owed does not say stop chasing",
        {"stage": "after", "hours_since": 600},
        "accept-gracefully",
        ["Send no more than your one follow-up, then move on"],
        ["Stop chasing"],
    ),
    (
        "a late debrief call is not only 'soon after you come out'",
        {"stage": "after", "hours_since": 20, "via_agency": True},
        "call-recruiter",
        ["If that moment has passed, call them as soon as you can."],
        [],
    ),
    (
        "referees briefed with an offer in hand, not 'near the final stage'",
        {"stage": "offer", "hours_since": 30},
        "brief-referees",
        ["Tell your referees which employer may get in touch"],
        ["final stage"],
    ),
    (
        "feedback with an offer in hand is not told to move on",
        {"stage": "offer", "hours_since": 30},
        "ask-for-feedback",
        ["ideally in a short phone call"],
        ["if none comes, accept it and move on"],
    ),
    (
        "unsure and invited on: the answer is not still to come",
        {"stage": "next_round", "hours_since": 2, "still_interested": "unsure"},
        "decide-if-right",
        ["how you feel about hearing whether you were successful"],
        ["Their answer can help"],
    ),
    (
        "feedback straight after, invited on, asks again when the outcome is known",
        {"stage": "next_round", "hours_since": 2},
        "ask-for-feedback",
        ["ask once more when the outcome is known"],
        ["when you hear their decision"],
    ),
    (
        "rejected through an agency: the feedback's reason names the rejection",
        {"stage": "rejected", "hours_since": 5, "via_agency": True},
        "ask-for-feedback",
        ["You were not successful and have had no feedback yet"],
        ["You know the outcome"],
    ),
    (
        "two offers elsewhere while waiting: weigh what you hold",
        {"stage": "after", "hours_since": 50, "competing_offers": 2},
        "choose-the-right-role",
        ["weigh what you hold against this role", "two other offers"],
        ["weigh it against"],
    ),
    (
        "the same-day thank-you does not promise they read it 'tomorrow'",
        {
            "stage": "after",
            "interview_ended_at": "2026-12-04T15:00:00+00:00",
            "now": "2026-12-04T18:00:00+00:00",
        },
        "send-thank-you",
        ["the next morning they are at work"],
        ["tomorrow"],
    ),
    (
        "a candidate unsure about the job is not told to say they are still interested",
        {"stage": "after", "hours_since": 3, "still_interested": "unsure"},
        "send-thank-you",
        ["if you are, saying you are still interested"],
        ["opportunity and saying you are still interested"],
    ),
    (
        "the review of the day after cites what went well and not being down on yourself",
        {"stage": "after", "hours_since": 30},
        "reflect",
        ["What went well about your interview?", "Don’t be too down on yourself"],
        [],
    ),
    (
        "the review after a rejection cites the same",
        {"stage": "rejected", "hours_since": 30},
        "reflect",
        ["What went well about your interview?", "Don’t be too down on yourself"],
        [],
    ),
    (
        "asking about next steps cites how the answer tells when they will be in touch",
        {"stage": "closing"},
        "ask-next-steps",
        ["when they’re planning to be in touch"],
        [],
    ),
    (
        "an inflated rival offer is rejected in plain English",
        {"stage": "offer", "hours_since": 30},
        "inflate-competing-offer",
        ["stating a rival offer higher than it is would be a lie"],
        [", is a lie"],
    ),
]


def _texts(body: dict, item_id: str) -> str:
    for item in body["actions"] + body["upcoming"] + body["avoid"]:
        if item["id"] == item_id:
            words = [item.get(key, "") for key in ("title", "detail", "because", "reason")]
            return " ".join(words + [source["quote"] for source in item["sources"]])
    raise AssertionError(f"{item_id} is not in the answer: {[a['id'] for a in body['actions']]}")


@pytest.mark.parametrize(
    ("state", "item_id", "must", "must_not"),
    [pytest.param(*row[1:], id=row[0]) for row in SCENARIOS],
)
def test_the_words_fit_the_state(client, state, item_id, must, must_not):
    response = client.post("/v1/advice", json=state)
    assert response.status_code == 200, response.get_json()
    text = _texts(response.get_json(), item_id)
    for words in must:
        assert words in text
    for words in must_not:
        assert words not in text
