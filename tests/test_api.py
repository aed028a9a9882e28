"""The HTTP contract: catalogue endpoints, advice, and problem+json errors."""

import io
from datetime import datetime
from unittest import mock

import pytest

from advisor.content import ACTION_IDS, REJECTED_CATEGORIES
from advisor.state import MAX_PLAN_CHARS, MAX_PLANS
from advisor.web.body import BYTE_ORDER_MARK
from advisor.web.errors import MAX_NAME_CHARS, NO_ROUTE
from advisor.web.widget import RELEASE

from .apps import make_app

PROBLEM = "application/problem+json"


def test_guidance_lists_every_action_with_sources(client):
    body = client.get("/v1/guidance").get_json()
    assert [g["id"] for g in body["guidance"]] == ACTION_IDS
    for item in body["guidance"]:
        assert item["title"]
        assert item["detail"]
        assert item["sources"]
        assert {"id", "title", "publisher", "quote"} <= set(item["sources"][0])


@pytest.mark.parametrize("action_id", ACTION_IDS)
def test_guidance_item(client, action_id):
    response = client.get(f"/v1/guidance/{action_id}")
    assert response.status_code == 200
    assert response.get_json()["id"] == action_id


def test_rejected_lists_every_item_with_category(client):
    body = client.get("/v1/rejected").get_json()
    assert {r["id"]: r["category"] for r in body["rejected"]} == REJECTED_CATEGORIES
    for item in body["rejected"]:
        assert item["reason"]
        assert item["instead"]
        assert item["sources"]


def test_sources(client):
    sources = client.get("/v1/sources").get_json()["sources"]
    natures = {s["id"]: s["nature"] for s in sources}
    assert natures == {
        "four-seasons": "sincere",
        "heat": "sincere",
        "gonzales": "sincere",
        "bayford": "sincere",
        "accolade": "satirical",
    }


@pytest.mark.parametrize("source_id", ["four-seasons", "heat", "gonzales", "bayford", "accolade"])
def test_a_source_gives_its_quotes_not_its_text(client, engine, source_id):
    body = client.get(f"/v1/sources/{source_id}").get_json()
    assert "text" not in body
    source = engine.catalogue.sources[source_id]
    assert (body["title"], body["publisher"], body["nature"]) == (
        source.title,
        source.publisher,
        source.nature,
    )
    assert body["quotes"]
    cited = {
        (c.quote, action.id)
        for action in engine.catalogue.actions.values()
        for wording in (action.wording(), *action.variants)
        for c in wording.sources
        if c.source.id == source_id
    }
    listed = {(q["quote"], action_id) for q in body["quotes"] for action_id in q["guidance"]}
    assert listed == cited
    rejected = {
        (c.quote, item.id)
        for item in engine.catalogue.rejected.values()
        for c in item.sources
        if c.source.id == source_id
    }
    assert {(q["quote"], r) for q in body["quotes"] for r in q["rejected"]} == rejected


def test_closing_with_time_since_the_interview_is_refused(client):
    response = client.post("/v1/advice", json={"stage": "closing", "hours_since": 1.5})
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert "hours_since" in response.get_json()["errors"]


def test_closing_with_an_interview_end_on_the_server_clock_is_refused(client):
    response = client.post(
        "/v1/advice", json={"stage": "closing", "interview_ended_at": "2026-01-05T09:00:00Z"}
    )
    assert response.status_code == 422
    assert "interview_ended_at" in response.get_json()["errors"]


def test_closing_as_the_interview_ends_is_answered(client):
    ended = "2026-11-20T16:00:00+00:00"
    response = client.post(
        "/v1/advice", json={"stage": "closing", "interview_ended_at": ended, "now": ended}
    )
    assert response.status_code == 200
    assert [a["id"] for a in response.get_json()["actions"]] == [
        "ask-next-steps",
        "ask-your-questions",
    ]


