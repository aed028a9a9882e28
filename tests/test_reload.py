"""Reloads (SIGHUP) against a real gunicorn: never a broken snapshot, never a gap."""

import json
import os
import re
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest
import yaml

from .live import CHECKOUT_LEFTOVERS, ROOT, gunicorn
from .test_reliability import STATE, _post, _ready_version, _request, _wait_for

pytestmark = pytest.mark.server


def _current_snapshot(server) -> Path:
    """The snapshot folder the master last said it serves from."""
    return Path(re.findall(r"serving ruleset \S+ from ([^\s\"]+)", server.output())[-1])


class Probe:
    """Requests in a loop from a few threads; each one's status and duration."""

    def __init__(self, base: str, threads: int = 3):
        self.base, self.results, self._stop = base, [], threading.Event()
        self._threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def _run(self):
        while not self._stop.is_set():
            started = time.monotonic()
            status = _post(self.base, "/v1/advice", STATE)[0]
            self.results.append((status, started, time.monotonic()))

    def answered_between(self, start: float, end: float) -> int:
        """How many requests were sent and answered within [start, end]."""
        return sum(start <= sent and answered <= end for _, sent, answered in self.results)

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for thread in self._threads:
            thread.join()


def _env(rules: Path, content: Path) -> dict:
    """Serve the given folders, with rate limits off: the probes send many requests."""
    return {
        "ADVISOR_RULES_DIR": str(rules),
        "ADVISOR_CONTENT_DIR": str(content),
        "ADVISOR_RATE_LIMITS": "",
    }


def _tail(server, lines: int = 40) -> str:
    return "\n".join(server.output().splitlines()[-lines:])


def _bump(manifest: Path, version: str) -> None:
    data = yaml.safe_load(manifest.read_text())
    manifest.write_text(manifest.read_text().replace(data["version"], version))


def test_a_file_truncated_during_a_reload_never_stops_serving(tmp_path, data_copy):
    # The snapshot is copied first and the copy validated: a file truncated while
    # the reload runs never reaches a worker unchecked.
    rules, content = data_copy
    env = _env(rules, content)
    version = yaml.safe_load((rules / "ruleset.yaml").read_text())["version"]
    with gunicorn(workers=2, env=env, log=tmp_path / "server.log") as running:
        _bump(rules / "ruleset.yaml", "9.0.1")
        with Probe(running.base, threads=2) as probe:
            running.process.send_signal(signal.SIGHUP)
            time.sleep(1.5)
            (rules / "closing.yaml").write_text("")
            assert _wait_for(lambda: "reload" in running.output()), _tail(running)
            time.sleep(8)
        assert running.process.poll() is None, _tail(running)
        assert "Worker failed to boot" not in _tail(running)
        assert {status for status, *_ in probe.results} == {200}, _tail(running)
        assert _ready_version(running.base) in {"9.0.1", version}

        # The truncated file itself is refused on the next reload; serving goes on.
        running.process.send_signal(signal.SIGHUP)
        assert _wait_for(lambda: running.output().count("reload refused") >= 1), _tail(running)
        time.sleep(3)
        assert _post(running.base, "/v1/advice", STATE)[0] == 200
        assert "closing.yaml" in running.output()


def test_a_worker_that_cannot_load_its_snapshot_falls_back_to_the_last_good_one(
    tmp_path, data_copy
):
    rules, content = data_copy
    env = _env(rules, content)
    version = yaml.safe_load((rules / "ruleset.yaml").read_text())["version"]
    with gunicorn(workers=2, env=env, log=tmp_path / "server.log") as running:
        _bump(rules / "ruleset.yaml", "9.0.1")
        running.process.send_signal(signal.SIGHUP)
        assert _wait_for(lambda: _ready_version(running.base) == "9.0.1"), _tail(running)
        assert _wait_for(lambda: len(running.workers()) == 2)

        # The current snapshot breaks behind the service's back; a worker restarts.
        victim = running.workers()[0]
        (_current_snapshot(running) / "rules" / "closing.yaml").write_text("")
        os.kill(victim, signal.SIGKILL)
        assert _wait_for(lambda: "falling back" in running.output()), _tail(running)
        assert _wait_for(lambda: version in {_ready_version(running.base) for _ in range(6)})
        assert running.process.poll() is None

        # With every snapshot broken, a restarted worker exits to be started again;
        # the master and the other worker go on.
        for snapshot in _current_snapshot(running).parent.glob("[0-9]*"):
            (snapshot / "rules" / "closing.yaml").write_text("")
        os.kill(running.workers()[0], signal.SIGKILL)
        assert _wait_for(lambda: "nor any earlier snapshot" in running.output()), _tail(running)
        assert _post(running.base, "/v1/advice", STATE)[0] == 200
        assert running.process.poll() is None
        assert "Worker failed to boot" not in running.output()


