"""The interview state: its schema, and the flat fact the rules see.

Types are checked strictly here because the rules engine coerces loosely
(``"abc" >= 18`` is true there, ``1 == true``, ``null`` fails every
comparison yet counts as present): a value only reaches the engine once it
has exactly the type its field declares.

Time is counted two ways. With ``interview_ended_at`` the clock is known:
days are calendar days in the offset the interview end was given in ("the
day after" starts at the next midnight), and working days are Monday to
Friday. With ``hours_since`` alone the time of day is unknown: a day is a
24-hour period from the end of the interview, and every day counts as a
working day.

At stage ``closing`` the interview has not ended: ``hours_since`` must be 0
and an ``interview_ended_at`` must equal ``now``; anything else is refused
(422) rather than answered with in-room advice.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from marshmallow import Schema, ValidationError, fields, missing, validate, validates_schema

__all__ = [
    "FACT_FIELDS",
    "STAGES",
    "InterviewState",
    "InterviewStateSchema",
    "MAX_HOURS",
    "MAX_PLANS",
    "MAX_PLAN_CHARS",
    "load_state",
    "to_fact",
]

STAGES = ("closing", "after", "offer", "rejected", "next_round")
INTEREST = ("yes", "unsure", "no")
MAX_HOURS = 24 * 366 * 5  # five years: older interviews are not advised on
MAX_DAYS = 366
MAX_COUNT = 100
MAX_PLANS = 20
MAX_PLAN_CHARS = 500
#: Dates far outside this range are typing mistakes, and overflow date arithmetic.
MIN_YEAR, MAX_YEAR = 1970, 2999
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$"
)

#: What a rule may test, and the type of each fact (see `to_fact`).
FACT_FIELDS: dict[str, tuple] = {
    "stage": ("enum", STAGES),
    "hours_since": ("number",),
    "clock_known": ("bool",),
    "day": ("number",),
    "via_agency": ("bool",),
    "decision_known": ("bool",),
    "hours_past_grace": ("number",),
    "asked_next_steps": ("bool",),
    "thank_you_sent": ("bool",),
    "follow_ups_sent": ("number",),
    "notes_written": ("bool",),
    "feedback_received": ("bool",),
    "final_round": ("bool",),
    "referees_briefed": ("bool",),
    "linkedin_connected": ("bool",),
    "still_interested": ("enum", INTEREST),
    "competing_offers": ("number",),
}


class StrictBoolean(fields.Boolean):
    """A JSON true or false, nothing else (no "yes", 1 or "true")."""

    default_error_messages = {"invalid": "Not a boolean: use true or false."}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class StrictNumber(fields.Float):
    """A finite JSON number (no strings, booleans, NaN or infinity)."""

    default_error_messages = {"invalid": "Not a number."}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.make_error("invalid")
        return float(value) + 0.0  # -0.0 is 0


class StrictInteger(fields.Integer):
    """A JSON integer (no strings, booleans or fractions)."""

    default_error_messages = {"invalid": "Not an integer."}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        return value


class StrictString(fields.String):
    """A JSON string (no numbers)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise self.make_error("invalid")
        return value