@pytest.mark.parametrize(
    "path",
    ["/v1/guidance/no-such-id", "/v1/sources/no-such-id", "/v1/rejected/nope", "/v2/advice"],
)
def test_unknown_ids_are_404_problems(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == PROBLEM
    assert response.get_json()["status"] == 404


#: A path holding characters that reorder or break what a reader sees, and its problem's
#: `instance`: those characters percent-encoded, as a URI writes them; the rest as sent.
SHOWN_PATHS = {
    "a right-to-left override": ("/v1/guidance/%E2%80%AEgnp.exe", "/v1/guidance/%E2%80%AEgnp.exe"),
    "isolates": ("/v1/guidance/a%E2%81%A7b%E2%81%A9", "/v1/guidance/a%E2%81%A7b%E2%81%A9"),
    "a line break": ("/v1/guidance/a%0Ab", "/v1/guidance/a%0Ab"),
    "letters of another script": ("/v1/guidance/%C3%A9t%C3%A9", "/v1/guidance/été"),
}


def test_a_path_of_kilobytes_gets_a_short_problem(client):
    response = client.get("/" + "a" * 8000)
    body = response.get_json()
    assert body["status"] == 404
    assert body["instance"] == "/" + "a" * 98 + "…"
    assert len(response.data) < 1000


@pytest.mark.parametrize(("path", "instance"), SHOWN_PATHS.values(), ids=SHOWN_PATHS)
def test_a_problems_instance_shows_no_control_or_format_character(client, path, instance):
    body = client.get(path).get_json()
    assert body["status"] == 404
    assert body["instance"] == instance
    assert body["instance"].isprintable()


def test_advice_shape(client):
    response = client.post("/v1/advice", json={"stage": "after", "hours_since": 1})
    assert response.status_code == 200
    body = response.get_json()
    assert body["ruleset"]["version"]
    assert body["ruleset"]["digest"].startswith("sha256:")
    assert body["actions"]
    for action in body["actions"]:
        assert action["sources"]
        assert action["because"]
        assert "window" in action
        assert "due" in action
        assert action["due"] is None
    assert body["plans"] == []
    priorities = [a["priority"] for a in body["actions"]]
    assert priorities == sorted(priorities)


def test_avoid_pairs_each_rejection_with_a_recommended_action(client):
    body = client.post("/v1/advice", json={"stage": "after", "hours_since": 150}).get_json()
    recommended = {a["id"] for a in body["actions"]}
    assert {a["id"] for a in body["avoid"]} >= {"chase-constantly", "ambush-interviewer"}
    for item in body["avoid"]:
        assert set(item["instead"]) & recommended
        assert item["reason"]
        assert item["sources"]
        assert item["category"]


def test_due_times_follow_the_interview_end_in_its_time_zone(client):
    body = client.post(
        "/v1/advice",
        json={
            "stage": "after",
            "interview_ended_at": "2026-11-20T16:30:00+01:00",
            "now": "2026-11-20T18:00:00+01:00",
        },
    ).get_json()
    assert body["hours_since"] == 1.5
    due = {a["id"]: a["due"] for a in body["actions"]}
    # "Today": by midnight in the interview's offset.
    assert due["send-thank-you"] == "2026-11-21T00:00:00+01:00"
    assert due["take-time-out"] == "2026-11-20T22:30:00+01:00"
    for value in due.values():
        assert datetime.fromisoformat(value).utcoffset() is not None


def test_interview_end_without_now_uses_the_server_clock(client):
    body = client.post(
        "/v1/advice", json={"stage": "after", "interview_ended_at": "2025-06-01T09:00:00Z"}
    ).get_json()
    assert body["hours_since"] > 24 * 365
    assert all(a["due"].endswith("+00:00") for a in body["actions"])


def test_plans_are_answered_in_order(client):
    plans = [
        "Send a short thank-you email tonight.",
        "Have three pints at the pub and then drive home.",
    ]
    body = client.post(
        "/v1/advice", json={"stage": "after", "hours_since": 1, "plans": plans}
    ).get_json()
    assert [p["text"] for p in body["plans"]] == plans
    ok, bad = body["plans"]
    assert ok["verdict"] == "ok"
    assert ok["categories"] == []
    assert bad["verdict"] == "reject"
    assert "impaired_driving" in bad["categories"]
    assert bad["reason"]
    assert bad["instead"]


def test_a_plan_is_offered_only_alternatives_recommended_in_the_same_answer(client):
    plans = [
        "Phone them every day until they change their mind.",
        "Wait outside their office at 5pm to catch the interviewer.",
    ]
    body = client.post(
        "/v1/advice", json={"stage": "rejected", "hours_since": 100, "plans": plans}
    ).get_json()
    recommended = {a["id"] for a in body["actions"]}
    chasing, ambush = body["plans"]
    assert chasing["verdict"] == ambush["verdict"] == "reject"
    assert chasing["instead"] == ["accept-gracefully"]
    assert "instead" not in ambush  # following up is no alternative after a rejection
    assert set(chasing["instead"]) <= recommended


def _post(client, body=None, **kwargs):
    if body is not None:
        kwargs["json"] = body
    return client.post("/v1/advice", **kwargs)


@pytest.mark.parametrize(("protocol", "chunked"), [("HTTP/1.1", True), ("HTTP/1.0", False)])
@pytest.mark.parametrize("path", ["/v1/advice", "/v1/moderate", "/v1/drafts"])
def test_a_411_offers_chunked_only_where_http_has_it(client, path, protocol, chunked):
    response = client.post(
        path, content_type="application/json", environ_overrides={"SERVER_PROTOCOL": protocol}
    )
    assert response.status_code == 411
    assert ("chunked)" in response.get_json()["detail"]) is chunked
    assert "Content-Length" in response.get_json()["detail"]


@pytest.mark.parametrize(
    ("name", "kwargs", "status", "field"),
    [
        ("malformed JSON", {"data": "{", "content_type": "application/json"}, 400, None),
        (
            "empty body",
            {
                "data": "",
                "content_type": "application/json",
                "environ_overrides": {"CONTENT_LENGTH": "0"},
            },
            400,
            None,
        ),
        ("no length and no body", {"content_type": "application/json"}, 411, None),
        (
            "invalid UTF-8",
            {"data": b'{"stage": "\xff"}', "content_type": "application/json"},
            400,
            None,
        ),
        (
            "duplicate key",
            {"data": '{"stage":"after","stage":"offer"}', "content_type": "application/json"},
            400,
            None,
        ),
        (
            "NaN",
            {"data": '{"stage":"after","hours_since":NaN}', "content_type": "application/json"},
            400,
            None,
        ),
        (
            "huge integer",
            {
                "data": '{"stage":"after","follow_ups_sent":' + "9" * 50 + "}",
                "content_type": "application/json",
            },
            400,
            None,
        ),
        (
            "nested too deep",
            {"data": "[" * 50000 + "]" * 50000, "content_type": "application/json"},
            400,
            None,
        ),
        ("wrong content type", {"data": "stage=after", "content_type": "text/plain"}, 415, None),
        ("form content type", {"data": {"stage": "after"}}, 415, None),
        (
            "not UTF-8 charset",
            {"data": "{}", "content_type": "application/json; charset=latin-1"},
            415,
            None,
        ),
        (
            "body too large",
            {"data": '{"stage":"' + "a" * 300_000 + '"}', "content_type": "application/json"},
            413,
            None,
        ),
        ("array body", {"json": ["after"]}, 422, "$"),
        ("unknown field", {"json": {"stage": "after", "colour": "red"}}, 422, "colour"),
        ("bad enum", {"json": {"stage": "lunch"}}, 422, "stage"),
        ("missing stage", {"json": {}}, 422, "stage"),
        ("hours as text", {"json": {"stage": "after", "hours_since": "soon"}}, 422, "hours_since"),
        ("hours as boolean", {"json": {"stage": "after", "hours_since": True}}, 422, "hours_since"),
        ("negative hours", {"json": {"stage": "after", "hours_since": -3}}, 422, "hours_since"),
        (
            "hours beyond five years",
            {"json": {"stage": "after", "hours_since": 1e9}},
            422,
            "hours_since",
        ),
        (
            "infinite hours",
            {"data": '{"stage":"after","hours_since":1e400}', "content_type": "application/json"},
            422,
            "hours_since",
        ),
        ("flag as string", {"json": {"stage": "after", "via_agency": "true"}}, 422, "via_agency"),
        (
            "flag as number",
            {"json": {"stage": "after", "thank_you_sent": 1}},
            422,
            "thank_you_sent",
        ),
        (
            "fractional count",
            {"json": {"stage": "after", "follow_ups_sent": 1.5}},
            422,
            "follow_ups_sent",
        ),
        (
            "negative count",
            {"json": {"stage": "after", "competing_offers": -1}},
            422,
            "competing_offers",
        ),
        (
            "days as string",
            {"json": {"stage": "after", "decision_expected_in_days": "7"}},
            422,
            "decision_expected_in_days",
        ),
        (
            "interest unknown",
            {"json": {"stage": "after", "still_interested": "maybe"}},
            422,
            "still_interested",
        ),
        (
            "naive date-time",
            {"json": {"stage": "after", "interview_ended_at": "2026-11-20T16:30:00"}},
            422,
            "interview_ended_at",
        ),
        (
            "not a date-time",
            {"json": {"stage": "after", "interview_ended_at": "yesterday"}},
            422,
            "interview_ended_at",
        ),
        (
            "not RFC 3339",
            {"json": {"stage": "after", "interview_ended_at": "20261120T163000+0000"}},
            422,
            "interview_ended_at",
        ),
        (
            "year 9999",
            {
                "json": {
                    "stage": "after",
                    "interview_ended_at": "9999-12-31T20:00:00Z",
                    "now": "9999-12-31T21:00:00Z",
                }
            },
            422,
            "interview_ended_at",
        ),
        (
            "both clocks",
            {
                "json": {
                    "stage": "after",
                    "hours_since": 2,
                    "interview_ended_at": "2026-11-20T16:30:00Z",
                }
            },
            422,
            "hours_since",
        ),
        ("now alone", {"json": {"stage": "after", "now": "2026-11-20T16:30:00Z"}}, 422, "now"),
        (
            "end after now",
            {
                "json": {
                    "stage": "after",
                    "interview_ended_at": "2026-11-21T16:30:00Z",
                    "now": "2026-11-20T16:30:00Z",
                }
            },
            422,
            "interview_ended_at",
        ),
        (
            "a number too large to read",
            {
                "data": '{"stage": "after", "hours_since": 1e400}',
                "content_type": "application/json",
            },
            422,
            "hours_since",
        ),
        (
            "a negative number too large to read",
            {
                "data": '{"stage": "after", "hours_since": -1e400}',
                "content_type": "application/json",
            },
            422,
            "hours_since",
        ),
        ("plans not a list", {"json": {"stage": "after", "plans": "drive home"}}, 422, "plans"),
        ("plan not a string", {"json": {"stage": "after", "plans": [3]}}, 422, "plans.0"),
        (
            "too many plans",
            {"json": {"stage": "after", "plans": ["walk"] * (MAX_PLANS + 1)}},
            422,
            "plans",
        ),
        (
            "plan too long",
            {"json": {"stage": "after", "plans": ["x" * (MAX_PLAN_CHARS + 1)]}},
            422,
            "plans.0",
        ),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(client, name, kwargs, status, field):
    response = client.post("/v1/advice", **kwargs)
    assert response.status_code == status, name
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    if field is not None:
        assert field in body["errors"], body
        assert body["detail"].startswith(field) or field in body["detail"]
    if "too large to read" in name:
        assert body["errors"][field] == ["Out of range: the number is too large to read."]


#: Date-times that are not RFC 3339, or that it allows but the service cannot read, and
#: the message each gets: an offset whose minutes are past 59 was once read as more
#: hours (``+00:99`` as +01:39) and digits of other scripts as a year out of range.
NOT_READ = "Not an RFC 3339 date-time (e.g. 2026-11-20T16:30:00+00:00)."
LEAP = "A leap second (seconds of 60) cannot be placed: give 59, or 00 of the next minute."
DATE_TIMES = [
    ("2026-11-20T16:30:00+00:60", NOT_READ),
    ("2026-11-20T16:30:00+00:99", NOT_READ),
    ("2026-11-20T16:30:00-05:75", NOT_READ),
    ("2026-11-20T16:30:00+24:00", NOT_READ),
    ("2026-11-20T16:30:00+00:00:30", NOT_READ),
    ("\u0662\u0660\u0662\u0666-11-20T16:30:00Z", NOT_READ),  # Arabic-Indic digits
    ("\u0660\u0660\u0660\u0660-11-20T16:30:00Z", NOT_READ),
    ("\uff12\uff10\uff12\uff16-11-20T16:30:00Z", NOT_READ),  # full-width digits
    ("2026-11-20T16:30:0\u0665Z", NOT_READ),
    ("2026-11-20T16:30:00\u00b2Z", NOT_READ),
    ("2026-11-20T23:59:60Z", LEAP),
    ("2026-12-31T23:59:60.5+00:00", LEAP),
    ("0000-01-01T00:00:00Z", "The year must lie between 1970 and 2999."),
]


@pytest.mark.parametrize("field", ["interview_ended_at", "now"])
@pytest.mark.parametrize(("value", "message"), DATE_TIMES)
def test_a_date_time_the_service_cannot_read_as_sent_is_a_422_saying_why(
    client, field, value, message
):
    body = {"stage": "after", "interview_ended_at": "2026-11-20T16:30:00Z"}
    body["now"] = "2026-11-21T16:30:00Z"
    body[field] = value
    response = _post(client, body)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["errors"] == {field: [message]}


@pytest.mark.parametrize(
    ("method", "target", "status"),
    [("OPTIONS", "*", 200), ("CONNECT", "443", 405), ("CONNECT", "[::1]:443", 405)],
)
def test_a_target_that_is_not_a_path_is_answered_for_the_server(client, method, target, status):
    """`OPTIONS *` and `CONNECT host:port` as gunicorn hands them on (its path is what
    follows the first colon of an authority): answered for the server, not as a path."""
    response = client.open("/", method=method, environ_overrides={"PATH_INFO": target})
    assert response.status_code == status
    assert response.headers["Allow"] == "GET, HEAD, POST, OPTIONS"
    if status == 200:
        assert "Content-Type" not in response.headers
    else:
        assert response.mimetype == PROBLEM
        assert response.get_json()["instance"] == "*"


#: The endpoints that compute an answer from a body: none has a representation an
#: `If-Match` could name, so any (`*` included) is false and the method not performed
#: (RFC 9110, 13.1.1); the conditions that hold without one are ignored as before.
COMPUTED = [
    ("/v1/advice", {"stage": "after"}),
    ("/v1/moderate", {"text": "I will thank them."}),
    ("/v1/drafts", {"state": {"stage": "after"}, "action": "send-thank-you"}),
]
PRECONDITIONS = [
    ({"If-Match": '"f29fe1acaa03c2f8-1b8747b099dd0a87"'}, 412),
    ({"If-Match": "*"}, 412),
    ({"If-Match": 'W/"x", "y"'}, 412),
    ({"If-None-Match": "*"}, 200),  # no current representation: true
    ({"If-None-Match": '"x"'}, 200),
    ({"If-Unmodified-Since": "Mon, 01 Jan 1990 00:00:00 GMT"}, 200),  # no date to compare
    ({"Range": "bytes=0-9"}, 200),  # ranges are GET's
]


@pytest.mark.parametrize(("path", "body"), COMPUTED)
@pytest.mark.parametrize(("headers", "status"), PRECONDITIONS)
def test_if_match_on_a_computed_answer_is_a_412_before_the_body(
    client, path, body, headers, status
):
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == status, response.get_json()
    if status == 412:
        assert response.mimetype == PROBLEM
        assert "If-Match" in response.get_json()["detail"]
        # Decided from the headers, before the body is read: a body never sent waits for nothing.
        unsent = client.post(
            path,
            data=b"",
            headers={**headers, "Content-Type": "application/json"},
            environ_overrides={"CONTENT_LENGTH": "60"},
        )
        assert unsent.status_code == 412


#: Fields named by the empty string: each is named as sent (""), never as `$`, which
#: names the body itself.
EMPTY_NAMES = [
    ("/v1/advice", {"stage": "after", "": 1}, {"": ["Unknown field."]}),
    ("/v1/moderate?=1", {"text": "x"}, {"": ["Unknown query parameter."]}),
    ("/v1/drafts?=", {"state": {"stage": "after"}, "action": "follow-up"}, None),
    (
        "/v1/drafts",
        {"state": {"stage": "after", "": 1}, "action": "follow-up"},
        {"state.": ["Unknown field."]},
    ),
    ("/v1/advice", ["stage"], {"$": ["The body must be a JSON object."]}),
]


@pytest.mark.parametrize(("path", "body", "errors"), EMPTY_NAMES)
def test_a_field_with_an_empty_name_is_named_so_not_as_the_body(client, path, body, errors):
    response = client.post(path, json=body)
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["errors"] == (errors or {"": ["Unknown query parameter."]})
    if "" in problem["errors"]:
        assert problem["detail"].startswith('"": Unknown')


def test_method_not_allowed_is_a_problem_with_allow(client):
    response = client.get("/v1/advice")
    assert response.status_code == 405
    assert response.mimetype == PROBLEM
    assert "POST" in response.headers["Allow"]


#: A mistake a new caller makes, and what its problem's detail must say to do next.
NEXT_STEPS = {
    "GET on a POST endpoint": (
        "GET",
        "/v1/advice",
        405,
        "GET is not a method of /v1/advice: send POST, OPTIONS (the Allow header lists them).",
    ),
    "POST on the catalogue": (
        "POST",
        "/v1/guidance",
        405,
        "POST is not a method of /v1/guidance: send GET, HEAD, OPTIONS (the Allow header lists "
        "them).",
    ),
    "PUT on an item": ("PUT", "/v1/sources/heat", 405, "send GET, HEAD, OPTIONS"),
    "an id in capitals": (
        "GET",
        "/v1/sources/HEAT",
        404,
        "No source has the id 'HEAT' (did you mean 'heat'?): GET /v1/sources lists every id.",
    ),
    "an id with a typo": (
        "GET",
        "/v1/guidance/send-thankyou",
        404,
        "No guidance has the id 'send-thankyou' (did you mean 'send-thank-you'?): "
        "GET /v1/guidance lists every id.",
    ),
    "an id like none": (
        "GET",
        "/v1/rejected/zzz",
        404,
        "No rejected advice has the id 'zzz': GET /v1/rejected lists every id.",
    ),
    "a widget release never made": (
        "GET",
        "/widget-9.9.9.js",
        404,
        "No release '9.9.9' of this file is served: the releases are 1.0.0, 1.1.0, 1.1.1, "
        f"1.1.2, 1.1.3, 1.1.4, 1.1.5, 1.2.0, {RELEASE}; /demo gives the latest's integrity hashes.",
    ),
    "a stylesheet release never made": ("GET", "/widget-1.1.css", 404, "the releases are 1.0.0"),
    "a resize script release never made": (
        "GET",
        "/embed-resize-2.0.0.js",
        404,
        "the releases are 1.0.0",
    ),
    **{
        f"a static file {why}": ("GET", path, 404, NO_ROUTE)
        for why, path in (
            ("in capitals", "/static/widget/EMBED.CSS"),
            ("never made", "/static/widget/embed.css.map"),
            ("as a folder", "/static/widget/"),
            ("above the folder", "/static/widget/%2e%2e/%2e%2e/config.py"),
            ("with a NUL", "/static/widget/embed.css%00"),
        )
    },
}


@pytest.mark.parametrize(
    ("method", "path", "status", "detail"), NEXT_STEPS.values(), ids=NEXT_STEPS.keys()
)
def test_a_mistake_s_problem_says_what_to_do_next(client, method, path, status, detail):
    response = client.open(path, method=method)
    assert response.status_code == status
    assert response.mimetype == PROBLEM
    assert detail in response.get_json()["detail"]


#: A field misspelt or misremembered, and what its 422 says: the field closest to it, if any.
UNKNOWN_FIELDS = {
    "hours for hours_since": (
        "/v1/advice",
        {"stage": "after", "hours": 3},
        {"hours": ["Unknown field (did you mean 'hours_since'?)"]},
    ),
    "a letter missing": (
        "/v1/advice",
        {"stage": "after", "thankyou_sent": True},
        {"thankyou_sent": ["Unknown field (did you mean 'thank_you_sent'?)"]},
    ),
    "another case": (
        "/v1/advice",
        {"Stage": "after"},
        {
            "stage": ["Missing data for required field."],
            "Stage": ["Unknown field (did you mean 'stage'?)"],
        },
    ),
    "in fullwidth letters": (
        "/v1/advice",
        {"stage": "after", "ｈｏｕｒｓ＿ｓｉｎｃｅ": 3},
        {"ｈｏｕｒｓ＿ｓｉｎｃｅ": ["Unknown field (did you mean 'hours_since'?)"]},
    ),
    "in mathematical letters": (
        "/v1/moderate",
        {"𝐭𝐞𝐱𝐭": "x"},
        {
            "text": ["Missing data for required field."],
            "𝐭𝐞𝐱𝐭": ["Unknown field (did you mean 'text'?)"],
        },
    ),
    "a Cyrillic letter among Latin ones": (
        "/v1/advice",
        {"stаge": "after"},
        {
            "stage": ["Missing data for required field."],
            "stаge": ["Unknown field (did you mean 'stage'?)"],
        },
    ),
    "nothing close": (
        "/v1/advice",
        {"stage": "after", "zzzz": 1},
        {"zzzz": ["Unknown field."]},
    ),
    "a name too long to compare": (
        "/v1/advice",
        {"stage": "after", "hours_since" * 10: 1},
        {f"{('hours_since' * 10)[:99]}…": ["Unknown field."]},
    ),
    "inside a draft's state and details": (
        "/v1/drafts",
        {
            "action": "send-thank-you",
            "state": {"stage": "after", "hours_snce": 2},
            "details": {"name": "x", "compny": "y"},
        },
        {
            "state.hours_snce": ["Unknown field (did you mean 'hours_since'?)"],
            "details.name": ["Unknown field (did you mean 'candidate_name' or 'recipient_name'?)"],
            "details.compny": ["Unknown field (did you mean 'company'?)"],
        },
    ),
    "a word of one field's name": (
        "/v1/advice",
        {"stage": "after", "agency": True},
        {"agency": ["Unknown field (did you mean 'via_agency'?)"]},
    ),
    "moderation's text": (
        "/v1/moderate",
        {"txt": "x"},
        {
            "text": ["Missing data for required field."],
            "txt": ["Unknown field (did you mean 'text'?)"],
        },
    ),
}


#: A query parameter of /v1/advice misspelt, and what its 422 says.
UNKNOWN_PARAMETERS = {
    "another case": ("Explain=true", "Explain", " (did you mean 'explain'?)"),
    "letters swapped": ("explian=1", "explian", " (did you mean 'explain'?)"),
    "fullwidth": (
        "%EF%BD%85%EF%BD%98%EF%BD%90%EF%BD%8C%EF%BD%81%EF%BD%89%EF%BD%8E=1",
        "ｅｘｐｌａｉｎ",
        " (did you mean 'explain'?)",
    ),
    "nothing close": ("verbose=1", "verbose", ""),
    "a field of the body": ("plans=x", "plans", ""),
    "a field of the body, numbered": ("plans2=x", "plans2", ""),
}


@pytest.mark.parametrize(
    ("query", "name", "hint"), UNKNOWN_PARAMETERS.values(), ids=UNKNOWN_PARAMETERS.keys()
)
def test_an_unknown_query_parameter_names_the_one_closest_to_it(client, query, name, hint):
    response = client.post(f"/v1/advice?{query}", json={"stage": "after"})
    assert response.status_code == 422
    assert response.get_json()["errors"] == {name: [f"Unknown query parameter{hint or '.'}"]}


@pytest.mark.parametrize(
    ("path", "body", "errors"), UNKNOWN_FIELDS.values(), ids=UNKNOWN_FIELDS.keys()
)
def test_an_unknown_field_names_the_field_closest_to_it(client, path, body, errors):
    response = client.post(path, json=body)
    assert response.status_code == 422
    assert response.get_json()["errors"] == errors


@pytest.mark.parametrize(
    ("path", "body", "errors"), UNKNOWN_FIELDS.values(), ids=UNKNOWN_FIELDS.keys()
)
def test_a_422s_detail_names_each_field_with_its_messages_between_semicolons(
    client, path, body, errors
):
    problem = client.post(path, json=body).get_json()
    assert problem["errors"] == errors
    assert problem["detail"] == "; ".join(
        f"{name}: {' '.join(messages).removesuffix('.')}"
        for name, messages in problem["errors"].items()
    )
    assert ".;" not in problem["detail"]


def test_moderate_splits_and_flags(client):
    text = "Send a short thank-you email. Then have three pints and drive home."
    body = client.post("/v1/moderate", json={"text": text}).get_json()
    assert body["flagged"] is True
    assert "impaired_driving" in body["categories"]
    first, second = body["sentences"]
    assert first["flagged"] is False
    assert "reason" not in first
    assert second["flagged"] is True
    assert second["instead"]
    for sentence in body["sentences"]:
        assert text[sentence["start"] : sentence["end"]] == sentence["text"]


TAGALOG = "Sabi ni kuya, iinom muna ako ng tatlong bote bago ako mag-drive pauwi."


@pytest.mark.parametrize(
    ("text", "english"),
    [("Have three pints and drive home.", True), (TAGALOG, False), ("Steel toes polished.", True)],
)
def test_moderate_says_whether_the_text_reads_as_english(client, text, english):
    assert client.post("/v1/moderate", json={"text": text}).get_json()["english"] is english


def test_a_plan_the_screen_cannot_read_says_so(client):
    """Its `ok` is no verdict: the widget shows it as not checked."""
    plans = ["Send a short thank-you email tonight.", TAGALOG]
    body = client.post(
        "/v1/advice", json={"stage": "after", "hours_since": 1, "plans": plans}
    ).get_json()
    assert [(p["verdict"], p["english"]) for p in body["plans"]] == [("ok", True), ("ok", False)]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 422, "text"),
        ({"text": 5}, 422, "text"),
        ({"text": "x" * 20_001}, 422, "text"),
        ({"text": "fine", "lang": "en"}, 422, "lang"),
    ],
)
def test_moderate_rejects_bad_input(client, body, status, field):
    response = client.post("/v1/moderate", json=body)
    assert response.status_code == status
    assert response.mimetype == PROBLEM
    assert field in response.get_json()["errors"]


