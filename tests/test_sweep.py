"""Sweeps: files, designs, run ids and seeds, backends, resume, failures, kills."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groupsim.runs.backends import DaskBackend, LocalPoolBackend, SerialBackend
from groupsim.runs.outcomes import run_outcomes
from groupsim.runs.runner import run
from groupsim.scenario import ScenarioError
from groupsim.sweep.run import FAIL_RUNS_ENV, run_sweep
from groupsim.sweep.spec import load_sweep, run_seed
from groupsim.sweep.store import SweepStore

GROUPSIM = str(Path(sys.executable).with_name("groupsim"))
HOME_ROOM = Path(__file__).resolve().parents[1] / "scenarios" / "home_room.toml"

QUICK_SET = """
[set]
"cohort.faculties" = 3
"cohort.students_per_faculty" = 6
"cohort.burn_in_weeks" = 4
"group.clients" = 3
"program.sessions" = 3
"program.baseline_weeks" = 1
"program.followup_weeks" = 1
"""


def write_sweep(
    folder: Path,
    *,
    name: str = "s.toml",
    replications: int = 3,
    extra: str = "",
    parameters: str = '"counselor.warmth" = [0.3, 0.6, 0.9]\n"program.sessions" = [2, 4]',
    design: str = "grid",
) -> Path:
    """A quick sweep file (tiny cohort, short program)."""
    path = folder / name
    path.write_text(
        f'[sweep]\nscenario = "{HOME_ROOM}"\ndesign = "{design}"\n'
        f"replications = {replications}\nseed = 5\n"
        'outcomes = ["post_social_interaction", "questionnaire_gain", "final_climate"]\n'
        f"{extra}\n{QUICK_SET}\n[parameters]\n{parameters}\n"
    )
    return path


def runs_table(out: Path) -> pd.DataFrame:
    return SweepStore(out).runs().sort_values("run_id").reset_index(drop=True)


def assert_same_dataset(out: Path, reference: pd.DataFrame) -> None:
    """Every part readable, no temporary files, each run once, rows equal the reference."""
    parts = sorted((out / "runs").iterdir())
    assert parts
    assert all(p.name.startswith("part-") for p in parts)
    frames = [pd.read_parquet(p) for p in parts]  # raises on an unreadable file
    ids = pd.concat(frames)["run_id"]
    assert not ids.duplicated().any(), "a run was written twice"
    table = runs_table(out)
    assert (table["status"] == "ok").all()
    pd.testing.assert_frame_equal(table, reference)


@pytest.fixture(scope="module")
def big_sweep(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """A 144-run sweep file and its uninterrupted dataset (serial) as the reference.

    Long enough that a sweep killed after its 20th chunk of 2 runs still has 104 runs to go:
    with 72 runs, a loaded machine could see a sweep of fast runs end before the test saw
    its 20th chunk (2026-12-02, once, in a full parallel run).
    """
    folder = tmp_path_factory.mktemp("big")
    path = write_sweep(folder, replications=24)
    run_sweep(load_sweep(path), folder / "reference", SerialBackend(), chunk_size=2, label=None)
    return path, runs_table(folder / "reference")


# ---------------------------------------------------------------------------- files, ids, seeds


def test_run_ids_and_seeds_come_from_point_and_replication(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, replications=3))
    assert (sweep.points, sweep.runs) == (6, 18)
    assert sweep.run_id(2, 1) == 7
    assert sweep.locate(7) == (2, 1)
    assert sweep.run_seed(7) == run_seed(5, 7)
    child = np.random.SeedSequence(5).spawn(8)[7]
    assert sweep.run_seed(7) == int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
    assert len({sweep.run_seed(r) for r in range(sweep.runs)}) == sweep.runs
    crn = load_sweep(write_sweep(tmp_path, name="c.toml", extra="common_random_numbers = true"))
    assert crn.run_seed(crn.run_id(0, 2)) == crn.run_seed(crn.run_id(5, 2)) == run_seed(5, 2)
    assert sweep.overrides(3) == {"counselor.warmth": 0.6, "program.sessions": 4}


def test_chunks_hold_a_seeds_runs_together_with_common_random_numbers(tmp_path):
    """Chunks go out by seed, so the runs of one seed share their settled cohort."""
    from groupsim.sweep.run import chunk_tasks

    crn = load_sweep(write_sweep(tmp_path, replications=4, extra="common_random_numbers = true"))
    pending = np.setdiff1d(np.arange(crn.runs), [5, 13])  # a resume: two runs finished
    tasks = list(chunk_tasks(crn, pending, crn.points))
    sent = [run for task in tasks for run in task.runs]
    assert sorted(run_id for run_id, *_ in sent) == pending.tolist()
    seeds = [seed for *_, seed in sent]
    # Each seed's runs in one block, in run id order within it.
    assert len({seed for seed in seeds}) == sum(
        1 for i, seed in enumerate(seeds) if i == 0 or seeds[i - 1] != seed
    )
    assert all(len({seed for *_, seed in task.runs}) <= 2 for task in tasks)
    assert [len({seed for *_, seed in task.runs}) for task in tasks[:1]] == [1]
    # Without common random numbers every run has its own seed: run id order.
    plain = load_sweep(write_sweep(tmp_path, name="p.toml", replications=4))
    sent = [run for task in chunk_tasks(plain, pending, 5) for run in task.runs]
    assert [run_id for run_id, *_ in sent] == pending.tolist()


def test_runs_that_share_a_settled_cohort_give_the_rows_of_runs_alone(tmp_path):
    """Chunks that share cohorts (seed order, a cohort's points together) change no number."""
    mixed = '"counselor.warmth" = [0.3, 0.9]\n"cohort.burn_in_weeks" = [3, 4]\n'
    path = write_sweep(
        tmp_path, replications=3, extra="common_random_numbers = true", parameters=mixed
    )
    sweep = load_sweep(path)
    run_sweep(sweep, tmp_path / "shared", SerialBackend(), chunk_size=sweep.runs, label=None)
    run_sweep(sweep, tmp_path / "alone", SerialBackend(), chunk_size=1, label=None)
    shared, alone = runs_table(tmp_path / "shared"), runs_table(tmp_path / "alone")
    assert (shared["status"] == "ok").all()
    pd.testing.assert_frame_equal(shared, alone)


def test_sampled_designs_stay_inside_bounds_and_round_whole_numbers(tmp_path):
    bounds = '"counselor.warmth" = {min = 0.2, max = 0.8}\n"program.sessions" = {min = 2, max = 5}'
    for design, samples, points in (
        ("sobol", 8, 32),
        ("latin_hypercube", 10, 10),
        ("morris", 3, 9),
    ):
        sweep = load_sweep(
            write_sweep(tmp_path, design=design, parameters=bounds, extra=f"samples = {samples}")
        )
        assert sweep.points == points, design
        warmth = np.array([p[0] for p in sweep.design])
        sessions = [p[1] for p in sweep.design]
        assert warmth.min() >= 0.2
        assert warmth.max() <= 0.8
        assert all(isinstance(s, int) and 2 <= s <= 5 for s in sessions)


def test_rows_hold_the_outcomes_of_groupsim_run(tmp_path):
    path = write_sweep(tmp_path, replications=2)
    sweep = load_sweep(path)
    run_sweep(sweep, tmp_path / "out", SerialBackend(), label=None)
    table = runs_table(tmp_path / "out")
    assert len(table) == 12
    assert list(table["run_id"]) == list(range(12))
    row = table.iloc[9]
    point, replication = sweep.locate(9)
    assert (row["point"], row["replication"]) == (point, replication)
    from groupsim.scenario import apply_overrides, scenario_from_dict

    scenario = scenario_from_dict(
        apply_overrides(sweep.base.to_dict(), sweep.overrides(point), "t")
    )
    expected = run_outcomes(run(scenario, seed=int(row["seed"])))
    for name in sweep.outcomes:
        assert row[name] == pytest.approx(expected[name], nan_ok=True)
    assert row["counselor.warmth"] == sweep.design[point][0]


@pytest.mark.parametrize(
    ("scenario", "overrides"),
    [
        ("home_room", {}),
        ("standard_group", {}),
        ("no_intervention", {}),
        ("home_room", {"program.groups": 3, "cohort.students_per_faculty": 12}),
        ("home_room", {"group.screening": "pretest"}),
    ],
)
def test_model_outcomes_equal_run_outcomes_exactly(scenario, overrides):
    from groupsim import HomeRoomModel, load_scenario
    from groupsim.runs.outcomes import model_outcomes, outcome_weeks
    from groupsim.runs.runner import collect

    quick = {
        "cohort.faculties": 3,
        "cohort.students_per_faculty": 6,
        "cohort.burn_in_weeks": 4,
        "group.clients": 3,
        "program.sessions": 3,
    }
    loaded = load_scenario(HOME_ROOM.with_name(f"{scenario}.toml"), quick | overrides)
    for seed in (4, 11):
        model = HomeRoomModel(rng=seed, config=loaded, record_students=False, record_ties=False)
        while model.running:
            model.step()
        expected = run_outcomes(collect(model, seed))
        # What a sweep runs: only the three weeks the outcomes read are recorded.
        lean = HomeRoomModel(
            rng=seed,
            config=loaded,
            record_students=False,
            record_ties=False,
            record_weeks=outcome_weeks(loaded).values(),
        )
        while lean.running:
            lean.step()
        assert len(lean.datacollector.model_vars["week"]) <= 3
        for got in (model_outcomes(model), model_outcomes(lean)):
            assert list(got) == list(expected)
            for name, value in expected.items():
                assert got[name] == value or (np.isnan(got[name]) and np.isnan(value)), name
    if overrides.get("program.groups"):
        assert len(model.session_rows) == 3 * 3  # a row per group per session


def test_weekly_rows_on_request(tmp_path):
    path = write_sweep(tmp_path, replications=1, extra="weekly = true")
    run_sweep(load_sweep(path), tmp_path / "out", SerialBackend(), chunk_size=4, label=None)
    weekly = SweepStore(tmp_path / "out").weekly()
    assert sorted(weekly["run_id"].unique()) == list(range(6))
    assert weekly.groupby("run_id")["week"].min().eq(0).all()
    assert "clients_social_interaction" in weekly.columns


# ---------------------------------------------------------------------------- backends


def test_identical_results_with_1_and_2_workers_and_dask_local(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, replications=3))
    run_sweep(sweep, tmp_path / "w1", SerialBackend(), label=None)
    import threading

    pool = LocalPoolBackend(2)
    alone = threading.active_count() == 1
    run_sweep(sweep, tmp_path / "w2", pool, label=None)  # guided chunk sizes
    assert pool.start_method == ("fork" if alone else "forkserver")
    server = LocalPoolBackend(2, start_method="forkserver")
    run_sweep(sweep, tmp_path / "fs", server, chunk_size=4, label=None)
    run_sweep(sweep, tmp_path / "dask", DaskBackend(local_workers=2), chunk_size=5, label=None)
    reference = runs_table(tmp_path / "w1")
    assert len(reference) == 18
    assert (reference["status"] == "ok").all()
    for out in ("w2", "fs", "dask"):
        pd.testing.assert_frame_equal(runs_table(tmp_path / out), reference)


