"""Response schemas: how engine results are written as JSON (shared by HTTP and CLI).

The same schemas document the responses in the OpenAPI document
(`advisor.web.openapi`), so every field is typed and says whether it is
always present (``required``) and may be null (``allow_none``).
"""

from __future__ import annotations

from marshmallow import Schema, fields, missing, post_dump, pre_dump, validate

from .answer import plan_summary
from .content import NATURES

__all__ = [
    "AdviceActionSchema",
    "AdviceSchema",
    "AvoidSchema",
    "CitationSchema",
    "GuidanceListSchema",
    "GuidanceSchema",
    "PlanSchema",
    "RejectedListSchema",
    "RejectedSchema",
    "QuoteUseSchema",
    "RulesetSchema",
    "SentenceSchema",
    "SourceDetailSchema",
    "SourceListSchema",
    "SourceSchema",
    "TraceSchema",
    "UpcomingActionSchema",
    "UpcomingTraceSchema",
    "VariantSchema",
    "VerdictSchema",
    "dump_advice",
    "dump_source",
    "dump_trace",
    "dump_upcoming_trace",
    "dump_verdict",
]


class JoinedText(fields.String):
    """A tuple of sentences written as one string."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else " ".join(value)


class SecondsDateTime(fields.DateTime):
    """An aware date-time written in RFC 3339 to the second, in its own offset."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.isoformat(timespec="seconds")


class Flattened(fields.Nested):
    """A nested object whose fields are read from the parent object itself."""

    def get_value(self, obj, attr, accessor=None, default=missing):
        return obj


def required(field: type[fields.Field], description: str, *args, **kwargs) -> fields.Field:
    """A `field` every response carries, described for the OpenAPI document."""
    return field(*args, required=True, metadata={"description": description}, **kwargs)


def required_text(description: str, **kwargs) -> fields.String:
    return required(fields.String, description, **kwargs)


def required_strings(description: str, **kwargs) -> fields.List:
    return required(fields.List, description, fields.String(), **kwargs)


def required_list(schema: type[Schema], description: str, **kwargs) -> fields.List:
    """A list of `schema` objects every response carries."""
    return required(fields.List, description, fields.Nested(schema), **kwargs)


RECOMMENDED_BY = "The article passages that recommend it, quoted verbatim."
GIVEN_BY_SATIRE = "The satire's passages that give this advice, quoted verbatim."


class CitationSchema(Schema):
    """A verbatim quote from one of the five articles, with the article it is from."""

    id = required_text("The source's id.", attribute="source.id")
    title = required_text("The article's title.", attribute="source.title")
    publisher = required_text("Who published or wrote it.", attribute="source.publisher")
    nature = required_text(
        "`sincere`, or `satirical` for the article that mixes sound tips with unsafe advice.",
        attribute="source.nature",
        validate=validate.OneOf(NATURES),
    )
    quote = required_text("Verbatim from the article (white space folded).")


class SourceSchema(Schema):
    """One article of the corpus."""

    id = required_text("Stable id of the article.")
    title = required_text("The article's title.")
    publisher = required_text("Who published or wrote it.")
    nature = required_text("`sincere` or `satirical`.", validate=validate.OneOf(NATURES))
    note = required(fields.String, "An editor's note, if any.", allow_none=True)


class QuoteUseSchema(Schema):
    """A quote cited from the article, and the catalogue items that cite it."""

    quote = required_text("Verbatim from the article (white space folded).")
    guidance = required_strings("Ids of the recommended actions that cite it.")
    rejected = required_strings("Ids of the rejected advice that cites it.")


class SourceDetailSchema(SourceSchema):
    """One article of the corpus and the quotes cited from it; never its full text
    (the articles belong to their publishers)."""

    quotes = required_list(QuoteUseSchema, "Every quote the catalogue cites from it, in its order.")


