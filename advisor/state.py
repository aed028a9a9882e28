"""The interview state: its fields, each declared once (`STATE_FIELDS`), and what
is derived from them: the request schema, the fast reader of request bodies
(`load_state`), `InterviewState` and the flat fact the rules see (`to_fact`).

Types are checked strictly here because the rules engine coerces loosely
(``"abc" >= 18`` is true there, ``1 == true``, ``null`` fails every
comparison yet counts as present): a value only reaches the engine once it
has exactly the type its field declares.

Time is counted two ways. With ``interview_ended_at`` the clock is known:
days are calendar days in the offset the interview end was given in ("the
day after" starts at the next midnight, a decision promised for the
interview's own day has passed at its midnight). With ``hours_since`` alone
the time of day is unknown: a day is a 24-hour period from the end of the
interview (the rules take the day after to have begun 16 hours on). Either
way, a decision promised "within N days" (N at least one) has passed
N x 24 hours on.

At stage ``closing`` the interview has not ended: ``hours_since`` must be 0
and an ``interview_ended_at`` must equal ``now``; anything else is refused
(422) rather than answered with in-room advice.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from marshmallow import Schema, ValidationError, fields, missing, validate, validates_schema

from ._data import hint_unknown

__all__ = [
    "FACT_FIELDS",
    "STAGES",
    "InterviewState",
    "InterviewStateSchema",
    "MAX_HOURS",
    "MAX_PLANS",
    "MAX_PLAN_CHARS",
    "STATE_FIELDS",
    "StateField",
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
#: The longest RFC 3339 date-time `AwareDateTime` reads (35 characters), with room to spare.
MAX_DATE_TIME_CHARS = 40
#: RFC 3339's date-time (section 5.6), in ASCII digits (Python's ``\d`` takes any script's):
#: an offset of 00 to 23 hours and 00 to 59 minutes (Python reads ``+00:99`` as +01:39).
_RFC3339 = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?"
    r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"
)
#: Where a date-time's seconds are written.
_SECONDS = slice(17, 19)


class StrictBoolean(fields.Boolean):
    """A JSON true or false, nothing else (no "yes", 1 or "true")."""

    default_error_messages = {"invalid": "Not a boolean: use true or false."}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class StrictNumber(fields.Float):
    """A finite JSON number (no strings, booleans, NaN or infinity). A number written
    too large to read (``1e400``, which JSON allows) is out of range, not "not a number"."""

    default_error_messages = {
        "invalid": "Not a number.",
        "too_large": "Out of range: the number is too large to read.",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.make_error("invalid" if math.isnan(value) else "too_large")
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
        "leap_second": "A leap second (seconds of 60) cannot be placed: give 59, or 00 of "
        "the next minute.",
    }

    def __init__(self, **kwargs):
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        refusal = date_time_refusal(value)
        if refusal is not None:
            raise self.make_error(refusal)
        # RFC 3339 allows "t" and "z" in lower case; the ISO reader takes upper case only.
        return super()._deserialize(value.upper(), attr, data, **kwargs)


def date_time_refusal(value) -> str | None:
    """Why `AwareDateTime` refuses `value` before reading it (the key of its message),
    or None when it reads it as an ISO date-time."""
    if not isinstance(value, str) or not _RFC3339.match(value):
        return "invalid"
    if not MIN_YEAR <= int(value[:4]) <= MAX_YEAR:
        return "out_of_range"
    if value[_SECONDS] == "60":  # RFC 3339 allows it; no clock here can hold it
        return "leap_second"
    return None


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


# The kinds of value a field holds. Each knows its marshmallow field (which
# the contract's messages and the OpenAPI document come from), the plain
# check `load_state` reads valid bodies with, the widget's way of reading an
# attribute as it (`widget`: flag, number, text or lines), and the type of the
# fact the rules see (`fact`, see `FACT_FIELDS`).

#: What a plain check answers when only the schema can say what is wrong.
_REFUSED = object()


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Flag:
    """true or false."""

    python = bool
    widget = "flag"
    fact = ("bool",)

    def schema_field(self, **kwargs) -> fields.Field:
        return StrictBoolean(**kwargs)

    def checker(self):
        return lambda value: value if value is True or value is False else _REFUSED


@dataclass(frozen=True)
class Number:
    """A finite number from `minimum` to `maximum`, loaded as a float."""

    minimum: float
    maximum: float
    python = float
    widget = "number"
    fact = ("number",)

    def schema_field(self, **kwargs) -> fields.Field:
        return StrictNumber(validate=validate.Range(min=self.minimum, max=self.maximum), **kwargs)

    def checker(self):
        low, high = self.minimum, self.maximum

        def check(value):
            if isinstance(value, float) and math.isfinite(value) or _is_int(value):
                number = float(value) + 0.0
                if low <= number <= high:
                    return number
            return _REFUSED

        return check


@dataclass(frozen=True)
class Integer:
    """An integer from `minimum` to `maximum`, or null when `nullable`."""

    minimum: int
    maximum: int
    nullable: bool = False
    widget = "number"
    fact = ("number",)

    @property
    def python(self):
        return int | None if self.nullable else int

    def schema_field(self, **kwargs) -> fields.Field:
        check = validate.Range(min=self.minimum, max=self.maximum)
        return StrictInteger(validate=check, allow_none=self.nullable, **kwargs)

    def checker(self):
        low, high, nullable = self.minimum, self.maximum, self.nullable

        def check(value):
            if value is None:
                return None if nullable else _REFUSED
            return value if _is_int(value) and low <= value <= high else _REFUSED

        return check


@dataclass(frozen=True)
class Choice:
    """One of `choices` (strings)."""

    choices: tuple[str, ...]
    python = str
    widget = "text"

    @property
    def fact(self):
        return ("enum", self.choices)

    def schema_field(self, **kwargs) -> fields.Field:
        return StrictString(validate=validate.OneOf(self.choices), **kwargs)

    def checker(self):
        choices = frozenset(self.choices)
        return lambda value: value if isinstance(value, str) and value in choices else _REFUSED


@dataclass(frozen=True)
class DateTime:
    """An RFC 3339 date-time with an offset (`AwareDateTime`)."""

    python = datetime | None
    widget = "text"
    fact = None

    def schema_field(self, metadata=None, **kwargs) -> fields.Field:
        metadata = {**(metadata or {}), "maxLength": MAX_DATE_TIME_CHARS}
        return AwareDateTime(metadata=metadata, **kwargs)

    def checker(self):
        def check(value):
            # `AwareDateTime`'s reading (marshmallow's ISO format is `fromisoformat`),
            # without marshmallow's steps around it; its pattern asks for an offset.
            if date_time_refusal(value) is not None:
                return _REFUSED
            try:
                return datetime.fromisoformat(value.upper())
            except ValueError:
                return _REFUSED

        return check


@dataclass(frozen=True)
class Texts:
    """At most `max_items` strings of at most `max_chars` characters each; the state
    holds them as a tuple."""

    max_items: int
    max_chars: int
    python = tuple[str, ...]
    widget = "lines"
    fact = None

    def schema_field(self, load_default=missing, **kwargs) -> fields.Field:
        return ShortList(
            StrictString(validate=validate.Length(max=self.max_chars)),
            validate=validate.Length(max=self.max_items),
            # A new list for each body: the one loaded is the caller's to change.
            load_default=list if load_default == () else load_default,
            **kwargs,
        )

    def checker(self):
        most, longest = self.max_items, self.max_chars

        def check(value):
            if not isinstance(value, list) or len(value) > most:
                return _REFUSED
            if all(isinstance(p, str) and len(p) <= longest for p in value):
                return list(value)
            return _REFUSED

        return check


@dataclass(frozen=True)
class StateField:
    """One field of the interview state, as the request body names it.

    `default` is what the state holds when the field is left out; without one the
    field is `required`, or (`now`) only read while the state is built. A `clock`
    field is left out of the loaded body when it is not given, since the body
    names one clock (`hours_since` or `interview_ended_at`); every other default
    is loaded. A `fact` field is copied into the fact the rules test (`to_fact`;
    hours rounded to a tenth of a second): it must always hold a value of a type the
    rules compare (no null, no date-time or list).
    """

    name: str
    kind: Flag | Number | Integer | Choice | DateTime | Texts
    description: str
    default: object = missing
    required: bool = False
    clock: bool = False
    fact: bool = False

    def __post_init__(self):
        if self.fact and (self.kind.fact is None or getattr(self.kind, "nullable", False)):
            raise TypeError(f"{self.name}: the rules cannot test a value of {self.kind!r}")

    @property
    def attribute(self) -> str:
        """The widget's attribute: the name in kebab-case (``hours-since``)."""
        return self.name.replace("_", "-")

    @property
    def in_state(self) -> bool:
        """Whether `InterviewState` holds the field."""
        return self.required or self.default is not missing

    def schema_field(self) -> fields.Field:
        kwargs = {"metadata": {"description": self.description}}
        if self.required:
            kwargs["required"] = True
        elif self.default is not missing and not self.clock:
            kwargs["load_default"] = self.default
        return self.kind.schema_field(**kwargs)


