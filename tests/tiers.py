"""The guard of the test tiers.

`make test` runs the tests that carry none of the markers in pyproject.toml;
`make test-all` runs them all. A test that binds a socket or starts gunicorn,
redis-server, nginx or a browser without the marker for it fails, saying which to
add, so no server or browser test lands in the fast tier unnoticed. The
conftest registers `audit` as an audit hook (`sys.addaudithook`) and keeps
the test being set up or run in `running`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

running: list[pytest.Item] = []


def needed_marker(event: str, args: tuple) -> str | None:
    """The marker a test must carry to cause the audit event `event`, if any."""
    if event == "socket.bind":
        return "server"
    if event != "subprocess.Popen":
        return None
    argv = args[1]
    words = [argv] if isinstance(argv, str | bytes | os.PathLike) else argv
    words = [os.fsdecode(word) for word in words]
    names = {Path(word).name for word in words}
    if "chromium" in names or any("playwright" in word for word in words):
        return "browser"
    if names & {"gunicorn", "redis-server", "nginx"}:
        return "server"
    return None


def audit(event: str, args: tuple) -> None:
    marker = needed_marker(event, args) if running else None
    if marker and running[0].get_closest_marker(marker) is None:
        what = "binds a socket" if event == "socket.bind" else f"starts {Path(args[0]).name}"
        pytest.fail(
            f"{running[0].nodeid} {what}: mark it `{marker}` to keep it out of the fast tier",
            pytrace=False,
        )