def test_explain_shows_every_rule_fired_or_not(client, engine):
    body = client.post(
        "/v1/advice?explain=true", json={"stage": "after", "hours_since": 30}
    ).get_json()
    rows = body["explain"]
    assert len(rows) == len(engine.rulebook.rules)
    fired = {row["rule"] for row in rows if row["fired"]}
    assert fired == set(body["fired"])
    for row in rows:
        assert ("because" in row) == row["fired"]
        assert ("failed" in row) != row["fired"]
    thank_you = next(row for row in rows if row["rule"] == "thank-you-within-a-day")
    assert thank_you["failed"] == "hours_since < 24 does not hold: hours_since is 30"


def test_no_explain_by_default(client):
    body = client.post("/v1/advice", json={"stage": "after"}).get_json()
    assert "explain" not in body


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("explain=maybe", "explain"),
        ("explain=true&explain=false", "explain"),
        ("verbose=1", "verbose"),
    ],
)
def test_bad_query_parameters_are_named(client, query, field):
    response = client.post(f"/v1/advice?{query}", json={"stage": "after"})
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


class _Untouched(io.BytesIO):
    """A request body that counts its reads and gives nothing."""

    reads = 0

    def read(self, *_args):
        self.reads += 1
        return b""

    readline = read


#: An unknown query parameter on an endpoint that takes none, beside a body of 60
#: bytes that never comes: named at once, the body left unread.
UNREAD = ["/v1/moderate", "/v1/drafts"]


