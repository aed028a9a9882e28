"""The advice written as the contract's JSON, without a schema on the way.

`AdviceSchema` (`advisor.schemas`) declares the answer and documents it;
`AdviceWriter` writes the bytes orjson makes of what `dump_advice` dumps, for
the answers it is asked for many times a second. Everything about an action
or a rejected item that no state changes (ids, titles, details, sources with
their quotes) is encoded once per catalogue; an answer encodes only what its
state decides (windows, due times, reasons, rules and order) and joins the
parts. Plans and their verdicts are written field by field as `PlanSchema`
dumps them, and a moderation verdict (`write_verdict`) as `VerdictSchema`
does. Tests prove the writers give what the schemas dump, byte for byte.
"""

from __future__ import annotations

import orjson

from .content import Catalogue, Citation

__all__ = ["AdviceWriter", "write_verdict"]

_dumps = orjson.dumps


def _citations(citations: tuple[Citation, ...]) -> list[dict]:
    return [
        {
            "id": c.source.id,
            "title": c.source.title,
            "publisher": c.source.publisher,
            "nature": c.source.nature,
            "quote": c.quote,
        }
        for c in citations
    ]


#: An action from its priority up to its sources (its id, title and detail come before).
_ACTION = b'%d,"window":{"start_hours":%b,"end_hours":%b},"due":%b,"because":%b,"rules":%b'


class AdviceWriter:
    """Writes `Advice` as ``orjson.dumps(dump_advice(advice, hours_since))`` would, from
    parts encoded once per catalogue, each copied once into the answer."""

    def __init__(self, catalogue: Catalogue):
        # Per action and wording: its JSON up to the priority, and from its sources on.
        self._actions = {
            (action.id, wording.id): (
                b'{"id":%b,"title":%b,"detail":%b,"priority":'
                % (_dumps(action.id), _dumps(wording.title), _dumps(wording.detail)),
                b',"sources":%b' % _dumps(_citations(wording.sources)),
            )
            for action in catalogue.actions.values()
            for wording in (action.wording(), *action.variants)
        }
        # Per rejected item: its JSON up to `instead`, and from its sources on.
        self._rejected = {
            r.id: (
                b'{"id":%b,"advice":%b,"category":%b,"reason":%b,"instead":'
                % (_dumps(r.id), _dumps(r.advice), _dumps(r.category), _dumps(r.reason)),
                b',"sources":%b}' % _dumps(_citations(r.sources)),
            )
            for r in catalogue.rejected.values()
        }
        self._rulesets: dict[tuple[str, str], bytes] = {}

    def encode(self, advice, hours_since: float) -> bytes:
        """The answer's JSON: the fields of `AdviceSchema` but `explain`, in its order."""
        ruleset = self._rulesets.get((advice.version, advice.digest))
        if ruleset is None:
            ruleset = b'{"ruleset":%b,"hours_since":' % _dumps(
                {"version": advice.version, "digest": advice.digest}
            )
            self._rulesets[advice.version, advice.digest] = ruleset
        parts = [ruleset, _dumps(float(hours_since)), b',"actions":[']
        for item in advice.actions:
            self._action(parts, item)
            parts.append(b"},")
        self._close(parts, b'],"upcoming":[')
        for item in advice.upcoming:
            self._action(parts, item.item)  # read as the action it will be
            if item.starts is not None:
                parts.append(b',"starts":%b' % _dumps(item.starts.isoformat(timespec="seconds")))
            parts.append(b',"starts_in_hours":%b},' % _dumps(float(item.starts_in_hours)))
        self._close(parts, b'],"avoid":[')
        for item in advice.avoid:
            head, sources = self._rejected[item.rejected.id]
            parts += (
                head,
                b'%b,"because":%b,"rules":%b'
                % (_dumps(item.instead), _dumps(" ".join(item.because)), _dumps(item.rules)),
                sources,
                b",",
            )
        self._close(parts, b'],"plans":')
        parts.append(_dumps([_plan(p) for p in advice.plans]))
        parts.append(b',"fired":%b}' % _dumps(advice.fired))
        return b"".join(parts)

    def _action(self, parts: list, item) -> None:
        """An action's JSON but its closing brace (and an upcoming action's own fields)."""
        head, sources = self._actions[item.action.id, item.variant]
        end, due = item.end_hours, item.due
        parts += (
            head,
            _ACTION
            % (
                item.priority,
                _dumps(float(item.start_hours)),
                b"null" if end is None else _dumps(float(end)),
                b"null" if due is None else _dumps(due.isoformat(timespec="seconds")),
                _dumps(" ".join(item.because)),
                _dumps(item.rules),
            ),
            sources,
        )

    @staticmethod
    def _close(parts: list, following: bytes) -> None:
        """Drop the comma after the last item of the list just written (if it has one),
        then start the field `following`."""
        if parts[-1].endswith(b","):
            parts[-1] = parts[-1][:-1]
        parts.append(following)


def plan_summary(plan, sentences) -> dict:
    """A plan's verdict as the contract shows it: the reason, what to do instead,
    what matched and its sentences (written by `sentences`) only when it is
    rejected.  Both this writer and `PlanSchema` build it here."""
    verdict = plan.verdict
    body = {
        "text": plan.text,
        "verdict": "reject" if verdict.flagged else "ok",
        "categories": list(verdict.categories),
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
