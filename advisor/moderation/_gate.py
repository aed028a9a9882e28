"""The content gate: the catalogue and the corpus must agree with the policy.

Run at start-up: every recommended action must pass moderation, every piece
of rejected advice must be flagged under its own category, the satirical
article's unsafe passages (the rejected advice's quotes) must be flagged
and its sound tips must pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .._data import fold
from ._moderator import Moderator, Verdict

__all__ = ["content_gate"]


def content_gate(
    moderator: Moderator,
    guidance: Sequence[Mapping],
    rejected: Sequence[Mapping],
    articles: Mapping[str, str],
    sound_tips: Sequence[str],
) -> list[str]:
    """The problems found, each naming its item; empty when the content passes.

    `guidance` holds dicts with ``id``, ``title`` and ``detail``; `rejected`
    dicts with ``id``, ``category``, ``advice`` and ``sources`` (each with
    ``source`` and ``quote``); `articles` maps a source id to its text;
    `sound_tips` are quotes from the satirical article that must pass.
    """
    problems = []
    for item in guidance:
        for field in ("title", "detail"):
            verdict = moderator.moderate(item.get(field) or "")
            if verdict.flagged:
                problems.append(f"guidance {item['id']!r} {field} is flagged as {_flags(verdict)}")
    passages = _Passages(moderator, articles)
    for item in rejected:
        verdict = moderator.moderate(item["advice"])
        if item["category"] not in verdict.categories:
            problems.append(
                f"rejected advice {item['id']!r} is not flagged as {item['category']}"
                f" (got {_flags(verdict)})"
            )
        for number, source in enumerate(item.get("sources", ())):
            flags = passages.flags(source["quote"], source.get("source"))
            if item["category"] not in flags:
                problems.append(
                    f"rejected advice {item['id']!r} quote {number} is not flagged as"
                    f" {item['category']} (got {', '.join(sorted(flags)) or 'nothing'}):"
                    f" {source['quote']!r}"
                )
    for tip in sound_tips:
        flags = passages.flags(tip, None)
        if flags:
            problems.append(f"sound tip is flagged as {', '.join(sorted(flags))}: {tip!r}")
    return problems


def _flags(verdict: Verdict) -> str:
    return ", ".join(verdict.categories) or "nothing"


class _Passages:
    """Quotes judged in the context of their article, where they can be found."""

    def __init__(self, moderator: Moderator, articles: Mapping[str, str]):
        self._moderator = moderator
        self._articles = articles
        self._verdicts: dict[str, tuple[str, list[int], Verdict]] = {}

    def flags(self, quote: str, source: str | None) -> set[str]:
        """The categories of the sentences a quote covers."""
        for article_id in [source] if source else list(self._articles):
            found = self._locate(quote, article_id)
            if found is not None:
                verdict, start, end = found
                return {
                    c
                    for s in verdict.sentences
                    if s.start < end and start < s.end
                    for c in s.categories
                }
        return set(self._moderator.moderate(quote).categories)

    def _locate(self, quote: str, article_id: str):
        if article_id not in self._articles:
            return None
        if article_id not in self._verdicts:
            text = self._articles[article_id]
            folded, origin = _fold_with_origin(text)
            self._verdicts[article_id] = (folded, origin, self._moderator.moderate(text))
        folded, origin, verdict = self._verdicts[article_id]
        target = fold(quote)
        at = folded.find(target) if target else -1
        if at < 0:
            return None
        return verdict, origin[at], origin[at + len(target) - 1] + 1


def _fold_with_origin(text: str) -> tuple[str, list[int]]:
    """`fold(text)`, with the original offset of each character."""
    chars, origin = [], []
    pending_space = False
    for offset, char in enumerate(text):
        if char.isspace():
            pending_space = bool(chars)
            continue
        if pending_space:
            chars.append(" ")
            origin.append(offset - 1)
            pending_space = False
        chars.append(char)
        origin.append(offset)
    return "".join(chars), origin