@pytest.mark.parametrize("path", UNREAD)
def test_an_unknown_query_parameter_is_refused_before_the_body_is_read(client, path):
    body = _Untouched()
    response = client.post(
        f"{path}?lang=en",
        input_stream=body,
        content_type="application/json",
        environ_overrides={"CONTENT_LENGTH": "60"},
    )
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["errors"] == {"lang": ["Unknown query parameter."]}
    assert body.reads == 0


#: What the headers alone refuse comes before an unknown query parameter, on every
#: endpoint that takes a body, as a 411 does (tests/test_hostile_clients.py): (headers,
#: status).
BEFORE_THE_QUERY = [
    ({"Content-Type": "text/plain", "Content-Length": "2"}, 415),
    ({"Content-Type": "application/json; charset=latin-1", "Content-Length": "2"}, 415),
    ({"Content-Type": "application/json", "Content-Length": "2", "Content-Encoding": "gzip"}, 415),
]


@pytest.mark.parametrize("path", ["/v1/advice", *UNREAD])
@pytest.mark.parametrize(("headers", "status"), BEFORE_THE_QUERY)
def test_what_the_headers_refuse_comes_before_the_query(client, path, headers, status):
    response = client.post(f"{path}?verbose=1", input_stream=_Untouched(), headers=headers)
    assert response.status_code == status, response.get_json()


