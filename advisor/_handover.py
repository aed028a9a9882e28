"""Reloads without a gap: old workers leave only once new ones are ready.

On SIGHUP gunicorn forks a new generation of workers and would stop the old
ones at once, before the new ones have loaded their engine (seconds), so
every request would wait. Instead, with gunicorn's own hooks:

- `begin` (``on_reload``, in the master) raises the number of workers the
  master keeps by the number of old ones, so it stops none, and writes which
  old workers each new one is to retire (its *slot*) into a file beside the
  snapshots, under a lock.
- `queue` (``post_fork``, in a new worker) lets one new worker load its app
  at a time, so that the old ones keep most of the CPU to answer with.
- `ready` (``post_worker_init``, in a worker whose app is loaded) claims a
  slot of its own generation and stops those old workers with SIGTERM,
  which lets each finish the request it is answering.
- `exited` (``child_exit``, in the master) lowers the number again as each
  old worker leaves, and forgets it, so its pid is never signalled later.

A new worker that never gets ready retires nobody: the old ones keep serving.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import time
from pathlib import Path

__all__ = ["begin", "exited", "queue", "ready"]

#: The generation a worker was forked in (set in the master before it forks).
GENERATION_VARIABLE = "ADVISOR_WORKER_GENERATION"
_FILE = "handover.json"

#: The master's old workers still to leave; module state survives config re-reads.
_retiring: set[int] = set()
#: In a new worker, the lock it holds while it loads its app.
_loading = None


@contextlib.contextmanager
def _locked(root: Path):
    """The hand-over record under `root`, locked; the caller may change it."""
    root.mkdir(parents=True, exist_ok=True)  # even if a cleaner removed it
    with open(root / "handover.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        path = root / _FILE
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):  # none yet (or cut short by a crash): start afresh
            record = {"generation": 0, "slots": []}
        yield record
        path.write_text(json.dumps(record))


def begin(server, root: Path) -> None:
    """Before a reload forks new workers: keep the old ones until new ones retire them."""
    old = sorted(server.WORKERS, key=lambda pid: server.WORKERS[pid].age)
    count = server.cfg.workers
    try:
        with _locked(root) as record:
            record["generation"] += 1
            record["slots"] = [old[slot::count] for slot in range(count)]
            os.environ[GENERATION_VARIABLE] = str(record["generation"])
    except OSError as error:  # gunicorn's own reload then: old workers stop at once
        server.log.warning("reload with a gap: cannot hand over (%s)", error)
        return
    _retiring.clear()
    _retiring.update(old)
    server.num_workers = count + len(old)


def queue(worker, root: Path) -> None:
    """In a new worker after a reload: wait until no other new worker is loading."""
    global _loading
    if GENERATION_VARIABLE not in os.environ:  # the first workers start together
        return
    try:
        _loading = open(root / "loading.lock", "a+")  # noqa: SIM115 - closed once ready
    except OSError:  # then load at once, alongside the others
        return
    while True:
        try:
            fcntl.flock(_loading, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            worker.tmp.notify()  # waiting is not hanging: the master's timeout must not fire
            time.sleep(0.1)


def ready(worker, root: Path) -> None:
    """In a worker whose app is loaded: let the next one load, and retire the old
    workers of one slot."""
    global _loading
    if _loading is not None:
        _loading.close()
        _loading = None
    generation = os.environ.get(GENERATION_VARIABLE)
    if generation is None:  # the first workers: nobody to retire
        return
    try:
        pids = _claim(root, generation)
    except OSError as error:  # never a reason not to serve: the old workers just stay
        worker.log.warning("cannot retire old workers: %s", error)
        return
    if pids:
        worker.log.info("ready: retiring old worker(s) %s", ", ".join(map(str, pids)))


def _claim(root: Path, generation: str) -> list[int]:
    """Claim a slot of `generation` and stop its old workers; the pids claimed."""
    pids: list[int] = []
    with _locked(root) as record:
        if str(record["generation"]) == generation and record["slots"]:
            pids = record["slots"].pop()
            for pid in pids:
                if _sibling(pid):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGTERM)
    return pids


def _sibling(pid: int) -> bool:
    """Whether `pid` is another worker of this worker's master."""
    if pid == os.getpid():
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return int(stat.rsplit(")", 1)[1].split()[1]) == os.getppid()


def exited(server, worker, root: Path) -> None:
    """In the master, when a worker has exited: an old worker's place is not refilled."""
    if worker.pid not in _retiring:
        return
    _retiring.discard(worker.pid)
    server.num_workers = max(server.num_workers - 1, server.cfg.workers)
    with contextlib.suppress(OSError), _locked(root) as record:  # gone at shutdown
        record["slots"] = [[p for p in slot if p != worker.pid] for slot in record["slots"]]
