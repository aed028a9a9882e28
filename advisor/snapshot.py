"""Validated snapshots of rules and content, for reloads that cannot break serving.

The gunicorn master copies the rule and content folders into a private
staging folder first, then validates the copy by loading it into a full
engine (schemas, quotes, case-free compilation and the content gate), and
only then promotes it to a snapshot that workers load from. A file changed
or truncated while a reload runs therefore never reaches a worker unchecked:
either the copy holds it and is refused, or it does not. A refused change is
logged and workers keep booting from the last good snapshot.

A reload moves to changed rules and content, never to changed code: the
master, whose code is in memory, forks the new workers, which read the rest of
it from disk. So the root also keeps a fingerprint of the package's code as the
master started (`code_fingerprint`); a reload that finds other code on disk (a
release installed since) is refused by stopping the master, to be started
again on the new code (`Snapshots.code_changed`).

A snapshot is never written after it is promoted. Should a worker still fail
to load one (a folder removed behind the service's back, a full disk), it
falls back to the newest earlier good snapshot (`load_engine`), so a broken
snapshot never stops a worker from booting nor the master from running.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from ._data import DataError
from .config import Settings, default_engine
from .drafts import Drafts, load_drafts
from .engine import Engine

__all__ = ["ROOT_VARIABLE", "Snapshots", "code_fingerprint", "load_engine", "reopen", "start"]

#: Where the master keeps its snapshots; workers read it from their environment.
ROOT_VARIABLE = "ADVISOR_SNAPSHOTS"
_PROMOTED = "ready"  # the name of a promoted snapshot's marker file
_SOURCES = "sources"  # the file of a root naming the folders snapshotted
_CODE = "code"  # the file of a root holding the fingerprint of the code the master runs
#: The package whose code a reload cannot change.
PACKAGE = Path(__file__).resolve().parent

_log = logging.getLogger("gunicorn.error")


class Snapshots:
    """Snapshots of `rules_dir` and `content_dir` kept under a private folder.

    The folder holds all of their state: the master finds them again from it
    (`reopen`, with the folder its environment names) after gunicorn re-reads
    its configuration on a reload, so nothing is kept in module state.
    """

    def __init__(self, rules_dir: Path, content_dir: Path, keep: int = 3, root: Path | None = None):
        self.rules_dir, self.content_dir = Path(rules_dir), Path(content_dir)
        if root is None:
            root = Path(tempfile.mkdtemp(prefix="advisor-snapshots-"))
            (root / _SOURCES).write_text(f"{self.rules_dir}\n{self.content_dir}\n")
            (root / _CODE).write_text(code_fingerprint())
        self.root = root
        self.keep = keep
        promoted = _promoted(root)
        self.current: Path | None = promoted[0] if promoted else None
        self.version: str | None = (
            (self.current / _PROMOTED).read_text() if self.current is not None else None
        )
        self._count = max((int(p.name) for p in promoted), default=0)

    @classmethod
    def reopen(cls, root: Path) -> Snapshots:
        """The snapshots kept under `root` (``ADVISOR_SNAPSHOTS``), as `start` left them."""
        rules_dir, content_dir = (root / _SOURCES).read_text().splitlines()
        return cls(Path(rules_dir), Path(content_dir), root=Path(root))

    def take(self) -> Path:
        """Copy the folders, validate the copy and promote it; raise DataError (and
        keep the current snapshot) when the copy is broken or cannot be made."""
        self._count += 1
        staging = self.root / f"staging-{self._count:04d}"
        try:
            try:
                shutil.copytree(self.rules_dir, staging / "rules")
                shutil.copytree(self.content_dir, staging / "content")
            except (OSError, shutil.Error) as error:
                raise DataError(f"cannot copy the rules and content: {error}") from None
            try:
                engine = Engine.load(staging / "rules", staging / "content", memo_size=0)
                load_drafts(staging / "content", engine.catalogue, engine.moderator)
                engine.close()
            except DataError as error:
                # Name the operator's own files, not the private copy that was checked.
                message = str(error)
                message = message.replace(str(staging / "rules"), str(self.rules_dir))
                message = message.replace(str(staging / "content"), str(self.content_dir))
                raise DataError(message) from None
            target = self.root / f"{self._count:04d}"
            try:
                (staging / _PROMOTED).write_text(engine.version)
                staging.rename(target)
            except OSError as error:  # a disk that filled up between the copy and now
                raise DataError(f"cannot keep the checked copy: {error}") from None
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self.current, self.version = target, engine.version
        for old in _promoted(self.root)[self.keep :]:
            shutil.rmtree(old, ignore_errors=True)
        return target

    def code_changed(self) -> bool:
        """Whether the package's code on disk is not the code the master started with;
        False when that cannot be told (the fingerprint removed behind its back)."""
        try:
            started = (self.root / _CODE).read_text()
        except OSError:
            return False
        return started != code_fingerprint()

    def environment(self) -> dict[str, str]:
        """The variables that point a worker at the current snapshot."""
        return {
            "ADVISOR_RULES_DIR": str(self.current / "rules"),
            "ADVISOR_CONTENT_DIR": str(self.current / "content"),
            ROOT_VARIABLE: str(self.root),
        }

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def code_fingerprint(package: Path = PACKAGE) -> str:
    """The SHA-256 of every Python file of `package`, with its path: another release
    installed, or any edit of the code, changes it."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(f"{path.relative_to(package)}\0{path.stat().st_size}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _promoted(root: Path) -> list[Path]:
    """The promoted snapshots under `root`, newest first."""
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.name.isdigit() and (p / _PROMOTED).is_file()]
    return sorted(found, key=lambda p: int(p.name), reverse=True)


