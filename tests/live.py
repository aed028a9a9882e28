"""Real servers for tests: gunicorn with the packaged settings, and redis-server."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
from pathlib import Path

from advisor._server import Server, free_port, gunicorn, gunicorn_command, wait_until_up

__all__ = ["ROOT", "Server", "free_port", "gunicorn", "gunicorn_command", "redis_server"]

#: The checkout the tests run from.
ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def redis_server(tmp_path: Path):
    """A throw-away redis-server on a free loopback port; yield its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed: `make test-all` installs it")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )

    def answers() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    try:
        wait_until_up(answers, "redis-server", process)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