def test_guided_chunk_sizes_cover_every_run_and_shrink_towards_the_end():
    from groupsim.sweep.run import MAX_CHUNK, MIN_CHUNK, chunk_sizes

    for runs, workers in [(1, 1), (7, 2), (500, 2), (2_000, 2), (20_000, 8)]:
        sizes = list(chunk_sizes(runs, workers))
        assert sum(sizes) == runs
        assert max(sizes) <= MAX_CHUNK
        assert min(sizes[:-1], default=MIN_CHUNK) >= MIN_CHUNK
        # A small first chunk per worker (an early rate for the ETA), then shrinking sizes.
        assert (
            sizes[:workers]
            == [min(MIN_CHUNK, runs - MIN_CHUNK * i) for i in range(workers)][
                : len(sizes[:workers])
            ]
        )
        assert sizes[workers:] == sorted(sizes[workers:], reverse=True)
    assert list(chunk_sizes(2_000, 2))[-2] == MIN_CHUNK


@settings(max_examples=300, deadline=None)
@given(
    groups=st.lists(st.integers(1, 40), min_size=1, max_size=30),
    workers=st.integers(1, 16),
)
def test_guided_chunks_end_between_two_seeds_runs_where_one_is_near(groups, workers):
    """Every run once, in order; an end moves only onto a seed's first run, by half a chunk."""
    from groupsim.sweep.run import chunk_sizes, seed_aligned

    keys = np.repeat(np.arange(len(groups)), groups)
    sizes = list(chunk_sizes(len(keys), workers))
    ends = seed_aligned(sizes, keys)
    assert ends[-1] == len(keys)
    assert all(a < b for a, b in zip([0, *ends], ends, strict=False))
    starts = set(np.cumsum(groups)[:-1].tolist())
    nominal = np.cumsum(sizes).tolist()
    for end in ends:
        assert end in starts or end in nominal
    for end, size in zip(nominal, sizes, strict=True):
        if end < len(keys) and end not in starts and any(abs(b - end) <= size // 2 for b in starts):
            assert end not in ends  # moved onto a seed's first run (or merged into the next)


def test_seed_aligned_chunks_split_fewer_seeds_of_the_shipped_sweep():
    """The warmth x sessions sweep: fewer seeds' runs cut across chunks, as many chunks."""
    from groupsim.sweep.run import chunk_sizes, chunk_tasks

    sweep = load_sweep("scenarios/sweeps/warmth_x_sessions.toml")
    pending = np.arange(sweep.runs)
    keys = sweep.seed_keys(sweep.run_order(pending))

    def split(ends: list[int]) -> int:
        return sum(0 < e < len(keys) and keys[e - 1] == keys[e] for e in ends)

    for workers in (1, 2, 8):
        sizes = list(chunk_sizes(sweep.runs, workers))
        tasks = list(chunk_tasks(sweep, pending, None, workers))
        ends = np.cumsum([len(task.runs) for task in tasks]).tolist()
        assert sorted(r for task in tasks for r, *_ in task.runs) == pending.tolist()
        assert split(ends) < split(np.cumsum(sizes).tolist())
        assert abs(len(tasks) - len(sizes)) <= len(sizes) // 4


@pytest.mark.parametrize("chunk_size", [None, 5])
def test_no_pending_runs_make_no_chunk(chunk_size):
    """Nothing left to run: no chunk, guided or of a set size (not one empty chunk)."""
    from groupsim.sweep.run import chunk_tasks

    sweep = load_sweep("scenarios/sweeps/warmth_x_sessions.toml")
    assert list(chunk_tasks(sweep, np.empty(0, dtype=np.int64), chunk_size, 2)) == []
    sizes = [len(t.runs) for t in chunk_tasks(sweep, np.arange(12), chunk_size, 2)]
    assert sum(sizes) == 12
    assert all(size > 0 for size in sizes)


# ---------------------------------------------------------------------------- resume, failures


def test_resume_skips_finished_runs_and_a_finished_sweep_does_nothing(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, replications=2))
    out = tmp_path / "out"
    first = run_sweep(sweep, out, SerialBackend(), label=None)
    assert (first.done_before, first.done_now, first.failed) == (0, 12, 0)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    again = run_sweep(sweep, out, SerialBackend(), resume=True, label=None)
    assert (again.done_before, again.done_now) == (12, 0)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before  # nothing written


