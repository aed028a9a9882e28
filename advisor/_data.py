"""Loading data files and turning schema errors into readable messages."""

from __future__ import annotations

import difflib
import gc
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import yaml
from marshmallow import Schema, ValidationError, fields

__all__ = [
    "DataError",
    "collector_paused",
    "describe_errors",
    "did_you_mean",
    "digest_files",
    "flatten_errors",
    "fold",
    "hint_unknown",
    "load_yaml",
]

_SPACE = re.compile(r"\s+")


class DataError(ValueError):
    """A rule or content file is invalid; the message names the file and field."""


def fold(text: str) -> str:
    """Fold runs of white space to one space, as citations are compared."""
    return _SPACE.sub(" ", text).strip()


def flatten_errors(messages, prefix: str | None = None) -> dict[str, list[str]]:
    """Flatten marshmallow's nested error messages to ``{"a.0.b": [msg, ...]}``; ``$``
    names the whole (`prefix` None), so a field named by the empty string stays ``""``."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            if key == "_schema":
                name = prefix
            else:
                name = str(key) if prefix is None else f"{prefix}.{key}"
            for path, msgs in flatten_errors(value, name).items():
                flat.setdefault(path, []).extend(msgs)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        flat["$" if prefix is None else prefix] = list(messages)
    elif isinstance(messages, list):
        for item in messages:
            for path, msgs in flatten_errors(item, prefix).items():
                flat.setdefault(path, []).extend(msgs)
    else:
        flat["$" if prefix is None else prefix] = [str(messages)]
    return flat


def describe_errors(error: ValidationError) -> str:
    """One line per failing field: ``field: message``."""
    return "; ".join(
        f"{path}: {' '.join(msgs)}" for path, msgs in flatten_errors(error.messages).items()
    )


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """A safe YAML loader (libyaml's, when PyYAML was built with it) that
    refuses a mapping with the same key twice (plain YAML keeps the last one
    silently)."""


#: The longest name a hint is looked for: no field or id is near that long, and comparing
#: costs the product of the lengths.
_MAX_HINTED = 100
#: What separates the words of a field's name or an id.
_NAME_WORDS = re.compile(r"[_\-\s]+")


def did_you_mean(name: str, choices, cutoff: float = 0.6) -> str:
    """A hint naming the one of `choices` closest to `name` (a typo, another case, the
    same letters in another width or style: ``ｓｔａｇｅ``), or else the one or two that
    hold `name` as a whole word (``name``: ``candidate_name`` or ``recipient_name``), or
    "" when none is as close as `cutoff` (difflib's ratio): how an error names what was
    probably meant."""
    if len(name) > _MAX_HINTED:
        return ""
    folded = {_folded(choice): choice for choice in choices}
    wanted = _folded(name)
    close = difflib.get_close_matches(wanted, folded, 1, cutoff)
    if close:
        return f" (did you mean {folded[close[0]]!r}?)"
    holding = sorted(choice for key, choice in folded.items() if wanted in _NAME_WORDS.split(key))
    if 1 <= len(holding) <= 2:
        return f" (did you mean {' or '.join(map(repr, holding))}?)"
    return ""


def _folded(name: str) -> str:
    """`name` as compared for a hint: compatibility characters (fullwidth, mathematical
    letters) read as the letters they stand for, and case ignored."""
    return unicodedata.normalize("NFKC", name).casefold()


def hint_unknown(messages, schema: Schema, cutoff: float = 0.6) -> None:
    """Name, beside each unknown field of `schema.load`'s error `messages` (nested ones
    and those of a list's items too), the field of `schema` closest to it, if one is as close as `cutoff`
    (`did_you_mean`): `hours` meant `hours_since`."""
    if not isinstance(messages, dict):
        return
    known = {item.data_key or name: item for name, item in schema.load_fields.items()}
    unknown = [schema.error_messages["unknown"]]
    for key, value in messages.items():
        if value == unknown and key not in known:
            hint = did_you_mean(key, known, cutoff)
            if hint:
                messages[key] = [f"{unknown[0].rstrip('.')}{hint}"]
        elif isinstance(known.get(key), fields.Nested):
            hint_unknown(value, known[key].schema, cutoff)
        elif isinstance(known.get(key), fields.List) and isinstance(
            known[key].inner, fields.Nested
        ):
            for item in value.values() if isinstance(value, dict) else ():
                hint_unknown(item, known[key].inner.schema, cutoff)


def _unique_mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def load_yaml(path: Path, schema: Schema, error_class: type[DataError] = DataError):
    """Read `path` and load it through `schema`, or raise `error_class` naming both."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise error_class(f"{path}: cannot read: {error}") from error
    if not isinstance(raw, Mapping):
        raise error_class(f"{path}: the file must hold a mapping at the top level")
    try:
        return schema.load(raw)
    except ValidationError as error:
        hint_unknown(error.messages, schema)
        # A Dict field reports its values under "value": classes.drink.value.kind.
        raise error_class(f"{path}: {describe_errors(error).replace('.value.', '.')}") from error


def digest_files(paths: Iterable[Path], root: Path) -> str:
    """A sha256 over the files' relative names and bytes, in name order."""
    sha = hashlib.sha256()
    for path in sorted(paths, key=lambda p: p.relative_to(root).as_posix()):
        sha.update(path.relative_to(root).as_posix().encode())
        sha.update(b"\0")
        sha.update(path.read_bytes())
        sha.update(b"\0")
    return sha.hexdigest()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the garbage collector off (as it was before, after).

    Loading builds a few hundred thousand objects that all live on (compiled
    patterns, the model's vocabulary): every collection the allocations would
    set off walks them again and frees nothing.  Paused, start-up takes about
    a seventh less time (docs/moderation.md, "Speed")."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