@pytest.mark.parametrize(
    ("value", "explained"),
    [("true", True), ("True", True), ("TRUE", True), ("1", True)]
    + [("false", False), ("False", False), ("FALSE", False), ("0", False)],
)
def test_explain_is_true_or_false_in_any_case(client, value, explained):
    # Python's requests sends params={"explain": True} as explain=True.
    response = client.post(f"/v1/advice?explain={value}", json={"stage": "after"})
    assert response.status_code == 200
    assert ("explain" in response.get_json()) is explained


@pytest.mark.parametrize("value", ["yes", "on", "", "tru", "2", "truE "])
def test_an_explain_that_is_not_a_boolean_says_what_is(client, value):
    response = client.post(f"/v1/advice?explain={value}", json={"stage": "after"})
    assert response.status_code == 422
    assert response.get_json()["errors"] == {
        "explain": ["Not a boolean: use true or false (or 1 or 0)."]
    }


#: Bodies with nothing in them but JSON's white space, sent with their length or chunked.
EMPTY_BODIES = [b"", b" ", b"\r\n", b" \t\n "]


@pytest.mark.parametrize("path", ["/v1/advice", "/v1/moderate", "/v1/drafts"])
@pytest.mark.parametrize("body", EMPTY_BODIES)
@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
def test_an_empty_body_is_a_400_that_says_it_is_empty(client, path, body, chunked):
    framing = (
        {"HTTP_TRANSFER_ENCODING": "chunked"} if chunked else {"CONTENT_LENGTH": str(len(body))}
    )
    response = client.post(
        path, data=body, content_type="application/json", environ_overrides=framing
    )
    assert response.status_code == 400
    assert response.mimetype == PROBLEM
    assert response.get_json()["detail"] == "The body is empty: send the request's JSON object."


