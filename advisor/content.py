"""The corpus and the two catalogues: recommended actions and rejected advice.

Content is data in ``content/``, validated by marshmallow schemas when loaded.
Beyond the schemas, loading checks that every quote appears verbatim in its
article (white space folded), starts where a sentence of the article starts
(or right after a heading run into the text) and ends at the end of a word;
that every ``instead`` names a real action; that no action, nor any wording of
it, rests on a satirical source alone; and that each sincere article is cited
by at least `MIN_CITING_ACTIONS` actions.

An action may have wording variants (``variants``): the same action put for
one situation ("Decline the offer politely" rather than "Withdraw politely
if it is not for you"). A variant replaces the title, the detail or the
sources it gives; the rules choose which variant an answer carries.

The articles are read only to verify the quotes: the API serves each
source's title, publisher, nature and the quotes cited from it, never the
article itself.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from marshmallow import Schema, ValidationError, fields, post_load, validate

from ._data import DataError, digest_files, load_yaml
from .moderation import CATEGORIES

__all__ = [
    "ACTION_IDS",
    "CATEGORIES",
    "NATURES",
    "Action",
    "Catalogue",
    "Citation",
    "QuoteSchema",
    "QuoteUse",
    "RejectedAdvice",
    "Source",
    "Variant",
    "check_quote",
    "cite",
    "load_catalogue",
]

#: The recommended action ids of the public contract, in its order.
#: What an article is: sincere, or satire that mixes sound tips with unsafe advice.
NATURES = ("sincere", "satirical")

ACTION_IDS = (
    "ask-next-steps ask-your-questions call-recruiter take-time-out write-notes "
    "send-thank-you reflect decide-if-right withdraw-politely brief-referees "
    "prepare-salary-expectations connect-on-linkedin follow-up follow-up-via-recruiter "
    "keep-applying ask-for-feedback accept-gracefully choose-the-right-role "
    "negotiate-honestly prepare-next-round"
).split()
#: The rejected advice ids of the public contract, with their categories.
REJECTED_CATEGORIES = {
    "drink-straight-after": "substance_misuse",
    "drive-under-influence": "impaired_driving",
    "buy-drugs": "illegal_drugs",
    "chase-constantly": "harassment",
    "ambush-interviewer": "harassment",
    "physical-pressure": "violence",
    "public-self-shaming": "self_punishment",
    "inflate-competing-offer": "dishonesty",
    "pay-referees": "bribery",
}
HARMS = ("illegal", "dangerous", "harassment", "violence", "dishonest", "bribery", "self-harm")
MIN_CITING_ACTIONS = 3
MIN_QUOTE = 15

_ID = validate.Regexp(r"^[a-z][a-z0-9-]*$", error="must be a lower-case id (a-z, 0-9, -)")
_TEXT = validate.Length(min=1)


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    publisher: str
    nature: str
    text: str
    note: str | None = None


@dataclass(frozen=True)
class Citation:
    source: Source
    quote: str


@dataclass(frozen=True)
class Variant:
    """The words an action is put in: its own (id None) or a variant's."""

    id: str | None
    title: str
    detail: str
    sources: tuple[Citation, ...]


@dataclass(frozen=True)
class Action:
    id: str
    title: str
    detail: str
    sources: tuple[Citation, ...]
    variants: tuple[Variant, ...] = ()

    def wording(self, variant: str | None = None) -> Variant:
        """The variant named `variant`, or the action's own words for None."""
        if variant is None:
            return Variant(None, self.title, self.detail, self.sources)
        return next(v for v in self.variants if v.id == variant)


@dataclass(frozen=True)
class RejectedAdvice:
    id: str
    category: str
    harm: str
    advice: str
    reason: str
    instead: tuple[str, ...]
    sources: tuple[Citation, ...]


@dataclass(frozen=True)
class QuoteUse:
    """A quote from one source, and the catalogue items that cite it."""

    quote: str
    guidance: tuple[str, ...]
    rejected: tuple[str, ...]


@dataclass(frozen=True)
class Catalogue:
    """Everything in ``content/``, checked and cross-referenced."""

    sources: dict[str, Source]
    actions: dict[str, Action]
    rejected: dict[str, RejectedAdvice]
    digest: str

    def quotes(self, source_id: str) -> list[QuoteUse]:
        """Every quote the catalogue cites from `source_id`, in the article's order."""
        guidance: dict[str, dict[str, None]] = {}
        rejected: dict[str, dict[str, None]] = {}
        for action in self.actions.values():
            for wording in (action.wording(), *action.variants):
                for citation in wording.sources:
                    if citation.source.id == source_id:
                        guidance.setdefault(citation.quote, {})[action.id] = None
        for item in self.rejected.values():
            for citation in item.sources:
                if citation.source.id == source_id:
                    rejected.setdefault(citation.quote, {})[item.id] = None
        text = self.sources[source_id].text
        quotes = sorted({*guidance, *rejected}, key=lambda q: _locate(q, text)[0].start())
        return [QuoteUse(q, tuple(guidance.get(q, ())), tuple(rejected.get(q, ()))) for q in quotes]


