"""The command line: `groupsim run` and `groupsim check`; bad input is one line and status 2."""

from __future__ import annotations

import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import networkx as nx
import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import HOME_ROOM, PYTHON, SMALL, cli, small_scenario
from groupsim import load_scenario
from groupsim.cli import app, main
from groupsim.runs.outputs import QUESTIONNAIRE as QUESTIONNAIRE_COLUMNS
from groupsim.runs.store import RUN_FILES
from groupsim.scenario import scenario_to_toml

runner = CliRunner()
#: Wide enough that rich never wraps a cell (parameter paths stay on one line).
WIDE = {"COLUMNS": "200", "TERM": "dumb", "NO_COLOR": "1"}


@pytest.fixture(scope="module")
def small_file(tmp_path_factory):
    """The small home-room scenario as a file, for fast CLI runs."""
    path = tmp_path_factory.mktemp("scenario") / "small.toml"
    path.write_text(scenario_to_toml(small_scenario()))
    return path


def invoke(*args: str, columns: int = int(WIDE["COLUMNS"])):
    # The CLI's console took its width from COLUMNS when it was made, at import: whatever
    # imported it first (or a pytest-xdist worker's COLUMNS=80) would decide. Set it here.
    from groupsim.cli.app import console

    with mock.patch.object(console, "_width", columns):
        env = {**WIDE, "COLUMNS": str(columns)}
        return runner.invoke(app, list(args), env=env, catch_exceptions=False)


def test_run_prints_the_summary(small_file):
    result = invoke("run", str(small_file), "--seed", "3")
    assert result.exit_code == 0, result.output
    for words in ("questionnaire mean (35-140)", "pre", "post", "follow-up", "group climate"):
        assert words in result.output
    assert "group density" in result.output
    assert "campus density" in result.output
    assert "seed 3" in result.output


