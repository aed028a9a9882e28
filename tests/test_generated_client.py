"""Clients generated from the served /openapi.json work against a real server.

- Python: openapi-python-client generates the client from the document a
  running gunicorn serves; it is installed into a throwaway venv (it needs
  only httpx and attrs), where ``clients/use_python_client.py`` calls every
  operation through it, meets each error a client can (an API key the server
  lists with a small limit of its own brings a 429), and checks that every
  answer is read into its typed models with no field left over.
- TypeScript (where node and npm are installed): openapi-typescript types the
  document, ``clients/use_typescript_client.ts`` makes such calls with
  openapi-fetch (each kind of operation, and the errors, the 429 too), ``tsc --strict`` checks them and node runs them; the example
  of docs/api.md is compiled and run as the page shows it, in an ES module
  package as the page sets one up.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from advisor.config import hash_api_key
from advisor.web.openapi import API_VERSION

from .live import ROOT, gunicorn
from .test_docs_examples import _check, blocks

pytestmark = pytest.mark.server

BIN = Path(sys.executable).parent
CLIENTS = Path(__file__).resolve().parent / "clients"
USE = CLIENTS / "use_python_client.py"
API_PAGE = ROOT / "docs" / "api.md"
#: An API key the server lists, with a limit small enough for the client to meet a 429:
#: anonymous callers (the docs' examples) keep the default limits.
KEY = "generated-client-key"
KEY_LIMIT = "3 per minute"


def _run(*command, **kwargs) -> str:
    # The generator formats its output with ruff, which it looks for on PATH.
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, **kwargs)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {
        "ADVISOR_API_KEYS": f"generated-client:{hash_api_key(KEY)}",
        "ADVISOR_API_KEY_RATE_LIMITS": KEY_LIMIT,
    }
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    with gunicorn(workers=1, env=env, log=log) as server:
        yield server


def _document(server, folder: Path) -> Path:
    """The served /openapi.json, saved in `folder`."""
    with urllib.request.urlopen(f"{server.base}/openapi.json", timeout=10) as response:
        document = json.load(response)
    assert document["info"]["version"] == API_VERSION
    path = folder / "openapi.json"
    path.write_text(json.dumps(document))
    return path


@pytest.fixture(scope="module")
def python_client(server, tmp_path_factory) -> Path:
    """The Python of a throwaway venv with the client generated from the served document."""
    tmp_path = tmp_path_factory.mktemp("python-client")
    document = _document(server, tmp_path)
    generated = tmp_path / "client"
    output = _run(
        str(BIN / "openapi-python-client"),
        "generate",
        "--path",
        str(document),
        "--meta",
        "setup",
        "--output-path",
        str(generated),
    )
    assert "Warning" not in output, output
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", str(venv))
    _run(str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(generated))
    return venv / "bin" / "python"


def test_a_generated_python_client_installs_and_works(server, python_client):
    assert _run(str(python_client), str(USE), server.base, KEY).strip() == "ok"


CLIENT_EXAMPLES = [
    b for b in blocks(API_PAGE) if "from interview_advisor_api_client import Client" in b.text
]


def test_the_docs_show_the_python_client_examples():
    assert len(CLIENT_EXAMPLES) == 2, [b.name for b in CLIENT_EXAMPLES]


def test_the_docs_install_the_formatter_the_generator_runs():
    # The fixture above runs the generator with this venv's ruff on PATH; a reader
    # following the page needs it too, or the generator ends with a warning.
    [install] = [b for b in blocks(API_PAGE) if "pip install openapi-python-client" in b.text]
    assert "pip install openapi-python-client ruff" in install.text


@pytest.mark.parametrize("example", CLIENT_EXAMPLES, ids=[b.name for b in CLIENT_EXAMPLES])
def test_the_python_client_examples_of_the_docs_print_what_they_show(
    server, python_client, example
):
    text = example.text.replace("http://localhost:8000", server.base)
    _check(example, _run(str(python_client), "-c", text))


@pytest.mark.skipif(shutil.which("npm") is None, reason="node and npm are not installed")
def test_a_typed_typescript_client_compiles_and_works(server, tmp_path):
    for name in ("package.json", "package-lock.json", "tsconfig.json", "use_typescript_client.ts"):
        shutil.copy(CLIENTS / name, tmp_path / name)
    # The versions the lockfile names, so that a package published since cannot
    # change (or break) what is installed.
    _run("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error", cwd=tmp_path)
    document = _document(server, tmp_path)
    npx = ("npx", "--no-install")
    # Fields with a default are optional in a request, so not "non-nullable".
    _run(
        *npx,
        "openapi-typescript",
        str(document),
        "-o",
        "advisor.d.ts",
        "--default-non-nullable=false",
        cwd=tmp_path,
    )
    _run(*npx, "tsc", "-p", ".", cwd=tmp_path)
    output = _run("node", "out/use_typescript_client.js", server.base, KEY, cwd=tmp_path)
    assert output.strip() == "ok"


TS_EXAMPLE = next(b for b in blocks(API_PAGE) if b.lang == "ts")
TS_RUN = next(b for b in blocks(API_PAGE) if b.lang == "sh" and "node client.js" in b.text)


@pytest.mark.skipif(shutil.which("npm") is None, reason="node and npm are not installed")
def test_the_typescript_example_of_the_docs_compiles_and_runs_as_shown(server, tmp_path):
    # The packages the page installs, at the versions the lockfile names; then the
    # package made an ES module, as the page does.
    for name in ("package.json", "package-lock.json"):
        shutil.copy(CLIENTS / name, tmp_path / name)
    _run("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error", cwd=tmp_path)
    _run("npm", "pkg", "set", "type=module", cwd=tmp_path)
    document = _document(server, tmp_path)
    _run(
        "npx",
        "--no-install",
        "openapi-typescript",
        str(document),
        "-o",
        "advisor.d.ts",
        "--default-non-nullable=false",
        cwd=tmp_path,
    )
    (tmp_path / "client.ts").write_text(
        TS_EXAMPLE.text.replace("http://localhost:8000", server.base)
    )
    _check(TS_RUN, _run("bash", "-e", "-c", TS_RUN.text, cwd=tmp_path))