class _SourceSchema(Schema):
    id = fields.String(required=True, validate=_ID)
    title = fields.String(required=True, validate=_TEXT)
    publisher = fields.String(required=True, validate=_TEXT)
    nature = fields.String(required=True, validate=validate.OneOf(NATURES))
    file = fields.String(required=True, validate=validate.Regexp(r"^[\w.-]+\.txt$"))
    note = fields.String(load_default=None)


class _SourcesFileSchema(Schema):
    sources = fields.List(fields.Nested(_SourceSchema), required=True, validate=_TEXT)


class QuoteSchema(Schema):
    """A citation as written in a data file: a source id and a verbatim quote."""

    source = fields.String(required=True)
    quote = fields.String(required=True, validate=validate.Length(min=MIN_QUOTE))


_TITLE = validate.Length(min=1, max=80)


class _VariantSchema(Schema):
    id = fields.String(required=True, validate=_ID)
    title = fields.String(validate=_TITLE)
    detail = fields.String(validate=_TEXT)
    sources = fields.List(fields.Nested(QuoteSchema), validate=_TEXT)

    @post_load
    def _changes_something(self, data, **_):
        if not {"title", "detail", "sources"} & set(data):
            raise ValidationError("a variant changes the title, the detail or the sources")
        return data


class _ActionSchema(Schema):
    id = fields.String(required=True, validate=validate.OneOf(ACTION_IDS))
    title = fields.String(required=True, validate=_TITLE)
    detail = fields.String(required=True, validate=_TEXT)
    sources = fields.List(fields.Nested(QuoteSchema), required=True, validate=_TEXT)
    variants = fields.List(fields.Nested(_VariantSchema), load_default=list)


class _GuidanceFileSchema(Schema):
    actions = fields.List(fields.Nested(_ActionSchema), required=True)


class _RejectedSchema(Schema):
    id = fields.String(required=True, validate=validate.OneOf(tuple(REJECTED_CATEGORIES)))
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    harm = fields.String(required=True, validate=validate.OneOf(HARMS))
    advice = fields.String(required=True, validate=_TEXT)
    reason = fields.String(required=True, validate=_TEXT)
    instead = fields.List(fields.String(), required=True, validate=_TEXT)
    sources = fields.List(fields.Nested(QuoteSchema), required=True, validate=_TEXT)

    @post_load
    def _category_matches_contract(self, data, **_):
        if data["category"] != REJECTED_CATEGORIES[data["id"]]:
            raise ValidationError(
                f"must be {REJECTED_CATEGORIES[data['id']]} for {data['id']}", "category"
            )
        return data


class _RejectedFileSchema(Schema):
    rejected = fields.List(fields.Nested(_RejectedSchema), required=True)


def _unique(items, path: Path, expected) -> dict:
    counts = Counter(item["id"] for item in items)
    doubled = sorted(i for i, n in counts.items() if n > 1)
    if doubled:
        raise DataError(f"{path}: id listed twice: {', '.join(doubled)}")
    missing = [i for i in expected if i not in counts]
    if missing:
        raise DataError(f"{path}: missing ids: {', '.join(missing)}")
    return {item["id"]: item for item in items}


def _load_sources(content_dir: Path) -> dict[str, Source]:
    path = content_dir / "sources.yaml"
    raw = load_yaml(path, _SourcesFileSchema())
    sources = {}
    for index, item in enumerate(raw["sources"]):
        article = content_dir / "articles" / item.pop("file")
        try:
            text = article.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise DataError(
                f"{path}: sources.{index}.file: cannot read {article}: {error}"
            ) from error
        if item["id"] in sources:
            raise DataError(f"{path}: sources.{index}.id: {item['id']} listed twice")
        sources[item["id"]] = Source(text=text, **item)
    return sources


def _locate(quote: str, text: str) -> list[re.Match]:
    """Every place `quote` appears in `text`, white space folded."""
    pattern = r"\s+".join(re.escape(word) for word in quote.split())
    return list(re.finditer(pattern, text))


_SENTENCE_END = ".!?:…"
_OPENING = re.compile(r"^[\"“‘'(]?[A-Z0-9]")


