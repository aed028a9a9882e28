"""Fixtures: the engine as loaded from the repository, the app and a client.

Also the guard of the test tiers (`tiers.py`): what a test does is checked
against its markers.
"""

import hashlib
import io
import json
import logging
import os
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import settings

from advisor import Engine, default_engine
from advisor.config import settings_from_env
from advisor.engine import _rejected_records
from advisor.moderation import Moderator
from advisor.web.observability import JsonFormatter, configure_logging

from . import tiers
from .apps import make_app

ROOT = Path(__file__).resolve().parent.parent

# Two profiles: "full", the default, and "fast", which `make test` picks
# (--hypothesis-profile=fast): there the properties that draw hundreds of
# examples draw fewer (`strategies.examples`). In CI, property tests draw the
# same examples every run, so a failure there is reproducible; locally they
# explore afresh each time. No example has a deadline: how long one takes is the
# machine's load, and speed is the benchmark's to measure, never a test's.
IN_CI = bool(os.environ.get("CI"))
for profile in ("full", "fast"):
    settings.register_profile(profile, derandomize=IN_CI, print_blob=IN_CI, deadline=None)
settings.load_profile("full")
# As the service's entry point does (`advisor.wsgi`): apps leave logging to the process.
configure_logging("INFO")


@pytest.fixture(scope="session")
def engine():
    return default_engine()


@pytest.fixture(scope="session")
def moderator() -> Moderator:
    """The repository's moderation policy, checked against its rejected advice, loaded once:
    loading it is most of an engine's start-up."""
    rejected = yaml.safe_load((ROOT / "content" / "rejected.yaml").read_text(encoding="utf-8"))
    return Moderator.load(ROOT / "rules" / "moderation", rejected["rejected"])


@pytest.fixture(scope="session")
def unmemoised_engine(engine):
    """The same rules with the memo off: every evaluation is a durable_rules session."""
    fresh = Engine(engine.catalogue, engine.rulebook, engine.moderator, memo_size=0)
    yield fresh
    fresh.close()


@pytest.fixture(scope="session")
def app(engine):
    return make_app(engine)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def log_lines():
    """JSON lines written by the advisor loggers during the test."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.formatter = JsonFormatter()
    logger = logging.getLogger("advisor")
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


#: Moderators loaded from copies in this run, by the bytes of their policy and the
#: rejected advice they were checked against (`data_copy`).
_MODERATORS: dict[str, Moderator] = {}


def _policy_key(policy_dir, rejected) -> str:
    """The sha256 of the files of `policy_dir` (names and bytes) and of `rejected`."""
    digest = hashlib.sha256()
    policy_dir = Path(policy_dir)
    for path in sorted(p for p in policy_dir.rglob("*") if p.is_file()):
        digest.update(f"{path.relative_to(policy_dir)}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    digest.update(json.dumps(list(rejected), sort_keys=True, default=str).encode())
    return digest.hexdigest()


@pytest.fixture(scope="session")
def _engine_moderator(engine):
    """Offer the session engine's moderator to `data_copy`, for copies of its policy."""
    loaded = settings_from_env().rules_dir / "moderation"  # where `engine` read its policy
    _MODERATORS[_policy_key(loaded, _rejected_records(engine.catalogue))] = engine.moderator


@pytest.fixture
def data_copy(tmp_path, monkeypatch, _engine_moderator):
    """A writable copy of rules/ and content/, to doctor in a test.

    Loading the moderation policy is most of an engine's start-up. While the test
    runs, a policy whose files and rejected advice are byte for byte those of one
    already loaded (the session's engine, or a copy) gets that moderator again; a
    doctored one is loaded and checked afresh, as every other part of the copy is.
    """
    rules, content = tmp_path / "rules", tmp_path / "content"
    shutil.copytree(ROOT / "rules", rules)
    shutil.copytree(ROOT / "content", content)
    load = Moderator.load

    def load_once(cls, policy_dir, rejected):
        key = _policy_key(policy_dir, rejected)
        if key not in _MODERATORS:
            _MODERATORS[key] = load(policy_dir, rejected)
        return _MODERATORS[key]

    monkeypatch.setattr(Moderator, "load", classmethod(load_once))
    return rules, content


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    # Before any fixture of `item`: module and session fixtures start servers too.
    tiers.running[:] = [item]


sys.addaudithook(tiers.audit)
