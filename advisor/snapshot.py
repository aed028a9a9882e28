"""Validated snapshots of rules and content, for reloads that cannot break serving.

The gunicorn master validates the rule and content folders by loading them
into a full engine (schemas, quotes, case-free compilation and the content
gate) and, only when that succeeds, copies them into a new snapshot folder
that workers load from. A broken change is refused with the error logged, and
workers keep booting from the last good snapshot.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from .drafts import load_drafts
from .engine import Engine

__all__ = ["Snapshots", "active", "start"]


class Snapshots:
    """Snapshots of `rules_dir` and `content_dir` kept under a private folder."""

    def __init__(self, rules_dir: Path, content_dir: Path, keep: int = 2):
        self.rules_dir, self.content_dir = Path(rules_dir), Path(content_dir)
        self.root = Path(tempfile.mkdtemp(prefix="advisor-snapshots-"))
        self.keep = keep
        self.current: Path | None = None
        self.version: str | None = None
        self._count = 0

    def take(self) -> Path:
        """Validate the folders and snapshot them; raise DataError when they are broken."""
        engine = Engine.load(self.rules_dir, self.content_dir, memo_size=0)
        load_drafts(self.content_dir, engine.catalogue, engine.moderator)
        engine.close()
        self._count += 1
        target = self.root / f"{self._count:04d}"
        shutil.copytree(self.rules_dir, target / "rules")
        shutil.copytree(self.content_dir, target / "content")
        self.current, self.version = target, engine.version
        for old in sorted(self.root.iterdir())[: -self.keep]:
            shutil.rmtree(old, ignore_errors=True)
        return target

    def environment(self) -> dict[str, str]:
        """The variables that point a worker at the current snapshot."""
        return {
            "ADVISOR_RULES_DIR": str(self.current / "rules"),
            "ADVISOR_CONTENT_DIR": str(self.current / "content"),
        }

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


#: The master's snapshots; module state survives gunicorn re-reading its config.
_active: Snapshots | None = None


def start(rules_dir: Path, content_dir: Path) -> Snapshots:
    """Begin snapshotting the given folders (once per process) and take the first."""
    global _active
    if _active is None:
        _active = Snapshots(rules_dir, content_dir)
        _active.take()
    return _active


def active() -> Snapshots | None:
    return _active
