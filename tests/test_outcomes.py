"""Per-run outcomes: time points, the OUTCOMES contract, per-client rows."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from conftest import HOME_ROOM, small_scenario
from groupsim import load_scenario, run
from groupsim.runs.outcomes import (
    OUTCOMES,
    TRACKED,
    client_outcomes,
    outcome_weeks,
    record_outcomes,
    run_outcomes,
    time_points,
)


@pytest.fixture(scope="module")
def control_result():
    return run(small_scenario("no_intervention"), seed=7)


def test_time_points_default_calendar():
    result = run(load_scenario(HOME_ROOM, {"cohort.students_per_faculty": 3}), seed=1)
    assert time_points(result) == {"pre": 2, "post": 6, "followup": 14}


def test_time_points_small_calendar(small_result):
    program = small_result.scenario.program
    points = time_points(small_result)
    assert points["pre"] == program.baseline_weeks
    assert points["post"] == program.baseline_weeks + small_result.scenario.program_weeks
    assert points["followup"] == small_result.scenario.total_weeks
    phases = small_result.weekly.set_index("week")["phase"]
    assert phases[points["pre"]] == "baseline"
    assert phases[points["post"]] == "program"
    assert phases[points["followup"]] == "followup"


def test_run_outcomes_returns_every_outcome_consistent_with_the_tables(small_result):
    out = run_outcomes(small_result)
    assert set(out) == set(OUTCOMES)
    weekly = small_result.weekly.set_index("week")
    for when, week in time_points(small_result).items():
        for short, column in TRACKED.items():
            assert out[f"{when}_{short}"] == weekly.loc[week, column]
    q = small_result.questionnaire
    assert out["questionnaire_pre"] == pytest.approx(q["pre"].mean())
    assert out["questionnaire_gain"] == pytest.approx(q["post"].mean() - q["pre"].mean())
    assert out["final_climate"] == small_result.sessions["climate"].iloc[-1]
    assert 0 <= out["mean_engagement"] <= 1
    assert out["all_disclosed_by_working"] in (0.0, 1.0)


def test_recording_only_the_outcome_weeks_gives_the_same_outcomes(small_result):
    scenario = small_result.scenario
    weeks = outcome_weeks(scenario)
    lean = run(scenario, seed=small_result.seed, record_weeks=weeks.values())
    assert list(lean.weekly["week"]) == sorted(set(weeks.values()))
    assert set(lean.students["week"]) == set(weeks.values())
    full, got = run_outcomes(small_result), run_outcomes(lean)
    assert list(got) == list(full)
    for name, value in full.items():
        assert got[name] == value or (math.isnan(got[name]) and math.isnan(value)), name


def test_student_rows_of_the_outcome_weeks_give_the_same_client_outcomes(small_result):
    scenario = small_result.scenario
    weeks = outcome_weeks(scenario)
    lean = run(scenario, seed=small_result.seed, student_weeks=weeks.values())
    assert set(lean.students["week"]) == set(weeks.values())
    assert len(lean.weekly) == len(small_result.weekly)
    pd.testing.assert_frame_equal(client_outcomes(lean), client_outcomes(small_result))
    with pytest.raises(ValueError, match="needs the student rows of weeks"):
        client_outcomes(run(scenario, seed=small_result.seed, student_weeks=[0]))


def test_run_outcomes_without_a_group(control_result):
    out = run_outcomes(control_result)
    assert math.isnan(out["final_climate"])
    assert math.isnan(out["mean_engagement"])
    assert math.isnan(out["all_disclosed_by_working"])
    assert out["post_disclosed_share"] == 0.0


def test_all_disclosed_by_working_reads_the_first_working_session(small_result):
    sessions = small_result.sessions
    first_working = sessions[sessions["stage"] == "working"].iloc[0]
    expected = float(first_working["clients_disclosed_share"] >= 1.0)
    assert run_outcomes(small_result)["all_disclosed_by_working"] == expected


def test_client_outcomes_a_row_per_client(small_result):
    frame = client_outcomes(small_result)
    assert list(frame["student_id"]) == list(small_result.questionnaire["student_id"])
    assert list(frame.columns) == [
        "student_id",
        "faculty",
        "baseline_anxiety",
        "baseline_sociability",
        "pre_social_interaction",
        "post_social_interaction",
        "followup_social_interaction",
    ]
    weekly = small_result.weekly.set_index("week")
    for when, week in time_points(small_result).items():
        mean = frame[f"{when}_social_interaction"].mean()
        assert mean == pytest.approx(weekly.loc[week, "clients_social_interaction"])
    assert (
        frame[["baseline_anxiety", "baseline_sociability"]]
        .apply(lambda c: c.between(0, 1))
        .all()
        .all()
    )


def test_client_outcomes_needs_the_students_table():
    lean = run(small_scenario(), seed=1, record_students=False)
    with pytest.raises(ValueError, match="students table"):
        client_outcomes(lean)


def test_session_outcomes_read_every_group():
    """With several groups the sessions table has a row per group per session; the outcomes
    must summarise all groups, not the first or last row."""
    scenario = small_scenario(program__groups=2, group__clients=4, cohort__students_per_faculty=8)
    result = run(scenario, seed=3, record_students=False, record_ties=False)
    sessions = result.sessions
    assert sorted(sessions["group"].unique()) == [0, 1]
    out = run_outcomes(result)
    last = sessions[sessions["session"] == sessions["session"].max()]
    assert len(last) == 2
    assert out["final_climate"] == pytest.approx(last["climate"].mean())
    working = sessions[sessions["stage"] == "working"]
    first = working[working["session"] == working["session"].min()]
    assert len(first) == 2
    expected = float((first["clients_disclosed_share"] >= 1.0).all())
    assert out["all_disclosed_by_working"] == expected
    # A group that has not opened up makes the run count as "not all disclosed".
    crafted = [
        {**row, "clients_disclosed_share": 1.0 if row["group"] == 0 else 0.5}
        for row in result.records.sessions
    ]
    records = dataclasses.replace(result.records, sessions=crafted)
    assert record_outcomes(records)["all_disclosed_by_working"] == 0.0
    opened = [{**row, "clients_disclosed_share": 1.0} for row in result.records.sessions]
    records = dataclasses.replace(result.records, sessions=opened)
    assert record_outcomes(records)["all_disclosed_by_working"] == 1.0


def outcomes_from_tables(result) -> dict[str, float]:
    """The outcomes computed the long way, with pandas from the run's tables (a reference)."""
    weekly = result.weekly.set_index("week")
    out: dict[str, float] = {}
    for when, week in time_points(result).items():
        for short, column in TRACKED.items():
            out[f"{when}_{short}"] = float(weekly.loc[week, column])
    q = result.questionnaire
    for when in ("pre", "post", "followup"):
        out[f"questionnaire_{when}"] = float(q[when].mean())
    out["questionnaire_gain"] = float((q["post"] - q["pre"]).mean())
    s = result.sessions
    last = s[s["session"] == s["session"].max()]
    out["final_climate"] = float(last["climate"].mean()) if len(s) else float("nan")
    out["mean_engagement"] = float(s["engagement"].mean()) if len(s) else float("nan")
    working = s[s["stage"] == "working"]
    first = working[working["session"] == working["session"].min()]
    out["all_disclosed_by_working"] = (
        float((first["clients_disclosed_share"] >= 1.0).all()) if len(working) else float("nan")
    )
    nan = float("nan")
    out["final_tension"] = float(last["tension"].mean()) if len(s) else nan
    out["all_disclosed"] = float((last["clients_disclosed_share"] >= 1.0).all()) if len(s) else nan
    held = result.scenario.program.sessions if result.scenario.holds_group else 0
    out["attendance"] = float((q["attended"] / held).mean()) if held else nan
    out["dropout_share"] = float(q["dropped_out"].mean())
    out["post_missing_share"] = float(q["post_missing"].mean())
    answered = q.loc[~q["post_missing"], "reliable_change"]
    for name, category in [
        ("improved_share", "improved"),
        ("no_change_share", "no reliable change"),
        ("deteriorated_share", "deteriorated"),
    ]:
        out[name] = float((answered == category).mean()) if len(answered) else nan
    return out


