"""The test tiers: what keeps a server or browser test out of the fast one."""

import re
import socket
import subprocess
import sys
import tomllib

import pytest

from .live import ROOT
from .tiers import needed_marker

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_binding_a_socket_without_the_server_marker_fails_the_test():
    with socket.socket() as sock, pytest.raises(pytest.fail.Exception, match="mark it `server`"):
        sock.bind(("127.0.0.1", 0))


@pytest.mark.parametrize(
    ("argv", "marker"),
    [
        ([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], "server"),
        (["/usr/bin/redis-server", "--port", "6380"], "server"),
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