def load_engine(settings: Settings, environ=os.environ) -> Engine:
    """The engine of `load_service`."""
    return load_service(settings, environ)[0]


def load_service(settings: Settings, environ=os.environ) -> tuple[Engine, Drafts, Settings]:
    """The engine and drafts of the folders `settings` names, and those settings.

    Under the gunicorn master, when they cannot be loaded, those of the newest
    earlier good snapshot instead (with the settings naming it); when none can,
    the worker exits (status 1, after a pause) to be started again, rather than
    failing to boot, which would stop the master."""
    try:
        return _load(settings)
    except Exception as error:
        root = environ.get(ROOT_VARIABLE)
        if not root:
            raise
        failure = error
    current = settings.rules_dir.parent
    for snapshot in [s for s in _promoted(Path(root)) if s != current]:
        _log.error("cannot load %s (%s); falling back to %s", current, _describe(failure), snapshot)
        current = snapshot
        fallback = replace(settings, rules_dir=snapshot / "rules", content_dir=snapshot / "content")
        try:
            return _load(fallback)
        except Exception as error:
            failure = error
    _log.error("cannot load %s (%s), nor any earlier snapshot", current, _describe(failure))
    time.sleep(1)
    raise SystemExit(1)


def _load(settings: Settings) -> tuple[Engine, Drafts, Settings]:
    engine = default_engine(settings)
    return engine, load_drafts(settings.content_dir, engine.catalogue, engine.moderator), settings


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def start(rules_dir: Path, content_dir: Path) -> Snapshots:
    """Begin snapshotting the given folders and take the first snapshot; a master
    finds them again with `Snapshots.reopen` and the root `Snapshots.environment`
    names."""
    snapshots = Snapshots(rules_dir, content_dir)
    try:
        snapshots.take()
    except BaseException:
        snapshots.remove()
        raise
    return snapshots


def reopen(environ=os.environ) -> Snapshots | None:
    """The snapshots this master began (`start`), from the root `environ` names; None
    before it began them."""
    root = environ.get(ROOT_VARIABLE)
    return Snapshots.reopen(Path(root)) if root else None