class VariantSchema(Schema):
    """The action put for one situation; the rules choose when."""

    id = required_text("Stable id of the variant within its action.")
    title = required_text("The action in a few words, for that situation.")
    detail = required_text("What to do, for that situation.")
    sources = required_list(CitationSchema, RECOMMENDED_BY)


class GuidanceSchema(Schema):
    """A recommended action with the quotes it rests on, and its wording variants."""

    id = required_text("Stable id of the recommended action.")
    title = required_text("The action in a few words.")
    detail = required_text("What to do, in a sentence or two.")
    sources = required_list(CitationSchema, RECOMMENDED_BY)
    variants = required_list(
        VariantSchema,
        "The same action put for particular situations; an answer of "
        "`POST /v1/advice` carries the words of the situation it fired in.",
    )


class RejectedSchema(Schema):
    """Advice that is refused, why, and what to do instead."""

    id = required_text("Stable id of the rejected advice.")
    category = required_text("Its moderation category.")
    harm = required_text("The kind of harm it does.")
    advice = required_text("The unsafe advice, in short.")
    reason = required_text("Why it is refused.")
    instead = required_strings("Ids of the recommended actions to do instead.")
    sources = required_list(CitationSchema, GIVEN_BY_SATIRE)


class GuidanceListSchema(Schema):
    """The response of ``GET /v1/guidance``."""

    guidance = required_list(GuidanceSchema, "Every recommended action of the catalogue.")


class RejectedListSchema(Schema):
    """The response of ``GET /v1/rejected``."""

    rejected = required_list(RejectedSchema, "Every piece of rejected advice of the catalogue.")


class SourceListSchema(Schema):
    """The response of ``GET /v1/sources``."""

    sources = required_list(SourceSchema, "Every article of the corpus.")


class RulesetSchema(Schema):
    version = required_text("Version of the rules and content.")
    digest = required_text("`sha256:` digest of the rules, content and moderation data.")


class WindowSchema(Schema):
    """When to act, in hours after the interview ended."""

    start_hours = required(fields.Float, "Hours after the interview ended.")
    end_hours = required(
        fields.Float, "Hours after the interview ended; null when open.", allow_none=True
    )


class AdviceActionSchema(Schema):
    """A recommended action for this state: when, why, and the evidence."""

    id = required_text("The recommended action's id.", attribute="action.id")
    title = required_text("The action in a few words, for this situation.")
    detail = required_text("What to do, for this situation.")
    priority = required(fields.Integer, "Lower is more urgent.")
    window = required(Flattened, "When to do it, in hours since the interview ended.", WindowSchema)
    due = required(
        SecondsDateTime,
        "With `interview_ended_at`: the window's end, or its start when "
        "open, in the interview's offset. Otherwise null.",
        allow_none=True,
    )
    because = required(JoinedText, "Which facts of the state made the rules fire.")
    rules = required_strings("Ids of the rules that recommend it.")
    sources = required_list(CitationSchema, RECOMMENDED_BY)


def _starts(**kwargs) -> SecondsDateTime:
    return SecondsDateTime(
        metadata={
            "description": "Only with `interview_ended_at`: when it starts, to the second "
            "(rounded up), in the interview's offset."
        },
        **kwargs,
    )


def _starts_in_hours() -> fields.Float:
    return required(fields.Float, "Hours from the time of the request until it starts.")


def _drop_unknown_start(body: dict) -> dict:
    if body.get("starts") is None:
        body.pop("starts", None)
    return body


class UpcomingActionSchema(AdviceActionSchema):
    """An action that will become due later, as the answer will give it then, and when
    it starts (assuming what is due now is done and no news comes)."""

    starts = _starts()
    starts_in_hours = _starts_in_hours()

    @post_dump
    def _known_start(self, body: dict, **_) -> dict:
        return _drop_unknown_start(body)


