"""Issue 13: faults and hostile input. One test (or a few) per finding of the issue."""

from __future__ import annotations

import os
import pickle
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from conftest import cli, one_line_refusal
from groupsim.runs.backends import BackendError, LocalPoolBackend
from groupsim.runs.execute import map_tasks
from groupsim.runs.resources import LimitError, estimate_memory
from groupsim.runs.store import OutputError, atomic_folder, file_stem, write_folder
from groupsim.scenario import ScenarioError, scenario_from_dict
from groupsim.sweep.spec import SweepError, load_sweep

ROOT = Path(__file__).resolve().parent.parent
SRC = str(ROOT / "src")
ANYONE = {"along_ties": 0.0, "triadic_closure": 0.0, "same_faculty": 0.0}


# ---------------------------------------------------------------- 1: the memory estimate


def test_1_the_estimate_bounds_the_dense_campus_of_the_issue():
    """Finding 1 measured 4.9 GB where 0.28 GB was estimated; the bound must be >= half."""
    scenario = scenario_from_dict(
        {
            "cohort": {"faculties": 10, "students_per_faculty": 200, "burn_in_weeks": 60},
            "campus": {"contacts_per_week": 100.0, **ANYONE},
            "decay": {"tie_decay": 0.0},
        }
    )
    assert estimate_memory(scenario, True, True) >= 4.9e9 / 2