def _flag(name: str, description: str) -> StateField:
    """Something the candidate has done or that is true of the interview: false by default."""
    return StateField(name, Flag(), description, default=False, fact=True)


def _count(name: str, description: str) -> StateField:
    return StateField(name, Integer(0, MAX_COUNT), description, default=0, fact=True)


#: The interview state, field by field, in the order of the request body's schema.
#: Adding a field here adds it to the schema, the OpenAPI document, the state, the
#: rules' facts (with `fact=True`), the widget's preset attributes and the tests'
#: generated states; the widget itself reads its attributes from its own list,
#: which a test holds to this one.
STATE_FIELDS: tuple[StateField, ...] = (
    StateField(
        "stage",
        Choice(STAGES),
        "`closing`: still in the room; `after`: over, no decision yet; `offer`: job "
        "offered; `rejected`: not successful; `next_round`: invited to a further stage.",
        required=True,
        fact=True,
    ),
    StateField(
        "hours_since",
        Number(0, MAX_HOURS),
        "Hours since the interview ended (default 0). Not with `interview_ended_at`. "
        "With `closing` the interview has not ended: more than 0 is refused (422).",
        default=0.0,
        clock=True,
        fact=True,
    ),
    StateField(
        "interview_ended_at",
        DateTime(),
        "RFC 3339 date-time with offset, instead of `hours_since`: actions then carry "
        "absolute `due` times in the same offset, and days are calendar days in that "
        "offset. Needed for `text/calendar`. With "
        "`closing` it must equal `now` (422 otherwise).",
        default=None,
        clock=True,
    ),
    StateField(
        "now",
        DateTime(),
        "Reference time for `interview_ended_at` (default: the server clock); not after "
        "it by more than five years, not before it.",
        clock=True,
    ),
    _flag("via_agency", "A recruitment consultant or agency arranged the interview."),
    StateField(
        "decision_expected_in_days",
        Integer(0, MAX_DAYS, nullable=True),
        "When the employer said they would decide, in days after the interview. A "
        "follow-up is advised once that time has passed without news: N x 24 hours on; "
        "for 0 (the interview's own day), its midnight with `interview_ended_at`, "
        "24 hours on with `hours_since`.",
        default=None,
    ),
    _flag("asked_next_steps", "The candidate already asked about next steps and the timeline."),
    _flag("thank_you_sent", "A thank-you was sent."),
    _count("follow_ups_sent", "Polite follow-ups already sent."),
    _flag("notes_written", "Notes on the interview are written."),
    _flag("feedback_received", "Feedback was received."),
    _flag("final_round", "This was (or is near) the final round."),
    _flag("referees_briefed", "The referees know they may be contacted."),
    _flag("linkedin_connected", "Connected with the interviewers on LinkedIn."),
    StateField(
        "still_interested",
        Choice(INTEREST),
        "Does the candidate still want the job.",
        default="yes",
        fact=True,
    ),
    _count("competing_offers", "Genuine offers in hand from elsewhere."),
    StateField(
        "plans",
        Texts(MAX_PLANS, MAX_PLAN_CHARS),
        f"What the candidate is thinking of doing, in their words (at most {MAX_PLANS}, "
        f"each at most {MAX_PLAN_CHARS} characters); each gets a verdict in `plans`.",
        default=(),
    ),
)

