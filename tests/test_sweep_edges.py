"""Sweeps' friendly edges: dry run, Ctrl-C and resume, the Python API, `groupsim check`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from conftest import HOME_ROOM, cli
from groupsim.runs.backends import SerialBackend
from groupsim.sweep.run import SweepInterrupted, run_sweep
from groupsim.sweep.spec import load_sweep
from test_sweep import GROUPSIM, runs_table, write_sweep


def test_dry_run_prints_runs_time_and_disk_and_writes_nothing(tmp_path, monkeypatch, capsys):
    from groupsim import cli

    path = write_sweep(tmp_path, replications=2, extra="effects = true")
    out = tmp_path / "out"
    monkeypatch.setattr(
        sys,
        "argv",
        ["groupsim", "sweep", str(path), "--out", str(out), "--dry-run", "--workers", "1"],
    )
    cli.main()
    printed = capsys.readouterr().out
    assert "12 runs + 12 twin runs (effects)" in printed
    assert "timed 3 runs" in printed
    assert "estimated time on 1 worker" in printed
    assert "disk needed" in printed
    assert not out.exists()


def test_dry_run_counts_the_runs_that_start_from_their_seeds_settled_cohort(tmp_path):
    """With common random numbers a seed's runs settle the cohort once; the estimate knows.

    A chunk a seed (`chunk_size` = the points): every run but the first of its seed shares,
    unless its point changes the cohort (`cohort.burn_in_weeks` here), and so settles anew.
    """
    from groupsim.sweep.estimate import _shared_runs, estimate

    crn = "common_random_numbers = true\nchunk_size = 6"
    sweep = load_sweep(write_sweep(tmp_path, replications=3, extra=crn))
    assert _shared_runs(sweep, 1) == sweep.runs - sweep.replications == 15
    burn_in = '"counselor.warmth" = [0.3, 0.6, 0.9]\n"cohort.burn_in_weeks" = [3, 4]'
    varied = load_sweep(write_sweep(tmp_path, name="b.toml", extra=crn, parameters=burn_in))
    assert _shared_runs(varied, 1) == varied.runs - 2 * varied.replications == 12
    plain = load_sweep(write_sweep(tmp_path, name="p.toml", replications=3))
    assert _shared_runs(plain, 1) == 0
    found = estimate(sweep, 1)
    assert found.shared == 15
    assert found.seconds_per_shared_run > 0.0
    assert "15 runs start from the cohort their seed settled" in " ".join(found.lines())


def test_ctrl_c_while_a_chunk_is_written_waits_until_it_is_written_and_counted(
    tmp_path, monkeypatch
):
    """The status counts every chunk on disk: a Ctrl-C in the middle of a write waits for it.

    Interrupted between writing a chunk and counting it, the status said `finished: 0` with a
    part saved (the test below caught it under load).
    """
    from groupsim.sweep.store import SweepStore

    path = write_sweep(tmp_path, replications=2)
    out = tmp_path / "out"
    write_chunk = SweepStore.write_chunk

    def interrupted_write(self, *args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C in the middle of writing the first chunk
        return write_chunk(self, *args, **kwargs)

    monkeypatch.setattr(SweepStore, "write_chunk", interrupted_write)
    try:
        run_sweep(load_sweep(path), out, SerialBackend(), chunk_size=2, label=None)
    except SweepInterrupted as stopped:
        summary = stopped.summary
    else:
        raise AssertionError("the sweep was not interrupted")
    status = json.loads((out / "status.json").read_text())
    saved = len(SweepStore(out).finished_runs())
    assert summary.done_now == saved == status["finished"] == 2  # the chunk went on to the end
    assert status["interrupted"] is True


def test_ctrl_c_saves_names_the_resume_and_resume_equals_an_uninterrupted_sweep(tmp_path):
    # 1,200 runs: a quick compiled run takes a few ms, so the sweep must have enough of them
    # to last (seconds) after its first saved chunk, even when this test process is slow to
    # notice under load (240 runs finished before the Ctrl-C came in a full suite).
    path = write_sweep(tmp_path, replications=200)
    reference_out = tmp_path / "reference"
    run_sweep(load_sweep(path), reference_out, SerialBackend(), chunk_size=2, label=None)
    reference = runs_table(reference_out)
    out = tmp_path / "out"
    process = subprocess.Popen(
        [GROUPSIM, "sweep", str(path), "--out", str(out), "--workers", "1", "--chunk-size", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Python ignores Ctrl-C in a child started with SIGINT ignored (as an earlier test of
        # the suite may leave this process): give the sweep the terminal's default.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if (out / "runs").is_dir() and len(list((out / "runs").glob("part-*"))) >= 1:
            break
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGINT)  # as Ctrl-C: the sweep's own process
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    status = json.loads((out / "status.json").read_text())
    assert status["interrupted"] is True
    assert 0 < status["finished"] < 1200
    message = " ".join(stdout.split())
    assert f"Interrupted: {status['finished']}/1200 runs saved" in message
    assert f"groupsim sweep {path} --out {out} --resume" in message
    resumed = subprocess.run(
        [GROUPSIM, "sweep", str(path), "--out", str(out), "--resume", "--workers", "1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr
    pd.testing.assert_frame_equal(runs_table(out), reference)
    assert json.loads((out / "status.json").read_text())["interrupted"] is False


def test_python_api_returns_the_store_whatever_was_imported_first(tmp_path):
    import groupsim
    import groupsim.sweep.spec  # binds groupsim.sweep to the package: still callable

    path = write_sweep(tmp_path, replications=1)
    store = groupsim.sweep(path, out=tmp_path / "out", workers=1, label=None)
    runs = store.runs()
    assert isinstance(runs, pd.DataFrame)
    assert len(runs) == 6
    assert (runs["status"] == "ok").all()
    from groupsim import sweep

    assert sweep is groupsim.sweep


def test_check_accepts_a_sweep_file(tmp_path, monkeypatch, capsys):
    path = write_sweep(tmp_path, replications=2)
    code, out, _ = cli(["check", str(path)], monkeypatch, capsys)
    assert code == 0
    printed = " ".join(out.split())
    assert "valid sweep" in printed
    assert "6 points x 2 replications = 12 runs" in printed
    assert "parameter counselor.warmth: 0.3, 0.6, 0.9" in printed


def test_check_writes_distributions_as_a_reader_does(tmp_path, monkeypatch, capsys):
    """Ranges and distributions in words, not Python's dicts ({'min': 0.2, 'max': 1.0})."""
    posterior = tmp_path / "cal"
    posterior.mkdir()
    pd.DataFrame({"counselor.warmth": [0.4, 0.8], "weight": [0.5, 0.5]}).to_parquet(
        posterior / "posterior.parquet"
    )
    path = tmp_path / "levers.toml"
    path.write_text(
        f'[sweep]\nscenario = "{HOME_ROOM}"\nsamples = 4\noutcomes = ["questionnaire_post"]\n'
        '[levers]\n"program.sessions" = [4, 8]\n'
        '[uncertainties]\nposterior = "cal"\n'
        '"climate.rate" = {distribution = "triangular", min = 0.1, mode = 0.2, max = 0.6}\n'
        '"exchange.tie_gain" = {distribution = "normal", mean = 0.2, sd = 0.05, min = 0.05}\n'
        '"rapport.rate" = {min = 0.1, max = 0.9}\n'
    )
    code, out, _ = cli(["check", str(path)], monkeypatch, capsys)
    assert code == 0
    printed = " ".join(out.split())
    assert "lever program.sessions: 4, 8" in printed
    assert "uncertainty climate.rate: triangular from 0.1 to 0.6, mode 0.2" in printed
    assert "uncertainty exchange.tie_gain: normal, mean 0.2, sd 0.05, at least 0.05" in printed
    assert "uncertainty rapport.rate: uniform from 0.1 to 0.9" in printed
    assert f"uncertainty counselor.warmth: drawn from the posterior {posterior}" in printed
    assert "{" not in printed


def test_check_names_the_field_of_a_bad_sweep_file(tmp_path):
    path = write_sweep(tmp_path, parameters='"counselor.warmthh" = [0.3]')
    result = subprocess.run(
        [GROUPSIM, "check", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "parameters.counselor.warmthh" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert Path(path).is_file()