class AvoidSchema(Schema):
    """Rejected advice paired with a recommended action: do this, not that."""

    id = required_text("The rejected advice's id.", attribute="rejected.id")
    advice = required_text("The unsafe advice, in short.", attribute="rejected.advice")
    category = required_text("Its moderation category.", attribute="rejected.category")
    reason = required_text("Why it is refused.", attribute="rejected.reason")
    instead = required_strings("Ids of the actions recommended in this answer to do instead.")
    because = required(JoinedText, "Why it is listed here.")
    rules = required_strings("Ids of the reject rules that fired.")
    sources = required_list(CitationSchema, GIVEN_BY_SATIRE, attribute="rejected.sources")


class EvidenceSchema(Schema):
    """What made a sentence flagged: a span of the text and the feature it matched."""

    start = required(fields.Integer, "Offset of the span's first character.")
    end = required(fields.Integer, "Offset just past the span's end.")
    text = required(fields.String, "The span as written.")
    feature = required(
        fields.String,
        "The policy's word class or cue it matched, or `model:<category>` "
        "for words that raised the learned model's score.",
    )


class SentenceSchema(Schema):
    """One sentence of a moderated text; `reason`, `instead` and `matched` only when flagged."""

    text = required_text("The sentence as written.")
    start = required(fields.Integer, "Offset of its first character.")
    end = required(fields.Integer, "Offset just past its end.")
    flagged = required(fields.Boolean, "Whether it is unsafe.")
    categories = required_strings("Moderation categories it falls under.")
    reason = fields.String(metadata={"description": "Why it is unsafe (flagged only)."})
    instead = fields.List(
        fields.String(), metadata={"description": "Action ids to do instead (flagged only)."}
    )
    matched = fields.String(
        metadata={"description": "The rejected-advice id it matches (flagged only), if any."}
    )
    evidence = required_list(
        EvidenceSchema, "The spans that decided the verdict (none: an empty list)."
    )

    @post_dump
    def _drop_unflagged_extras(self, sentence: dict, **_) -> dict:
        if not sentence["flagged"]:
            for key in ("reason", "instead", "matched"):
                sentence.pop(key, None)
        elif sentence.get("matched") is None:
            sentence.pop("matched", None)
        return sentence


class VerdictSchema(Schema):
    """A moderation verdict, sentence by sentence."""

    flagged = required(fields.Boolean, "Any sentence flagged.")
    categories = required_strings("Every category flagged in the text.")
    sentences = required_list(
        SentenceSchema, "Every sentence of the text, in order, with its verdict."
    )
    english = required(
        fields.Boolean,
        "Whether the text reads as English, the only language the screen reads: false for "
        "text mostly in another script, or whose common words are another language's. "
        "Where it is false, `flagged: false` says only that nothing it can read was unsafe.",
    )


class PlanSchema(Schema):
    """The verdict on one of the candidate's plans; the rest only when rejected."""

    text = required_text("The plan as sent.")
    verdict = required_text("`ok` or `reject`.", validate=validate.OneOf(("ok", "reject")))
    categories = required_strings("Moderation categories it falls under.")
    english = required(
        fields.Boolean,
        "Whether the plan reads as English, the only language the screen reads: false for "
        "text mostly in another script, or whose common words are another language's. "
        "Where it is false, `ok` says only that nothing it can read was unsafe.",
    )
    reason = fields.String(metadata={"description": "Why it is unsafe."})
    instead = fields.List(
        fields.String(),
        metadata={
            "description": "Ids of the actions recommended in this answer to do instead, if any is."
        },
    )
    matched = fields.List(fields.String(), metadata={"description": "Rejected-advice ids matched."})
    sentences = fields.List(
        fields.Nested(SentenceSchema),
        metadata={"description": "Every sentence of the plan with its verdict (rejected only)."},
    )

    @pre_dump
    def _summarise(self, plan, **_) -> dict:
        return plan_summary(plan, list)