def test_a_reload_under_load_leaves_no_request_waiting(tmp_path, data_copy):
    rules, content = data_copy
    env = _env(rules, content)
    with gunicorn(workers=3, env=env, log=tmp_path / "server.log") as running:
        old = set(running.workers())
        _bump(rules / "ruleset.yaml", "9.0.1")
        with Probe(running.base) as probe:
            time.sleep(1)
            hup = time.monotonic()
            running.process.send_signal(signal.SIGHUP)
            assert _wait_for(lambda: not old & set(running.workers()), 120), _tail(running)
            replaced = time.monotonic()
            time.sleep(1)
        statuses = {status for status, *_ in probe.results}
        assert statuses == {200}, _tail(running)
        # Requests went on being answered while the workers were replaced: the
        # reload never stops the service (how long each took is the benchmark's).
        assert probe.answered_between(hup, replaced) > 0
        assert len(probe.results) > 100
        assert _ready_version(running.base) == "9.0.1"
        assert _wait_for(lambda: len(running.workers()) == 3), running.workers()
        # A refused reload has no gap either.
        (rules / "closing.yaml").write_text("rules: [")
        old = set(running.workers())
        with Probe(running.base) as probe:
            hup = time.monotonic()
            running.process.send_signal(signal.SIGHUP)
            assert _wait_for(lambda: not old & set(running.workers()), 120), _tail(running)
            replaced = time.monotonic()
        assert {status for status, *_ in probe.results} == {200}
        assert probe.answered_between(hup, replaced) > 0
        assert "reload refused" in running.output()
        assert json.loads(_request(running.base, "GET", "/health/ready")[2])["status"] == "ready"


def test_after_a_reload_the_scrape_names_only_the_ruleset_served(tmp_path, data_copy):
    from prometheus_client.parser import text_string_to_metric_families

    from .live import free_port

    rules, content = data_copy
    metrics = f"127.0.0.1:{free_port()}"
    env = {**_env(rules, content), "ADVISOR_METRICS_BIND": metrics}

    def served() -> set[str]:
        text = _request(f"http://{metrics}", "GET", "/metrics")[2].decode()
        return {
            sample.labels["version"]
            for family in text_string_to_metric_families(text)
            if family.name == "advisor_ruleset_info"
            for sample in family.samples
        }

    with gunicorn(workers=2, env=env, log=tmp_path / "server.log") as running:
        assert _post(running.base, "/v1/advice", STATE)[0] == 200
        old = _ready_version(running.base)
        assert served() == {old}
        _bump(rules / "ruleset.yaml", "9.0.1")
        running.process.send_signal(signal.SIGHUP)
        # New workers check the rules before serving: as long as the reloads above.
        assert _wait_for(lambda: served() == {"9.0.1"}, 120), (served(), _tail(running))


# What a checkout holds that serving does not read: its leftovers, tests and benchmark.
NOT_SERVED = shutil.ignore_patterns(*CHECKOUT_LEFTOVERS, "tests", "bench")
# The files of a next release, as installing it writes them under a running instance:
# its web layer uses a function its engine gains (the instance's master holds the old
# engine in memory, and the workers a reload forks read the web layer from disk).
NEXT_RELEASE = {
    "advisor/engine.py": "\n\ndef release_note() -> str:\n    return 'next'\n",
    "advisor/web/health.py": "\nfrom ..engine import release_note  # noqa: E402, F401\n",
}


# (what happens once a release is installed under a running instance, the master's exit
# status, what its log says of it): either way the instance stops, to be started again
# (by the systemd unit) on the new code, never serving it beside the old.
AFTER_INSTALLING = [
    ("a reload", 75, '"msg":"Reason: reload refused: the code on disk is not the code'),
    ("a worker replaced", 3, '"msg":"worker not started: the code on disk is not the code'),
]


@pytest.mark.parametrize(("then", "status", "said"), AFTER_INSTALLING, ids=lambda x: x)
def test_code_installed_since_the_start_stops_the_instance_to_be_started_on_it(
    tmp_path, then, status, said
):
    # The workers a reload forked ran the new release's web layer beside the old
    # engine: this one failed to boot, the master stopped with a traceback, and a
    # release whose files happen to fit would have been served mixed, without a word;
    # so would a worker started in place of one that died.
    checkout = tmp_path / "installed"
    shutil.copytree(ROOT, checkout, symlinks=True, ignore=NOT_SERVED)
    with gunicorn(workers=2, checkout=checkout, log=tmp_path / "server.log") as running:
        _bump(checkout / "rules" / "ruleset.yaml", "9.0.1")  # rules alone: reloaded
        old = set(running.workers())
        running.process.send_signal(signal.SIGHUP)
        assert _wait_for(lambda: _ready_version(running.base) == "9.0.1"), _tail(running)
        # Every new worker loaded (each retires old ones once ready): one still loading
        # when the files change would read them, as any worker started then does.
        assert _wait_for(lambda: not old & set(running.workers()), 120), _tail(running)
        for name, added in NEXT_RELEASE.items():
            with open(checkout / name, "a") as source:
                source.write(added)
        if then == "a reload":
            running.process.send_signal(signal.SIGHUP)
        else:
            os.kill(running.workers()[0], signal.SIGKILL)
        assert running.process.wait(timeout=60) == status, _tail(running)
    output = running.output()
    stopped = [line for line in output.splitlines() if said in line]
    assert len(stopped) == 1, output
    assert "restart each instance in turn" in stopped[0]
    assert "Traceback" not in output
    assert "cannot import" not in output
