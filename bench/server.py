"""The service under gunicorn on a free loopback port, for tests and benchmarks."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from advisor.cli import gunicorn_command

__all__ = ["Server", "free_port", "gunicorn", "gunicorn_command", "wait_until_up"]


#: The ports `free_port` has handed out in this process.
_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A loopback port free now and not handed out before in this process: the kernel
    may give a port just released again, so two ports asked for one server (its API's
    and its metrics' listener) could be the same one."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def wait_until_up(check, what: str, process: subprocess.Popen, seconds: float = 30) -> None:
    """Poll `check` until it is true; fail if `process` exits or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode}")
        with contextlib.suppress(OSError):
            if check():
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start within {seconds} s")


@dataclass
class Server:
    base: str
    process: subprocess.Popen
    log: Path | None

    def workers(self) -> list[int]:
        """The pids of the master's worker processes."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def workers_rss_kb(self) -> dict[int, int]:
        """Each worker's resident memory, in kB."""
        sizes = {}
        for pid in self.workers():
            status = Path(f"/proc/{pid}/status").read_text().splitlines()
            sizes[pid] = int(next(x for x in status if x.startswith("VmRSS:")).split()[1])
        return sizes

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log else ""


@contextlib.contextmanager
def gunicorn(
    workers: int | None = None,
    env: dict | None = None,
    log: Path | None = None,
    checkout: Path | None = None,
):
    """Serve the app with the packaged gunicorn settings on a free loopback port; yield a
    Server. With `checkout`, the code and settings of that copy of the project are served
    instead of this one's (with this interpreter and its packages)."""
    port = free_port()
    environ = {**os.environ, "ADVISOR_BIND": f"127.0.0.1:{port}"}
    if workers:
        environ["ADVISOR_WORKERS"] = str(workers)
    environ.update(env or {})
    command = gunicorn_command()
    if checkout is not None:
        # Its package first on the path, its own gunicorn settings.
        environ["PYTHONPATH"] = str(checkout)
        command[command.index("-c") + 1] = str(checkout / "advisor" / "gunicorn.conf.py")
    output = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        command,
        cwd=checkout,
        env=environ,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(
            lambda: urllib.request.urlopen(f"{base}/health/ready", timeout=2).status == 200,
            "gunicorn",
            process,
            seconds=120,  # the master validates the data, then workers load it: slow on a busy box
        )
        yield Server(base, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log:
            output.close()
