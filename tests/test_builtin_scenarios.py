"""Built-in scenarios: shipped inside the package, equal to the repository's scenarios/, loaded
by name from any working directory, and present in a built wheel."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, SCENARIOS
from groupsim import ScenarioError, load_scenario
from groupsim.scenario import builtin_names, builtin_scenarios, is_scenario_name
from groupsim.scenario.shipped import builtin_location, builtin_text

BUILTIN = ROOT / "src" / "groupsim" / "scenario" / "builtin"
EXPECTED = (
    "campus_control",
    "campus_rollout",
    "home_room",
    "home_room_formal_room",
    "no_intervention",
    "standard_group",
)


def _regen_module():
    spec = importlib.util.spec_from_file_location(
        "regen_scenarios", ROOT / "tools" / "regen_scenarios.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_builtins_are_the_five_shipped_scenarios():
    assert builtin_names() == EXPECTED
    assert sorted(path.stem for path in BUILTIN.glob("*.toml")) == list(EXPECTED)


@pytest.mark.parametrize("name", EXPECTED)
def test_builtin_copy_equals_the_repository_copy_and_the_generator(name):
    repository = (SCENARIOS / f"{name}.toml").read_text(encoding="utf-8")
    assert builtin_text(name) == repository
    assert builtin_text(name) == _regen_module().render(name)


def test_the_generator_writes_both_folders():
    folders = _regen_module().FOLDERS
    assert SCENARIOS in folders
    assert BUILTIN in folders


@pytest.mark.parametrize("name", EXPECTED)
def test_a_name_loads_the_same_scenario_as_the_file(name):
    assert load_scenario(name) == load_scenario(SCENARIOS / f"{name}.toml")
    assert load_scenario(Path(name)) == load_scenario(name)


def test_a_name_takes_overrides_and_names_itself_in_errors():
    assert load_scenario("home_room", {"counselor.warmth": 0.2}).counselor.warmth == 0.2
    with pytest.raises(ScenarioError) as caught:
        load_scenario("home_room", {"counselor.warmth": 3.0})
    assert str(caught.value).startswith("home_room (built-in): counselor.warmth: must be between")


def test_an_unknown_name_is_one_line_naming_the_builtins():
    with pytest.raises(ScenarioError) as caught:
        load_scenario("home_rom")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("home_rom: (file): no such file or built-in scenario")
    for name in EXPECTED:
        assert name in message


@pytest.mark.parametrize(
    ("text", "is_name"),
    [
        ("home_room", True),
        ("home_room.toml", False),
        ("scenarios/home_room", False),
        ("./home_room", False),
        ("a\\b", False),
        ("", False),
    ],
)
def test_what_counts_as_a_bare_name(text, is_name):
    assert is_scenario_name(text) is is_name


def test_an_existing_file_wins_over_a_builtin(tmp_path, monkeypatch):
    text = (SCENARIOS / "home_room.toml").read_text(encoding="utf-8")
    (tmp_path / "home_room").write_text(text.replace("warmth = ", "warmth = 0.25 #", 1))
    monkeypatch.chdir(tmp_path)
    assert not is_scenario_name("home_room")
    assert load_scenario("home_room").counselor.warmth == 0.25
    assert load_scenario("standard_group").counselor.technique == "standard"


def test_the_listing_names_technique_summary_and_file():
    rows = {row.name: row for row in builtin_scenarios()}
    assert tuple(rows) == EXPECTED
    assert rows["standard_group"].technique == "standard"
    assert rows["no_intervention"].technique == "none"
    assert rows["home_room"].summary == "Group counseling with the home room technique"
    for name, row in rows.items():
        assert "\n" not in row.summary
        assert row.location == builtin_location(name)
        assert Path(row.location).read_text(encoding="utf-8") == builtin_text(name)


def _python_elsewhere(code: str, cwd: Path, path: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": path}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_importlib_resources_finds_the_files_from_another_folder(tmp_path):
    code = (
        "import groupsim; from groupsim import load_scenario; "
        "print(groupsim.__file__); print(load_scenario('no_intervention').counselor.technique)"
    )
    done = _python_elsewhere(code, tmp_path, str(ROOT / "src"))
    assert done.returncode == 0, done.stderr
    where, technique = done.stdout.split()
    assert Path(where).is_relative_to(ROOT / "src")
    assert technique == "none"


def _copy_project(target: Path) -> None:
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, target / name)
    shutil.copytree(
        ROOT / "src", target / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )


@pytest.mark.skipif(
    importlib.util.find_spec("setuptools") is None, reason="setuptools builds the wheel"
)
def test_an_installed_wheel_ships_and_loads_the_builtins(tmp_path):
    project, wheels, site = tmp_path / "project", tmp_path / "wheels", tmp_path / "site"
    project.mkdir()
    _copy_project(project)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "-q"]
    build = [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(wheels)]
    subprocess.run([*build, str(project)], check=True, capture_output=True, timeout=300)
    (wheel,) = wheels.glob("groupsim-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {n for n in archive.namelist() if n.startswith("groupsim/scenario/builtin/")}
    assert shipped == {f"groupsim/scenario/builtin/{name}.toml" for name in EXPECTED}

    install = [*pip, "install", "--no-deps", "--no-index", "--target", str(site), str(wheel)]
    subprocess.run(install, check=True, capture_output=True, timeout=300)
    code = (
        "import groupsim; from groupsim.scenario import builtin_scenarios; "
        "print(groupsim.__file__, groupsim.__version__); "
        "print(*(row.name for row in builtin_scenarios()))"
    )
    done = _python_elsewhere(code, tmp_path, str(site))
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()
    where, version = first.split()
    assert Path(where).is_relative_to(site)
    assert version == load_version()
    assert tuple(second.split()) == EXPECTED


def load_version() -> str:
    from groupsim._version import __version__

    return __version__


def test_the_cli_runs_and_checks_a_builtin_from_another_folder(tmp_path):
    env_path = str(ROOT / "src")
    check = "from groupsim.cli import main; import sys; sys.argv = {argv!r}; main()"
    done = _python_elsewhere(
        check.format(argv=["groupsim", "check", "standard_group"]), tmp_path, env_path
    )
    assert done.returncode == 0, done.stderr
    assert "valid (standard_group)" in done.stdout
    listing = _python_elsewhere(check.format(argv=["groupsim", "scenarios"]), tmp_path, env_path)
    assert listing.returncode == 0, listing.stderr
    for name in EXPECTED:
        assert name in listing.stdout
    unknown = _python_elsewhere(check.format(argv=["groupsim", "run", "nope"]), tmp_path, env_path)
    assert unknown.returncode == 2
    assert unknown.stderr.count("\n") == 1
    assert "built-ins: campus_control" in unknown.stderr