def _starts_a_sentence(text: str, start: int) -> bool:
    """Whether `start` is where a sentence of `text` starts: at the start of a line,
    after a sentence's end, or after a heading run into the text ("Follow Up After
    5-7 days…": nothing but capitalised words since the line or last sentence began)."""
    line = text[:start].rsplit("\n", 1)[-1]
    lead = line[max(line.rfind(mark) for mark in _SENTENCE_END) + 1 :].strip(" \t•")
    return all(word[0].isupper() for word in lead.split())


def check_quote(quote: str, text: str) -> str | None:
    """What is wrong with citing `quote` from `text`, or None."""
    places = _locate(quote, text)
    if not places:
        return "not verbatim in"
    if not _OPENING.match(quote.strip()):
        return "does not start a sentence in"
    if not any(_starts_a_sentence(text, m.start()) for m in places):
        return "starts mid-sentence in"
    if not any(m.end() == len(text) or not text[m.end()].isalnum() for m in places):
        return "ends mid-word in"
    return None


def cite(raw, where: str, sources: dict[str, Source]) -> tuple[Citation, ...]:
    """Citations from `QuoteSchema` items, each checked against its article."""
    citations = []
    for index, item in enumerate(raw):
        field = f"{where}.sources.{index}" if where else f"sources.{index}"
        source = sources.get(item["source"])
        if source is None:
            raise DataError(f"{field}.source: unknown source {item['source']!r}")
        problem = check_quote(item["quote"], source.text)
        if problem:
            raise DataError(f"{field}.quote: {problem} {source.id}: {item['quote'][:70]!r}")
        citations.append(Citation(source, item["quote"]))
    return tuple(citations)


def _variants(raw, where: str, action: Variant, sources: dict[str, Source]):
    variants = []
    for item in raw:
        field = f"{where}.variants.{item['id']}"
        if any(v.id == item["id"] for v in variants):
            raise DataError(f"{field}: variant listed twice")
        citations = cite(item["sources"], field, sources) if "sources" in item else action.sources
        if all(c.source.nature == "satirical" for c in citations):
            raise DataError(f"{field}.sources: rests on a satirical source alone")
        variants.append(
            Variant(
                item["id"],
                item.get("title", action.title),
                item.get("detail", action.detail),
                citations,
            )
        )
    return tuple(variants)


def load_catalogue(content_dir: Path) -> Catalogue:
    """Load and cross-check everything in `content_dir`, or raise DataError."""
    sources = _load_sources(content_dir)
    guidance_path = content_dir / "guidance.yaml"
    raw_actions = _unique(
        load_yaml(guidance_path, _GuidanceFileSchema())["actions"], guidance_path, ACTION_IDS
    )
    actions = {}
    for action_id, item in raw_actions.items():
        where = f"{guidance_path}: actions.{action_id}"
        citations = cite(item["sources"], where, sources)
        if all(c.source.nature == "satirical" for c in citations):
            raise DataError(f"{where}.sources: rests on a satirical source alone")
        own = Variant(None, item["title"], item["detail"], citations)
        variants = _variants(item["variants"], where, own, sources)
        actions[action_id] = Action(action_id, own.title, own.detail, citations, variants)

    rejected_path = content_dir / "rejected.yaml"
    raw_rejected = _unique(
        load_yaml(rejected_path, _RejectedFileSchema())["rejected"],
        rejected_path,
        REJECTED_CATEGORIES,
    )
    rejected = {}
    for rejected_id, item in raw_rejected.items():
        where = f"{rejected_path}: rejected.{rejected_id}"
        unknown = [a for a in item["instead"] if a not in actions]
        if unknown:
            raise DataError(f"{where}.instead: unknown actions {', '.join(unknown)}")
        rejected[rejected_id] = RejectedAdvice(
            id=rejected_id,
            category=item["category"],
            harm=item["harm"],
            advice=item["advice"],
            reason=item["reason"],
            instead=tuple(item["instead"]),
            sources=cite(item["sources"], where, sources),
        )

    citing = Counter(
        source_id
        for action in actions.values()
        for source_id in {c.source.id for c in action.sources}
    )
    for source in sources.values():
        if source.nature == "sincere" and citing[source.id] < MIN_CITING_ACTIONS:
            raise DataError(
                f"{guidance_path}: {source.id} is cited by {citing[source.id]} actions, "
                f"at least {MIN_CITING_ACTIONS} expected"
            )
    files = [p for p in content_dir.rglob("*") if p.is_file()]
    return Catalogue(sources, actions, rejected, digest_files(files, content_dir))
