"""Drafts: a ready-to-edit message for the recommended actions that are a message.

Templates are data (``content/drafts.yaml``). Each action lists variants; the
first whose conditions hold for the interview state is used (the conditions of
the rules, on the same facts). A variant has a channel, a recipient, a subject
(email only), a body with slots for the candidate's details, and the quotes of
the articles it follows (checked verbatim when loading, like the catalogue's).

The candidate's details are plain text of one line, at most `MAX_DETAIL_CHARS`
each; each is screened by moderation, and a flagged one is refused naming its
field. A detail left out shows a placeholder ("[interviewer's name]").
Loading also runs a gate: every variant, filled with sample details and with
placeholders, must pass moderation, as a whole and sentence by sentence, and a capped body (LinkedIn's connection
note) must fit its cap even with every detail at its longest.

    drafts = load_drafts(content_dir, engine.catalogue, engine.moderator)
    draft = drafts.draft("send-thank-you", state, {"role": "Data analyst"})

Nothing here imports Flask.
"""

from __future__ import annotations

import string
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ._data import DataError, load_yaml
from .content import Catalogue, Citation, QuoteSchema, cite
from .moderation import CATEGORIES, Moderator
from .rules import Condition, _field_conditions
from .schemas import CitationSchema, required_list, required_strings, required_text
from .state import InterviewState, StrictString, to_fact

__all__ = [
    "CHANNELS",
    "DETAIL_FIELDS",
    "DRAFT_ACTIONS",
    "MAX_DETAIL_CHARS",
    "Draft",
    "DraftDetailsSchema",
    "DraftSchema",
    "Drafts",
    "Template",
    "load_draft_cases",
    "load_drafts",
    "run_draft_cases",
]

#: The actions with a draft, in the contract's order.
DRAFT_ACTIONS = (
    "send-thank-you",
    "follow-up",
    "follow-up-via-recruiter",
    "ask-for-feedback",
    "withdraw-politely",
    "connect-on-linkedin",
    "call-recruiter",
)
#: The details a candidate may give, each filling the slot of the same name.
DETAIL_FIELDS = ("candidate_name", "recipient_name", "role", "company", "highlight")
MAX_DETAIL_CHARS = 200
CHANNELS = ("email", "linkedin", "phone")
#: Harmless details of every length the gate fills the templates with.
SAMPLE_DETAILS = {
    "candidate_name": "Alex Morgan",
    "recipient_name": "Sam Patel",
    "role": "Data Analyst",
    "company": "Northwind",
    "highlight": "my experience of building reports for a small team",
}
PLAIN_TEXT = "Plain text on one line: no control characters or line breaks."


#: The format characters a detail may hold: the zero-width non-joiner and joiner, which
#: some scripts need to spell a name (Persian, the Indic scripts) and emoji sequences use.
#: Every other one (bidirectional overrides, zero-width spaces, a BOM) is refused.
JOINERS = frozenset("\u200c\u200d")


def _plain_text(value: str) -> None:
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") and c not in JOINERS for c in value):
        raise ValidationError(PLAIN_TEXT)


def _detail(name: str) -> StrictString:
    return StrictString(
        validate=[validate.Length(max=MAX_DETAIL_CHARS), _plain_text],
        metadata={"description": DETAIL_DESCRIPTIONS[name]},
    )


DETAIL_DESCRIPTIONS = {
    "candidate_name": "Your name, to sign with.",
    "recipient_name": "Who the message is for: the interviewer, hiring manager or "
    "consultant, as the draft says.",
    "role": "The job title.",
    "company": "The employer.",
    "highlight": "One thing you want them to remember: a strength that fits the role, or a "
    "better answer to a question you found hard.",
}


class DraftDetailsSchema(Schema):
    """The candidate's own words for the draft's slots; each optional, plain text of at
    most 200 characters, screened by moderation (a flagged one is refused)."""

    candidate_name = _detail("candidate_name")
    recipient_name = _detail("recipient_name")
    role = _detail("role")
    company = _detail("company")
    highlight = _detail("highlight")


@dataclass(frozen=True)
class Template:
    """One variant of an action's draft."""

    action: str
    id: str
    conditions: tuple[Condition, ...]
    recipient: str
    channel: str
    subject: str | None
    bodies: tuple[str, ...]  # the body, then shorter ones for `max_chars`
    max_chars: int | None
    guidance: tuple[Citation, ...]

    def applies(self, fact: dict) -> bool:
        return all(c.holds(fact) for c in self.conditions)


@dataclass(frozen=True)
class Draft:
    """A filled draft; `unfilled` names the details whose placeholders it still shows."""

    action: str
    variant: str
    channel: str
    recipient: str
    subject: str | None
    body: str
    guidance: tuple[Citation, ...]
    unfilled: tuple[str, ...]


