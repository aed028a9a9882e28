"""Snapshots: a copy is validated before it is promoted; workers fall back."""

import errno
import os
import shutil
from pathlib import Path

import pytest

from advisor import DataError, Settings, default_engine
from advisor.snapshot import PACKAGE, Snapshots, code_fingerprint, load_engine, reopen


@pytest.fixture
def snapshots(data_copy):
    taken = Snapshots(*data_copy)
    taken.take()
    yield taken
    taken.remove()


def test_a_broken_change_is_refused_and_the_last_good_snapshot_kept(snapshots, data_copy):
    rules, _ = data_copy
    good = snapshots.current
    (rules / "closing.yaml").write_text("rules: [")
    with pytest.raises(DataError, match="closing.yaml"):
        snapshots.take()
    assert snapshots.current == good
    assert sorted(p.name for p in snapshots.root.iterdir() if p.is_dir()) == [good.name]


@pytest.mark.parametrize(
    ("folder", "name"), [("rules", "closing.yaml"), ("content", "sources.yaml")]
)
def test_a_refused_change_names_the_operators_file_not_the_copy(snapshots, data_copy, folder, name):
    rules, content = data_copy
    broken = {"rules": rules, "content": content}[folder]
    (broken / name).write_text("- [")
    with pytest.raises(DataError) as refused:
        snapshots.take()
    assert str(broken / name) in str(refused.value)
    assert str(snapshots.root) not in str(refused.value)


def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


# Where a full disk stops a snapshot: copying the folders, or promoting the checked copy.
FULL_DISK = [
    pytest.param(shutil, "copytree", id="copy"),
    pytest.param(Path, "write_text", id="mark-promoted"),
    pytest.param(Path, "rename", id="promote"),
]


@pytest.mark.parametrize(("owner", "name"), FULL_DISK)
def test_a_full_disk_refuses_the_snapshot_and_leaves_no_copy_behind(
    snapshots, monkeypatch, owner, name
):
    good = snapshots.current
    monkeypatch.setattr(owner, name, _no_space)
    with pytest.raises(DataError, match="No space left on device"):
        snapshots.take()
    monkeypatch.undo()
    assert snapshots.current == good
    assert sorted(p.name for p in snapshots.root.iterdir() if p.is_dir()) == [good.name]


def test_a_promoted_snapshot_is_the_copy_that_was_validated(snapshots, data_copy):
    rules, _ = data_copy
    target = snapshots.take()
    (rules / "closing.yaml").write_text("")
    assert (target / "rules" / "closing.yaml").read_text().strip()
    assert snapshots.environment()["ADVISOR_RULES_DIR"] == str(target / "rules")


def test_a_master_finds_its_snapshots_again_from_their_folder(snapshots, data_copy):
    """As after gunicorn re-reads its configuration on a reload: from the environment."""
    rules, content = data_copy
    first = snapshots.current
    found = reopen(snapshots.environment())
    assert (found.root, found.current, found.version) == (
        snapshots.root,
        first,
        snapshots.version,
    )
    assert (found.rules_dir, found.content_dir) == (rules, content)
    later = found.take()
    assert later != first
    assert later.parent == snapshots.root
    assert reopen(found.environment()).current == later
    assert reopen({}) is None


def _settings_of(snapshot):
    return Settings(rules_dir=snapshot / "rules", content_dir=snapshot / "content")


def test_a_worker_falls_back_to_the_newest_earlier_snapshot(snapshots):
    earlier = snapshots.current
    later = snapshots.take()
    (later / "rules" / "closing.yaml").write_text("")
    engine = load_engine(_settings_of(later), snapshots.environment())
    assert engine is default_engine(_settings_of(earlier))


def test_a_worker_that_can_load_no_snapshot_exits_to_be_started_again(snapshots):
    later = snapshots.take()
    for snapshot in (later.parent / "0001", later):
        (snapshot / "rules" / "closing.yaml").write_text("")
    with pytest.raises(SystemExit) as stopped:
        load_engine(_settings_of(later), snapshots.environment())
    assert stopped.value.code == 1


def test_outside_the_master_a_broken_folder_is_an_error(data_copy):
    rules, content = data_copy
    (rules / "closing.yaml").write_text("")
    with pytest.raises(DataError):
        load_engine(Settings(rules_dir=rules, content_dir=content), {})


# (what changes in a copy of the package, whether a reload then finds other code)
CODE_CHANGES = [
    ("nothing", lambda package: None, False),
    ("a line of a module", lambda p: _append(p / "engine.py", "\n# next\n"), True),
    ("a module added", lambda p: (p / "web" / "next.py").write_text("NEXT = 1\n"), True),
    ("a module removed", lambda p: (p / "wording.py").unlink(), True),
    ("a module only touched", lambda p: os.utime(p / "engine.py", (1, 1)), False),
    ("a compiled module", lambda p: _append(p / "__pycache__" / "x.pyc", "\0"), False),
    (
        "the widget's page",
        lambda p: _append(p / "web" / "static" / "widget" / "demo.css", "\n"),
        False,
    ),
]


def _append(path: Path, text: str) -> None:
    path.parent.mkdir(exist_ok=True)
    with open(path, "a") as handle:
        handle.write(text)


@pytest.mark.parametrize(
    ("change", "changed"), [c[1:] for c in CODE_CHANGES], ids=[c[0] for c in CODE_CHANGES]
)
def test_a_reload_finds_other_code_when_a_module_differs(tmp_path, change, changed):
    package = tmp_path / "advisor"
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("data", "*.so"))
    before = code_fingerprint(package)
    change(package)
    assert (code_fingerprint(package) != before) is changed


def test_the_snapshots_say_whether_the_code_on_disk_is_the_masters(snapshots, monkeypatch):
    assert not snapshots.code_changed()
    assert not reopen({"ADVISOR_SNAPSHOTS": str(snapshots.root)}).code_changed()
    monkeypatch.setattr("advisor.snapshot.code_fingerprint", lambda: "another release")
    assert snapshots.code_changed()
    (snapshots.root / "code").unlink()  # removed behind the master's back: cannot be told
    assert not snapshots.code_changed()
