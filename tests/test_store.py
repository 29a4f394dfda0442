"""Atomic writes: a folder or file appears complete or not at all."""

from __future__ import annotations

import os
import stat

import networkx as nx
import pytest

from groupsim.runs.store import RUN_FILES, atomic_file, atomic_folder, write_run


class Boom(RuntimeError):
    """A simulated failure while writing."""


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def _fail_in_folder(target, files, subfolder=False):
    """Write `files` (name: text) into an atomic folder, then fail."""
    with atomic_folder(target) as tmp:
        for name, text in files.items():
            (tmp / name).write_text(text)
        if subfolder:
            (tmp / "sub").mkdir()
        raise Boom("simulated failure while writing")


def _fail_in_file(target, text):
    """Write `text` into an atomic file, then fail."""
    with atomic_file(target) as handle:
        handle.write(text)
        raise Boom("simulated failure while writing")


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_atomic_folder_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "deep" / "er" / "out"
    with pytest.raises(Boom):
        _fail_in_folder(target, {"weekly.parquet": "half"}, subfolder=True)
    assert not target.exists()
    assert _leftovers(tmp_path) == []  # no temp folder, no parent folders it created


def test_atomic_folder_success_and_permissions(tmp_path):
    target = tmp_path / "out"
    with atomic_folder(target) as tmp:
        assert tmp != target
        assert not target.exists()
        (tmp / "a.txt").write_text("a")
    assert _leftovers(target) == ["a.txt"]
    assert _leftovers(tmp_path) == ["out"]
    assert _mode(target) == 0o777 & ~_umask()  # like mkdir, not private like mkdtemp


def test_atomic_folder_replaces_an_existing_folder_whole(tmp_path):
    """Issue 13: no stale file of an earlier run survives; a failed write changes nothing."""
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.txt").write_text("old")
    (target / "a.txt").write_text("old")
    with atomic_folder(target) as tmp:
        (tmp / "a.txt").write_text("new")
    assert (target / "a.txt").read_text() == "new"
    assert not (target / "keep.txt").exists()
    assert _leftovers(tmp_path) == ["out"]
    with pytest.raises(Boom):
        _fail_in_folder(target, {"a.txt": "newer"})
    assert (target / "a.txt").read_text() == "new"
    assert _leftovers(target) == ["a.txt"]


def test_atomic_file_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "new" / "table.csv"
    with pytest.raises(Boom):
        _fail_in_file(target, "half a table")
    assert not target.exists()
    assert _leftovers(tmp_path) == []


def test_atomic_file_keeps_the_old_file_on_error(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old")
    with pytest.raises(Boom):
        _fail_in_file(target, "new")
    assert target.read_text() == "old"
    assert _leftovers(tmp_path) == ["table.csv"]


def test_atomic_file_success_binary_and_permissions(tmp_path):
    target = tmp_path / "data.bin"
    with atomic_file(target, "wb") as handle:
        handle.write(b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert _leftovers(tmp_path) == ["data.bin"]
    assert _mode(target) == 0o666 & ~_umask()


def test_write_run_writes_exactly_the_run_files(tmp_path, small_result):
    out = write_run(small_result, tmp_path / "run")
    assert sorted(_leftovers(out)) == sorted(RUN_FILES)
    graph = nx.read_graphml(out / "network.graphml")
    assert graph.number_of_nodes() == small_result.scenario.students
    assert _leftovers(tmp_path) == ["run"]
