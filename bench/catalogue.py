"""The catalogue's GET routes through the whole app in process, answered from the
bytes prepared once per ruleset and, for comparison, built by the schemas on each
request (``CATALOGUE_PREPARED`` off); ``/health/live`` beside them is the app's floor.

Both apps answer in interleaved rounds, so a change in the machine's load falls
on both alike. Rate limits are off.
"""

from __future__ import annotations

import logging
import time

from advisor.config import Settings
from advisor.engine import Engine
from advisor.web import create_app

#: The routes timed: the lists, the longest source, and the app's cheapest route.
PATHS = ("/health/live", "/v1/guidance", "/v1/rejected", "/v1/sources", "/v1/sources/accolade")


def _client(engine: Engine, prepared: bool):
    config = {"ENGINE": engine, "SETTINGS": Settings(rate_limits=""), "TESTING": True}
    return create_app({**config, "CATALOGUE_PREPARED": prepared}).test_client()


def catalogue_timings(
    engine: Engine, requests: int = 300, rounds: int = 10
) -> dict[str, tuple[list[float], list[float]]]:
    """For each path, the µs of each GET: prepared, then built."""
    clients = (_client(engine, True), _client(engine, False))
    timings = {path: ([], []) for path in PATHS}
    logging.disable(logging.INFO)  # one access line per request would be timed too
    try:
        for path in PATHS:  # warm: the first requests of an app build what it keeps
            for client in clients:
                client.get(path)
        for _ in range(rounds):
            for path in PATHS:
                for client, spent in zip(clients, timings[path], strict=True):
                    for _ in range(requests // rounds):
                        started = time.perf_counter()
                        client.get(path)
                        spent.append((time.perf_counter() - started) * 1e6)
    finally:
        logging.disable(logging.NOTSET)
    return timings
