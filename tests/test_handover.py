"""The reload hand-over's bookkeeping, with stand-ins for gunicorn's objects.

`tests/test_reload.py` runs it under a real gunicorn."""

import logging
import os
from types import SimpleNamespace

import pytest

from advisor import _handover


class Master(SimpleNamespace):
    """Enough of gunicorn's arbiter: its workers, settings, worker count and log."""


@pytest.fixture
def master(monkeypatch):
    monkeypatch.setenv(_handover.GENERATION_VARIABLE, "0")  # restored after the test
    monkeypatch.setattr(_handover, "_retiring", set())
    workers = {pid: SimpleNamespace(age=age) for age, pid in enumerate([901, 902, 903])}
    return Master(
        WORKERS=workers,
        cfg=SimpleNamespace(workers=2),
        num_workers=2,
        log=logging.getLogger("test"),
    )


def test_a_reload_keeps_every_old_worker_and_shares_them_among_the_new(master, tmp_path):
    _handover.begin(master, tmp_path)
    assert master.num_workers == 2 + 3
    assert os.environ[_handover.GENERATION_VARIABLE] == "1"
    # One slot per new worker, oldest first; the pids here are not our master's
    # children, so none is signalled.
    claimed = [_handover._claim(tmp_path, "1") for _ in range(3)]
    assert sorted(claimed[:2]) == [[901, 903], [902]]
    assert claimed[2] == []


def test_a_new_worker_ready_claims_a_slot(master, tmp_path):
    _handover.begin(master, tmp_path)
    _handover.ready(SimpleNamespace(log=master.log), tmp_path)
    assert len(_handover._claim(tmp_path, "1")) + 1 in (2, 3)
    assert _handover._claim(tmp_path, "1") == []


def test_an_old_worker_leaving_lowers_the_count_and_is_forgotten(master, tmp_path):
    _handover.begin(master, tmp_path)
    for pid in (901, 902, 903, 999):
        _handover.exited(master, SimpleNamespace(pid=pid), tmp_path)
    assert master.num_workers == 2
    assert _handover._claim(tmp_path, "1") == []


def test_workers_of_another_generation_retire_no_one(master, tmp_path):
    _handover.begin(master, tmp_path)
    assert _handover._claim(tmp_path, "0") == []
    assert _handover._claim(tmp_path, "1") != []


def test_a_lost_record_never_stops_the_master(master, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("")
    _handover.begin(master, blocked / "root")  # a path that cannot be a folder
    assert master.num_workers == 2  # gunicorn's own reload instead
