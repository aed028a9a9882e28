"""gunicorn settings for Interview Advisor; each can be set by environment.

Reload: ``kill -HUP <master pid>`` copies the rule and content folders,
validates the copy and, when it is valid, restarts the workers on it (the new
ruleset version is served without a restart). A broken change is logged and
the workers restart on the last good snapshot (`advisor.snapshot`). Old
workers serve until new ones are ready (`advisor._handover`), so serving
never stops nor waits.
"""

import glob
import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path

from advisor._gunicorn import enough_open_files, json_warnings, listener, whole_number

# Every line on stderr is JSON, Python's warnings too, in the master and its workers.
json_warnings()

bind = [listener("ADVISOR_BIND", "127.0.0.1:8000")]
# /metrics is served only on a listener of its own, off the public port.
if os.environ.get("ADVISOR_METRICS_BIND"):
    bind.append(os.environ["ADVISOR_METRICS_BIND"])
# Each worker serialises its rules engine, so throughput scales with processes.
workers = whole_number("ADVISOR_WORKERS", multiprocessing.cpu_count() * 2 + 1, least=1)
# gevent: a greenlet per connection, so slow and idle clients hold no process
# (docs/serving.md). The worker adds deadlines on bodies and on taking answers
# (ADVISOR_CLIENT_TIMEOUT); headers and idle keep-alives get `keepalive` seconds.
# One client holds at most ADVISOR_CLIENT_CONNECTIONS of a worker's connections
# (a quarter of them by default) when clients connect directly.
worker_class = "advisor._gunicorn.Worker"
worker_connections = whole_number("ADVISOR_WORKER_CONNECTIONS", 1000, least=1)
logger_class = "advisor._gunicorn.Logger"
timeout = whole_number("ADVISOR_TIMEOUT", 30, least=0)
graceful_timeout = whole_number("ADVISOR_GRACEFUL_TIMEOUT", 30, least=0)
keepalive = 5
limit_request_line = 8190
limit_request_fields = 100
# The application writes a JSON access line for every request it answers, and
# decision lines; ADVISOR_ACCESS_LOG (a file or "-") adds gunicorn's line for each
# request gunicorn refuses itself, before the application (one line per request).
accesslog = os.environ.get("ADVISOR_ACCESS_LOG") or None
errorlog = "-"
# gunicorn's control socket (for gunicornc) only where ADVISOR_CONTROL_SOCKET
# names its path: at gunicorn's default path, each instance started on a host
# takes the socket over from the one before. Reloads need no socket (SIGHUP).
if os.environ.get("ADVISOR_CONTROL_SOCKET"):
    control_socket = os.environ["ADVISOR_CONTROL_SOCKET"]
else:
    control_socket_disable = True
loglevel = os.environ.get("ADVISOR_LOG_LEVEL", "info").lower()

# Prometheus counts from every worker are summed through files in this folder
# (kept in the environment so that a reload, which re-reads this file, keeps it);
# a temporary one of our own is removed on exit.
if "ADVISOR_METRICS_DIR" not in os.environ:
    os.environ["ADVISOR_METRICS_DIR"] = tempfile.mkdtemp(prefix="advisor-metrics-")
    os.environ["ADVISOR_METRICS_DIR_TEMPORARY"] = "1"
os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.environ["ADVISOR_METRICS_DIR"]


# Every connection is a file: let each worker hold its connections and its files.
enough_open_files(worker_connections + 256)


def on_starting(server):
    """Start with valid settings on a validated snapshot of rules and content, with no
    stale counts."""
    from advisor import DataError, Settings, snapshot
    from advisor._gunicorn import (
        client_connections,
        client_timeout,
        metrics_folder,
        refuse_tls,
        usable_listeners,
    )
    from advisor.config import data_folders, rate_limit_storage_problem, unknown_variables

    metrics = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    try:  # every setting is checked here, once, before any worker starts
        metrics_folder(metrics)
        settings = Settings.from_env()
        client_timeout()
        client_connections(server.cfg.worker_connections)
        refuse_tls(server.cfg)
        usable_listeners(*bind)
        data_folders(settings)
        snapshots = snapshot.start(settings.rules_dir, settings.content_dir)
    except (ValueError, DataError) as error:
        server.log.error("cannot start: %s", error)
        _remove_temporary_metrics()
        raise SystemExit(2) from None
    for name in unknown_variables():  # a misspelt one was refused above, by Settings
        server.log.warning("%s is not a setting of the service: ignored", name)
    # The workers fail open on a Redis that does not answer; say once here why it does not.
    storage_problem = rate_limit_storage_problem(settings)
    if storage_problem:
        server.log.warning("%s", storage_problem)
    # Only the count files of a run before (prometheus_client's *.db): the folder may
    # be the operator's, holding other files.
    for stale in glob.glob(os.path.join(glob.escape(metrics), "*.db")):
        os.remove(stale)
    os.environ.update(snapshots.environment())
    server.log.info("serving ruleset %s from %s", snapshots.version, snapshots.current)
    _prepare_regions(server, settings.engine_memo, snapshots.current)


