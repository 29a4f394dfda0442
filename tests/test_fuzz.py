"""Issue 13: fuzzing inputs. Every input gives exit 0, or exit 2 with one line, no traceback.

Generated scenario files (random TOML-ish text, and one value of a valid scenario replaced by
a random one), sweep files, and option lists for `run`, `check`, `compare`, `power` and
`sweep`, run through `groupsim.cli.main` in this process. Runs use a tiny cohort; the studies
(`compare`, `power`, `sweep`) are stopped where their runs would start (`Accepted`), since
what is fuzzed here is how input is read and checked. About 30 s in all.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groupsim.cli import main

ROOT = Path(__file__).resolve().parents[1]
HOME_ROOM = ROOT / "scenarios" / "home_room.toml"
CONTROL = ROOT / "scenarios" / "standard_group.toml"
TINY = [
    "cohort.faculties=2",
    "cohort.students_per_faculty=5",
    "cohort.burn_in_weeks=2",
    "group.clients=3",
]
FUZZ = settings(
    deadline=5000,  # ms per example: a tiny run or a refusal takes far less
    max_examples=100,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


class Accepted(Exception):
    """Raised in place of a study's runs: the command accepted its input."""


def _accept(*_args: object, **_kwargs: object) -> None:
    raise Accepted


@pytest.fixture(autouse=True)
def no_study_runs(monkeypatch):
    """Stop `compare`, `power` and `sweep` where their runs would start."""
    monkeypatch.setattr("groupsim.study.compare.compare", _accept)
    monkeypatch.setattr("groupsim.study.power.power", _accept)
    monkeypatch.setattr("groupsim.sweep.run.run_sweep", _accept)


def run_cli(args: list[str], capsys) -> tuple[int, str]:
    """Run `groupsim ARGS` in this process: (exit status, stderr)."""
    saved = sys.argv
    sys.argv = ["groupsim", *args]
    try:
        main()
        code = 0
    except Accepted:
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = saved
    return code, capsys.readouterr().err


def assert_clean(args: list[str], capsys) -> None:
    """Exit 0, or exit 2 with exactly one line on stderr; never a traceback."""
    code, err = run_cli(args, capsys)
    assert "Traceback" not in err, (args, err)
    assert code in (0, 2), (args, code, err)
    if code == 2:
        assert err.startswith("groupsim: error: "), (args, err)
        assert err.count("\n") == 1, (args, err)


def write(folder: Path, text: str | bytes, name: str = "f.toml") -> Path:
    """`text` as the file `folder/name` (each example overwrites the last one's)."""
    path = folder / name
    if isinstance(text, str):
        path.write_text(text, errors="surrogatepass")
    else:
        path.write_bytes(text)
    return path


# ------------------------------------------------------------------------ values


def _toml_float(x: float) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(x)