#: Facts computed from the state (`to_fact`), beside the state's own.
DERIVED_FACTS: dict[str, tuple] = {
    "clock_known": ("bool",),
    "day": ("number",),
    "decision_known": ("bool",),
    "hours_past_grace": ("number",),
}
#: What a rule may test, and the type of each fact (see `to_fact`).
FACT_FIELDS: dict[str, tuple] = {
    **{f.name: f.kind.fact for f in STATE_FIELDS if f.fact},
    **DERIVED_FACTS,
}
#: The state's true/false fields.
FLAGS = tuple(f.name for f in STATE_FIELDS if isinstance(f.kind, Flag))


class InterviewStateSchema(Schema.from_dict({f.name: f.schema_field() for f in STATE_FIELDS})):
    """The request body of ``POST /v1/advice``; unknown fields are errors."""

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

#: Each field's plain check, and the defaults the schema loads.
_CHECKS = {f.name: f.kind.checker() for f in STATE_FIELDS}
_DEFAULTS = {
    name: f.load_default
    for name, f in _SCHEMA.load_fields.items()
    if f.load_default is not missing and not callable(f.load_default)
}
#: Defaults made afresh for each body (a list the caller may change).
_FRESH_DEFAULTS = tuple(
    (name, f.load_default) for name, f in _SCHEMA.load_fields.items() if callable(f.load_default)
)


