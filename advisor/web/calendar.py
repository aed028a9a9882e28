"""The advice as an iCalendar plan: ``POST /v1/advice`` with ``Accept: text/calendar``.

One VEVENT per recommended action whose window is still open, most urgent
first, then one per upcoming action, in the order they start:

- ``DTSTART``/``DTEND``: the action's window after ``interview_ended_at``, in
  UTC, but never before the reference time (``now``, or the server clock): an
  action already due starts then, and one whose window has closed is no
  event. An open window (``end_hours`` null) becomes a one-hour event at its
  start, as does a window that ends where it starts. An upcoming action's
  event starts when it will become due (``starts``) and ends with the window
  it will have then.
- ``UID``: stable for one (ruleset digest, action id, interview end), so a
  calendar that imports the plan again updates its events instead of adding
  copies, whether an action was upcoming and is now due or the other way
  round; a new ruleset gives new events.
- ``SUMMARY`` the action's title; ``DESCRIPTION`` its detail, why it fired
  and every source as ``publisher: “quote”``, in the words the answer gives.
- ``DTSTAMP``: the reference time (``now``, or the server clock).
"""

from __future__ import annotations

import functools
import hashlib
from datetime import UTC, timedelta

from flask import Response, request
from icalendar import Calendar, Event
from marshmallow import ValidationError
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import NotAcceptable
from werkzeug.http import parse_accept_header

from .errors import shortened

__all__ = ["CALENDAR", "JSON", "calendar_response", "negotiate", "plan", "require_interview_end"]

JSON = "application/json"
CALENDAR = "text/calendar"
#: The length of the event for an open window.
OPEN_WINDOW_EVENT = timedelta(hours=1)
PRODID = "-//Interview Advisor//Advice API v1//EN"


def negotiate() -> str:
    """The media type to answer in, from ``Accept`` (JSON when absent); 406 if neither."""
    accept = request.environ.get("HTTP_ACCEPT", "")
    chosen = _best_match(accept) if accept else JSON
    if chosen is None:
        raise NotAcceptable(
            f"This endpoint answers in {JSON} or {CALENDAR}; "
            f"the Accept header allows neither ({shortened(accept)})."
        )
    return chosen


@functools.lru_cache(maxsize=256)
def _best_match(accept: str) -> str | None:
    # Clients send few distinct Accept headers, and the choice depends on nothing else.
    parsed = parse_accept_header(accept, MIMEAccept)
    return parsed.best_match((JSON, CALENDAR)) if parsed else JSON


def require_interview_end(state) -> None:
    """A calendar needs absolute times: 422 naming interview_ended_at without one."""
    if state.interview_ended_at is None:
        raise ValidationError(
            {
                "interview_ended_at": [
                    f"Needed for a {CALENDAR} plan: give the time the interview ended "
                    "(RFC 3339 with offset) instead of hours_since."
                ]
            }
        )


def refuse_json_only(explain: bool, plans) -> None:
    """A calendar holds the actions alone: 422 naming what only the JSON answer carries
    (`?explain`, and the verdicts on `plans`), rather than answering without it."""
    errors = {}
    if explain:
        errors["explain"] = [f"Answered in JSON only: leave it out of a {CALENDAR} request."]
    if plans:
        errors["plans"] = [
            f"Plans are judged in the JSON answer only: ask for application/json, or "
            f"leave them out of a {CALENDAR} request."
        ]
    if errors:
        raise ValidationError(errors)


def _uid(digest: str, action_id: str, ended) -> str:
    key = f"{digest}|{action_id}|{ended.astimezone(UTC).isoformat()}"
    return hashlib.sha256(key.encode()).hexdigest()[:32] + "@interview-advisor"


def _description(item) -> str:
    sources = "\n".join(f"- {c.source.publisher}: “{c.quote}”" for c in item.sources)
    return f"{item.detail}\n\nWhy: {' '.join(item.because)}\n\nSources:\n{sources}"


def _event(item, state, digest: str, stamp, begins=None) -> Event | None:
    """The event of `item` from `stamp` (the reference time), or from `begins` if later, on;
    None once its window has closed."""
    start = state.at(item.start_hours)
    end = state.at(item.end_hours) if item.end_hours is not None else None
    if end is not None and (end < stamp or (end == stamp and start < end)):
        return None
    start = max(start, stamp if begins is None else max(stamp, begins))
    if end is None or end <= start:
        end = start + OPEN_WINDOW_EVENT
    event = Event()
    event.add("uid", _uid(digest, item.action.id, state.interview_ended_at))
    event.add("dtstamp", stamp)
    event.add("dtstart", start.astimezone(UTC))
    event.add("dtend", end.astimezone(UTC))
    event.add("summary", item.title)
    event.add("description", _description(item))
    # A reminder to act, not a meeting: it does not mark the time as busy.
    event.add("transp", "TRANSPARENT")
    return event


def plan(advice, state) -> bytes:
    """The iCalendar text for `advice` on `state` (which has an interview end)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", "After the interview")
    stamp = state.at(state.hours_since).astimezone(UTC)
    for item in advice.actions:
        event = _event(item, state, advice.digest, stamp)
        if event is not None:
            calendar.add_component(event)
    for item in advice.upcoming:
        event = _event(item, state, advice.digest, stamp, state.at(item.starts_hours))
        if event is not None:
            calendar.add_component(event)
    return calendar.to_ical()


def calendar_response(advice, state) -> Response:
    """The plan as a ``text/calendar`` download."""
    try:
        body = plan(advice, state)
    except OverflowError as error:
        # Within a day of year 1 or 9999 the UTC times do not exist.
        raise ValidationError(
            {"interview_ended_at": ["Too far from the present to place on a calendar."]}
        ) from error
    response = Response(body, mimetype=CALENDAR)
    response.headers["Content-Disposition"] = 'attachment; filename="interview-plan.ics"'
    return response
