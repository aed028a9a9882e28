"""Settings from ``ADVISOR_*`` environment variables, with safe defaults."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, fields
from importlib.resources import files
from pathlib import Path

from .engine import Advice, Engine
from .moderation import Verdict
from .state import InterviewState

__all__ = ["Settings", "default_engine", "evaluate", "moderate", "packaged"]


def packaged(*parts: str) -> Path:
    """A file or folder shipped inside the package, as a path (wheels install unzipped)."""
    return Path(os.fspath(files(__package__).joinpath(*parts)))


@dataclass(frozen=True)
class Settings:
    """Every setting; each field ``name`` is read from ``ADVISOR_NAME``."""

    #: Rule files; by default those shipped in the package.
    rules_dir: Path = packaged("data", "rules")
    #: Content files; by default those shipped in the package.
    content_dir: Path = packaged("data", "content")
    #: Largest request body, in bytes.
    max_body_bytes: int = 256 * 1024
    #: Per-client limits on /v1/ (Flask-Limiter syntax, ";"-separated); "" turns them off.
    rate_limits: str = "600 per minute;60 per second"
    #: Where rate-limit counts live: memory:// (per process) or redis://host:port/db (shared).
    rate_limit_storage: str = "memory://"
    #: How many proxies in front of us set X-Forwarded-For (0: use the peer address).
    proxy_count: int = 0
    #: Python log level of the application's JSON logs.
    log_level: str = "INFO"
    #: Origins that browsers may call the API from, comma-separated; "*" allows any.
    cors_origins: str = "*"
    #: Rule outcomes the engine remembers per distinct set of condition truths (0: none).
    engine_memo: int = 4096
    #: JSON answers to /v1/advice kept per worker for identical requests (0: none).
    answer_cache: int = 512
    #: Seconds that clients and shared caches may keep catalogue responses.
    cache_max_age: int = 300

    @classmethod
    def from_env(cls, environ=os.environ) -> Settings:
        """Read every ``ADVISOR_*`` variable; a bad value names its variable."""
        values = {}
        for item in fields(cls):
            name = f"ADVISOR_{item.name.upper()}"
            if name not in environ:
                continue
            kind = type(item.default)
            try:
                values[item.name] = kind(environ[name])
            except ValueError as error:
                raise ValueError(
                    f"{name}: not a valid {kind.__name__}: {environ[name]!r}"
                ) from error
        return cls(**values)


_lock = threading.Lock()
_engines: dict[tuple[Path, Path, int], Engine] = {}


def default_engine(settings: Settings | None = None) -> Engine:
    """The engine for `settings` (from the environment by default), loaded once."""
    settings = settings or Settings.from_env()
    key = (settings.rules_dir, settings.content_dir, settings.engine_memo)
    with _lock:
        if key not in _engines:
            _engines[key] = Engine.load(*key)
        return _engines[key]


def evaluate(state: InterviewState) -> Advice:
    """The advice for `state` from the default engine."""
    return default_engine().evaluate(state)


def moderate(text: str) -> Verdict:
    """The moderation verdict on `text` from the default engine."""
    return default_engine().moderate(text)
