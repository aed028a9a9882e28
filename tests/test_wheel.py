"""The wheel: built from a copy of the checkout, installed into a fresh virtual
environment, and run from an empty folder, on this Python and on 3.13."""

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml

from .live import CHECKOUT_LEFTOVERS, ROOT, free_port, wait_until_up

pytestmark = pytest.mark.server

# What a checkout holds that no build reads: its leftovers and compiled extensions.
NOT_SOURCE = shutil.ignore_patterns(*CHECKOUT_LEFTOVERS, "*.so")


def _python_3_13():
    found = subprocess.run(
        [ROOT / "scripts" / "find-python", "3.13"], capture_output=True, text=True
    )
    if found.returncode != 0:
        reason = f"no Python 3.13 on this machine: {found.stderr.strip()}"
        return pytest.param(None, id="3.13", marks=pytest.mark.skip(reason=reason))
    return pytest.param(found.stdout.strip(), id="3.13")


def _environment() -> dict[str, str]:
    """This environment without the settings that would point away from the wheel."""
    dropped = {"PYTHONPATH", "VIRTUAL_ENV", "PROMETHEUS_MULTIPROC_DIR"}
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("ADVISOR_") and name not in dropped
    }


def _run(argv: list, **options) -> subprocess.CompletedProcess:
    """Run `argv` with `_environment()`; fail with its output unless it succeeds."""
    result = subprocess.run(argv, capture_output=True, text=True, env=_environment(), **options)
    assert result.returncode == 0, f"{argv}:\n{result.stdout}{result.stderr}"
    return result


@pytest.fixture(params=[pytest.param(sys.executable, id="this-python"), _python_3_13()])
def installed(request, tmp_path) -> Path:
    """The bin folder of a fresh virtual environment with only the wheel (and its needs)."""
    python = request.param
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=NOT_SOURCE)
    _run([python, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", tmp_path / "dist", source])
    (wheel,) = (tmp_path / "dist").glob("interview_advisor-*.whl")
    _run([python, "-m", "venv", tmp_path / "venv"])
    bin_dir = tmp_path / "venv" / "bin"
    _run([bin_dir / "python", "-m", "pip", "install", "--quiet", wheel])
    return bin_dir


def test_the_wheel_checks_its_rules_and_serves_from_an_empty_folder(installed, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    where = _run(
        [installed / "python", "-c", "from advisor import Settings; print(Settings().rules_dir)"],
        cwd=empty,
    ).stdout.strip()
    model = Path(where) / "moderation" / "model.npz"
    assert Path(where).is_relative_to(installed.parent), where
    assert model.is_file()
    assert not model.is_symlink()

    check = _run([installed / "advisor", "rules", "check"], cwd=empty)
    assert "moderation cases pass" in check.stdout
    assert "FAIL" not in check.stdout
    # The words the normaliser reads a sentence spelt out letter by letter with.
    spelt = (
        "from advisor.moderation._text import normalise; print(normalise('d r i v e h o m e').text)"
    )
    assert _run([installed / "python", "-c", spelt], cwd=empty).stdout.strip() == "drive home"

    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as output:
        server = subprocess.Popen(
            [installed / "advisor", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
            cwd=empty,
            env=_environment(),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(
                lambda: urllib.request.urlopen(f"{base}/health/ready", timeout=2).status == 200,
                "advisor serve",
                server,
            )
            request = urllib.request.Request(
                f"{base}/v1/advice",
                data=json.dumps({"stage": "after", "hours_since": 1}).encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=10) as answer:
                assert answer.status == 200
                body = json.loads(answer.read())
        finally:
            server.terminate()
            server.wait(timeout=20)
    version = yaml.safe_load((ROOT / "rules" / "ruleset.yaml").read_text())["version"]
    assert body["ruleset"]["version"] == version, log.read_text()
    assert body["actions"], body
    assert list(empty.iterdir()) == []