#: Bodies that begin with a byte order mark (U+FEFF, as some editors save UTF-8), whole or cut.
BOM_BODIES = [
    b'\xef\xbb\xbf{"stage": "after"}',
    b'\xef\xbb\xbf {"stage": "after"}',
    b"\xef\xbb\xbf",
]


@pytest.mark.parametrize("path", ["/v1/advice", "/v1/moderate", "/v1/drafts"])
@pytest.mark.parametrize("body", BOM_BODIES)
def test_a_body_with_a_byte_order_mark_is_a_400_that_says_so(client, path, body):
    response = client.post(path, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.mimetype == PROBLEM
    assert response.get_json()["detail"] == BYTE_ORDER_MARK


#: Content types whose charset is given twice or empty, and whether the body is taken.
CHARSETS = [
    ("application/json; charset=utf-8", True),
    ("application/json; charset=UTF8", True),
    ('application/json; charset="utf-8"', True),
    ("application/vnd.api+json; charset=utf-8", True),
    ("application/json; charset=latin-1; charset=utf-8", False),
    ("application/json; charset=utf-8; charset=latin-1", False),
    ("application/json; charset=utf-8; Charset=utf-8", False),
    ("application/json; charset=", False),
    ('application/json; charset=""', False),
    ("application/json;charset", False),
]


@pytest.mark.parametrize("charset", ["\xff\xfe", "utf\x00-8", "utf-8\u00a0"])
def test_a_charset_no_token_holds_is_a_415_naming_it(client, charset):
    """Werkzeug drops a parameter whose value no token holds, as if none were sent: the
    body would be read as UTF-8 under a charset the client never said."""
    response = client.post(
        "/v1/advice",
        data=b'{"stage": "after"}',
        environ_overrides={"CONTENT_TYPE": f"application/json; charset={charset}"},
    )
    assert response.status_code == 415
    assert response.mimetype == PROBLEM
    assert "got charset" in response.get_json()["detail"]


@pytest.mark.parametrize(("content_type", "taken"), CHARSETS)
def test_a_charset_given_twice_or_empty_is_a_415(client, content_type, taken):
    body = b'{"stage": "after"}'
    response = client.post(
        "/v1/advice", data=body, environ_overrides={"CONTENT_TYPE": content_type}
    )
    if taken:
        assert response.status_code == 200
        return
    assert response.status_code == 415
    assert response.mimetype == PROBLEM
    assert "one charset parameter" in response.get_json()["detail"]


#: Requests whose problem repeats something the client sent (an id, a header value),
#: each with kilobytes of it: the problem repeats at most MAX_NAME_CHARS characters.
LONG_ECHOES = {
    "an unknown guidance id": ("GET", "/v1/guidance/" + "a" * 5000, {}, 404),
    "an unknown rejected id": ("GET", "/v1/rejected/" + "é" * 3000, {}, 404),
    "an unknown source id": ("GET", "/v1/sources/" + "a" * 5000, {}, 404),
    "an Accept no type meets": (
        "POST",
        "/v1/advice",
        {"headers": {"Accept": "text/x;q=0.1, " * 500}, "json": {"stage": "after"}},
        406,
    ),
    "a long content type": (
        "POST",
        "/v1/advice",
        {"data": b'{"stage": "after"}', "content_type": "text/" + "x" * 6000},
        415,
    ),
    "a long charset": (
        "POST",
        "/v1/advice",
        {"data": b'{"stage": "after"}', "content_type": "application/json; charset=" + "x" * 6000},
        415,
    ),
}


@pytest.mark.parametrize("name", LONG_ECHOES)
def test_a_problem_repeats_at_most_a_short_part_of_what_was_sent(client, name):
    method, path, kwargs, status = LONG_ECHOES[name]
    response = client.open(path, method=method, **kwargs)
    assert response.status_code == status
    assert response.mimetype == PROBLEM
    detail = response.get_json()["detail"]
    assert "…" in detail
    assert len(detail) < MAX_NAME_CHARS + 150, detail


def test_cached_answers_equal_fresh_ones(engine):
    cached = make_app(engine, answer_cache=8).test_client()
    fresh = make_app(engine, answer_cache=0).test_client()
    bodies = [
        {"stage": "after", "hours_since": 30, "plans": ["Phone them every hour."]},
        {"stage": "offer", "competing_offers": 1},
        {
            "stage": "after",
            "interview_ended_at": "2026-11-20T16:30:00Z",
            "now": "2026-11-21T09:00:00Z",
        },
    ]
    for _ in range(3):
        for body in bodies:
            for query in ("", "?explain=true"):
                got = cached.post(f"/v1/advice{query}", json=body)
                want = fresh.post(f"/v1/advice{query}", json=body)
                assert got.get_json() == want.get_json()
                assert got.headers["Content-Type"] == want.headers["Content-Type"]


def test_the_answer_cache_is_bounded(engine):
    app = make_app(engine, answer_cache=3)
    client = app.test_client()
    for hours in range(10):
        for _ in range(2):  # kept the second time
            client.post("/v1/advice", json={"stage": "after", "hours_since": hours})
    assert len(app.extensions["advisor_answers"]) == 3


def test_an_answer_is_kept_when_its_request_comes_again(engine):
    app = make_app(engine, answer_cache=3)
    client, kept = app.test_client(), app.extensions["advisor_answers"]
    asked = [{"stage": "after", "hours_since": hours} for hours in range(40)]
    for body in asked:  # each asked for once: none kept
        client.post("/v1/advice", json=body)
    assert len(kept) == 0
    with mock.patch.object(engine, "evaluate", wraps=engine.evaluate) as evaluate:
        answers = [client.post("/v1/advice", json=asked[-1]).data for _ in range(3)]
    assert len(kept) == 1
    assert evaluate.call_count == 1  # the second time it was kept, the third answered from it
    assert answers[0] == answers[1] == answers[2]


def test_answers_that_read_the_server_clock_are_not_kept(engine):
    app = make_app(engine, answer_cache=8)
    client = app.test_client()
    body = {"stage": "after", "interview_ended_at": "2026-11-01T09:00:00Z"}
    first = client.post("/v1/advice", json=body).get_json()["hours_since"]
    second = client.post("/v1/advice", json=body).get_json()["hours_since"]
    assert second > first
    assert len(app.extensions["advisor_answers"]) == 0


def test_a_cached_body_sent_as_another_type_is_still_refused(engine):
    client = make_app(engine, answer_cache=8).test_client()
    body = '{"stage": "after"}'
    assert client.post("/v1/advice", data=body, content_type="application/json").status_code == 200
    assert client.post("/v1/advice", data=body, content_type="text/plain").status_code == 415
    assert (
        client.post("/v1/advice?x=1", data=body, content_type="application/json").status_code == 422
    )


class _StalledBody:
    """A body of which the server gets `sent` bytes before its deadline passes."""

    def __init__(self, sent: bytes):
        self.sent = sent

    def read(self, size=-1):
        if not self.sent:
            raise TimeoutError("the request body did not arrive in time")
        chunk, self.sent = self.sent[:size], self.sent[size:]
        return chunk


class _FramingError(Exception):
    """What a server raises for broken chunked framing (gunicorn's are not OSErrors)."""


class _Body:
    """A request body as a server hands it over: `data` in reads of at most 4 KiB,
    then the end, or `error` raised."""

    def __init__(self, data: bytes, error: Exception | None = None):
        self.data, self.error = data, error

    def read(self, size=-1):
        size = 4096 if size is None or size < 0 else min(size, 4096)
        chunk, self.data = self.data[:size], self.data[size:]
        if not chunk and self.error is not None:
            raise self.error
        return chunk


def _state_of(size: int) -> bytes:
    """A valid state of exactly `size` bytes."""
    head = b'{"stage": "after", "plans": ["'
    return head + b"a" * (size - len(head) - 3) + b'"]}'


#: (name, body, declared length, whether the server ends the stream itself, status,
#: start of the detail). A body of no declared length is chunked: a server ends it
#: itself; gunicorn says so (``wsgi.input_terminated``) of every body.
BODY_READS = [
    ("chunked, at the limit", lambda limit: _state_of(limit), None, True, 422, "plans.0"),
    (
        "chunked, one byte over",
        lambda limit: _state_of(limit + 1),
        None,
        True,
        413,
        "The body is larger than the limit",
    ),
    (
        "declared over the limit",
        lambda limit: b"",
        lambda limit: limit + 1,
        True,
        413,
        "The body is larger than the limit",
    ),
    (
        "ends before its length",
        lambda limit: b'{"stage": "after"}',
        lambda limit: 100,
        False,
        400,
        "The body ended after 18 of its 100 bytes.",
    ),
    (
        "ends before its length, the stream ended by the server",
        lambda limit: b'{"stage": "after"}',
        lambda limit: 100,
        True,
        400,
        "The body ended after 18 of its 100 bytes.",
    ),
    (
        "broken chunked framing",
        lambda limit: (b'{"st', _FramingError("invalid chunk size")),
        None,
        True,
        400,
        "The body could not be read: its chunked framing is broken",
    ),
    (
        "a chunked body cut short",
        lambda limit: (b'{"st', ConnectionResetError()),
        None,
        True,
        400,
        "The body could not be read: its chunked framing is broken",
    ),
    (
        "chunked, broken after the limit",
        lambda limit: (_state_of(limit), _FramingError("invalid chunk size")),
        None,
        True,
        400,
        "The body could not be read: its chunked framing is broken",
    ),
]


@pytest.mark.parametrize(
    ("name", "body", "length", "terminated", "status", "detail"),
    BODY_READS,
    ids=[b[0] for b in BODY_READS],
)
def test_bodies_as_the_server_hands_them_over(app, name, body, length, terminated, status, detail):
    limit = app.config["MAX_CONTENT_LENGTH"]
    sent = body(limit)
    environ = {"wsgi.input": _Body(*sent) if isinstance(sent, tuple) else _Body(sent)}
    if terminated:
        environ["wsgi.input_terminated"] = True
    if length is not None:
        environ["CONTENT_LENGTH"] = str(length(limit))
    else:
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    client = app.test_client()
    response = client.post("/v1/advice", content_type="application/json", environ_overrides=environ)
    assert response.status_code == status, response.get_json()
    assert response.mimetype == PROBLEM
    problem = response.get_json()
    assert problem["detail"].startswith(detail), problem


@pytest.mark.parametrize("path", ["/v1/advice", "/v1/moderate"])
def test_a_body_that_does_not_arrive_in_time_is_a_408_problem(client, path):
    response = client.post(
        path,
        content_type="application/json",
        environ_overrides={"wsgi.input": _StalledBody(b'{"stage": "aft'), "CONTENT_LENGTH": "200"},
    )
    assert response.status_code == 408
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"] == (
        "The body did not arrive in time: its 200 bytes had not all come."
    )