@pytest.mark.parametrize(
    ("name", "overrides"),
    [
        ("home_room", {}),
        ("no_intervention", {}),
        ("standard_group", {"program__groups": 2, "cohort__students_per_faculty": 8}),
        ("home_room", {"group__screening": "pretest", "program__baseline_weeks": 0}),
    ],
)
def test_outcomes_from_records_equal_the_tables_exactly(name, overrides):
    """One path computes outcomes, from the records; the tables say the same, bit for bit."""
    result = run(small_scenario(name, **overrides), seed=5, record_students=False)
    got = run_outcomes(result)
    expected = outcomes_from_tables(result)
    assert list(got) == list(expected)
    assert set(got) == set(OUTCOMES)
    for key, value in expected.items():
        assert got[key] == value or (np.isnan(got[key]) and np.isnan(value)), key


def test_tables_are_built_on_first_use_from_the_records(small_home_room):
    result = run(small_home_room, seed=2, record_ties=False)
    assert "weekly" not in vars(result)  # nothing built yet
    run_outcomes(result)
    assert not {"weekly", "sessions", "questionnaire"} & set(vars(result))
    weekly = result.weekly
    assert result.weekly is weekly  # built once
    assert len(weekly) == len(result.records.weekly["week"]) == small_home_room.total_weeks + 1
    pd.testing.assert_series_equal(
        result.questionnaire["pre"], pd.Series(result.records.answers("pre"), name="pre")
    )