class ShortList(fields.List):
    """A JSON array whose length (its Length validator's max) is checked before any
    item is read: a long array gets one error, not one per item."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, list):
            for check in self.validators:
                if isinstance(check, validate.Length) and check.max is not None:
                    check(value)
        return super()._deserialize(value, attr, data, **kwargs)


class AwareDateTime(fields.AwareDateTime):
    """An RFC 3339 date-time with a time-zone offset."""

    default_error_messages = {
        "invalid": "Not an RFC 3339 date-time (e.g. 2026-11-20T16:30:00+00:00).",
        "invalid_awareness": "Needs a time-zone offset (Z or +HH:MM).",
        "out_of_range": f"The year must lie between {MIN_YEAR} and {MAX_YEAR}.",
    }

    def __init__(self, **kwargs):
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not _RFC3339.match(value):
            raise self.make_error("invalid")
        if not MIN_YEAR <= int(value[:4]) <= MAX_YEAR:
            raise self.make_error("out_of_range")
        return super()._deserialize(value, attr, data, **kwargs)


#: Why stage `closing` refuses time since the interview ended.
CLOSING_HOURS = (
    "At stage closing the interview has not ended yet: hours_since must be 0 or left out."
)
CLOSING_END = (
    "At stage closing the interview has not ended yet: leave out interview_ended_at "
    "(or give now equal to it)."
)


def _check_hours(stage: str, hours: float) -> None:
    """Refuse an interview end after now, too long ago, or in the past at stage closing."""
    problem = None
    if hours < 0:
        problem = "The interview cannot end after now."
    elif hours > MAX_HOURS:
        problem = f"The interview ended more than {MAX_HOURS} hours before now."
    elif stage == "closing" and hours > 0:
        problem = CLOSING_END
    if problem:
        raise ValidationError({"interview_ended_at": [problem]})


def _count(**kwargs):
    return StrictInteger(validate=validate.Range(min=0, max=MAX_COUNT), **kwargs)


class InterviewStateSchema(Schema):
    """The request body of ``POST /v1/advice``; unknown fields are errors."""

    stage = StrictString(required=True, validate=validate.OneOf(STAGES))
    hours_since = StrictNumber(validate=validate.Range(min=0, max=MAX_HOURS))
    interview_ended_at = AwareDateTime()
    now = AwareDateTime()
    via_agency = StrictBoolean(load_default=False)
    decision_expected_in_days = StrictInteger(
        load_default=None, allow_none=True, validate=validate.Range(min=0, max=MAX_DAYS)
    )
    asked_next_steps = StrictBoolean(load_default=False)
    thank_you_sent = StrictBoolean(load_default=False)
    follow_ups_sent = _count(load_default=0)
    notes_written = StrictBoolean(load_default=False)
    feedback_received = StrictBoolean(load_default=False)
    final_round = StrictBoolean(load_default=False)
    referees_briefed = StrictBoolean(load_default=False)
    linkedin_connected = StrictBoolean(load_default=False)
    still_interested = StrictString(load_default="yes", validate=validate.OneOf(INTEREST))
    competing_offers = _count(load_default=0)
    plans = ShortList(
        StrictString(validate=validate.Length(max=MAX_PLAN_CHARS)),
        load_default=list,
        validate=validate.Length(max=MAX_PLANS),
    )

    @validates_schema
    def _one_clock(self, data, **_):
        ended, now = data.get("interview_ended_at"), data.get("now")
        if ended is not None and "hours_since" in data:
            raise ValidationError(
                "Give either hours_since or interview_ended_at, not both.", "hours_since"
            )
        if now is not None and ended is None:
            raise ValidationError("now is only used with interview_ended_at.", "now")
        if data.get("stage") == "closing" and data.get("hours_since", 0) > 0:
            raise ValidationError(CLOSING_HOURS, "hours_since")
        if ended is not None and now is not None:
            _check_hours(data["stage"], (now - ended).total_seconds() / 3600)


_SCHEMA = InterviewStateSchema()


#: The fields `load_state` reads by kind, each with its bounds or choices.
#: The state's true/false fields, as the schema declares them.
FLAGS = tuple(name for name, f in _SCHEMA.load_fields.items() if isinstance(f, StrictBoolean))
_COUNTS = ("follow_ups_sent", "competing_offers")
_CLOCKS = ("interview_ended_at", "now")
_DEFAULTS = {
    name: f.load_default
    for name, f in _SCHEMA.load_fields.items()
    if f.load_default is not missing and not callable(f.load_default)
}


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _plain(name: str, value):
    """`value` of field `name` as the schema loads it, or `_REFUSED` when the schema
    might say anything about it but yes."""
    if name in FLAGS:
        return value if isinstance(value, bool) else _REFUSED
    if name == "stage":
        return value if isinstance(value, str) and value in STAGES else _REFUSED
    if name == "hours_since":
        if isinstance(value, float) and math.isfinite(value) or _is_int(value):
            hours = float(value) + 0.0
            return hours if 0 <= hours <= MAX_HOURS else _REFUSED
        return _REFUSED
    if name in _COUNTS:
        return value if _is_int(value) and 0 <= value <= MAX_COUNT else _REFUSED
    if name == "decision_expected_in_days":
        return value if value is None or _is_int(value) and 0 <= value <= MAX_DAYS else _REFUSED
    if name == "still_interested":
        return value if isinstance(value, str) and value in INTEREST else _REFUSED
    if name == "plans":
        if not isinstance(value, list) or len(value) > MAX_PLANS:
            return _REFUSED
        if all(isinstance(p, str) and len(p) <= MAX_PLAN_CHARS for p in value):
            return list(value)
        return _REFUSED
    if name in _CLOCKS:
        try:
            return _SCHEMA.fields[name].deserialize(value)
        except ValidationError:
            return _REFUSED
    return _REFUSED  # not a field


_REFUSED = object()


def load_state(body: dict) -> dict:
    """`InterviewStateSchema().load(body)`, with the valid bodies of every day read
    by plain checks of each field.

    A body the checks cannot pass goes through the schema, which refuses it with
    the contract's messages (or, if the checks were too cautious, loads it): the
    checks only ever answer what the schema would.
    """
    loaded = {**_DEFAULTS, "plans": []}
    for name, value in body.items():
        value = _plain(name, value)
        if value is _REFUSED:
            return _SCHEMA.load(body)
        loaded[name] = value
    if "stage" not in loaded:
        return _SCHEMA.load(body)
    ended, now = loaded.get("interview_ended_at"), loaded.get("now")
    if ended is not None:
        if (
            "hours_since" in loaded
            or now is not None
            and not _hours_fit(loaded["stage"], now, ended)
        ):
            return _SCHEMA.load(body)
    elif now is not None or loaded["stage"] == "closing" and loaded.get("hours_since", 0) > 0:
        return _SCHEMA.load(body)
    return loaded


def _hours_fit(stage: str, now: datetime, ended: datetime) -> bool:
    try:
        _check_hours(stage, (now - ended).total_seconds() / 3600)
    except ValidationError:
        return False
    return True


@dataclass(frozen=True)
class InterviewState:
    """A validated interview state, with the clock resolved to hours."""

    stage: str
    hours_since: float = 0.0
    interview_ended_at: datetime | None = None
    via_agency: bool = False
    decision_expected_in_days: int | None = None
    asked_next_steps: bool = False
    thank_you_sent: bool = False
    follow_ups_sent: int = 0
    notes_written: bool = False
    feedback_received: bool = False
    final_round: bool = False
    referees_briefed: bool = False
    linkedin_connected: bool = False
    still_interested: str = "yes"
    competing_offers: int = 0
    plans: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def parse(cls, body: dict, now: datetime | None = None) -> InterviewState:
        """Validate a request body (ValidationError when invalid) and build the state;
        `now` defaults to the clock."""
        return cls.from_request(_SCHEMA.load(body), now or datetime.now(UTC))

    @classmethod
    def from_request(cls, data: dict, now: datetime) -> InterviewState:
        """Build from `InterviewStateSchema().load(...)`; `now` is the server clock."""
        data = dict(data)
        ended = data.get("interview_ended_at")
        reference = data.pop("now", None) or now.astimezone(ended.tzinfo if ended else None)
        if ended is not None:
            hours = (reference - ended).total_seconds() / 3600
            _check_hours(data["stage"], hours)
            data["hours_since"] = hours
        data["plans"] = tuple(data.get("plans", ()))
        return cls(**data)

    def at(self, hours: float) -> datetime | None:
        """The absolute time `hours` after the interview ended, when that is known."""
        if self.interview_ended_at is None:
            return None
        return self.interview_ended_at + timedelta(hours=hours)

    @property
    def clock_known(self) -> bool:
        return self.interview_ended_at is not None

    @property
    def day(self) -> int:
        """Days since the interview's day: 0 on that day, 1 the day after."""
        if self.interview_ended_at is None:
            return math.floor(self.hours_since / 24)
        return (self.at(self.hours_since).date() - self.interview_ended_at.date()).days

    def day_start(self, number: int) -> float:
        """Hours from the end of the interview to the start of day `number` after it."""
        if self.interview_ended_at is None:
            return 24.0 * number
        return self._hours_until(self.interview_ended_at.date() + timedelta(days=number))

    def decision_hours(self) -> float | None:
        """Hours from the end of the interview to the end of the stated decision date."""
        days = self.decision_expected_in_days
        if days is None:
            return None
        return 24.0 * days if self.interview_ended_at is None else self.day_start(days + 1)

    def grace_hours(self) -> float | None:
        """Hours from the end of the interview to the end of the first working day after
        the stated decision date: news may take that long to reach the candidate."""
        days = self.decision_expected_in_days
        if days is None:
            return None
        if self.interview_ended_at is None:
            return 24.0 * (days + 1)
        stated = self.interview_ended_at.date() + timedelta(days=days)
        return self._hours_until(_next_working_day(stated) + timedelta(days=1))

    def days_past_decision(self) -> int | None:
        """Calendar days since the stated decision date, when the clock is known."""
        if self.interview_ended_at is None or self.decision_expected_in_days is None:
            return None
        stated = self.interview_ended_at.date() + timedelta(days=self.decision_expected_in_days)
        return (self.at(self.hours_since).date() - stated).days

    def _hours_until(self, day: date) -> float:
        midnight = datetime.combine(day, time(0), tzinfo=self.interview_ended_at.tzinfo)
        return (midnight - self.interview_ended_at).total_seconds() / 3600


