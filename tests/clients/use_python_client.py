"""Run by tests/test_generated_client.py inside a throwaway venv with the generated client.

Calls the server at argv[1] through the client and checks the typed results:
every operation, and each error the document names that a client can meet
(400, 401, 404, 406, 412, 413, 415, 422, 429; a 304 too). argv[2] is an API
key the server lists with a small rate limit of its own, so that a 429 comes
without touching anonymous callers. Every answer, at any depth, must be read
into the fields of its model: a field the server sends that the schema does not
name lands in a model's ``additional_properties``, which must stay empty.
Prints "ok" when every check held.
"""

import json
import socket
import sys
import typing
from datetime import datetime
from urllib.parse import urlsplit

import attrs
from interview_advisor_api_client import AuthenticatedClient, Client
from interview_advisor_api_client.api.advice import advise
from interview_advisor_api_client.api.catalogue import (
    get_guidance,
    get_rejected,
    get_sources,
    list_guidance,
    list_rejected,
    list_sources,
)
from interview_advisor_api_client.api.documentation import docs, openapi
from interview_advisor_api_client.api.drafts import draft
from interview_advisor_api_client.api.moderation import moderate
from interview_advisor_api_client.api.operations import live, metrics, ready
from interview_advisor_api_client.models import (
    Advice,
    AdviceAction,
    Draft,
    DraftDetails,
    DraftRequest,
    DraftRequestAction,
    Guidance,
    GuidanceList,
    InterviewState,
    InterviewStateStage,
    InterviewStateStillInterested,
    Live,
    ModerationRequest,
    Problem,
    Ready,
    Rejected,
    RejectedList,
    SourceDetail,
    SourceList,
    UpcomingAction,
    Verdict,
)

#: Models that are maps by design: their additional properties are their entries.
MAPS = {"ProblemErrors", "OpenapiResponse200"}


def undeclared(value, path: str = "answer") -> list[str]:
    """Where `value` (a parsed model, at any depth) holds fields its schema does not name."""
    found = []
    if isinstance(value, list):
        for index, item in enumerate(value):
            found += undeclared(item, f"{path}[{index}]")
    elif attrs.has(type(value)):
        extra = getattr(value, "additional_properties", None)
        if extra and type(value).__name__ not in MAPS:
            found.append(f"{path} ({type(value).__name__}): {sorted(extra)}")
        for name in attrs.fields_dict(type(value)):
            if name != "additional_properties":
                found += undeclared(getattr(value, name), f"{path}.{name}")
    return found


def answered(response, status: int, model):
    """The parsed answer, checked: the status, the model, and no field left unread."""
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert isinstance(response.parsed, model), (model, response.parsed)
    assert not undeclared(response.parsed), undeclared(response.parsed)
    return response.parsed


client = Client(base_url=sys.argv[1], raise_on_unexpected_status=True)
# The API key is optional: every call takes a plain Client, not only an AuthenticatedClient.
for call in (advise.sync, moderate.sync, get_guidance.sync):
    assert Client in typing.get_args(typing.get_type_hints(call)["client"]), call

state = InterviewState(
    stage=InterviewStateStage.AFTER,
    hours_since=2,
    via_agency=True,
    plans=["Three pints, then drive home"],
)
advice = advise.sync(client=client, body=state)
assert isinstance(advice, Advice), advice
assert all(isinstance(action, AdviceAction) for action in advice.actions)
assert advice.actions[0].id == "call-recruiter", advice.actions[0].id
assert advice.actions[0].sources[0].quote
assert advice.plans[0].verdict.value == "reject"
assert "impaired_driving" in advice.plans[0].categories
assert advice.ruleset.digest.startswith("sha256:")
# What comes next: typed like the actions, with when each starts.
assert [a.id for a in advice.upcoming][-1] == "accept-gracefully", advice.upcoming
assert all(isinstance(a, UpcomingAction) for a in advice.upcoming)
assert all(a.starts_in_hours > 0 for a in advice.upcoming)
assert not {a.id for a in advice.upcoming} & {a.id for a in advice.actions}

verdict = moderate.sync(client=client, body=ModerationRequest(text="Drive home after a few pints."))
assert isinstance(verdict, Verdict), verdict
assert verdict.flagged is True
assert "impaired_driving" in verdict.categories

guidance = get_guidance.sync(item_id="send-thank-you", client=client)
assert isinstance(guidance, Guidance), guidance
missing = get_guidance.sync_detailed(item_id="no-such-action", client=client)
assert missing.status_code == 404, missing.status_code
assert isinstance(missing.parsed, Problem), missing.parsed
assert missing.parsed.status == 404

refused = advise.sync_detailed(
    client=client, body=InterviewState(stage=InterviewStateStage.AFTER, hours_since=50_000)
)
assert refused.status_code == 422, refused.status_code
assert isinstance(refused.parsed, Problem), refused.parsed
assert "hours_since" in refused.parsed.errors.additional_properties, refused.parsed.errors