class TraceSchema(Schema):
    """How one rule fared: `action` or `rejects`; `because` if it fired, else `failed`."""

    rule = required_text("The rule's id.")
    description = required_text("What the rule says.")
    fired = required(fields.Boolean, "Whether the rule fired.")
    action = fields.String(metadata={"description": "The action it recommends."})
    rejects = fields.String(metadata={"description": "The rejected advice it lists."})
    because = fields.String(metadata={"description": "Why it fired."})
    failed = fields.String(metadata={"description": "The first condition that failed."})

    @pre_dump
    def _row(self, trace, **_) -> dict:
        rule = trace.rule
        row = {"rule": rule.id, "description": rule.description, "fired": trace.fired}
        row["action" if rule.kind == "action" else "rejects"] = rule.target
        if trace.fired:
            row["because"] = trace.because
        else:
            row["failed"] = trace.failed
        return row


class UpcomingTraceSchema(Schema):
    """Which rule will recommend an upcoming action, when, and why."""

    action = required_text("The upcoming action's id.")
    rule = required_text("The rule's id.")
    description = required_text("What the rule says.")
    because = required_text("Why it will fire then, in the words of that moment.")
    starts = _starts()
    starts_in_hours = _starts_in_hours()

    @post_dump
    def _known_start(self, body: dict, **_) -> dict:
        return _drop_unknown_start(body)


class AdviceSchema(Schema):
    """The response of ``POST /v1/advice``; `explain` only with ``?explain=true``."""

    ruleset = required(
        fields.Nested, "The version and digest of the ruleset that decided.", RulesetSchema
    )
    hours_since = required(fields.Float, "Hours since the interview ended.")
    actions = required_list(AdviceActionSchema, "The actions due now, most urgent first.")
    upcoming = required_list(
        UpcomingActionSchema,
        "The actions that will become due later, in the order they start, "
        "if the candidate does what is due now and no news comes; never in `actions` too.",
    )
    avoid = required_list(AvoidSchema, "Rejected advice whose safe counterpart is recommended.")
    plans = required_list(PlanSchema, "A verdict on each of the request's plans, in order.")
    fired = required_strings("Every rule that fired.")
    explain = fields.List(
        fields.Nested(TraceSchema),
        metadata={"description": "Every rule, fired or not, and why (``?explain=true``)."},
    )
    explain_upcoming = fields.List(
        fields.Nested(UpcomingTraceSchema),
        metadata={
            "description": "For each upcoming action, each rule that will recommend it, "
            "when and why (``?explain=true``)."
        },
    )


# Schemas are stateless once built, and building one copies every field:
# build each once and reuse it.
_VERDICT = VerdictSchema()
_ADVICE = AdviceSchema()
_TRACES = TraceSchema(many=True)
_UPCOMING_TRACES = UpcomingTraceSchema(many=True)
_SOURCE = SourceDetailSchema()


def dump_verdict(verdict) -> dict:
    """A moderation verdict as the contract writes it."""
    return _VERDICT.dump(verdict)


def dump_advice(advice, hours_since: float) -> dict:
    return _ADVICE.dump(
        {
            "ruleset": advice,
            "hours_since": hours_since,
            "actions": advice.actions,
            "upcoming": advice.upcoming,
            "avoid": advice.avoid,
            "plans": advice.plans,
            "fired": advice.fired,
        }
    )


def dump_source(source, catalogue) -> dict:
    """One source with the quotes `catalogue` cites from it."""
    return _SOURCE.dump({**vars(source), "quotes": catalogue.quotes(source.id)})


def dump_trace(traces) -> list[dict]:
    """Every rule for a state: fired with its reason, or the condition that failed."""
    return _TRACES.dump(traces)


def dump_upcoming_trace(upcoming) -> list[dict]:
    """For each upcoming action, the rules that will recommend it, when and why."""
    return _UPCOMING_TRACES.dump(
        [
            {
                "action": item.action.id,
                "rule": rule.rule,
                "description": rule.description,
                "because": rule.because,
                "starts": item.starts,
                "starts_in_hours": item.starts_in_hours,
            }
            for item in upcoming
            for rule in item.fired
        ]
    )
