"""The advice written as the contract's JSON, without a schema on the way.

`AdviceSchema` (`advisor.schemas`) declares the answer and documents it;
`AdviceWriter` writes the same dicts for the answers it is asked for many times
a second. Everything about an action or a rejected item that no state changes
(ids, titles, details, sources with their quotes) is written once per
catalogue, the sources also in their final JSON form (`encodable`, for
orjson); an answer adds only what its state decides: windows, due times,
reasons, rules and order. Plans and their verdicts are written field by field
as `PlanSchema` dumps them, and a moderation verdict (`write_verdict`) as
`VerdictSchema` does. Tests prove the two writers agree on every field, and
the encoded sources byte for byte.
"""

from __future__ import annotations

import orjson

from .content import Catalogue, Citation

__all__ = ["AdviceWriter", "write_verdict"]


def _citations(citations: tuple[Citation, ...]) -> tuple[dict, ...]:
    return tuple(
        {
            "id": c.source.id,
            "title": c.source.title,
            "publisher": c.source.publisher,
            "nature": c.source.nature,
            "quote": c.quote,
        }
        for c in citations
    )


class AdviceWriter:
    """Writes `Advice` as `dump_advice` does, from parts prepared once per catalogue."""

    def __init__(self, catalogue: Catalogue):
        self._wordings = {}
        for action in catalogue.actions.values():
            for wording in (action.wording(), *action.variants):
                self._wordings[action.id, wording.id] = (
                    wording.title,
                    wording.detail,
                    _citations(wording.sources),
                )
        self._rejected = {
            r.id: (r.advice, r.category, r.reason, _citations(r.sources))
            for r in catalogue.rejected.values()
        }
        # The same sources already encoded, for answers that go straight to JSON.
        self._encoded = {
            key: orjson.Fragment(orjson.dumps(sources))
            for key, (_, _, sources) in self._wordings.items()
        }
        self._encoded_rejected = {
            key: orjson.Fragment(orjson.dumps(sources))
            for key, (*_, sources) in self._rejected.items()
        }

    def write(self, advice, hours_since: float) -> dict:
        """The answer as a dict of JSON values, fields in the schema's order.

        The dicts of the sources are shared by every answer that cites them: encode
        the answer, never change it.
        """
        return self._write(advice, hours_since, encoded=False)

    def encodable(self, advice, hours_since: float) -> dict:
        """The answer as `write` gives it, but with each list of sources already in
        its final JSON form (`orjson.Fragment`): for `orjson.dumps` only, which
        turns it into the bytes it turns `write`'s dict into."""
        return self._write(advice, hours_since, encoded=True)

    def _write(self, advice, hours_since: float, encoded: bool) -> dict:
        return {
            "ruleset": {"version": advice.version, "digest": advice.digest},
            "hours_since": float(hours_since),
            "actions": [self._action(a, encoded) for a in advice.actions],
            "upcoming": [self._upcoming(u, encoded) for u in advice.upcoming],
            "avoid": [self._avoid(a, encoded) for a in advice.avoid],
            "plans": [_plan(p) for p in advice.plans],
            "fired": list(advice.fired),
        }

    def _action(self, item, encoded: bool) -> dict:
        key = item.action.id, item.variant
        title, detail, sources = self._wordings[key]
        end = item.end_hours
        return {
            "id": item.action.id,
            "title": title,
            "detail": detail,
            "priority": int(item.priority),
            "window": {
                "start_hours": float(item.start_hours),
                "end_hours": None if end is None else float(end),
            },
            "due": None if item.due is None else item.due.isoformat(timespec="seconds"),
            "because": " ".join(item.because),
            "rules": list(item.rules),
            "sources": self._encoded[key] if encoded else list(sources),
        }

    def _upcoming(self, item, encoded: bool) -> dict:
        body = self._action(item, encoded)
        if item.starts is not None:
            body["starts"] = item.starts.isoformat(timespec="seconds")
        body["starts_in_hours"] = float(item.starts_in_hours)
        return body

    def _avoid(self, item, encoded: bool) -> dict:
        key = item.rejected.id
        advice, category, reason, sources = self._rejected[key]
        return {
            "id": key,
            "advice": advice,
            "category": category,
            "reason": reason,
            "instead": list(item.instead),
            "because": " ".join(item.because),
            "rules": list(item.rules),
            "sources": self._encoded_rejected[key] if encoded else list(sources),
        }


def plan_summary(plan, sentences) -> dict:
    """A plan's verdict as the contract shows it: the reason, what to do instead,
    what matched and its sentences (written by `sentences`) only when it is
    rejected.  Both this writer and `PlanSchema` build it here."""
    verdict = plan.verdict
    body = {
        "text": plan.text,
        "verdict": "reject" if verdict.flagged else "ok",
        "categories": list(verdict.categories),
        "english": verdict.english,
    }
    flagged = [s for s in verdict.sentences if s.flagged]
    if flagged:
        body["reason"] = " ".join(dict.fromkeys(s.reason for s in flagged if s.reason))
        if plan.instead:
            body["instead"] = list(plan.instead)
        matched = [s.matched for s in flagged if s.matched]
        if matched:
            body["matched"] = list(dict.fromkeys(matched))
        body["sentences"] = sentences(verdict.sentences)
    return body


def _plan(plan) -> dict:
    """A plan's verdict as `PlanSchema` dumps it."""
    return plan_summary(plan, _sentences)


def write_verdict(verdict) -> dict:
    """A moderation verdict as `VerdictSchema` dumps it (`dump_verdict`)."""
    return {
        "flagged": bool(verdict.flagged),
        "categories": list(verdict.categories),
        "sentences": _sentences(verdict.sentences),
        "english": verdict.english,
    }


def _sentences(sentences) -> list[dict]:
    return [_sentence(s) for s in sentences]


def _sentence(sentence) -> dict:
    """A sentence's verdict as `SentenceSchema` dumps it: why, and what to do instead,
    only when it is flagged."""
    body = {
        "text": sentence.text,
        "start": int(sentence.start),
        "end": int(sentence.end),
        "flagged": bool(sentence.flagged),
        "categories": list(sentence.categories),
    }
    if sentence.flagged:
        body["reason"] = sentence.reason
        body["instead"] = None if sentence.instead is None else list(sentence.instead)
        if sentence.matched is not None:
            body["matched"] = sentence.matched
    body["evidence"] = [
        {"start": int(e.start), "end": int(e.end), "text": e.text, "feature": e.feature}
        for e in sentence.evidence
    ]
    return body