#: The exit status of a master that stopped rather than reload onto other code: not
#: 2 (a start refused), so that the systemd unit starts it again at once, on that code.
RESTART_FOR_NEW_CODE = 75  # EX_TEMPFAIL


def on_reload(server):
    """On SIGHUP, move to the changed rules and content only if they are valid, and
    keep the old workers serving until new ones are ready. Code on disk other than
    the master's (a release installed since it started) stops the master instead:
    the new workers would run the new code's files beside its modules."""
    from gunicorn.errors import HaltServer

    from advisor import Settings, _handover, snapshot

    snapshots = snapshot.reopen()  # those on_starting began, from the root it named
    # A master from before this check runs code other than this file's, by definition.
    if getattr(snapshots, "code_changed", lambda: True)():
        reason = (
            "reload refused: the code on disk is not the code this instance started with "
            "(a release installed since?), and a reload moves only to changed rules and "
            f"content; stopping with status {RESTART_FOR_NEW_CODE} to be started again on "
            "it. After installing a release, restart each instance in turn"
        )
        raise HaltServer(reason, RESTART_FOR_NEW_CODE)  # gunicorn logs it: "Reason: …"
    try:
        snapshots.take()
    except Exception as error:  # whatever breaks, the master keeps the last good snapshot
        server.log.error("reload refused, still serving ruleset %s: %s", snapshots.version, error)
    else:
        server.log.info(
            "reloaded: serving ruleset %s from %s", snapshots.version, snapshots.current
        )
    os.environ.update(snapshots.environment())
    _prepare_regions(server, Settings.from_env().engine_memo, snapshots.current)
    _handover.begin(server, snapshots.root)


def _prepare_regions(server, memo: int, snapshot: Path) -> None:
    """Ask durable_rules about every region of the served rules once, here in the
    master, so that the workers forked next answer every state from the outcomes
    (`advisor.engine.prepare_regions`); with the memo off (0), nothing is kept."""
    from advisor.content import load_catalogue
    from advisor.engine import prepare_regions
    from advisor.rules import load_rulebook

    if not memo:
        return
    try:
        rulebook = load_rulebook(snapshot / "rules", load_catalogue(snapshot / "content"))
        count = prepare_regions(rulebook)
    except Exception as error:  # the workers still answer, asking durable_rules as they go
        server.log.error("rule outcomes not prepared: %s", error)
    else:
        server.log.info("rule outcomes prepared for %d regions", count)


def post_fork(server, worker):
    """After a reload, new workers load their app one at a time. A worker that would
    read code other than its master's from disk (a release installed since the start,
    and this worker started in its place after a crash or a timeout) fails to boot
    instead, which stops the master, to be started again on that code."""
    import sys

    from gunicorn.arbiter import Arbiter

    from advisor import _handover, snapshot

    if snapshot.ROOT_VARIABLE in os.environ:
        if snapshot.reopen().code_changed():
            worker.log.error(
                "worker not started: the code on disk is not the code this instance "
                "started with (a release installed since?); stopping the instance to be "
                "started again on it. After installing a release, restart each instance "
                "in turn"
            )
            sys.exit(Arbiter.WORKER_BOOT_ERROR)
        _handover.queue(worker, Path(os.environ[snapshot.ROOT_VARIABLE]))


def post_worker_init(worker):
    """A new worker whose app is loaded retires old workers after a reload."""
    from advisor import _handover, snapshot

    if snapshot.ROOT_VARIABLE in os.environ:
        _handover.ready(worker, Path(os.environ[snapshot.ROOT_VARIABLE]))


def on_exit(server):
    """Remove the snapshots and a temporary metrics folder."""
    from advisor import snapshot

    snapshots = snapshot.reopen()
    if snapshots is not None:
        snapshots.remove()
    _remove_temporary_metrics()


def _remove_temporary_metrics():
    if os.environ.pop("ADVISOR_METRICS_DIR_TEMPORARY", None):
        shutil.rmtree(os.environ["ADVISOR_METRICS_DIR"], ignore_errors=True)


def child_exit(server, worker):
    """Drop a dead worker's live gauges; an old worker retired after a reload is not
    replaced."""
    from prometheus_client import multiprocess

    from advisor import _handover, snapshot

    multiprocess.mark_process_dead(worker.pid)
    if snapshot.ROOT_VARIABLE in os.environ:
        _handover.exited(server, worker, Path(os.environ[snapshot.ROOT_VARIABLE]))
