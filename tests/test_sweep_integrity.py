"""Issue 13, finding 4: a sweep folder's checksums, resume's repair and analyze's refusal.

A tiny finished sweep (4 runs in 2 chunks, weekly rows kept) is copied, one file of the
copy is truncated, emptied or overwritten with garbage, and `groupsim sweep --resume` must
give the same dataset as the untouched sweep, or one line naming the file.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from conftest import cli, one_line_refusal
from groupsim.sweep.integrity import damage
from groupsim.sweep.store import SweepStore

HOME_ROOM = Path(__file__).resolve().parents[1] / "scenarios" / "home_room.toml"

SWEEP = f"""
[sweep]
scenario = "{HOME_ROOM}"
design = "grid"
replications = 2
seed = 3
chunk_size = 2
weekly = true
outcomes = ["post_social_interaction", "final_climate"]

[set]
"cohort.faculties" = 2
"cohort.students_per_faculty" = 5
"cohort.burn_in_weeks" = 2
"group.clients" = 3
"program.sessions" = 2
"program.baseline_weeks" = 1
"program.followup_weeks" = 1

[parameters]
"counselor.warmth" = [0.3, 0.9]
"""


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: max(1, path.stat().st_size // 2)])


def empty(path: Path) -> None:
    path.write_bytes(b"")


def garbage(path: Path) -> None:
    path.write_bytes(b"\x00\xffnot what was written\n" * 7)


CORRUPTIONS = [truncate, empty, garbage]


def dataset(out: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """What a sweep computed: its runs, weekly rows and design points."""
    store = SweepStore(out)
    return store.runs(), store.weekly(), pd.read_parquet(out / "points.parquet")


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> tuple[Path, Path, tuple]:
    """The sweep file, its finished folder, and that folder's dataset."""
    folder = tmp_path_factory.mktemp("integrity")
    sweep_file = folder / "tiny.toml"
    sweep_file.write_text(SWEEP)
    out = folder / "done"
    from groupsim.runs.backends import SerialBackend
    from groupsim.sweep.run import run_sweep
    from groupsim.sweep.spec import load_sweep

    summary = run_sweep(load_sweep(sweep_file), out, SerialBackend(), label=None)
    assert summary.done_now == 4
    assert len(SweepStore(out).parts("runs")) == 2
    assert len(SweepStore(out).parts("weekly")) == 2
    assert damage(SweepStore(out)) == []
    return sweep_file, out, dataset(out)


def sweep_files(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())


def test_every_part_and_the_manifest_carry_a_checksum(finished):
    _, out, _ = finished
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["files"]) == {"sweep.toml", "scenario.toml", "points.parquet"}
    assert manifest["files"]["points.parquet"]["rows"] == 2
    assert len(manifest["checksum"]) == 64
    for part in SweepStore(out).parts("runs"):
        assert part.name.split("-")[-2] == "2r"  # two runs a chunk, then the sha256
        assert len(part.stem.split("-")[-1]) == 64


@pytest.mark.parametrize("corrupt", CORRUPTIONS, ids=lambda f: f.__name__)
def test_resume_repairs_any_single_damaged_file(finished, corrupt, tmp_path, monkeypatch, capsys):
    sweep_file, done, reference = finished
    for index, name in enumerate(sweep_files(done)):
        out = tmp_path / f"copy{index}"
        shutil.copytree(done, out)
        corrupt(out / name)
        found = damage(SweepStore(out))
        code, _, err = cli(["analyze", str(out)], monkeypatch, capsys)
        if found:  # analyze refuses a damaged folder in one line naming the file and the fix
            one_line_refusal(code, err, name, "--resume")
        code, _, err = cli(
            ["sweep", str(sweep_file), "--out", str(out), "--resume", "--workers", "1"],
            monkeypatch,
            capsys,
        )
        assert code == 0, (name, corrupt.__name__, err)
        assert "Traceback" not in err
        if found:
            assert name in err, (name, err)  # the repaired file is named
        assert damage(SweepStore(out)) == [], name
        for got, want in zip(dataset(out), reference, strict=True):
            pd.testing.assert_frame_equal(got, want)
        assert cli(["analyze", str(out)], monkeypatch, capsys)[0] == 0, name


def test_an_unrecoverable_manifest_is_refused_in_one_line(finished, tmp_path, monkeypatch, capsys):
    """Manifest and the sweep file's copy both damaged: which sweep it is cannot be told."""
    sweep_file, done, _ = finished
    out = tmp_path / "lost"
    shutil.copytree(done, out)
    garbage(out / "manifest.json")
    truncate(out / "sweep.toml")
    before = sweep_files(out)
    command = ["sweep", str(sweep_file), "--out", str(out), "--resume"]
    code, _, err = cli(command, monkeypatch, capsys)
    one_line_refusal(code, err, "manifest.json", "cannot be told")
    assert sweep_files(out) == before  # nothing changed


def test_a_non_object_manifest_is_named(finished, tmp_path, monkeypatch, capsys):
    _, done, _ = finished
    out = tmp_path / "list"
    shutil.copytree(done, out)
    (out / "manifest.json").write_text("[1, 2]\n")
    code, _, err = cli(["analyze", str(out)], monkeypatch, capsys)
    one_line_refusal(code, err, "manifest.json", "not a JSON object", "--resume")


def test_a_sweep_from_before_checksums_is_still_read(finished, tmp_path, monkeypatch, capsys):
    """Parts named without row count and sha256, a manifest without files and checksum."""
    sweep_file, done, reference = finished
    out = tmp_path / "old"
    shutil.copytree(done, out)
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["files"], manifest["checksum"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    for folder in ("runs", "weekly"):
        for part in SweepStore(out).parts(folder):
            part.rename(part.with_name("-".join(part.name.split("-")[:4]) + ".parquet"))
    assert damage(SweepStore(out)) == []
    garbage(SweepStore(out).parts("runs")[0])  # without a checksum: found unreadable
    assert [d.path.parent.name for d in damage(SweepStore(out))] == ["runs"]
    command = ["sweep", str(sweep_file), "--out", str(out), "--resume", "--workers", "1"]
    assert cli(command, monkeypatch, capsys)[0] == 0
    for got, want in zip(dataset(out), reference, strict=True):
        pd.testing.assert_frame_equal(got, want)
