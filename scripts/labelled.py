"""Reading labelled sets: JSON Lines (optionally gzipped), one labelled item per line,
each with an ``id`` given once. Shared by the scoring scripts; errors name the file
and line, never the item's text."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Sequence
from pathlib import Path


class LabelledError(ValueError):
    """A labelled file is malformed; the message names the file and line."""


def read_labelled(path: Path, keys: Sequence[str]) -> Iterator[tuple[str, dict]]:
    """Each item of `path` with where it is (``name:line``): JSON objects holding
    every one of `keys`, ids unique; blank lines skipped."""
    opener = gzip.open if path.suffix == ".gz" else open
    seen = set()
    with opener(path, "rt", encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{path.name}:{number}"
            try:
                item = json.loads(line)
            except json.JSONDecodeError as error:
                raise LabelledError(f"{where}: not JSON ({error.msg})") from None
            if not isinstance(item, dict):
                raise LabelledError(f"{where}: not a JSON object")
            missing = [k for k in keys if k not in item]
            if missing:
                raise LabelledError(f"{where}: missing {', '.join(missing)}")
            if item["id"] in seen:
                raise LabelledError(f"{where}: id {item['id']!r} given twice")
            seen.add(item["id"])
            yield where, item