class DraftSchema(Schema):
    """A ready-to-edit message (or, for a call, talking points) for one action."""

    action = required_text("The action id.")
    variant = required_text("Which variant of the draft the state chose.")
    channel = required_text(
        "`email`, `linkedin` (a connection note) or `phone`.", validate=validate.OneOf(CHANNELS)
    )
    recipient = required_text("Who it is for: `interviewer`, `hiring manager`, `consultant`.")
    subject = fields.String(
        metadata={"description": "The email's subject line (email only)."},
    )
    body = required_text(
        "The text to edit and send; a LinkedIn note is at most 300 "
        "characters. Missing details show a placeholder in square brackets."
    )
    guidance = required_list(
        CitationSchema, "The article advice the draft follows, quoted verbatim."
    )
    unfilled = required_strings("The details left out, whose placeholders the draft shows.")


_DUMP = DraftSchema()


def dump_draft(draft: Draft) -> dict:
    body = _DUMP.dump(draft)
    if draft.subject is None:
        body.pop("subject")
    return body


class Drafts:
    """Every action's draft templates, checked, ready to fill."""

    def __init__(self, templates: dict[str, tuple[Template, ...]], placeholders, moderator):
        self.templates = templates
        self.placeholders = placeholders
        self.moderator = moderator

    def template(self, action: str, state: InterviewState) -> Template:
        """The variant of `action`'s draft for `state`."""
        fact = to_fact(state)
        return next(t for t in self.templates[action] if t.applies(fact))

    def draft(self, action: str, state: InterviewState, details: dict) -> Draft:
        """The draft of `action` for `state`, filled with `details`.

        Raises ValidationError naming ``details.<field>`` when moderation flags one.
        """
        given = {k: v.strip() for k, v in details.items() if v and v.strip()}
        flagged = {}
        for name, value in given.items():
            verdict = self.moderator.moderate(value)
            if verdict.flagged:
                flagged[name] = [
                    "Refused by the moderation screen as "
                    f"{', '.join(c.replace('_', ' ') for c in verdict.categories)}."
                ]
        if flagged:
            raise ValidationError({"details": flagged})
        return self.fill(self.template(action, state), given)

    def fill(self, template: Template, given: dict) -> Draft:
        """`template` with the `given` details and placeholders for the rest."""
        values = {**_placeholders(self, template), **given}
        for raw in template.bodies:
            body = self._fill(raw, values)
            if template.max_chars is None or len(body) <= template.max_chars:
                break
        else:  # the gate makes sure the last body fits: never reached
            raise AssertionError(f"{template.action}/{template.id}: no body fits")
        subject = self._fill(template.subject, values) if template.subject else None
        used = _slots(raw) | _slots(template.subject or "")
        unfilled = tuple(n for n in DETAIL_FIELDS if n in used and n not in given)
        return Draft(
            template.action,
            template.id,
            template.channel,
            template.recipient,
            subject,
            body,
            template.guidance,
            unfilled,
        )

    def _fill(self, text: str, values: dict) -> str:
        # Details are values, never parsed as templates: "{role}" typed by a
        # candidate stays as typed.
        return text.format_map(values)


def _slots(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


# --- Loading -----------------------------------------------------------------------


#: What a variant holds when it is written out (not `same_as` another action's).
_WRITTEN = ("recipient", "channel", "body", "guidance")


class _VariantSchema(Schema):
    id = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9-]*$"))
    when = fields.Dict(keys=fields.String(), load_default=dict)
    #: The state's draft is that action's, as its own variants choose (for example a
    #: follow-up on the agency route, which goes through the consultant).
    same_as = fields.String(validate=validate.OneOf(DRAFT_ACTIONS))
    recipient = fields.String(validate=validate.Length(min=1, max=40))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    subject = fields.String(validate=validate.Length(min=1, max=120))
    body = fields.String(validate=validate.Length(min=1))
    shorter = fields.List(fields.String(validate=validate.Length(min=1)), load_default=list)
    max_chars = fields.Integer(strict=True, validate=validate.Range(min=1))
    guidance = fields.List(fields.Nested(QuoteSchema), validate=validate.Length(1))

    @validates_schema
    def _written_or_same_as(self, data, **_):
        if "same_as" in data:
            extra = [k for k in data if k not in ("id", "when", "same_as", "shorter")]
            if extra or data["shorter"]:
                raise ValidationError(
                    "a variant that is the same as another has nothing else", "same_as"
                )
            return
        for name in _WRITTEN:
            if name not in data:
                raise ValidationError("Missing data for required field.", name)

    @validates_schema
    def _subject_for_email(self, data, **_):
        if "same_as" in data:
            return
        if (data.get("channel") == "email") != ("subject" in data):
            raise ValidationError("an email has a subject, and only an email", "subject")
        if data.get("shorter") and "max_chars" not in data:
            raise ValidationError("shorter bodies need max_chars", "shorter")


