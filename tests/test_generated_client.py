"""A Python client generated from the served /openapi.json works against a real server.

openapi-python-client generates the client from the document a running
gunicorn serves; the client is installed into a throwaway venv (it needs only
httpx and attrs), where ``clients/use_python_client.py`` calls advice,
moderation, a 404 and a 422 through it and checks the typed results.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from advisor.web.openapi import API_VERSION

from .live import gunicorn

pytestmark = pytest.mark.server

BIN = Path(sys.executable).parent
USE = Path(__file__).resolve().parent / "clients" / "use_python_client.py"


def _run(*command, **kwargs) -> str:
    # The generator formats its output with ruff, which it looks for on PATH.
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, **kwargs)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def test_a_generated_python_client_installs_and_works(tmp_path):
    with gunicorn(workers=1, log=tmp_path / "gunicorn.log") as server:
        with urllib.request.urlopen(f"{server.base}/openapi.json", timeout=10) as response:
            document = json.load(response)
        assert document["info"]["version"] == API_VERSION
        (tmp_path / "openapi.json").write_text(json.dumps(document))
        generated = tmp_path / "client"
        output = _run(
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(tmp_path / "openapi.json"),
            "--meta",
            "setup",
            "--output-path",
            str(generated),
        )
        assert "Warning" not in output, output
        venv = tmp_path / "venv"
        _run(sys.executable, "-m", "venv", str(venv))
        _run(str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(generated))
        assert _run(str(venv / "bin" / "python"), str(USE), server.base).strip() == "ok"
