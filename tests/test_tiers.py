"""The test tiers and the supported Pythons: what keeps each in step."""

import re
import socket
import subprocess
import sys
import tomllib

import pytest
from packaging.specifiers import SpecifierSet

from .live import ROOT, gunicorn_command
from .tiers import needed_marker

FIND_PYTHON = ROOT / "scripts" / "find-python"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_binding_a_socket_without_the_server_marker_fails_the_test():
    with socket.socket() as sock, pytest.raises(pytest.fail.Exception, match="mark it `server`"):
        sock.bind(("127.0.0.1", 0))


@pytest.mark.parametrize(
    ("argv", "marker"),
    [
        (gunicorn_command(), "server"),
        (["/usr/bin/redis-server", "--port", "6380"], "server"),
        (["/usr/sbin/nginx", "-p", "/tmp/site", "-c", "nginx.conf"], "server"),
        (["/usr/bin/chromium", "--headless"], "browser"),
        (["/venv/lib/python3/site-packages/playwright/driver/node", "cli.js"], "browser"),
        ([sys.executable, "-c", "print(1)"], None),
        ("advisor rules check", None),
    ],
)
def test_what_needs_a_marker(argv, marker):
    assert needed_marker("subprocess.Popen", (argv[0], argv, None, None)) == marker


def test_starting_gunicorn_without_the_server_marker_fails_before_it_starts():
    argv = [sys.executable, "-m", "gunicorn", "--version"]
    with pytest.raises(pytest.fail.Exception, match="mark it `server`"):
        subprocess.run(argv, check=True, capture_output=True)


def test_the_fast_tier_leaves_out_every_marker():
    makefile = (ROOT / "Makefile").read_text()
    fast = re.search(r"^FAST_TIER := (.+)$", makefile, re.MULTILINE).group(1)
    markers = [line.split(":")[0] for line in PYPROJECT["tool"]["pytest"]["ini_options"]["markers"]]
    assert fast == " and ".join(f"not {marker}" for marker in markers)


def _supported_by_find_python() -> list[str]:
    return re.search(r"^SUPPORTED=\((.*)\)$", FIND_PYTHON.read_text(), re.MULTILINE)[1].split()


def test_find_python_supports_what_pyproject_requires():
    required = SpecifierSet(PYPROJECT["project"]["requires-python"])
    supported = _supported_by_find_python()
    assert supported == [f"3.{minor}" for minor in range(20) if f"3.{minor}.0" in required]


def test_find_python_accepts_this_interpreter():
    found = subprocess.run(
        [FIND_PYTHON, sys.executable], capture_output=True, text=True, check=True
    ).stdout.strip()
    version = subprocess.run(
        [found, "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert version == str(sys.version_info[:2])


@pytest.mark.parametrize("version", ["3.10", "3.14", "2.7"])
def test_find_python_refuses_an_unsupported_version(version):
    result = subprocess.run([FIND_PYTHON, version], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stdout == ""
    assert f"Python {version} is not supported" in result.stderr


def test_find_python_refuses_an_interpreter_of_an_unsupported_version(tmp_path):
    old = tmp_path / "python3.10"
    old.write_text("#!/bin/sh\necho 3.10\n")
    old.chmod(0o755)
    result = subprocess.run([FIND_PYTHON, old], capture_output=True, text=True)
    assert result.returncode == 1
    assert "does not run a supported Python" in result.stderr


def _planned(target: str, tmp_path) -> list[str]:
    """The commands `make TARGET` would run for a new environment (make -n)."""
    argv = ["make", "--no-print-directory", "-n", target, f"VENV={tmp_path / 'venv'}"]
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=True)
    return result.stdout.splitlines()


@pytest.mark.process
def test_make_run_installs_only_what_serving_needs(tmp_path):
    installs = [line for line in _planned("run", tmp_path) if "pip install" in line]
    assert installs
    assert all(line.endswith(" -e .") for line in installs), installs


@pytest.mark.process
@pytest.mark.parametrize("target", ["test", "test-all"])
def test_the_test_targets_install_the_test_extras(tmp_path, target):
    assert any(line.endswith("-e '.[test]'") for line in _planned(target, tmp_path))