class _ActionDraftsSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(DRAFT_ACTIONS))
    variants = fields.List(
        fields.Nested(_VariantSchema), required=True, validate=validate.Length(1)
    )


class _PlaceholdersSchema(Schema):
    candidate_name = fields.String(required=True)
    recipient_name = fields.String(required=True)
    role = fields.String(required=True)
    company = fields.String(required=True)
    highlight = fields.String(required=True)


class _DraftsFileSchema(Schema):
    placeholders = fields.Nested(_PlaceholdersSchema, required=True)
    drafts = fields.List(fields.Nested(_ActionDraftsSchema), required=True)


def _template(action: str, raw: dict, where: str, catalogue: Catalogue) -> Template:
    texts = {"body": raw["body"], **{f"shorter.{i}": t for i, t in enumerate(raw["shorter"])}}
    if "subject" in raw:
        texts["subject"] = raw["subject"]
    for field, text in texts.items():
        try:
            unknown = _slots(text) - set(DETAIL_FIELDS)
        except ValueError as error:
            raise DataError(f"{where}.{field}: {error}") from error
        if unknown:
            raise DataError(
                f"{where}.{field}: unknown slot {sorted(unknown)[0]!r} "
                f"(known: {', '.join(DETAIL_FIELDS)})"
            )
    conditions = _conditions(raw, where)
    guidance = cite(raw["guidance"], where, catalogue.sources)
    if all(c.source.nature == "satirical" for c in guidance):
        raise DataError(f"{where}.guidance: rests on a satirical source alone")
    return Template(
        action=action,
        id=raw["id"],
        conditions=tuple(conditions),
        recipient=raw["recipient"],
        channel=raw["channel"],
        subject=raw.get("subject"),
        bodies=(raw["body"], *raw["shorter"]),
        max_chars=raw.get("max_chars"),
        guidance=guidance,
    )


def _conditions(raw: dict, where: str) -> tuple[Condition, ...]:
    conditions = []
    for name, spec in raw["when"].items():
        try:
            conditions += _field_conditions(name, spec, f"when.{name}")
        except ValidationError as error:
            raise DataError(f"{where}.{error.messages[0]}") from error
    return tuple(conditions)


@dataclass(frozen=True)
class _SameAs:
    """A variant whose draft is another action's, for the states its conditions hold."""

    action: str
    id: str
    conditions: tuple[Condition, ...]
    same_as: str


def _resolved(templates: dict, action: str, variants, where: str) -> list[Template]:
    """`variants` with each `_SameAs` replaced by the other action's own variants, each
    under both conditions, named ``<id>-<their id>`` and drafted as `action`."""
    resolved = []
    for variant in variants:
        if not isinstance(variant, _SameAs):
            resolved.append(variant)
            continue
        other = templates[variant.same_as]
        if variant.same_as == action or any(isinstance(v, _SameAs) for v in other):
            raise DataError(f"{where}.variants.{variant.id}.same_as: names a draft of its own kind")
        resolved += [
            replace(
                template,
                action=action,
                id=f"{variant.id}-{template.id}",
                conditions=variant.conditions + template.conditions,
            )
            for template in other
        ]
    return resolved


def load_drafts(content_dir: Path, catalogue: Catalogue, moderator: Moderator) -> Drafts:
    """Load and check ``drafts.yaml`` in `content_dir`, or raise DataError naming the field."""
    path = Path(content_dir) / "drafts.yaml"
    raw = load_yaml(path, _DraftsFileSchema())
    templates: dict[str, tuple[Template, ...]] = {}
    for item in raw["drafts"]:
        action = item["action"]
        where = f"{path}: drafts.{action}"
        if action in templates:
            raise DataError(f"{where}: action listed twice")
        variants = []
        for raw_variant in item["variants"]:
            at = f"{where}.variants.{raw_variant['id']}"
            if any(v.id == raw_variant["id"] for v in variants):
                raise DataError(f"{at}: variant listed twice")
            variants.append(
                _template(action, raw_variant, at, catalogue)
                if "same_as" not in raw_variant
                else _SameAs(
                    action, raw_variant["id"], _conditions(raw_variant, at), raw_variant["same_as"]
                )
            )
        if variants[-1].conditions:
            raise DataError(f"{where}.variants.{variants[-1].id}.when: the last variant has none")
        templates[action] = variants
    for action, variants in templates.items():
        templates[action] = tuple(
            _resolved(templates, action, variants, f"{path}: drafts.{action}")
        )
    missing = [a for a in DRAFT_ACTIONS if a not in templates]
    if missing:
        raise DataError(f"{path}: no draft for {', '.join(missing)}")
    drafts = Drafts(templates, raw["placeholders"], moderator)
    problems = _gate(drafts)
    if problems:
        raise DataError(f"{path}: " + "; ".join(problems))
    return drafts


