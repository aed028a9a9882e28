"""Real servers for tests: gunicorn with the packaged settings, and redis-server."""

from __future__ import annotations

import contextlib
import http.client
import http.server
import itertools
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bench.server import Server, free_port, gunicorn, gunicorn_command, wait_until_up

__all__ = [
    "ROOT",
    "Answer",
    "Load",
    "Server",
    "free_port",
    "gunicorn",
    "gunicorn_command",
    "http_server",
    "load",
    "redis_process",
    "redis_server",
]

#: The checkout the tests run from.
ROOT = Path(__file__).resolve().parent.parent
#: What a checkout holds beside its sources: environments, caches, earlier builds.
CHECKOUT_LEFTOVERS = (
    ".git",
    ".venv*",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
    "test-artifacts",
)


@contextlib.contextmanager
def redis_server(tmp_path: Path):
    """A throw-away redis-server on a free loopback port; yield its URL."""
    with redis_process(tmp_path) as (url, _process):
        yield url


@contextlib.contextmanager
def redis_process(tmp_path: Path):
    """A throw-away redis-server on a free loopback port; yield its URL and process,
    for tests that stop or kill it."""
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
        yield f"redis://127.0.0.1:{port}/0", process
    finally:
        process.kill()  # it may be stopped (SIGSTOP), when SIGTERM would wait
        process.wait(timeout=10)


@contextlib.contextmanager
def http_server(handler: type[http.server.BaseHTTPRequestHandler]):
    """Serve `handler` from a thread on a free loopback port; yield the base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class Answer:
    """One request of a `Load`: when it started and ended, and its status (0: no answer)."""

    started: float
    ended: float
    status: int
    request_id: str


@dataclass
class Load:
    """Requests sent in a loop by a few threads; every answer kept in `answers`."""

    answers: list[Answer] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def between(self, start: float, end: float = float("inf")) -> list[Answer]:
        """The answers to requests started in [start, end) (`time.monotonic` seconds)."""
        return [a for a in self.answers if start <= a.started < end]


@contextlib.contextmanager
def load(
    url: str,
    threads: int = 4,
    body: bytes | None = None,
    headers: dict | None = None,
    timeout: float = 10,
):
    """Send requests to `url` (POST with `body`, else GET) from `threads` threads until
    the block ends, each given `timeout` seconds to answer; yield the `Load`."""
    running = Load()
    tag = uuid.uuid4().hex[:8]  # request ids unique to this load

    def send(thread: int) -> None:
        for number in itertools.count():
            if running.stop.is_set():
                return
            request_id = f"load-{tag}-{thread}-{number}"
            request = urllib.request.Request(
                url, data=body, headers={**(headers or {}), "X-Request-ID": request_id}
            )
            if body is not None:
                request.add_header("Content-Type", "application/json")
            started, status = time.monotonic(), 0
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    response.read()
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            except (OSError, http.client.HTTPException):  # refused, reset, or cut off mid-body
                status = 0
            running.answers.append(Answer(started, time.monotonic(), status, request_id))

    workers = [threading.Thread(target=send, args=(n,), daemon=True) for n in range(threads)]
    for worker in workers:
        worker.start()
    try:
        yield running
    finally:
        running.stop.set()
        for worker in workers:
            worker.join(timeout=15)