def test_1_compare_refuses_up_front_in_one_line(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("GROUPSIM_MEMORY_LIMIT", "2e8")
    args = ["compare", "no_intervention", "home_room", "--reps", "2", "--workers", "2"]
    code, _, err = cli([*args, "--out", str(tmp_path / "c")], monkeypatch, capsys)
    one_line_refusal(code, err)
    assert "would need about" in err
    assert not (tmp_path / "c").exists()


# ---------------------------------------------------------------- 2: orphaned workers


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal")
def test_2_no_worker_outlives_a_killed_compare(tmp_path):
    command = [sys.executable, "-m", "groupsim", "compare", "no_intervention", "home_room"]
    command += ["--reps", "400", "--workers", "2", "--out", str(tmp_path / "c")]
    env = {**os.environ, "PYTHONPATH": SRC}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    main_process = psutil.Process(process.pid)
    deadline = time.monotonic() + 60
    workers: list[psutil.Process] = []
    while len(workers) < 2 and time.monotonic() < deadline:
        workers = [p for p in main_process.children(recursive=True) if p.pid != process.pid]
        time.sleep(0.2)
    assert len(workers) >= 2, "the pool never started"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    _gone, alive = psutil.wait_procs(workers, timeout=10)
    for leftover in alive:  # clean up before failing
        leftover.kill()
    assert not alive, [p.pid for p in alive]


# ---------------------------------------------------------------- 3: errors across processes


def _raise(error: BaseException) -> None:
    raise error


ERRORS = [
    ScenarioError("f.toml", "cohort.faculties", "must be between 1 and 200"),
    SweepError("out: --out: already holds a sweep"),
    BackendError("--scheduler: cannot reach"),
    LimitError("--reps: too many"),
    OutputError("--out: is a file"),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_3_every_error_a_run_raises_pickles_intact(error):
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error)
    assert str(again) == str(error)
    assert vars(again) == vars(error)


def test_3_a_worker_error_reaches_the_caller_intact_with_two_workers():
    error = ERRORS[0]
    with pytest.raises(ScenarioError) as info:
        map_tasks(_raise, [error, error], label=None, backend=LocalPoolBackend(2))
    assert (info.value.source, info.value.field) == ("f.toml", "cohort.faculties")


# ---------------------------------------------------------------- 5: limits


def test_5_a_huge_power_study_is_refused_in_one_line(monkeypatch, capsys, tmp_path):
    args = ["power", "home_room", "no_intervention", "--groups", "99999999999999"]
    code, _, err = cli([*args, "--out", str(tmp_path / "p")], monkeypatch, capsys)
    one_line_refusal(code, err)
    assert "runs" in err
    assert "days" in err


def test_5_many_runs_need_yes_and_the_estimate_is_printed(monkeypatch, capsys, tmp_path):
    args = ["compare", "no_intervention", "home_room", "--reps", "60000", "--workers", "1"]
    code, _, err = cli([*args, "--out", str(tmp_path / "c")], monkeypatch, capsys)
    one_line_refusal(code, err)
    assert "--yes" in err
    assert "on disk" in err


def test_5_a_grid_too_large_is_refused_before_it_is_built(tmp_path):
    values = "[" + ", ".join(str(0.01 * i) for i in range(99)) + "]"
    lines = [f'[sweep]\nscenario = "{ROOT}/scenarios/home_room.toml"\n[parameters]']
    for name in ("counselor.warmth", "counselor.facilitation", "decay.tie_decay"):
        lines.append(f"{name} = {values}")
    lines.append("decay.state_drift = " + values)
    path = tmp_path / "s.toml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ScenarioError, match="points; at most"):
        load_sweep(path)


@pytest.mark.parametrize("target", ["/dev/zero", "fifo", "big"])
def test_5_inputs_are_regular_files_of_a_bounded_size(target, monkeypatch, capsys, tmp_path):
    if target == "fifo":
        target = str(tmp_path / "fifo")
        os.mkfifo(target)
    elif target == "big":
        target = str(tmp_path / "big.toml")
        Path(target).write_text("# " + "x" * 2_000_000 + "\n")
    code, _, err = cli(["check", target], monkeypatch, capsys)
    one_line_refusal(code, err)


# ---------------------------------------------------------------- 6: the output location


@pytest.mark.parametrize("out", ["", ".", "afile/sub", "ro/sub"])
def test_6_the_output_is_checked_before_any_run(out, monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("")
    (tmp_path / "ro").mkdir(mode=0o500)
    if out == "ro/sub" and os.access(tmp_path / "ro", os.W_OK):
        pytest.skip("running as a user who may write anywhere")
    args = ["compare", "no_intervention", "home_room", "--reps", "2", "--workers", "1"]
    code, _, err = cli([*args, "--out", out], monkeypatch, capsys)
    one_line_refusal(code, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "ro"]


# ---------------------------------------------------------------- 7: names


def test_7_names_become_safe_file_names():
    for name in ("a/b", "../../x", "a\0b", "x" * 300, "$\\frac{$"):
        stem = file_stem(name)
        assert "/" not in stem
        assert "\0" not in stem
        assert not stem.startswith(".")
        assert len(stem) <= 90
    assert file_stem("a/b") != file_stem("a_b")


def test_7_compare_with_hostile_names(monkeypatch, capsys, tmp_path):
    paths = []
    for index, name in enumerate(["../../x", "$\\frac{$"]):
        path = tmp_path / f"s{index}.toml"
        path.write_text(f"name = {name!r}\n[cohort]\nstudents_per_faculty = 6\n".replace("'", '"'))
        paths.append(str(path))
    (tmp_path / "s0.toml").write_text('name = "../../x"\n[cohort]\nstudents_per_faculty = 6\n')
    (tmp_path / "s1.toml").write_text("name = '$\\frac{$'\n[cohort]\nstudents_per_faculty = 6\n")
    out = tmp_path / "c"
    args = ["compare", *paths, "--reps", "2", "--workers", "1", "--out", str(out)]
    code, _, err = cli(args, monkeypatch, capsys)
    assert code == 0, err
    assert all(p.parent == out for p in out.rglob("*"))
    assert len(list(out.glob("scenario_*.toml"))) == 2


# ---------------------------------------------------------------- 8, 9: folder writes


def test_8_a_writer_does_not_follow_a_symlink(tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    (tmp_path / "analysis").symlink_to(target)
    with pytest.raises(OutputError, match="symbolic link"), atomic_folder(tmp_path / "analysis"):
        pass
    assert (target / "keep.txt").read_text() == "mine"


def test_9_a_folder_is_replaced_whole_or_left_as_it_was(tmp_path):
    import pandas as pd

    out = tmp_path / "out"
    write_folder(out, {"a.csv": pd.DataFrame({"x": [1]}), "b.csv": pd.DataFrame({"x": [2]})})
    write_folder(out, {"a.csv": pd.DataFrame({"x": [3]})})
    assert sorted(p.name for p in out.iterdir()) == ["a.csv"]  # no stale b.csv

    def fail(folder: Path) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_folder(out, {"a.csv": pd.DataFrame({"x": [4]})}, fail)
    assert pd.read_csv(out / "a.csv")["x"].tolist() == [3]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary left


def test_9_temporaries_of_a_killed_writer_are_swept_up(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (tmp_path / f".out.{dead}.abc.tmp").mkdir()
    (tmp_path / f".out.{os.getpid()}.def.tmp").mkdir()  # ours, alive: kept
    with atomic_folder(tmp_path / "out") as tmp:
        (tmp / "f").write_text("x")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f".out.{os.getpid()}.def.tmp", "out"]


# ---------------------------------------------------------------- 10: edge cases


SWEEP_HEAD = '[sweep]\nscenario = "{root}/scenarios/home_room.toml"\n[parameters]\n'


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ("cohort.faculty_names = [['a'], ['b']]", "number, text or true/false"),
        ("counselor.warmth = [1, 1.0]", "values repeat"),
        ('"counselor.warmth" = [0.1]\ncounselor.warmth = [0.2]', "given twice"),
    ],
)
def test_10_sweep_values(parameters, message, tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(SWEEP_HEAD.format(root=ROOT) + parameters + "\n")
    with pytest.raises(ScenarioError, match=message):
        load_sweep(path)


@pytest.mark.parametrize(
    "text",
    ["a = " + "[" * 5000 + "]" * 5000, "\ufeffname = 'bom'\n"],
    ids=["deep", "bom"],
)
def test_10_deep_nesting_and_a_byte_order_mark(text, monkeypatch, capsys, tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    code, _, err = cli(["check", str(path)], monkeypatch, capsys)
    if "bom" in text:
        assert code == 0, err
    else:
        one_line_refusal(code, err)
        assert "nested" in err


def test_10_bad_option_and_environment_values(monkeypatch, capsys, tmp_path):
    args = ["compare", "no_intervention", "home_room", "--reps", "2", "--out", str(tmp_path / "c")]
    code, _, err = cli([*args, "--connect-timeout", "nan"], monkeypatch, capsys)
    one_line_refusal(code, err)
    monkeypatch.setenv("GROUPSIM_MEMORY_LIMIT", "abc")
    code, _, err = cli(["run", "home_room"], monkeypatch, capsys)
    one_line_refusal(code, err)
    assert "GROUPSIM_MEMORY_LIMIT" in err


# ---------------------------------------------------------------- 11: exposure and escaping


def test_11_a_port_in_use_is_one_line_before_any_open_line(monkeypatch, capsys):
    pytest.importorskip("solara")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out, err = cli(["ui", "--port", str(port)], monkeypatch, capsys)
    one_line_refusal(code, err)
    assert "open http" not in out


def test_11_a_host_beyond_loopback_is_named_as_exposed(monkeypatch, capsys):
    from groupsim.cli.teach import _check_listen

    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        port = busy.getsockname()[1]
    _check_listen("0.0.0.0", port)
    assert "other computers on the network" in capsys.readouterr().err


def test_11_names_cannot_break_the_replay_or_the_markdown():
    from groupsim.document import blocks
    from groupsim.document.render import to_markdown
    from groupsim.runs.runner import run
    from groupsim.teach.replay import replay_html

    name = "<!--<script></script>"
    result = run(scenario_from_dict({"name": name, "cohort": {"students_per_faculty": 6}}), 0)
    page = replay_html([result])
    script = page.split('<script id="replay-data" type="application/json">', 1)[1]
    payload = script.split("</script>", 1)[0]
    assert "<" not in payload
    assert ">" not in payload
    markdown = to_markdown(blocks.Document(name, [blocks.Paragraph(f"about {name}")]))
    assert "<script" not in markdown
    assert "<!--" not in markdown