def _gate(drafts: Drafts) -> list[str]:
    """What is wrong with filling the templates: flagged text, a cap not kept."""
    problems = []
    longest = dict.fromkeys(DETAIL_FIELDS, "x" * MAX_DETAIL_CHARS)
    for variants in drafts.templates.values():
        for template in variants:
            name = f"drafts.{template.action}.variants.{template.id}"
            for label, given in (("sample details", SAMPLE_DETAILS), ("placeholders", {})):
                for body in template.bodies:
                    text = drafts._fill(body, {**_placeholders(drafts, template), **given})
                    flagged = _flagged_anywhere(drafts.moderator, text)
                    if flagged:
                        problems.append(f"{name} with {label} is flagged as {', '.join(flagged)}")
                if template.subject:
                    subject = drafts._fill(
                        template.subject, {**_placeholders(drafts, template), **given}
                    )
                    if drafts.moderator.moderate(subject).flagged:
                        problems.append(f"{name}.subject with {label} is flagged")
            if template.max_chars is not None:
                last = drafts._fill(template.bodies[-1], longest)
                if len(last) > template.max_chars:
                    problems.append(
                        f"{name}: the last body runs to {len(last)} characters with the longest "
                        f"details, over max_chars {template.max_chars}"
                    )
    return problems


def _flagged_anywhere(moderator: Moderator, text: str) -> list[str]:
    """The categories flagged in `text`, or in any of its sentences read alone.

    Our own templates are held to both: polite sentences around a harmful one
    may read to the screen as a text that does not endorse it, and a template
    must hold no such sentence at all."""
    verdict = moderator.moderate(text)
    found = set(verdict.categories)
    for sentence in verdict.sentences:
        found.update(moderator.moderate(text[sentence.start : sentence.end]).categories)
    return [c for c in CATEGORIES if c in found]


def _placeholders(drafts: Drafts, template: Template) -> dict:
    return {
        name: drafts.placeholders[name].format(recipient=template.recipient)
        for name in DETAIL_FIELDS
    }


# --- Cases -------------------------------------------------------------------------


class _ExpectSchema(Schema):
    variant = fields.String()
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    recipient = fields.String()
    subject = fields.String()
    includes = fields.List(fields.String(), load_default=list)
    excludes = fields.List(fields.String(), load_default=list)
    unfilled = fields.List(fields.String(validate=validate.OneOf(DETAIL_FIELDS)))
    max_chars = fields.Integer(strict=True)


class _CaseSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1))
    action = fields.String(required=True, validate=validate.OneOf(DRAFT_ACTIONS))
    state = fields.Dict(required=True)
    details = fields.Dict(load_default=dict)
    expect = fields.Nested(_ExpectSchema, required=True)


class _CasesFileSchema(Schema):
    cases = fields.List(fields.Nested(_CaseSchema), required=True, validate=validate.Length(1))


def load_draft_cases(content_dir: Path) -> list[dict]:
    """The cases of ``drafts.cases.yaml`` in `content_dir`, or DataError naming the field."""
    return load_yaml(Path(content_dir) / "drafts.cases.yaml", _CasesFileSchema())["cases"]


def check_case(drafts: Drafts, case: dict) -> list[str]:
    """What the draft for `case` gets wrong; empty when it is as expected."""
    try:
        state = InterviewState.parse(case["state"])
        details = DraftDetailsSchema().load(case["details"])
        draft = drafts.draft(case["action"], state, details)
    except ValidationError as error:
        return [f"refused: {error.messages}"]
    expect, problems = case["expect"], []
    for name in ("variant", "channel", "recipient", "subject", "unfilled"):
        if name in expect:
            got = getattr(draft, name)
            got = list(got) if isinstance(got, tuple) else got
            if got != expect[name]:
                problems.append(f"{name} is {got!r}, expected {expect[name]!r}")
    problems += [f"body lacks {text!r}" for text in expect["includes"] if text not in draft.body]
    problems += [f"body has {text!r}" for text in expect["excludes"] if text in draft.body]
    if "max_chars" in expect and len(draft.body) > expect["max_chars"]:
        problems.append(f"body has {len(draft.body)} characters, over {expect['max_chars']}")
    return problems


def run_draft_cases(drafts: Drafts, cases: list[dict]) -> tuple[dict[str, list[str]], list[str]]:
    """Each failing case's problems by name, and the variants no case reaches."""
    failures = {}
    for case in cases:
        problems = check_case(drafts, case)
        if problems:
            failures[case["name"]] = problems
    reached = {(c["action"], c["expect"].get("variant")) for c in cases}
    unreached = [
        f"{action}/{t.id}"
        for action, variants in drafts.templates.items()
        for t in variants
        if (action, t.id) not in reached
    ]
    return failures, unreached