SCALAR = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.integers(-3, 30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(_toml_float),
    st.floats(-2, 2).map(_toml_float),
    st.booleans().map(lambda b: str(b).lower()),
    st.text(max_size=12).map(json.dumps),
    st.sampled_from(['"home_room"', '"standard"', '""', "1979-05-27", '"a/b"', '"$x$"']),
)
VALUE = st.one_of(
    SCALAR,
    st.lists(SCALAR, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
    st.dictionaries(st.sampled_from(["a", "b", "c"]), SCALAR, max_size=2).map(
        lambda d: "{" + ", ".join(f"{k} = {v}" for k, v in d.items()) + "}"
    ),
    st.text(max_size=10),  # not TOML at all
)
TOKEN = st.sampled_from(["[", "]", "=", '"', "'", "#", "\n", ".", "{", "}", ",", "[[", "\ufeff"])
TOMLISH = st.lists(
    st.one_of(
        TOKEN,
        st.text(max_size=8),
        st.sampled_from(["cohort", "group", "faculties", "name", "[cohort]", "x = 1"]),
        VALUE,
    ),
    max_size=30,
).map("".join)


def mutated(text: str, data: st.DataObject) -> str:
    """`text` with one `key = value` line's value (or key) replaced by a generated one."""
    lines = text.splitlines()
    keyed = [i for i, line in enumerate(lines) if " = " in line and not line.startswith("#")]
    index = data.draw(st.sampled_from(keyed))
    key, _ = lines[index].split(" = ", 1)
    if data.draw(st.booleans()):
        lines[index] = f"{key} = {data.draw(VALUE)}"
    else:
        lines[index] = f"{data.draw(st.text(min_size=1, max_size=8))} = 1"
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- scenario files


@FUZZ
@given(text=st.one_of(TOMLISH, st.binary(max_size=200)))
def test_random_scenario_text(text, capsys, tmp_path):
    assert_clean(["check", str(write(tmp_path, text))], capsys)


@FUZZ
@given(data=st.data())
def test_a_valid_scenario_with_one_value_changed(data, capsys, tmp_path):
    path = write(tmp_path, mutated(HOME_ROOM.read_text(), data))
    assert_clean(["check", str(path)], capsys)
    sets = [arg for item in TINY for arg in ("--set", item)]
    assert_clean(["run", str(path), *sets, "--set", "program.followup_weeks=1"], capsys)


# ------------------------------------------------------------------- sweep files

SWEEP = f"""[sweep]
scenario = "{HOME_ROOM}"
design = "grid"
replications = 2
seed = 3
outcomes = ["post_social_interaction", "final_climate"]

[set]
"cohort.faculties" = 2
"cohort.students_per_faculty" = 5

[parameters]
"counselor.warmth" = [0.3, 0.9]
"program.sessions" = [2, 4]
"""


@FUZZ
@given(data=st.data())
def test_sweep_files(data, capsys, tmp_path):
    kind = data.draw(st.sampled_from(["mutated", "mutated", "tomlish"]))
    text = mutated(SWEEP, data) if kind == "mutated" else data.draw(TOMLISH)
    out = tmp_path / f"out{data.draw(st.integers(0, 10**6))}"
    assert_clean(["sweep", str(write(tmp_path, text)), "--out", str(out), "--workers", "1"], capsys)


# ------------------------------------------------------------------ option lists

NUMBER = st.one_of(
    st.sampled_from(["1", "2", "3", "0.05", "7"]),  # values a command takes
    st.sampled_from(["1", "2", "0.5", "10"]),
    st.sampled_from(["0", "1", "2", "-1", "nan", "inf", "-inf", "1e400", "abc", "", "3.5"]),
    st.integers(-(10**15), 10**15).map(str),
)
OPTIONS = {
    "--seed": NUMBER,
    "--set": st.one_of(
        st.sampled_from(TINY),
        st.builds("{}={}".format, st.sampled_from(["counselor.warmth", "x", "cohort", ""]), VALUE),
        st.text(max_size=10),
    ),
    "--reps": NUMBER,
    "--groups": st.one_of(NUMBER, st.sampled_from(["2,3", "2-6", "1,,2", "99999999999999"])),
    "--alpha": NUMBER,
    "--workers": st.sampled_from(["1", "0", "-2", "x", "1.5"]),
    "--dask-local": st.sampled_from(["0", "-1", "x"]),
    "--connect-timeout": NUMBER,
    "--chunk-size": NUMBER,
    "--out": st.sampled_from(["", ".", "..", "out", "out/sub", "/dev/null", "\x00"]),
    "--yes": st.none(),
    "--resume": st.none(),
    "--bogus": st.none(),
}
STUDY = ["--seed", "--workers", "--set", "--dask-local", "--connect-timeout", "--yes", "--out"]
#: Each command's options (and a few it does not have), and the arguments it needs.
COMMANDS = {
    "run": (["--seed", "--set", "--out"], [str(HOME_ROOM)]),
    "check": (["--set"], [str(HOME_ROOM)]),
    "compare": (["--reps", *STUDY], [str(HOME_ROOM), str(CONTROL), "--out", "o", "--reps", "2"]),
    "power": (
        ["--groups", "--reps", "--alpha", *STUDY],
        [str(HOME_ROOM), str(CONTROL), "--out", "o"],
    ),
    "sweep": (
        ["--workers", "--dask-local", "--resume", "--chunk-size", "--connect-timeout", "--yes"],
        ["SWEEP", "--out", "o"],
    ),
}


@FUZZ
@given(data=st.data())
def test_option_lists(data, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    command = data.draw(st.sampled_from(sorted(COMMANDS)))
    options, needed = COMMANDS[command]
    needed = [str(write(tmp_path, SWEEP)) if arg == "SWEEP" else arg for arg in needed]
    if data.draw(st.integers(0, 9)) == 0:  # now and then an argument goes missing
        del needed[data.draw(st.integers(0, len(needed) - 1))]
    args = [command, *needed]
    if data.draw(st.integers(0, 19)) == 0:
        options = [*options, "--bogus"]
    for option in data.draw(st.lists(st.sampled_from(options), max_size=5)):
        value = data.draw(OPTIONS[option])
        args += [option] if value is None else [option, value]
    if command == "run":  # a real run: keep it tiny
        args += [arg for item in TINY for arg in ("--set", item)]
    assert_clean(args, capsys)


@pytest.mark.parametrize(
    "args",
    [
        ["compare", "home_room", "no_intervention", "--reps", "2", "--out", "\x00"],
        ["sweep", "x.toml", "--out", "out\x00"],
        ["run", "home\x00room"],
    ],
)
def test_an_argument_with_a_nul_byte_is_one_line(args, capsys, tmp_path, monkeypatch):
    """A NUL byte in a path or value: one line and exit 2 (the parser's path check raised)."""
    monkeypatch.chdir(tmp_path)
    code, err = run_cli(args, capsys)
    assert code == 2
    assert err.startswith("groupsim: error: argument "), err
    assert "NUL byte" in err, err
    assert err.count("\n") == 1