def load_state(body: dict) -> dict:
    """`InterviewStateSchema().load(body)`, with the valid bodies of every day read
    by plain checks of each field.

    A body the checks cannot pass goes through the schema, which refuses it with
    the contract's messages (or, if the checks were too cautious, loads it): the
    checks only ever answer what the schema would.
    """
    loaded = {**_DEFAULTS}
    for name, make in _FRESH_DEFAULTS:
        loaded[name] = make()
    for name, value in body.items():
        check = _CHECKS.get(name)
        if check is None:
            return _SCHEMA.load(body)
        value = check(value)
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


def _declared_fields(cls):
    """`cls` as a frozen dataclass of the state's fields (`STATE_FIELDS`)."""
    cls.__annotations__ = {}
    for f in STATE_FIELDS:
        if f.in_state:
            cls.__annotations__[f.name] = f.kind.python
            if not f.required:
                setattr(cls, f.name, f.default)
    return dataclass(frozen=True)(cls)


@_declared_fields
class InterviewState:
    """A validated interview state, with the clock resolved to hours: one attribute
    per field of `STATE_FIELDS` but `now`."""

    @classmethod
    def parse(cls, body: dict, now: datetime | None = None) -> InterviewState:
        """Validate a request body (ValidationError when invalid) and build the state;
        `now` defaults to the clock; an unknown field's error names the field closest to it."""
        try:
            data = _SCHEMA.load(body)
        except ValidationError as error:
            hint_unknown(error.messages, _SCHEMA)
            raise
        return cls.from_request(data, now or datetime.now(UTC))

    @classmethod
    def from_request(cls, data: dict, now: datetime) -> InterviewState:
        """Build from `InterviewStateSchema().load(...)`; `now` is the server clock."""
        data = dict(data)
        reference = data.pop("now", None)
        ended = data.get("interview_ended_at")
        if ended is not None:
            hours = ((reference or now.astimezone(ended.tzinfo)) - ended).total_seconds() / 3600
            _check_hours(data["stage"], hours)
            data["hours_since"] = hours
        data["plans"] = tuple(data.get("plans", ()))
        if "stage" not in data or not data.keys() <= _STATE_DEFAULTS.keys():
            return cls(**data)  # what a dataclass says of a missing or unknown field
        # Every field given is one of the state's, checked by the schema or `load_state`.
        return assembled(cls, _STATE_DEFAULTS, data)

    def with_hours(self, hours: float, **changes) -> InterviewState:
        """This state `hours` after the interview ended, with `changes` (fields of the
        state, of their types): what ``dataclasses.replace(self, **changes,
        hours_since=hours)`` gives, without building it field by field (the forecast
        asks for many moments of one state)."""
        return assembled(type(self), vars(self), {**changes, "hours_since": hours})

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
        """Hours from the end of the interview to when the stated decision time passed:
        "within N days" is N days of 24 hours, with the clock or without; a decision
        promised for the interview's own day passes at the end of that day when the
        clock is known (without it, that day's end is not known: at the interview's
        end)."""
        days = self.decision_expected_in_days
        if days is None:
            return None
        if days >= 1 or self.interview_ended_at is None:
            return 24.0 * days
        return self.day_start(1)

    def grace_hours(self) -> float | None:
        """Hours from the end of the interview to when the stated decision time has
        surely passed, as the contract's follow-up reads it ("once the stated time has
        passed"): N days of 24 hours for "within N days", with the clock or without,
        so that one interview told either way gets the same advice at the same moment;
        a decision promised for the interview's own day, at the end of that day when
        the clock is known, else 24 hours on, by when that day has surely ended."""
        hours = self.decision_hours()
        if hours is None or self.interview_ended_at is not None:
            return hours
        return max(hours, 24.0)

    def days_past_decision(self) -> int | None:
        """Calendar days since the stated decision date, when the clock is known."""
        if self.interview_ended_at is None or self.decision_expected_in_days is None:
            return None
        stated = self.interview_ended_at.date() + timedelta(days=self.decision_expected_in_days)
        return (self.at(self.hours_since).date() - stated).days

    def _hours_until(self, day: date) -> float:
        midnight = datetime.combine(day, time(0), tzinfo=self.interview_ended_at.tzinfo)
        return (midnight - self.interview_ended_at).total_seconds() / 3600