def test_injected_failure_is_recorded_and_resume_retries_it(tmp_path, monkeypatch):
    sweep = load_sweep(write_sweep(tmp_path, replications=2))
    out = tmp_path / "out"
    monkeypatch.setenv(FAIL_RUNS_ENV, "3,8")
    summary = run_sweep(sweep, out, LocalPoolBackend(2), chunk_size=3, label=None)
    assert (summary.done_now, summary.failed) == (10, 2)
    failures = SweepStore(out).failures()
    assert list(failures["run_id"]) == [3, 8]
    assert list(failures["seed"]) == [sweep.run_seed(3), sweep.run_seed(8)]
    assert list(failures["point"]) == [1, 4]
    assert list(failures["replication"]) == [1, 0]
    assert failures["error"].str.contains("injected failure").all()
    monkeypatch.delenv(FAIL_RUNS_ENV)
    retried = run_sweep(sweep, out, SerialBackend(), resume=True, label=None)
    assert (retried.done_before, retried.done_now, retried.failed) == (10, 2, 0)
    assert SweepStore(out).failures().empty
    run_sweep(sweep, tmp_path / "clean", SerialBackend(), label=None)
    pd.testing.assert_frame_equal(runs_table(out), runs_table(tmp_path / "clean"))


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [GROUPSIM, *args], capture_output=True, text=True, env={**os.environ, **(env or {})}
    )


