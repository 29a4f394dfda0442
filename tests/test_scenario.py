"""Scenario files and their validation: every bad input is one ScenarioError naming the file,
the field (dotted path) and what is allowed."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path

import pytest

from conftest import HOME_ROOM, ROOT, SCENARIOS, SHIPPED
from groupsim import Scenario, ScenarioError, flat_parameter_names, load_scenario
from groupsim.scenario import (
    SECTIONS,
    apply_overrides,
    dotted_path,
    parameter_table,
    parse_assignment,
    scenario_from_dict,
    scenario_to_toml,
)


def _regen_module():
    spec = importlib.util.spec_from_file_location(
        "regen_scenarios", ROOT / "tools" / "regen_scenarios.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write(tmp_path: Path, text: str, name: str = "bad.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _home_room_with(tmp_path: Path, section: str, line: str) -> Path:
    """home_room.toml with `line` added at the top of `[section]` (a duplicate key is replaced)."""
    key = line.split("=")[0].strip()
    text = HOME_ROOM.read_text(encoding="utf-8")
    lines = text.splitlines()
    start = lines.index(f"[{section}]")
    out = [*lines[: start + 1], line]
    for other in lines[start + 1 :]:
        if other.split("=")[0].strip() == key and not other.startswith("#"):
            continue
        out.append(other)
    return _write(tmp_path, "\n".join(out) + "\n")


def _raises(path, overrides=None) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    return info.value


def _names(error: ScenarioError, path: Path, field: str, *allowed: str) -> None:
    text = str(error)
    assert text.startswith(f"{path}: {field}: "), text
    assert error.source == str(path)
    assert error.field == field
    for word in allowed:
        assert word in error.allowed, text
    assert "\n" not in text


# Shipped files ------------------------------------------------------------------------------


ALL_FILES = sorted(path.stem for path in SCENARIOS.glob("*.toml"))


def test_the_three_arms_are_shipped():
    assert set(SHIPPED) <= set(ALL_FILES)


@pytest.mark.parametrize("name", ALL_FILES)
def test_every_shipped_scenario_loads(name):
    scenario = load_scenario(SCENARIOS / f"{name}.toml")
    assert scenario.name == name
    assert scenario.description


@pytest.mark.parametrize("name", SHIPPED)
def test_the_arms_are_the_seed_study(name):
    scenario = load_scenario(SCENARIOS / f"{name}.toml")
    assert scenario.group.clients == 9
    assert scenario.cohort.faculties == 9
    assert scenario.program.sessions == 8


def test_shipped_scenarios_differ_only_in_technique():
    loaded = {name: load_scenario(SCENARIOS / f"{name}.toml").to_dict() for name in SHIPPED}
    assert {d["counselor"]["technique"] for d in loaded.values()} == {
        "home_room",
        "standard",
        "none",
    }
    for data in loaded.values():
        for key in ("name", "description"):
            data.pop(key)
        data["counselor"].pop("technique")
    assert loaded["home_room"] == loaded["standard_group"] == loaded["no_intervention"]


@pytest.mark.parametrize("name", ALL_FILES)
def test_shipped_scenarios_equal_the_generator(name):
    regen = _regen_module()
    assert name in regen.SCENARIOS, f"scenarios/{name}.toml is not made by the generator"
    assert (SCENARIOS / f"{name}.toml").read_text(encoding="utf-8") == regen.render(name)


def test_the_generator_makes_only_shipped_files():
    assert set(_regen_module().SCENARIOS) == set(ALL_FILES)


@pytest.mark.parametrize("name", ALL_FILES)
def test_every_parameter_line_has_a_comment_with_a_unit(name):
    lines = (SCENARIOS / f"{name}.toml").read_text(encoding="utf-8").splitlines()
    in_section = False
    checked = 0
    for number, line in enumerate(lines):
        if line.startswith("["):
            in_section = True
            continue
        if not in_section or not line.strip() or line.startswith("#"):
            continue
        assert re.match(r"^\w+ = ", line), line
        comment = lines[number - 1]
        assert comment.startswith("# "), f"line {number + 1} lacks a comment: {line}"
        assert re.search(r"; unit: \S", comment), f"line {number + 1}: no unit in {comment!r}"
        checked += 1
    # program.weeks and the unset keys of the [technique] table are comments
    scenario = load_scenario(SCENARIOS / f"{name}.toml")
    technique_set = sum(
        getattr(scenario.technique, key) is not None for key in SECTIONS["technique"].model_fields
    )
    unset = 1 + len(SECTIONS["technique"].model_fields) - technique_set
    assert checked == sum(len(m.model_fields) for m in SECTIONS.values()) - unset


def test_parameter_table_gives_every_parameter_a_unit_and_meaning():
    rows = parameter_table()
    assert len(rows) == sum(len(m.model_fields) for m in SECTIONS.values())
    for row in rows:
        assert row["unit"], row["path"]
        assert row["meaning"], row["path"]
        if row["min"] is not None:
            assert row["min"] <= row["max"]
            if isinstance(row["default"], int | float) and row["default"] is not None:
                assert row["min"] <= row["default"] <= row["max"], row["path"]


def test_required_dotted_paths_exist():
    scenario = load_scenario(HOME_ROOM)
    assert scenario.group.clients == 9
    assert 0 <= scenario.counselor.warmth <= 1
    assert 0 <= scenario.counselor.facilitation <= 1
    assert scenario.program.sessions == 8
    assert scenario.program.sessions_per_week == 2


# Overrides ----------------------------------------------------------------------------------


def test_overrides_apply_and_are_validated():
    scenario = load_scenario(HOME_ROOM, {"counselor.warmth": 0.2, "program.sessions": 12})
    assert scenario.counselor.warmth == 0.2
    assert scenario.program.sessions == 12
    assert scenario.program_weeks == 6
    assert load_scenario(HOME_ROOM).counselor.warmth == 0.85  # the file is untouched
    assert load_scenario(HOME_ROOM, {"name": "x"}).name == "x"
    # An int for a float parameter is fine (TOML `warmth = 1`).
    assert load_scenario(HOME_ROOM, {"counselor.warmth": 1}).counselor.warmth == 1.0


@pytest.mark.parametrize("clients", range(4, 13))
def test_group_sizes_4_to_12_are_valid_with_the_default_cohort(clients):
    assert load_scenario(HOME_ROOM, {"group.clients": clients}).group.clients == clients


@pytest.mark.parametrize("sessions", range(2, 17))
def test_sessions_2_to_16_are_valid_with_the_default_cohort(sessions):
    scenario = load_scenario(HOME_ROOM, {"program.sessions": sessions})
    assert scenario.program.sessions == sessions
    assert scenario.program_weeks * scenario.program.sessions_per_week >= sessions


def test_apply_overrides_copies_and_rejects_unknown_paths():
    data = load_scenario(HOME_ROOM).to_dict()
    new = apply_overrides(data, {"counselor.warmth": 0.1}, "src")
    assert new["counselor"]["warmth"] == 0.1
    assert data["counselor"]["warmth"] == 0.85
    with pytest.raises(ScenarioError, match=r"^src: counselor\.nope: unknown parameter"):
        apply_overrides(data, {"counselor.nope": 1}, "src")
    with pytest.raises(ScenarioError, match=r"^src: nosection\.x: unknown parameter path"):
        apply_overrides(data, {"nosection.x": 1}, "src")
    with pytest.raises(ScenarioError, match=r"^src: a\.b\.c: "):
        apply_overrides(data, {"a.b.c": 1}, "src")


def test_unknown_set_path_names_the_path_and_the_allowed_keys():
    error = _raises(HOME_ROOM, {"counselor.temperature": 0.5})
    _names(error, HOME_ROOM, "counselor.temperature", "warmth", "facilitation")
    error = _raises(HOME_ROOM, {"therapist.warmth": 0.5})
    _names(error, HOME_ROOM, "therapist.warmth", "counselor", "cohort")


def test_parse_assignment_reads_toml_values():
    assert parse_assignment("counselor.warmth=0.5") == ("counselor.warmth", 0.5)
    assert parse_assignment("program.sessions = 12") == ("program.sessions", 12)
    assert parse_assignment("counselor.technique=standard") == ("counselor.technique", "standard")
    assert parse_assignment('name="x y"') == ("name", "x y")
    with pytest.raises(ScenarioError, match="key=value"):
        parse_assignment("counselor.warmth")


def test_flat_names_map_to_dotted_paths():
    names = flat_parameter_names()
    assert names["counselor_warmth"] == "counselor.warmth"
    assert names["group_clients"] == "group.clients"
    assert names["climate_campus"] == "climate.campus"
    for flat, dotted in names.items():
        assert dotted_path(flat) == dotted
    with pytest.raises(KeyError):
        dotted_path("counselor_temperature")


# Round trip -----------------------------------------------------------------------------------


def test_scenario_to_toml_round_trips():
    scenario = load_scenario(
        HOME_ROOM,
        {
            "program.weeks": 6,
            "description": 'two\nlines, a "quote", a back\\slash and a\ttab \x01',
            "cohort.faculty_names": [f"F{i}\n" for i in range(9)],
        },
    )
    text = scenario_to_toml(scenario)
    assert scenario_from_dict(tomllib.loads(text)) == scenario
    assert (
        scenario_from_dict(tomllib.loads(scenario_to_toml(scenario, commented=False))) == scenario
    )


def test_defaults_validate_and_total_weeks():
    scenario = Scenario()
    assert scenario.program_weeks == 4
    assert scenario.total_weeks == 2 + 4 + 8


# Bad files ----------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    _names(_raises(path), path, "(file)", "no such file")


def test_folder_instead_of_file(tmp_path):
    _names(_raises(tmp_path), tmp_path, "(file)", "folder")


def test_toml_syntax_error(tmp_path):
    path = _write(tmp_path, 'name = "x"\n[counselor\nwarmth = 0.5\n')
    _names(_raises(path), path, "(syntax)", "not valid TOML", "line 2")


def test_not_utf8(tmp_path):
    path = tmp_path / "latin.toml"
    path.write_bytes(b'name = "caf\xe9"\n')
    _names(_raises(path), path, "(file)", "UTF-8")


def test_unknown_top_level_key(tmp_path):
    path = _write(tmp_path, 'colour = "blue"\n' + HOME_ROOM.read_text(encoding="utf-8"))
    _names(_raises(path), path, "colour", "unknown key", "counselor", "program")


def test_unknown_section_key(tmp_path):
    path = _home_room_with(tmp_path, "counselor", "temperature = 0.5")
    _names(_raises(path), path, "counselor.temperature", "unknown key", "warmth", "facilitation")


def test_section_that_is_not_a_table(tmp_path):
    path = _write(tmp_path, "counselor = 3\n")
    _names(_raises(path), path, "counselor", "table")


@pytest.mark.parametrize(
    ("section", "line", "field", "allowed"),
    [
        ("counselor", 'warmth = "high"', "counselor.warmth", "must be a number"),
        ("counselor", "warmth = true", "counselor.warmth", "must be a number"),
        ("program", "sessions = 8.0", "program.sessions", "whole number"),
        ("program", 'sessions = "8"', "program.sessions", "whole number"),
        ("cohort", "faculties = 9.5", "cohort.faculties", "whole number"),
        ("counselor", 'technique = "homeroom"', "counselor.technique", "home_room"),
        ("cohort", 'faculty_names = "Law"', "cohort.faculty_names", "list"),
    ],
)
def test_wrong_types(tmp_path, section, line, field, allowed):
    path = _home_room_with(tmp_path, section, line)
    _names(_raises(path), path, field, allowed)


@pytest.mark.parametrize(
    ("section", "line", "field", "allowed"),
    [
        ("counselor", "warmth = 1.5", "counselor.warmth", "between 0 and 1"),
        ("counselor", "facilitation = -0.1", "counselor.facilitation", "between 0 and 1"),
        ("program", "sessions_per_week = 8", "program.sessions_per_week", "between 1 and 7"),
        ("attitude", "convergence = 0.6", "attitude.convergence", "between 0 and 0.5"),
        ("decay", "tie_floor = 0.0", "decay.tie_floor", "between 0.001 and 0.5"),
        ("engagement", "intercept = -25.0", "engagement.intercept", "between -20 and 20"),
    ],
)
def test_out_of_range(tmp_path, section, line, field, allowed):
    path = _home_room_with(tmp_path, section, line)
    _names(_raises(path), path, field, allowed, "got")


@pytest.mark.parametrize(
    ("section", "line", "field"),
    [
        ("counselor", "warmth = nan", "counselor.warmth"),
        ("counselor", "warmth = inf", "counselor.warmth"),
        ("exchange", "intercept = -inf", "exchange.intercept"),
        ("campus", "contacts_per_week = -nan", "campus.contacts_per_week"),
    ],
)
def test_nan_and_inf(tmp_path, section, line, field):
    path = _home_room_with(tmp_path, section, line)
    _names(_raises(path), path, field, "finite")


@pytest.mark.parametrize(
    ("section", "line", "field"),
    [
        ("cohort", "faculties = 0", "cohort.faculties"),
        ("cohort", "students_per_faculty = 0", "cohort.students_per_faculty"),
        ("group", "clients = 0", "group.clients"),
        ("group", "clients = -3", "group.clients"),
        ("group", "turn_minutes = 0", "group.turn_minutes"),
        ("program", "sessions = 0", "program.sessions"),
        ("program", "sessions_per_week = 0", "program.sessions_per_week"),
        ("program", "weeks = 0", "program.weeks"),
    ],
)
def test_non_positive_counts(tmp_path, section, line, field):
    path = _home_room_with(tmp_path, section, line)
    _names(_raises(path), path, field, "between")


def test_more_clients_than_students():
    overrides = {"cohort.faculties": 2, "cohort.students_per_faculty": 3, "group.clients": 7}
    _names(_raises(HOME_ROOM, overrides), HOME_ROOM, "group.clients", "at most", "6 students")
    # Exactly the cohort is allowed.
    assert load_scenario(HOME_ROOM, {**overrides, "group.clients": 6}).group.clients == 6


def test_more_sessions_than_program_weeks_allow():
    overrides = {"program.weeks": 3, "program.sessions_per_week": 2, "program.sessions": 7}
    _names(_raises(HOME_ROOM, overrides), HOME_ROOM, "program.sessions", "at most 6")
    assert load_scenario(HOME_ROOM, {**overrides, "program.sessions": 6}).program_weeks == 3


def test_faculty_names_of_wrong_length():
    error = _raises(HOME_ROOM, {"cohort.faculty_names": ["Law", "Medicine"]})
    _names(error, HOME_ROOM, "cohort.faculty_names", "one name per faculty (9)", "got 2")
    names = [f"F{i}" for i in range(9)]
    assert load_scenario(HOME_ROOM, {"cohort.faculty_names": names}).cohort.faculty_names == names


@pytest.mark.parametrize(
    ("overrides", "field", "allowed"),
    [
        ({"disclosure.openness_weight": 0.5}, "disclosure", "sum to 1"),
        ({"resolve.calm_weight": 0.3}, "resolve", "sum to 1"),
        ({"campus.same_faculty": 0.5}, "campus", "at most 1"),
    ],
)
def test_weights_that_do_not_add_up(overrides, field, allowed):
    _names(_raises(HOME_ROOM, overrides), HOME_ROOM, field, allowed)


def test_wrong_type_through_overrides_names_the_file_and_field():
    error = _raises(HOME_ROOM, {"program.sessions": 12.0})
    _names(error, HOME_ROOM, "program.sessions", "whole number")
    error = _raises(HOME_ROOM, {"counselor.warmth": float("nan")})
    _names(error, HOME_ROOM, "counselor.warmth", "finite")


def test_scenario_from_dict_names_its_source():
    with pytest.raises(ScenarioError, match=r"^mine: counselor\.warmth: must be between"):
        scenario_from_dict({"counselor": {"warmth": 2.0}}, "mine")


def test_scenario_is_frozen():
    scenario = load_scenario(HOME_ROOM)
    with pytest.raises(ValueError, match="Instance is frozen"):
        scenario.counselor.warmth = 0.1  # type: ignore[misc]


def test_a_posterior_rounds_whole_number_parameters_and_keeps_others():
    """ABC perturbs every parameter continuously: `program.sessions` takes the nearest count."""
    import pandas as pd

    from groupsim.scenario.posterior import Posterior

    frame = pd.DataFrame({"program.sessions": [7.6], "counselor.warmth": [0.55], "weight": [1.0]})
    posterior = Posterior.from_frame(frame, "test")
    applied = posterior.apply(load_scenario("home_room"), posterior.draw(0))
    assert applied.program.sessions == 8
    assert applied.counselor.warmth == 0.55
