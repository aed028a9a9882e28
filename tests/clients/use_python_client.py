"""Run by tests/test_generated_client.py inside a throwaway venv with the generated client.

Calls the server at argv[1] through the client and checks the typed results;
prints "ok" when every check held.
"""

import json
import socket
import sys
import typing
from urllib.parse import urlsplit

from interview_advisor_api_client import Client
from interview_advisor_api_client.api.advice import advise
from interview_advisor_api_client.api.catalogue import get_guidance
from interview_advisor_api_client.api.moderation import moderate
from interview_advisor_api_client.models import (
    Advice,
    AdviceAction,
    Guidance,
    InterviewState,
    InterviewStateStage,
    ModerationRequest,
    Problem,
    UpcomingAction,
    Verdict,
)

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

print("ok")