def main(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run `groupsim ARGS` in this process: (exit status, stdout, stderr)."""
    from groupsim import cli as cli_module

    capsys.readouterr()
    monkeypatch.setattr(sys, "argv", ["groupsim", *args])
    try:
        cli_module.main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, " ".join(captured.out.split()), captured.err


def test_cli_reports_failures_with_exit_1_and_plain_progress(tmp_path, monkeypatch, capsys):
    path = write_sweep(tmp_path, replications=1)
    out = str(tmp_path / "o")
    monkeypatch.setenv(FAIL_RUNS_ENV, "2")
    code, stdout, stderr = main(
        monkeypatch, capsys, "sweep", str(path), "--out", out, "--workers", "1"
    )
    assert code == 1
    assert "5/6 runs finished" in stdout
    assert "failed: run 2 (point 2, replication 0, seed" in stdout
    assert "sweep: 6/6 runs" in stderr  # plain progress line when not a terminal
    monkeypatch.delenv(FAIL_RUNS_ENV)
    code, stdout, _ = main(monkeypatch, capsys, "sweep", str(path), "--out", out, "--resume")
    assert code == 0
    assert "6/6 runs finished (1 now" in stdout


def test_resume_with_a_changed_sweep_file_is_refused(tmp_path, monkeypatch, capsys):
    path = write_sweep(tmp_path, replications=1)
    run_sweep(load_sweep(path), tmp_path / "o", SerialBackend(), label=None)
    path.write_text(path.read_text().replace("seed = 5", "seed = 6"))
    code, _, stderr = main(
        monkeypatch, capsys, "sweep", str(path), "--out", str(tmp_path / "o"), "--resume"
    )
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(path) in lines[0]
    assert "differs from the sweep" in lines[0]


# ---------------------------------------------------------------------------- bad input


BAD = {
    "unknown path": ('"counselor.warmthh" = [0.2]', "grid", "", "parameters.counselor.warmthh"),
    "empty list": ('"counselor.warmth" = []', "grid", "", "parameters.counselor.warmth"),
    "no bounds": (
        '"counselor.warmth" = [0.2, 0.4]',
        "sobol",
        "samples = 8",
        "parameters.counselor.warmth",
    ),
    "zero replications": ('"counselor.warmth" = [0.2]', "grid", "", "sweep.replications"),
    "out of range": ('"counselor.warmth" = [0.2, 1.5]', "grid", "", "parameters.counselor.warmth"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_sweep_files_give_one_line_and_write_nothing(tmp_path, case, capsys, monkeypatch):
    from groupsim import cli as cli_module

    parameters, design, extra, field = BAD[case]
    path = write_sweep(
        tmp_path,
        parameters=parameters,
        design=design,
        extra=extra,
        replications=0 if case == "zero replications" else 1,
    )
    with pytest.raises(ScenarioError, match=field.replace(".", r"\.")):
        load_sweep(path)
    monkeypatch.setattr(sys, "argv", ["groupsim", "sweep", str(path), "--out", str(tmp_path / "o")])
    with pytest.raises(SystemExit) as exit_info:
        cli_module.main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert str(path) in err[0]
    assert field in err[0]
    assert not (tmp_path / "o").exists()


def test_unreachable_scheduler_gives_one_line_and_writes_nothing(tmp_path, monkeypatch, capsys):
    path = write_sweep(tmp_path, replications=1)
    code, _, stderr = main(
        monkeypatch,
        capsys,
        "sweep",
        str(path),
        "--out",
        str(tmp_path / "o"),
        "--scheduler",
        "tcp://127.0.0.1:9",
        "--connect-timeout",
        "2",
    )
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1
    assert "--scheduler: tcp://127.0.0.1:9: cannot reach" in lines[0]
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------------------- kills


def start(sweep_path: Path, out: Path, *options: str) -> subprocess.Popen:
    return subprocess.Popen(
        [GROUPSIM, "sweep", str(sweep_path), "--out", str(out), "--chunk-size", "2", *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def wait_for_parts(out: Path, count: int, process: subprocess.Popen, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and process.poll() is None:
        parts = out / "runs"
        if parts.is_dir() and sum(1 for _ in parts.glob("part-*")) >= count:
            return
        time.sleep(0.005)
    raise AssertionError(f"sweep ended or stalled before {count} chunks were written")


@pytest.mark.parametrize(
    ("moment", "options"),
    [(1, ("--workers", "1")), (9, ("--workers", "2")), (20, ("--workers", "1"))],
)
def test_sigkill_then_resume_equals_an_uninterrupted_sweep(tmp_path, big_sweep, moment, options):
    path, reference = big_sweep
    out = tmp_path / "out"
    process = start(path, out, *options)
    wait_for_parts(out, moment, process)
    time.sleep(random.Random(moment).uniform(0.0, 0.08))  # land anywhere in a chunk
    os.killpg(process.pid, signal.SIGKILL)  # the sweep and its workers, no clean-up
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert 0 < len(SweepStore(out).finished_runs()) < len(reference)
    result = cli("sweep", str(path), "--out", str(out), "--resume", "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert_same_dataset(out, reference)
    assert not [p for p in out.rglob(".*") if p.name != ".lock"]  # no temporary left


def worker_pids(parent: int) -> list[int]:
    import psutil

    found = []
    main = psutil.Process(parent)
    for child in main.children(recursive=True):
        try:
            # Dask's nanny spawns its workers; the local pool forks them (from the sweep's
            # process, same command line, or off a forkserver).
            command = child.cmdline()
            up = child.parent()
            if (
                "spawn_main" in " ".join(command)
                or (up is not None and up.pid == parent and command == main.cmdline())
                or (up is not None and "forkserver" in " ".join(up.cmdline()))
            ):
                found.append(child.pid)
        except psutil.NoSuchProcess:
            continue
    return found


@pytest.mark.parametrize("options", [("--workers", "2"), ("--dask-local", "2")])
def test_a_killed_worker_does_not_stop_the_sweep(tmp_path, big_sweep, options):
    path, reference = big_sweep
    out = tmp_path / "out"
    process = start(path, out, *options)
    wait_for_parts(out, 4, process)
    workers = worker_pids(process.pid)
    assert len(workers) == 2, workers
    os.kill(workers[0], signal.SIGKILL)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert_same_dataset(out, reference)