def _next_working_day(day: date) -> date:
    """The first Monday to Friday after `day`."""
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _hours(value: float) -> float:
    """Hours to a tenth of a second, which the engine reads without an exponent."""
    return round(float(value), 4) + 0.0


def to_fact(state: InterviewState) -> dict:
    """The flat fact the rules test: the state's fields plus derived ones.

    ``clock_known`` says whether the interview's end was given as a time;
    ``day`` counts days since the interview's day (see the module's docstring).
    ``decision_known`` says whether the employer gave a date; only then is
    ``hours_past_grace`` present: hours since the end of the first working
    day after the stated date. ``kind`` tells the state apart from the
    recommendation facts rules chain to.
    """
    fact = {
        "kind": "state",
        "stage": state.stage,
        "hours_since": _hours(state.hours_since),
        "clock_known": state.clock_known,
        "day": state.day,
        "via_agency": state.via_agency,
        "decision_known": state.decision_expected_in_days is not None,
        "asked_next_steps": state.asked_next_steps,
        "thank_you_sent": state.thank_you_sent,
        "follow_ups_sent": state.follow_ups_sent,
        "notes_written": state.notes_written,
        "feedback_received": state.feedback_received,
        "final_round": state.final_round,
        "referees_briefed": state.referees_briefed,
        "linkedin_connected": state.linkedin_connected,
        "still_interested": state.still_interested,
        "competing_offers": state.competing_offers,
    }
    if state.decision_expected_in_days is not None:
        fact["hours_past_grace"] = _hours(state.hours_since - state.grace_hours())
    return fact