def test_run_out_writes_exactly_the_run_files(small_file, tmp_path):
    out = tmp_path / "run1"
    result = invoke("run", str(small_file), "--seed", "3", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(RUN_FILES)
    assert set(RUN_FILES) == {
        "weekly.parquet",
        "sessions.parquet",
        "students.parquet",
        "ties.parquet",
        "faculties.parquet",
        "questionnaire.csv",
        "network.graphml",
        "scenario.toml",
    }

    # The network: node attributes are the student states.
    graph = nx.read_graphml(out / "network.graphml")
    scenario = load_scenario(small_file)
    assert graph.number_of_nodes() == scenario.students
    students = pd.read_parquet(out / "students.parquet")
    last = students[students["week"] == students["week"].max()].set_index("student_id")
    for node, attrs in list(graph.nodes(data=True))[:5]:
        for state in ("sociability", "anxiety", "skill", "attitude", "resolve", "rapport"):
            assert attrs[state] == pytest.approx(last.loc[int(node), state])
        assert isinstance(attrs["client"], bool)
    for _, _, data in graph.edges(data=True):
        assert 0 < data["strength"] <= 1

    questionnaire = pd.read_csv(out / "questionnaire.csv")
    assert list(questionnaire.columns) == list(QUESTIONNAIRE_COLUMNS)
    assert len(questionnaire) == scenario.group.clients

    # The resolved scenario reads back equal, and re-running it repeats the run exactly.
    resolved = load_scenario(out / "scenario.toml")
    assert resolved == scenario
    out2 = tmp_path / "run2"
    again = invoke("run", str(out / "scenario.toml"), "--seed", "3", "--out", str(out2))
    assert again.exit_code == 0, again.output
    for table in ("weekly", "sessions", "students", "ties"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(out / f"{table}.parquet"), pd.read_parquet(out2 / f"{table}.parquet")
        )


def test_run_with_set_overrides_is_recorded_in_the_resolved_scenario(small_file, tmp_path):
    out = tmp_path / "run"
    result = invoke(
        "run", str(small_file), "--set", "counselor.warmth=0.3", "--set", "program.sessions=4",
        "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    resolved = load_scenario(out / "scenario.toml")
    assert resolved.counselor.warmth == 0.3
    assert resolved.program.sessions == 4
    assert len(pd.read_parquet(out / "sessions.parquet")) == 4


def test_check_prints_resolved_parameters_and_marks_overrides():
    result = invoke("check", str(HOME_ROOM), "--set", "counselor.warmth=0.2")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "valid (home_room)" in result.output
    warmth = next(line for line in lines if "counselor.warmth" in line)
    assert "0.2 *" in warmth
    assert "(--set)" in warmth
    assert "0.85" in warmth
    facilitation = next(line for line in lines if "counselor.facilitation" in line)
    assert "*" not in facilitation
    assert "(--set)" not in facilitation
    assert any("group.clients" in line and "9" in line for line in lines)
    assert "9 clients, 8 sessions over 4 weeks" in result.output


def test_check_marks_a_file_value_that_is_not_the_default():
    result = invoke("check", str(HOME_ROOM.with_name("standard_group.toml")))
    assert result.exit_code == 0
    technique = next(line for line in result.output.splitlines() if "counselor.technique" in line)
    assert "standard *" in technique
    assert "(--set)" not in technique


# Bad input: run the real entry point in subprocesses (all at once, to save time) ------------

#: case: (scenario, extra options, what the one stderr line must contain).
BAD_INPUT = {
    "syntax": ("{syntax}", [], "{syntax}: (syntax): not valid TOML"),
    "wrong_type": ("{wrong_type}", [], "{wrong_type}: counselor.warmth: must be a number"),
    "float_for_int": ("{float_for_int}", [], "{float_for_int}: program.sessions: must be a whole"),
    "out_of_range": ("{out_of_range}", [], "{out_of_range}: counselor.warmth: must be between"),
    "nan": ("{nan}", [], "{nan}: counselor.warmth: must be a finite number"),
    "unknown_key": ("{unknown_key}", [], "{unknown_key}: counselor.temperature: unknown key"),
    "missing": ("{missing}", [], "{missing}: (file): no such file"),
    "set_path": ("{home}", ["--set", "counselor.temp=1"], "{home}: counselor.temp: unknown"),
    "set_value": ("{home}", ["--set", "program.sessions=many"], "program.sessions: must be"),
    "set_nan": ("{home}", ["--set", "counselor.warmth=nan"], "counselor.warmth: must be a finite"),
    "set_no_value": ("{home}", ["--set", "counselor.warmth"], "--set: counselor.warmth: expected"),
    "set_too_many": ("{home}", ["--set", "group.clients=500"], "group.clients: must be between"),
    "set_combo": ("{home}", ["--set", "program.weeks=1"], "program.sessions: 8 sessions do not"),
    "seed": ("{home}", ["--seed", "-3"], "--seed: must be a whole number"),
    "seed_text": ("{home}", ["--seed", "abc"], "'--seed'"),
    "unknown_option": ("{home}", ["--colour", "red"], "--colour"),
}

#: Cases also run as real processes (`python -m groupsim`): exit status, no traceback.
#: The rest go through `main()` in this process, the same code path without an interpreter
#: start (about 2 s each on this machine).
AS_PROCESS = ("syntax", "unknown_key", "missing", "set_value")


@pytest.fixture(scope="module")
def bad_paths(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    text = HOME_ROOM.read_text(encoding="utf-8")
    files = {
        "syntax": 'name = "x"\n[counselor\nwarmth = 0.5\n',
        "wrong_type": text.replace("warmth = 0.85", 'warmth = "warm"'),
        "float_for_int": text.replace("sessions = 8", "sessions = 8.0"),
        "out_of_range": text.replace("warmth = 0.85", "warmth = 1.85"),
        "nan": text.replace("warmth = 0.85", "warmth = nan"),
        "unknown_key": text.replace("warmth = 0.85", "warmth = 0.85\ntemperature = 0.5"),
    }
    paths = {"home": str(HOME_ROOM), "missing": str(folder / "missing.toml")}
    for name, content in files.items():
        assert content != text
        path = folder / f"{name}.toml"
        path.write_text(content)
        paths[name] = str(path)
    return paths


def _command(case, paths, out):
    scenario, extra, expected = BAD_INPUT[case]
    args = ["run", scenario.format(**paths), *extra, "--out", str(out)]
    return args, expected.format(**paths)


def _assert_one_line(status, stdout, stderr, expected, out):
    assert status == 2, (stdout, stderr)
    assert "Traceback" not in stderr
    assert "Traceback" not in stdout
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("groupsim: error: ")
    assert expected in lines[0], lines[0]
    assert not out.exists()
    assert not any(p.name.startswith(f".{out.name}") for p in out.parent.iterdir())


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_through_main(case, bad_paths, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    args, expected = _command(case, bad_paths, out)
    monkeypatch.setattr("sys.argv", ["groupsim", *args])
    with pytest.raises(SystemExit) as info:
        main()
    captured = capsys.readouterr()
    _assert_one_line(info.value.code, captured.out, captured.err, expected, out)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def bad_processes(bad_paths, tmp_path_factory):
    """Run the AS_PROCESS cases as processes, two at a time (the machine has two cores)."""
    folder = tmp_path_factory.mktemp("processes")
    env = {**os.environ, **WIDE}

    def start(case):
        out = folder / f"out_{case}"
        args, _ = _command(case, bad_paths, out)
        done = subprocess.run(
            [PYTHON, "-m", "groupsim", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=folder,
            timeout=300,
        )
        return case, (done.returncode, done.stdout, done.stderr, out)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(start, AS_PROCESS))


@pytest.mark.parametrize("case", AS_PROCESS)
def test_bad_input_as_a_process(bad_processes, bad_paths, case):
    status, stdout, stderr, out = bad_processes[case]
    _, expected = _command(case, bad_paths, out)
    _assert_one_line(status, stdout, stderr, expected, out)


def test_check_bad_input_via_the_console_script(tmp_path):
    script = os.path.join(os.path.dirname(PYTHON), "groupsim")
    bad = tmp_path / "bad.toml"
    bad.write_text("[program]\nsessions = 2.5\n")
    done = subprocess.run([script, "check", str(bad)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"groupsim: error: {bad}: program.sessions: must be a whole number (got 2.5)"
    ]


#: Bad input that each command answers before it loads the modules a study needs (seconds of
#: Mesa, statsmodels or pyABC), and those modules: none may be loaded when it exits.
STUDY_MODULES = ("mesa", "statsmodels", "pyabc", "groupsim.study.power", "groupsim.runs.runner")
ANSWERED_EARLY = {
    "power": (["power", HOME_ROOM, HOME_ROOM, "--reps", "0", "--out", "{out}"], STUDY_MODULES),
    "compare": (["compare", HOME_ROOM, HOME_ROOM, "--reps", "0", "--out", "{out}"], STUDY_MODULES),
    "run": (["run", "{out}/missing.toml"], STUDY_MODULES),
    "replay": (["replay", HOME_ROOM, "--out", "{out}/lesson.txt"], STUDY_MODULES),
    # It checks its data with the model's questionnaire, so only pyABC waits.
    "calibrate": (["calibrate", "{out}/missing.toml", "--out", "{out}/c"], ("pyabc",)),
}


@pytest.mark.parametrize("command", list(ANSWERED_EARLY))
def test_bad_input_is_answered_before_the_study_modules_load(tmp_path, command):
    arguments, modules = ANSWERED_EARLY[command]
    arguments = [str(argument).format(out=tmp_path) for argument in arguments]
    program = (
        "import sys\n"
        f"sys.argv = ['groupsim', *{arguments!r}]\n"
        "from groupsim.cli import main\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    print('exit', exc.code)\n"
        f"print('loaded', sorted(m for m in {modules!r} if m in sys.modules))\n"
    )
    done = subprocess.run([PYTHON, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.stdout.splitlines() == ["exit 2", "loaded []"], (done.stdout, done.stderr)
    assert done.stderr.startswith("groupsim: error: "), done.stderr


def test_out_must_not_be_a_file(small_file, tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    from groupsim.runs.store import OutputError

    with pytest.raises(OutputError, match="--out: is a file"):
        invoke("run", str(small_file), "--out", str(target))
    assert target.read_text() == "x"


def test_small_file_is_the_small_cohort(small_file):
    scenario = load_scenario(small_file)
    assert scenario.cohort.faculties == SMALL["cohort.faculties"]


def test_run_refuses_a_scenario_too_large_for_memory(tmp_path, monkeypatch, capsys):
    # A campus of 1,000,000 students with 100 MB "available": refused before anything is built.
    monkeypatch.setenv("GROUPSIM_MEMORY_LIMIT", str(100e6))
    big = tmp_path / "big.toml"
    big.write_text("[cohort]\nfaculties = 100\nstudents_per_faculty = 10000\n")
    out = tmp_path / "out"
    monkeypatch.setattr("sys.argv", ["groupsim", "run", str(big), "--out", str(out)])
    with pytest.raises(SystemExit) as info:
        main()
    captured = capsys.readouterr()
    assert info.value.code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    for words in (str(big), "cohort.students_per_faculty", "1,000,000 students", "GB of memory"):
        assert words in lines[0]
    assert not out.exists()


def test_exit_codes_pass_through_main(monkeypatch):
    # typer.Exit raised inside a command keeps its code (click returns it without standalone).
    import typer

    from groupsim.cli import app

    @app.command("exit-probe", hidden=True)
    def probe() -> None:
        raise typer.Exit(code=3)

    monkeypatch.setattr("sys.argv", ["groupsim", "exit-probe"])
    try:
        with pytest.raises(SystemExit) as info:
            main()
        assert info.value.code == 3
        monkeypatch.setattr("sys.argv", ["groupsim", "--help"])
        code = None
        try:
            main()  # success returns (the console script then exits 0)
        except SystemExit as done:
            code = done.code
        assert code in (0, None)
    finally:
        app.registered_commands[:] = [c for c in app.registered_commands if c.name != "exit-probe"]


def test_version_is_printed_and_exits_0(monkeypatch, capsys):
    from groupsim import __version__

    assert cli(["--version"], monkeypatch, capsys) == (0, f"groupsim {__version__}\n", "")


def test_scenarios_lists_the_builtins_with_technique_and_file():
    result = invoke("scenarios")
    assert result.exit_code == 0, result.output
    for name, technique in (
        ("home_room", "home_room"),
        ("standard_group", "standard"),
        ("no_intervention", "none"),
        ("campus_rollout", "home_room"),
        ("campus_control", "none"),
    ):
        line = next(line for line in result.output.splitlines() if line.startswith(f"│ {name} "))
        assert f" {technique} " in line
        assert f"{name}.toml" in line


def test_tables_keep_every_character_in_80_columns(small_file):
    """An 80-column terminal, or a pipe (rich gives it 80), shows every name and number.

    rich shortened a cell that did not fit to "…": `check` lost the parameter paths a user
    types in `--set`, `compare` the upper bounds of its intervals
    (`groupsim.cli.app.console_table`).
    """
    from groupsim.scenario import parameter_table

    checked = invoke("check", str(small_file), columns=80)
    ran = invoke("run", str(small_file), "--seed", "3", columns=80)
    listed = invoke("scenarios", columns=80)
    for result in (checked, ran, listed):
        assert result.exit_code == 0, result.output
        assert "…" not in result.output
        assert max(map(len, result.output.splitlines())) <= 80
    for row in parameter_table():  # a name a user types stays whole, on one line
        assert f"│ {row['path']} " in checked.output
    assert "│ campus_rollout " in listed.output


def test_run_and_check_take_a_builtin_name(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no scenarios/ folder here
    checked = invoke("check", "standard_group", "--set", "group.clients=6")
    assert checked.exit_code == 0, checked.output
    assert "standard_group: valid (standard_group)" in checked.output
    clients = next(line for line in checked.output.splitlines() if "group.clients" in line)
    assert "6 * (--set)" in clients
    small = [f"--set={path}={value}" for path, value in SMALL.items()]
    ran = invoke("run", "home_room", "--seed", "3", *small)
    assert ran.exit_code == 0, ran.output
    assert "home_room: home_room, 4 clients, seed 3" in ran.output


@pytest.mark.parametrize("command", ["run", "check", "power", "compare", "ui", "animate", "replay"])
def test_scenario_help_says_a_name_works_too(command):
    """Every command that takes a scenario takes a built-in's name too, and its help says so."""
    result = invoke(command, "--help")
    assert result.exit_code == 0
    arguments = " ".join(result.output.split("Arguments")[1].split("Options")[0].split())
    assert "built-in name" in arguments or "name of a built-in scenario" in arguments


@pytest.mark.parametrize("command", ["compare", "sweep", "calibrate", "ui"])
def test_help_shows_no_value_for_a_flag(command):
    """A flag (`--yes`, `--resume`, `--help`) shows no value in --help: it takes none.

    typer 0.29 writes `<bool>` after each, which reads as `--yes <bool>` (pyproject.toml pins
    typer below it); an option that takes a value keeps its type (`--reps <int>`).
    """
    result = invoke(command, "--help", columns=120)
    assert result.exit_code == 0
    flags = [line for line in result.output.splitlines() if "--help" in line]
    assert flags, result.output
    assert "<bool>" not in result.output
    assert "bool" not in " ".join(flags)
    assert re.search(r"--[a-z][a-z-]*\s+<(int|float|str|path)>", result.output), result.output


@pytest.mark.parametrize("command", ["power", "compare", "run", "sweep"])
def test_help_paragraphs_are_filled_to_the_terminal_width(command):
    """A command's description is reflowed at 80 columns, not broken where the source was.

    typer's "rich" markup kept the docstring's line breaks after the first paragraph, so a
    narrower terminal showed a full line, then a word alone, then the rest (`power`:
    "... with a" / "random" / "intercept per group ...").
    """
    result = invoke(command, "--help", columns=80)
    assert result.exit_code == 0
    description = result.output.split("Usage:")[1].split("╭")[0].splitlines()[1:]
    paragraphs = "\n".join(line.strip() for line in description).strip().split("\n\n")
    assert len(paragraphs) >= 2  # the first line, and at least one more paragraph
    for paragraph in paragraphs:
        lines = paragraph.splitlines()
        assert all(len(line) >= 60 for line in lines[:-1]), lines


def test_check_lists_the_practices_of_a_custom_technique(capsys, monkeypatch):
    """A `[technique]` table overrides single practices of its preset; check says which."""
    monkeypatch.setattr("sys.argv", ["groupsim", "check", "scenarios/home_room_formal_room.toml"])
    main()
    out = capsys.readouterr().out
    assert "home room without the home-like" in out
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") >= 3}
    assert "0 *" in rows["home_setting"]
    assert "[technique]" in rows["home_setting"]
    assert "'home_room' preset" in rows["family_tone"]
