"""Fixtures: the engine as loaded from the repository, the app and a client.

Also the guard of the test tiers (`tiers.py`): what a test does is checked
against its markers.
"""

import io
import json
import logging
import os
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import settings

from advisor import Engine, default_engine
from advisor.web.observability import JsonFormatter, configure_logging

from . import tiers
from .apps import make_app

ROOT = Path(__file__).resolve().parent.parent

# Two profiles: "full", the default, and "fast", which `make test` picks
# (--hypothesis-profile=fast): there the properties that draw hundreds of
# examples draw fewer (`strategies.examples`). In CI, property tests draw the
# same examples every run, so a failure there is reproducible; locally they
# explore afresh each time.
IN_CI = bool(os.environ.get("CI"))
for profile in ("full", "fast"):
    settings.register_profile(profile, derandomize=IN_CI, print_blob=IN_CI)
settings.load_profile("full")
# As the service's entry point does (`advisor.wsgi`): apps leave logging to the process.
configure_logging("INFO")


@pytest.fixture(scope="session")
def engine():
    return default_engine()


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


@pytest.fixture
def data_copy(tmp_path):
    """A writable copy of rules/ and content/, to doctor in a test."""
    rules, content = tmp_path / "rules", tmp_path / "content"
    shutil.copytree(ROOT / "rules", rules)
    shutil.copytree(ROOT / "content", content)
    return rules, content


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    # Before any fixture of `item`: module and session fixtures start servers too.
    tiers.running[:] = [item]


sys.addaudithook(tiers.audit)