#: Every field of `InterviewState`, with its default (`missing` for one required).
_STATE_DEFAULTS = {f.name: f.default for f in STATE_FIELDS if f.in_state}


def assembled(cls, fields: dict, changes: dict | None = None):
    """An instance of the frozen dataclass `cls` with `fields`, then `changes`, set as
    the dataclass's own __init__ sets them (every name one of its fields, every value
    of its type, which the callers have checked), without a call per field: a state,
    and the parts of an answer, are built many times a request."""
    made = object.__new__(cls)
    made.__dict__.update(fields)
    if changes:
        made.__dict__.update(changes)
    return made


def _hours(value: float) -> float:
    """Hours to a tenth of a second, which the engine reads without an exponent."""
    return round(float(value), 4) + 0.0


#: The state's fields the rules see as they are.
_FACTS = tuple(f.name for f in STATE_FIELDS if f.fact)


def to_fact(state: InterviewState) -> dict:
    """The flat fact the rules test: the state's fields plus derived ones.

    ``clock_known`` says whether the interview's end was given as a time;
    ``day`` counts days since the interview's day (see the module's docstring).
    ``decision_known`` says whether the employer gave a date; only then is
    ``hours_past_grace`` present: hours since the stated decision time surely
    passed (`InterviewState.grace_hours`). ``kind`` tells the state apart from the
    recommendation facts rules chain to.
    """
    values = vars(state)
    fact = {name: values[name] for name in _FACTS}
    fact["kind"] = "state"
    fact["hours_since"] = _hours(state.hours_since)
    fact["clock_known"] = state.clock_known
    fact["day"] = state.day
    fact["decision_known"] = state.decision_expected_in_days is not None
    if state.decision_expected_in_days is not None:
        fact["hours_past_grace"] = _hours(state.hours_since - state.grace_hours())
    return fact
