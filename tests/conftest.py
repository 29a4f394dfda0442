"""Shared fixtures: paths, small scenarios (fast runs) and a cached small run."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from groupsim import Scenario, load_scenario, run
from groupsim.runs.runner import RunResult

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
HOME_ROOM = SCENARIOS / "home_room.toml"
SHIPPED = ("home_room", "standard_group", "no_intervention")
#: The project's interpreter: subprocess tests run the installed package with it.
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable

#: A small cohort and short calendar: a run takes a few hundredths of a second, for tests
#: that are about behaviour, not calibration.
SMALL = {
    "cohort.faculties": 4,
    "cohort.students_per_faculty": 6,
    "cohort.burn_in_weeks": 4,
    "group.clients": 4,
    "program.sessions": 6,
    "program.baseline_weeks": 1,
    "program.followup_weeks": 2,
}


def small_scenario(name: str = "home_room", **overrides: Any) -> Scenario:
    """A shipped scenario shrunk to the SMALL cohort; extra overrides as keyword `section__key`."""
    extra = {key.replace("__", "."): value for key, value in overrides.items()}
    return load_scenario(SCENARIOS / f"{name}.toml", {**SMALL, **extra})


@pytest.fixture(scope="session")
def small_home_room() -> Scenario:
    return small_scenario()


@pytest.fixture
def burn_ins(monkeypatch: pytest.MonkeyPatch) -> list[None]:
    """A list that gains an entry each time a model settles its cohort (`HomeRoomModel.burn_in`).

    Runs that start from another run's settled cohort (`groupsim.model.settled`) add none.
    """
    from groupsim.model.model import HomeRoomModel

    counted: list[None] = []
    settle = HomeRoomModel.burn_in
    monkeypatch.setattr(HomeRoomModel, "burn_in", lambda model: counted.append(settle(model)))
    return counted


@pytest.fixture(scope="session")
def small_result(small_home_room: Scenario) -> RunResult:
    """One small home-room run, shared read-only by tests that only inspect its tables."""
    return run(small_home_room, seed=7)


def cli(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys) -> tuple[int, str, str]:
    """Run `groupsim ARGS` in this process: (exit status, stdout, stderr)."""
    from groupsim.cli import main

    monkeypatch.setattr(sys, "argv", ["groupsim", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def one_line_refusal(code: int, err: str, *words: str) -> None:
    """Exit 2, one `groupsim: error:` line on stderr, no traceback, naming each of `words`."""
    assert code == 2, err
    assert err.startswith("groupsim: error: "), err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    for word in words:
        assert word in err, (word, err)