# A request the server refuses before the application reads it (two lengths) is a
# problem without `instance`, which the generated model reads too.
server = urlsplit(sys.argv[1])
with socket.create_connection((server.hostname, server.port), timeout=10) as sock:
    sock.sendall(
        b"POST /v1/advice HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}"
    )
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
head, _, body = received.partition(b"\r\n\r\n")
assert head.startswith(b"HTTP/1.1 400 "), head
framing = Problem.from_dict(json.loads(body))
assert framing.status == 400, framing
assert "Content-Length" in framing.detail, framing


# Every operation, answered and read into its models.
clock = InterviewState(
    stage=InterviewStateStage.AFTER,
    via_agency=True,
    decision_expected_in_days=3,
    interview_ended_at=datetime.fromisoformat("2026-11-20T16:30:00+01:00"),
    now=datetime.fromisoformat("2026-11-20T18:00:00+01:00"),
)
explained = answered(advise.sync_detailed(client=client, body=clock, explain=True), 200, Advice)
assert explained.explain
assert explained.explain_upcoming
for stage in InterviewStateStage:
    for interest in InterviewStateStillInterested:
        state = InterviewState(stage=stage, still_interested=interest, competing_offers=1)
        answered(advise.sync_detailed(client=client, body=state, explain=True), 200, Advice)
answered(
    moderate.sync_detailed(client=client, body=ModerationRequest(text="Thank them.")), 200, Verdict
)
for action in DraftRequestAction:
    request = DraftRequest(
        state=InterviewState(stage=InterviewStateStage.AFTER, hours_since=2, via_agency=True),
        action=action,
        details=DraftDetails(role="Data Analyst"),
    )
    answered(draft.sync_detailed(client=client, body=request), 200, Draft)
catalogues = [
    (list_guidance, GuidanceList, "guidance", get_guidance, Guidance),
    (list_rejected, RejectedList, "rejected", get_rejected, Rejected),
    (list_sources, SourceList, "sources", get_sources, SourceDetail),
]
for list_items, listed, field, get_item, item in catalogues:
    items = getattr(answered(list_items.sync_detailed(client=client), 200, listed), field)
    for one in items:
        answered(get_item.sync_detailed(item_id=one.id, client=client), 200, item)
    answered(get_item.sync_detailed(item_id="no-such-id", client=client), 404, Problem)
assert openapi.sync_detailed(client=client).status_code == 200
assert docs.sync(client=client).startswith("<!doctype html>")
answered(live.sync_detailed(client=client), 200, Live)
answered(ready.sync_detailed(client=client), 200, Ready)
# /metrics is served on a listener of its own: on the API's it is a 404.
answered(metrics.sync_detailed(client=client), 404, Problem)

# The conditional requests: a current tag, and one that is not.
tag = list_guidance.sync_detailed(client=client).headers["ETag"]
unchanged = list_guidance.sync_detailed(client=client, if_none_match=tag)
assert unchanged.status_code == 304, unchanged
assert unchanged.parsed is None, unchanged
answered(list_guidance.sync_detailed(client=client, if_match='"stale"'), 412, Problem)

# Errors the typed calls can meet, each a Problem.
request = DraftRequest(
    state=InterviewState(stage=InterviewStateStage.AFTER),
    action=DraftRequestAction.FOLLOW_UP,
    details=DraftDetails(highlight="Three pints, then drive home"),
)
refused = answered(draft.sync_detailed(client=client, body=request), 422, Problem)
assert "details.highlight" in refused.errors.additional_properties, refused.errors
huge = ModerationRequest(text="a" * 300_000)  # over the 256 KiB body limit
answered(moderate.sync_detailed(client=client, body=huge), 413, Problem)
html_only = client.with_headers({"Accept": "text/html"})
body = InterviewState(stage=InterviewStateStage.AFTER)
answered(advise.sync_detailed(client=html_only, body=body), 406, Problem)
wrong_key = AuthenticatedClient(base_url=sys.argv[1], token="not-a-listed-key")
answered(moderate.sync_detailed(client=wrong_key, body=ModerationRequest(text="Hi.")), 401, Problem)
keyed = AuthenticatedClient(base_url=sys.argv[1], token=sys.argv[2])
answers = [
    moderate.sync_detailed(client=keyed, body=ModerationRequest(text="Hi.")) for _ in range(10)
]
for answer in answers:  # served until the key's budget is spent, then refused
    assert answer.status_code in {200, 429}, answer.status_code
    answered(answer, answer.status_code, Verdict if answer.status_code == 200 else Problem)
limited = next(answer for answer in answers if answer.status_code == 429)
assert int(limited.headers["Retry-After"]) >= 1, limited.headers

# A body no typed call sends (not JSON, or JSON that is not), read with the same model.
raw = client.get_httpx_client()
for content, content_type, status in [
    (b'{"text": "Hi."}', "text/plain", 415),
    (b'{"text": ', "application/json", 400),
]:
    sent = raw.post("/v1/moderate", content=content, headers={"Content-Type": content_type})
    assert sent.status_code == status, sent
    problem = Problem.from_dict(sent.json())
    assert problem.status == status, problem
    assert not undeclared(problem), problem

print("ok")
