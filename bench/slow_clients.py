"""Slow and idle clients against a running server, and how ordinary requests fare.

    python -m bench.slow_clients [--headers 200] [--bodies 200] [--idle 200]
                                   [--silent 0] [--non-readers 0] [--seconds 20]

Starts the service as ``make run`` does (the packaged gunicorn settings, on a
free loopback port), then holds four kinds of hostile connection open, each
reopened as soon as the server closes it, as a patient attacker would:

- ``headers``: half a request line and headers, then nothing;
- ``bodies``: a complete ``POST /v1/advice`` head announcing 2,000 bytes,
  then one byte of body every 2 s;
- ``idle``: one ``GET /health/live`` answered and read, then nothing, as a
  kept-alive browser connection;
- ``silent``: a connection that sends nothing at all;
- ``non_readers``: ``GET /openapi.json`` asked 50 times over one connection
  whose answers are never read.

Meanwhile an ordinary client, from another address (``PROBE_FROM``), asks ``GET
/health/live`` and ``POST /v1/advice`` in turn, each on a new connection, and the
latencies of its answers are reported (p50, p99, the slowest, and how many
failed), with how often the server cut the hostile connections off (and how
many of the slow bodies got a 408).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import http.client
import itertools
import json
import select
import selectors
import socket
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from advisor._gunicorn import enough_open_files

__all__ = ["KINDS", "Attack", "measure", "probe"]

#: What each kind of hostile connection sends on opening.
KINDS = {
    "headers": b"POST /v1/advice HTTP/1.1\r\nHost: advisor\r\nContent-Ty",
    "bodies": (
        b"POST /v1/advice HTTP/1.1\r\nHost: advisor\r\nContent-Type: application/json\r\n"
        b"Content-Length: 2000\r\n\r\n{"
    ),
    "idle": b"GET /health/live HTTP/1.1\r\nHost: advisor\r\n\r\n",
    "silent": b"",
    "non_readers": b"GET /openapi.json HTTP/1.1\r\nHost: advisor\r\n\r\n" * 50,
}
#: Seconds between two bytes of a slow body.
TRICKLE_SECONDS = 2.0


@dataclass
class _Connection:
    kind: str
    sock: socket.socket
    answer: bytes = b""
    next_byte: float = field(default_factory=lambda: time.monotonic() + TRICKLE_SECONDS)


class Attack:
    """Hostile connections of each kind held open, reopened when the server closes them,
    in a thread of their own until ``stop()``.

    ``cut_off`` counts the connections the server closed, by kind, and
    ``timed_out`` the slow bodies that got a 408 first.
    """

    def __init__(self, base: str, counts: dict[str, int]):
        parts = urlsplit(base)
        self.address = (parts.hostname, parts.port)
        self.counts = {kind: n for kind, n in counts.items() if n}
        self.cut_off = dict.fromkeys(KINDS, 0)
        self.timed_out = 0
        self.opened = 0
        self._selector = selectors.DefaultSelector()
        self._hang_ups = select.poll()
        self._non_readers: dict[int, _Connection] = {}
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slow-clients", daemon=True)

    def __enter__(self) -> Attack:
        enough_open_files(sum(self.counts.values()) + 512)
        for kind, count in self.counts.items():
            for _ in range(count):
                self._open(kind)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=10)
        for key in list(self._selector.get_map().values()):
            key.fileobj.close()
        self._selector.close()
        for connection in self._non_readers.values():
            connection.sock.close()

    def _open(self, kind: str) -> None:
        sock = socket.create_connection(self.address, timeout=5)
        sock.setblocking(False)
        if kind == "non_readers":  # a small window, so the server's writes stall soon
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        with contextlib.suppress(BlockingIOError):
            sock.send(KINDS[kind])
        connection = _Connection(kind, sock)
        if kind == "non_readers":  # never read: watched for the server's hang-up only
            self._hang_ups.register(sock, select.POLLRDHUP)
            self._non_readers[sock.fileno()] = connection
        else:
            self._selector.register(sock, selectors.EVENT_READ, connection)
        self.opened += 1

    def _closed(self, connection: _Connection) -> None:
        if connection.kind == "non_readers":
            self._hang_ups.unregister(connection.sock)
            del self._non_readers[connection.sock.fileno()]
        else:
            self._selector.unregister(connection.sock)
        connection.sock.close()
        self.cut_off[connection.kind] += 1
        if connection.kind == "bodies" and connection.answer.startswith(b"HTTP/1.1 408"):
            self.timed_out += 1
        if not self._stopping.is_set():
            with contextlib.suppress(OSError):
                self._open(connection.kind)

    def _run(self) -> None:
        while not self._stopping.is_set():
            for fileno, _ in self._hang_ups.poll(0):
                self._closed(self._non_readers[fileno])
            for key, _ in self._selector.select(timeout=0.2):
                connection = key.data
                try:
                    data = connection.sock.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    self._closed(connection)
                elif len(connection.answer) < 64:
                    connection.answer += data
            now = time.monotonic()
            for key in list(self._selector.get_map().values()):
                connection = key.data
                if connection.kind == "bodies" and now >= connection.next_byte:
                    connection.next_byte = now + TRICKLE_SECONDS
                    try:
                        connection.sock.send(b" ")
                    except BlockingIOError:
                        pass
                    except OSError as error:
                        if error.errno in (errno.EPIPE, errno.ECONNRESET):
                            self._closed(connection)


#: The ordinary client's state for /v1/advice, varied by the hours since the interview.
def _state(number: int) -> bytes:
    return json.dumps({"stage": "after", "hours_since": number % 500}).encode()


def probe(
    base: str,
    seconds: float,
    interval: float = 0.05,
    timeout: float = 10,
    source: str | None = None,
) -> dict:
    """Ask ``GET /health/live`` and ``POST /v1/advice`` in turn for `seconds`, each on
    a new connection (from the address `source`, if given); the latencies of the
    answers, in ms, and the failures."""
    parts = urlsplit(base)
    latencies, failures = [], []
    deadline = time.monotonic() + seconds
    bound = (source, 0) if source else None
    for number in itertools.count():
        if time.monotonic() >= deadline:
            break
        started = time.monotonic()
        connection = http.client.HTTPConnection(
            parts.hostname, parts.port, timeout=timeout, source_address=bound
        )
        try:
            if number % 2:
                headers = {"Content-Type": "application/json"}
                connection.request("POST", "/v1/advice", _state(number), headers)
            else:
                connection.request("GET", "/health/live")
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                failures.append(f"status {response.status}")
            else:
                latencies.append((time.monotonic() - started) * 1000)
        except OSError as error:
            failures.append(type(error).__name__)
        finally:
            connection.close()
        time.sleep(max(0.0, interval - (time.monotonic() - started)))
    return _summary(latencies, failures)


def _summary(latencies: list[float], failures: list[str]) -> dict:
    ordered = sorted(latencies)

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)

    return {
        "answered": len(latencies),
        "failed": len(failures),
        "failures": sorted(set(failures)),
        "p50_ms": at(0.5) if ordered else None,
        "p99_ms": at(0.99) if ordered else None,
        "max_ms": round(ordered[-1], 1) if ordered else None,
        "mean_ms": round(statistics.fmean(ordered), 1) if ordered else None,
    }


#: The ordinary client's address: another than the hostile clients' (127.0.0.1), as a
#: candidate's is, so that the limit on one client's connections does not apply to it.
PROBE_FROM = "127.0.0.2"


def measure(base: str, counts: dict[str, int], seconds: float, settle: float = 3) -> dict:
    """`counts` hostile connections of each kind held against `base` (on the loopback
    address 127.0.0.1) while the ordinary client probes it from `PROBE_FROM` for
    `seconds` (after `settle` seconds for them to connect)."""
    with Attack(base, counts) as attack:
        time.sleep(settle)
        figures = probe(base, seconds, source=PROBE_FROM)
        figures["hostile_opened"] = attack.opened
        figures["cut_off"] = {kind: attack.cut_off[kind] for kind in attack.counts}
        figures["bodies_408"] = attack.timed_out
    return figures


def main(argv=None) -> int:
    from .server import gunicorn

    parser = argparse.ArgumentParser(
        prog="python -m bench.slow_clients", description=__doc__.splitlines()[0]
    )
    kinds = (("headers", 200), ("bodies", 200), ("idle", 200), ("silent", 0), ("non-readers", 0))
    for kind, default in kinds:
        parser.add_argument(f"--{kind}", type=int, default=default, help="connections")
    parser.add_argument("--seconds", type=float, default=20, help="seconds of probing")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: the settings')")
    args = parser.parse_args(argv)
    counts = {kind: getattr(args, kind) for kind in KINDS}
    # The probes and the hostile clients share one address: no rate limit.
    with gunicorn(workers=args.workers, env={"ADVISOR_RATE_LIMITS": ""}) as server:
        print(json.dumps(measure(server.base, counts, args.seconds), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
