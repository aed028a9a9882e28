"""Every command and request the README and docs/ show, run as a reader would run it.

A ``sh`` or ``python`` block is run (``sh`` with ``bash -e``) in a scratch folder
that sees the checkout's files and ``.venv``; a block that sends requests to
``localhost:8000`` runs against a real gunicorn (a block opening with
``VAR=value make run`` gets a server of its own with those settings). What the
page shows as output is compared with what came:

- full-line comments after a command (``# HTTP/1.1 304 NOT MODIFIED``) are lines
  the output must hold, in that order;
- a block under ``<!-- output -->`` is the output of the block above it: as JSON,
  the same structure (``"…"`` matches any value, a trailing ``"…"`` in a list any
  further items, a ``"…": "…"`` entry any further keys, and ``…`` inside a string
  any text); otherwise lines the output must hold, in order.

In strings and lines alike ``…`` stands for any text. A block that cannot run
here says why in ``<!-- not run: … -->`` above it; one that would change the
machine (installs, ``/etc``, ``/opt``, systemd) or never end (``make``,
``advisor serve``) is never run, and fails until the page says so.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import pytest

from .live import ROOT, free_port, gunicorn

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
COMMANDS = {"sh", "python"}
SERVER = "localhost:8000"
FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
NOTE = re.compile(r"^<!--\s*(.*?)\s*-->$")
START = re.compile(r"^((?:ADVISOR_\w+=(?:\"[^\"]*\"|'[^']*'|\S+)\s+)*)make run\s*(?:#.*)?$")
ELLIPSIS = "…"
#: What a block must not do unannounced: it would change the machine the tests run on.
MACHINE = re.compile(
    r"\b(sudo|apt-get|apt|systemctl|useradd|nginx|pip install)\b|(?<![\w.])/(etc|opt|usr|var|srv)/"
)
#: What never ends by itself, or runs the suite: only `VAR=value make run` opening a block is
#: understood (the test starts that server itself).
ENDLESS = re.compile(r"(?:^|[;&|])\s*make\b|\badvisor serve\b", re.MULTILINE)


def unannounced(block: Block) -> str | None:
    """What in `block` the tests must not run, unless the page says it is not run."""
    first, _, rest = block.text.partition("\n")
    text = rest if SERVER in block.text and START.match(first) else block.text
    found = MACHINE.search(text) or ENDLESS.search(text)
    return found and found.group(0)


@dataclass
class Block:
    page: Path
    line: int
    lang: str
    text: str
    note: str | None
    output: Block | None = None

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def skipped(self) -> str | None:
        """Why the block is not run, if the page says it is not."""
        if self.note and self.note.startswith("not run"):
            return self.note.partition(":")[2].strip()
        return None


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of `page`, each with the HTML comment just above it."""
    found: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if not fence:
            index += 1
            continue
        indent, lang = fence.groups()
        end = next(
            i
            for i in range(index + 1, len(lines))
            if lines[i].strip() == "```" and lines[i].startswith(indent)
        )
        above = next((lines[i].strip() for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        note = NOTE.match(above)
        body = "\n".join(line.removeprefix(indent) for line in lines[index + 1 : end])
        found.append(Block(page, index + 1, lang, body + "\n", note and note.group(1)))
        index = end + 1
    for before, block in zip(found, found[1:], strict=False):
        if block.note == "output":
            before.output = block
    return found


ALL = [block for page in PAGES for block in blocks(page)]
COMMAND_BLOCKS = [b for b in ALL if b.lang in COMMANDS and b.note != "output"]
RUN = [b for b in COMMAND_BLOCKS if not b.skipped and not unannounced(b)]
OFFLINE = [b for b in RUN if SERVER not in b.text]
AGAINST_SERVER = [b for b in RUN if SERVER in b.text]


@pytest.mark.parametrize("block", COMMAND_BLOCKS, ids=[b.name for b in COMMAND_BLOCKS])
def test_a_block_that_changes_the_machine_or_never_ends_says_it_is_not_run(block):
    found = unannounced(block)
    assert block.skipped or not found, (
        f"{block.name} would change the machine the tests run on or never end ({found!r}): "
        "put <!-- not run: REASON --> above it"
    )


#: A command that runs the checkout's own code with whatever `python` or `pip` is first on
#: the reader's PATH: after the README's `make` commands that is not the `.venv` they made
#: (which the blocks here run with), and the command ends in "No module named ...".
BARE_PYTHON = re.compile(r"(?<![\w/.])(?:python3? (?:-m bench|scripts/|bench/)|pip install -e)")


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_commands_of_the_checkout_name_its_venv(page):
    lines = page.read_text(encoding="utf-8").splitlines()
    bare = [f"{n}: {line.strip()}" for n, line in enumerate(lines, 1) if BARE_PYTHON.search(line)]
    assert not bare, f"{page.name}: write .venv/bin/python (or .venv/bin/pip): {bare}"


def test_every_page_has_its_examples_found():
    assert {b.page.name for b in RUN} >= {"README.md", "api.md", "operations.md"}
    assert len(RUN) >= 10


def test_a_wheel_named_in_the_pages_is_of_the_version_being_built():
    # The install steps cannot run here; the file they name must still be the one
    # `pip wheel .` builds now.
    named = {
        (page.relative_to(ROOT).as_posix(), found)
        for page in PAGES
        for found in re.findall(r"interview_advisor-(\d+\.\d+\.\d+)-", page.read_text())
    }
    assert named, "no page names the wheel"
    assert {found for _, found in named} == {version("interview-advisor")}, sorted(named)


@pytest.mark.parametrize("block", ALL, ids=[b.name for b in ALL])
def test_every_block_is_run_shown_as_output_or_says_why_not(block):
    if block.note == "output":
        before = ALL[ALL.index(block) - 1]
        assert before.page == block.page, f"{block.name}: an output block follows a command"
        assert before in RUN, f"{block.name}: an output block must follow a block that is run"
    elif block.note is not None and block.note.startswith("not run"):
        assert block.lang in COMMANDS, f"{block.name}: only commands are run"
        assert block.skipped, f"{block.name}: say why the block is not run"


def _pattern(shown: str) -> re.Pattern:
    return re.compile(".*".join(re.escape(piece) for piece in shown.split(ELLIPSIS)), re.DOTALL)


def _shown_lines(block: Block) -> list[str]:
    """What the page says the block prints: its output block, or comments after commands."""
    if block.output is not None:
        return block.output.text.splitlines()
    shown, after_command = [], False
    for line in block.text.splitlines():
        if line.startswith("# ") and after_command:
            shown.append(line[2:])
        elif line.strip() and not line.startswith("#"):
            after_command = True
    return shown


def _holds_lines(shown: list[str], output: str) -> str | None:
    """None when every shown line is a line of the output, in order; else the first missing."""
    lines = iter(line.strip() for line in output.splitlines())
    for want in (line.strip() for line in shown if line.strip()):
        pattern = _pattern(want)
        if not any(pattern.fullmatch(line) for line in lines):
            return want
    return None


def _mismatch(shown, actual, path="$") -> str | None:
    """Where `actual` differs from the JSON the page shows, or None."""
    if shown == ELLIPSIS:
        return None
    if isinstance(shown, str) and isinstance(actual, str):
        return None if _pattern(shown).fullmatch(actual) else f"{path}: {actual!r}"
    if isinstance(shown, dict) and isinstance(actual, dict):
        open_ended = shown.get(ELLIPSIS) == ELLIPSIS
        keys = set(shown) - {ELLIPSIS}
        if not keys <= set(actual) or (not open_ended and set(actual) != keys):
            return f"{path}: keys {sorted(actual)}, shown {sorted(keys)}"
        return next(
            (
                m
                for key in shown
                if key != ELLIPSIS
                if (m := _mismatch(shown[key], actual[key], f"{path}.{key}"))
            ),
            None,
        )
    if isinstance(shown, list) and isinstance(actual, list):
        open_ended = bool(shown) and shown[-1] == ELLIPSIS
        items = shown[:-1] if open_ended else shown
        if len(actual) < len(items) or (not open_ended and len(actual) != len(items)):
            return f"{path}: {len(actual)} items, shown {len(items)}"
        return next(
            (
                m
                for i, item in enumerate(items)
                if (m := _mismatch(item, actual[i], f"{path}[{i}]"))
            ),
            None,
        )
    if type(shown) is not type(actual) or shown != actual:
        return f"{path}: {actual!r}, shown {shown!r}"
    return None


def _check(block: Block, output: str) -> None:
    if block.output is not None and block.output.lang == "json":
        problem = _mismatch(json.loads(block.output.text), json.loads(output))
        assert problem is None, (
            f"{block.name}: the answer is not the one {block.output.name} shows: {problem}"
        )
        return
    shown = _shown_lines(block)
    assert shown, f"{block.name}: show what the block prints, so that the page can be checked"
    missing = _holds_lines(shown, output)
    assert missing is None, f"{block.name}: no line {missing!r} in the output:\n{output}"


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """One scratch folder per page, which sees the checkout's files and `.venv` (this Python's).

    The blocks of a page run in order in its folder, as a reader runs them: a file one
    block writes (`state.json`) is there for the next.
    """
    made: dict[Path, Path] = {}

    def folder(page: Path) -> Path:
        if page not in made:
            made[page] = tmp_path_factory.mktemp(page.stem)
            for item in ROOT.iterdir():
                if item.name not in {".git", ".venv"}:
                    (made[page] / item.name).symlink_to(item)
            (made[page] / ".venv").symlink_to(sys.prefix)
        return made[page]

    return folder


def _run(block: Block, folder: Path, server: str | None = None) -> str:
    text = block.text.replace(SERVER, server or SERVER)
    if block.lang == "python":
        argv = [sys.executable, "-c", text]
    else:
        argv = ["bash", "-e", "-c", text]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{block.name} exited {done.returncode}:\n{done.stderr}"
    return done.stdout


@pytest.mark.process
@pytest.mark.parametrize("block", OFFLINE, ids=[b.name for b in OFFLINE])
def test_an_offline_example_runs_and_prints_what_the_page_shows(block, folders):
    _check(block, _run(block, folders(block.page)))


@pytest.fixture(scope="module")
def server():
    with gunicorn(workers=1) as running:
        yield running.base.removeprefix("http://")


@pytest.mark.server
@pytest.mark.parametrize("block", AGAINST_SERVER, ids=[b.name for b in AGAINST_SERVER])
def test_a_request_example_gets_what_the_page_shows(block, folders, request):
    folder = folders(block.page)
    first, _, rest = block.text.partition("\n")
    start = START.match(first)
    if start is None:
        address = request.getfixturevalue("server")
        _check(block, _run(block, folder, address))
        return
    settings = dict(word.split("=", 1) for word in shlex.split(start.group(1)))
    text = rest
    for name, value in settings.items():  # a listener of its own named in a setting: a free port
        if listener := re.fullmatch(r"127\.0\.0\.1:(\d+)", value):
            port = free_port()
            settings[name] = f"127.0.0.1:{port}"
            text = re.sub(
                rf"\b(localhost|127\.0\.0\.1):{listener.group(1)}\b", f"127.0.0.1:{port}", text
            )
    with gunicorn(workers=1, env=settings) as own:
        ran = Block(block.page, block.line, block.lang, text, block.note, block.output)
        _check(block, _run(ran, folder, own.base.removeprefix("http://")))


SHOWN_JSON = [
    ("equal", {"a": 1, "b": ["x"]}, {"a": 1, "b": ["x"]}, True),
    ("a value differs", {"a": 1}, {"a": 2}, False),
    ("a field the page leaves out", {"a": 1}, {"a": 1, "b": 2}, False),
    ("a field the answer lacks", {"a": 1, "b": 2}, {"a": 1}, False),
    ("further fields allowed", {"a": 1, "…": "…"}, {"a": 1, "b": 2}, True),
    ("any value", {"a": "…"}, {"a": [1, {"b": 2}]}, True),
    ("a trailing … allows more items", ["x", "…"], ["x", "y", "z"], True),
    ("but not other first items", ["x", "…"], ["y", "x"], False),
    ("without it, the same length", ["x"], ["x", "y"], False),
    ("… inside a string", "sha256:…", "sha256:48c4", True),
    ("… keeps the ends", "sha256:…", "md5:48c4", False),
    ("1 is not true", {"a": True}, {"a": 1}, False),
    ("2 is not 2.0", 2, 2.0, False),
]


@pytest.mark.parametrize(
    ("name", "shown", "actual", "holds"), SHOWN_JSON, ids=[c[0] for c in SHOWN_JSON]
)
def test_an_answer_is_compared_with_the_json_shown(name, shown, actual, holds):
    assert (_mismatch(shown, actual) is None) is holds


SHOWN_LINES = [
    ("in order", ["a", "c"], "a\nb\nc\n", True),
    ("out of order", ["c", "a"], "a\nb\nc\n", False),
    ("a wildcard", ['ETag: "…-…"'], 'ETag: "ab-cd"\r\n', True),
    ("whole lines only", ["HTTP/1.1 304"], "HTTP/1.1 304 NOT MODIFIED\n", False),
    ("indentation aside", ['"failed": "x"'], '      "failed": "x"\n', True),
]


@pytest.mark.parametrize(
    ("name", "shown", "output", "holds"), SHOWN_LINES, ids=[c[0] for c in SHOWN_LINES]
)
def test_output_is_compared_with_the_lines_shown(name, shown, output, holds):
    assert (_holds_lines(shown, output) is None) is holds
