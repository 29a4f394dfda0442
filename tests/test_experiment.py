"""`groupsim.compare` and `groupsim compare`: common random numbers, workers, effects, bad input."""

from __future__ import annotations

import os
import subprocess

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from conftest import PYTHON, ROOT, SCENARIOS, SMALL
from groupsim import Comparison, compare, load_scenario
from groupsim.runs.execute import replication_seeds
from groupsim.study.compare import EFFECT_OUTCOMES, MismatchedControlWarning, parameter_differences

REPS = 4
PAIR = [SCENARIOS / "no_intervention.toml", SCENARIOS / "home_room.toml"]


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    return compare(PAIR, REPS, seed=3, workers=1, overrides=SMALL, label=None)


def test_tables_hold_every_run(comparison):
    weeks = comparison.results["week"].nunique()
    assert len(comparison.results) == 2 * REPS * weeks
    assert list(comparison.results.columns[:3]) == ["scenario", "replication", "seed"]
    assert len(comparison.outcomes) == 2 * REPS
    assert set(comparison.outcomes["scenario"]) == {"no_intervention", "home_room"}
    clients = SMALL["group.clients"]
    assert len(comparison.clients) == 2 * REPS * clients
    assert comparison.reference == "no_intervention"


def test_replication_r_of_every_scenario_uses_the_same_seed(comparison):
    seeds = comparison.outcomes.pivot(index="replication", columns="scenario", values="seed")
    assert (seeds["home_room"] == seeds["no_intervention"]).all()
    assert list(seeds["home_room"]) == replication_seeds(3, REPS)


def test_common_random_numbers_start_from_the_identical_population(comparison):
    for replication in range(REPS):
        control = comparison.rerun("no_intervention", replication)
        treated = comparison.rerun("home_room", replication)
        pd.testing.assert_frame_equal(
            control.students[control.students["week"] == 0],
            treated.students[treated.students["week"] == 0],
        )
        pd.testing.assert_frame_equal(
            control.ties[control.ties["week"] == 0], treated.ties[treated.ties["week"] == 0]
        )
        # The rerun is the run the comparison summarised.
        row = comparison.outcomes.query(f"scenario == 'home_room' and replication == {replication}")
        assert row["post_social_interaction"].iloc[0] == pytest.approx(
            treated.weekly.set_index("week").loc[
                SMALL["program.baseline_weeks"] + treated.scenario.program_weeks,
                "clients_social_interaction",
            ]
        )
    # Same screened clients in every arm.
    ids = comparison.clients.groupby("scenario")["student_id"].apply(list)
    assert ids["home_room"] == ids["no_intervention"]
    # Different replications are different populations.
    first = comparison.rerun("no_intervention", 0).students
    second = comparison.rerun("no_intervention", 1).students
    assert not first[first["week"] == 0].equals(second[second["week"] == 0])


def test_one_and_two_workers_give_identical_results(comparison):
    parallel = compare(PAIR, REPS, seed=3, workers=2, overrides=SMALL, label=None)
    pd.testing.assert_frame_equal(comparison.results, parallel.results)
    pd.testing.assert_frame_equal(comparison.outcomes, parallel.outcomes)
    pd.testing.assert_frame_equal(comparison.effects, parallel.effects)


def test_effects_table(comparison):
    effects = comparison.effects
    assert len(effects) == 2 * len(EFFECT_OUTCOMES)
    reference = effects[effects["scenario"] == "no_intervention"]
    assert reference["difference"].isna().all()
    assert reference["p_value"].isna().all()
    row = effects.query("outcome == 'post_social_interaction' and scenario == 'home_room'").iloc[0]
    table = comparison.outcomes.pivot(
        index="replication", columns="scenario", values="post_social_interaction"
    )
    differences = table["home_room"] - table["no_intervention"]
    assert row["difference"] == pytest.approx(differences.mean())
    assert row["difference_low"] <= row["difference"] <= row["difference_high"]
    assert row["mean"] == pytest.approx(table["home_room"].mean())
    assert row["mean_low"] < row["mean"] < row["mean_high"]
    expected_p = sps.ttest_rel(table["home_room"], table["no_intervention"]).pvalue
    assert row["p_value"] == pytest.approx(expected_p)
    assert row["difference"] > 0
    assert row["hedges_g"] > 0
    assert row["g_low"] < row["hedges_g"]


def test_effects_are_reproducible_from_the_seed(comparison):
    again = compare(PAIR, REPS, seed=3, workers=1, overrides=SMALL, label=None)
    pd.testing.assert_frame_equal(comparison.effects, again.effects)


def test_scenario_objects_and_paths_give_the_same_comparison(comparison):
    objects = [load_scenario(path, SMALL) for path in PAIR]
    from_objects = compare(objects, REPS, seed=3, workers=1, label=None)
    pd.testing.assert_frame_equal(comparison.outcomes, from_objects.outcomes)
    assert from_objects.sources == ["(Scenario object)"] * 2


def test_representative_replication_is_closest_to_the_median(comparison):
    for label in comparison.labels:
        runs = comparison.outcomes[comparison.outcomes["scenario"] == label]
        values = runs.set_index("replication")["post_social_interaction"]
        chosen = comparison.representative_replication(label)
        distance = (values - values.median()).abs()
        assert distance[chosen] == distance.min()


def test_benefits_split_clients_into_terciles_of_baseline_traits(comparison):
    benefits = comparison.benefits
    assert set(benefits["moderator"]) == {"baseline_anxiety", "baseline_sociability"}
    assert set(benefits["tercile"]) == {"low", "middle", "high"}
    for _, part in benefits.groupby("moderator"):
        assert part["clients"].sum() == REPS * SMALL["group.clients"]
        assert (part["trait_low"] <= part["trait_high"]).all()


def test_repeated_names_get_unique_labels_and_a_parameter_diff():
    warm = load_scenario(PAIR[1], SMALL)
    cool = load_scenario(PAIR[1], {**SMALL, "counselor.warmth": 0.3})
    result = compare([warm, cool], 2, workers=1, label=None)
    assert result.labels == ["home_room_1", "home_room_2"]
    diff = parameter_differences(result.scenarios, result.labels)
    assert diff.to_dict("records") == [
        {"parameter": "counselor.warmth", "home_room_1": 0.85, "home_room_2": 0.3}
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"scenarios": PAIR[:1], "reps": 2}, "at least 2"),
        ({"scenarios": PAIR, "reps": 0}, "reps"),
        ({"scenarios": PAIR, "reps": 2, "workers": 0}, "workers"),
        ({"scenarios": PAIR, "reps": 2, "seed": -1}, "seed"),
    ],
)
def test_library_rejects_bad_designs(arguments, message):
    with pytest.raises(ValueError, match=message):
        compare(**arguments, label=None)


# ---------------------------------------------------------------- the command line

SMALL_SETS = [item for key, value in SMALL.items() for item in ("--set", f"{key}={value}")]


def groupsim(*arguments: str) -> subprocess.CompletedProcess:
    """`groupsim ARGUMENTS` in a process of its own, its output as an 80-column console's."""
    return subprocess.run(
        [PYTHON, "-m", "groupsim", *map(str, arguments)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={**os.environ, "COLUMNS": "80"},
    )


def test_cli_compare_writes_results_figures_and_report(tmp_path):
    out = tmp_path / "cmp"
    done = groupsim("compare", *PAIR, "--reps", "2", "--workers", "2", "--out", out, *SMALL_SETS)
    assert done.returncode == 0, done.stderr
    for name in ("results.parquet", "outcomes.parquet", "summary.csv", "report.md", "report.html"):
        assert (out / name).stat().st_size > 0
    for figure in ("timeseries", "spillover", "networks", "questionnaire", "benefits", "effects"):
        assert (out / f"{figure}.png").exists()
        assert (out / f"{figure}.svg").exists()
    results = pd.read_parquet(out / "results.parquet")
    assert set(results["replication"]) == {0, 1}
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["outcome"]) == set(EFFECT_OUTCOMES)
    assert str(out / "report.html") in done.stdout.replace("\n", "")
    # Every outcome and interval whole in 80 columns (`console_table`): none cut to "…".
    assert "…" not in done.stdout
    for outcome in (name for name in EFFECT_OUTCOMES if name.startswith("post_")):
        assert f"│ {outcome.removeprefix('post_')} " in done.stdout
    assert max(map(len, done.stdout.splitlines())) <= 80
    # Beside the means, how each arm's clients changed: its row of arms.csv, as shares.
    arms = pd.read_csv(out / "arms.csv")
    for arm in arms.to_dict("records"):
        line = next(
            row for row in done.stdout.splitlines() if row.startswith(f"│ {arm['scenario']} ")
        )
        cells = [cell.strip() for cell in line.strip("│").split("│")]
        shares = [f"{100 * arm[c]:.0f}%" for c in ("improved", "no_change", "deteriorated")]
        assert cells[1:4] == shares, (cells, arm)
        assert cells[5] == f"{arm['icc_post']:.2f}"


def test_cli_compare_on_a_dask_local_cluster_writes_the_same_summary(tmp_path):
    common = ["compare", *PAIR, "--reps", "2", "--seed", "5", *SMALL_SETS]
    serial = groupsim(*common, "--workers", "1", "--out", tmp_path / "w1")
    assert serial.returncode == 0, serial.stderr
    dask = groupsim(*common, "--dask-local", "2", "--out", tmp_path / "dask")
    assert dask.returncode == 0, dask.stderr
    summary = (tmp_path / "w1" / "summary.csv").read_bytes()
    assert summary == (tmp_path / "dask" / "summary.csv").read_bytes()
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "w1" / "outcomes.parquet"),
        pd.read_parquet(tmp_path / "dask" / "outcomes.parquet"),
    )


def _bad_inputs(tmp_path):
    unknown = tmp_path / "unknown.toml"
    unknown.write_text((SCENARIOS / "home_room.toml").read_text() + "\n[counselor2]\nx = 1\n")
    a_file = tmp_path / "a_file.txt"
    a_file.write_text("keep me")
    return {
        "missing file": ([SCENARIOS / "nope.toml", PAIR[1], "--reps", "2"], "nope.toml"),
        "reps below 1": ([*PAIR, "--reps", "0"], "--reps"),
        "unknown parameter in a file": ([PAIR[0], unknown, "--reps", "2"], "counselor2"),
        "unknown --set": ([*PAIR, "--reps", "2", "--set", "counselor.nope=1"], "counselor.nope"),
        "one scenario": ([PAIR[0], "--reps", "2"], "at least 2"),
        "out is a file": ([*PAIR, "--reps", "2", "--out", a_file], "is a file"),
        "workers and dask-local": (
            [*PAIR, "--reps", "2", "--workers", "2", "--dask-local", "2"],
            "--workers and --dask-local: choose one of these options",
        ),
        "scheduler and dask-local": (
            [*PAIR, "--reps", "2", "--scheduler", "tcp://127.0.0.1:9", "--dask-local", "2"],
            "--scheduler and --dask-local: choose one of these options",
        ),
        "dask-local below 1": (
            [*PAIR, "--reps", "2", "--dask-local", "0"],
            "--dask-local: must be at least 1 (got 0)",
        ),
        "unreachable scheduler": (
            [*PAIR, "--reps", "2", "--scheduler", "tcp://127.0.0.1:9", "--connect-timeout", "1"],
            "--scheduler: tcp://127.0.0.1:9: cannot reach the Dask scheduler",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing file",
        "reps below 1",
        "unknown parameter in a file",
        "unknown --set",
        "one scenario",
        "out is a file",
        "workers and dask-local",
        "scheduler and dask-local",
        "dask-local below 1",
        "unreachable scheduler",
    ],
)
def test_cli_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, case):
    arguments, needle = _bad_inputs(tmp_path)[case]
    out = tmp_path / "out"
    if "--out" not in arguments:
        arguments = [*arguments, "--out", out]
    before = sorted(p.name for p in tmp_path.iterdir())
    done = groupsim("compare", *arguments)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("groupsim: error:")
    assert needle in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / "a_file.txt").read_text() == "keep me"


def test_more_than_two_scenarios_compare_each_with_the_first():
    three = [*PAIR, SCENARIOS / "standard_group.toml"]
    result = compare(three, 2, workers=1, overrides=SMALL, label=None)
    effects = result.effects
    assert set(effects["scenario"]) == {"no_intervention", "home_room", "standard_group"}
    assert (effects["reference"] == "no_intervention").all()
    assert np.isfinite(
        effects.query("scenario == 'standard_group' and outcome == 'post_social_interaction'")[
            "difference"
        ]
    ).all()


def test_a_custom_technique_from_a_scenario_file_runs_end_to_end_in_compare(tmp_path):
    """Home room without the home-like room (`[technique] home_setting = 0`) as an arm."""
    out = tmp_path / "formal_room"
    custom = str(ROOT / "scenarios" / "home_room_formal_room.toml")
    done = groupsim(
        "compare", "no_intervention", custom, "--reps", "3", "--workers", "1", "--out", out,
        *SMALL_SETS,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = pd.read_csv(out / "summary.csv")
    assert "home_room_formal_room" in set(summary["scenario"])
    written = (out / "scenario_home_room_formal_room.toml").read_text(encoding="utf-8")
    assert 'name = "home room without the home-like room"' in written
    assert "home_setting = 0.0" in written
    assert "without the home-like room" in (out / "report.md").read_text(encoding="utf-8")


# ---------------------------------------------------------------- matched controls

#: A small cohort and calendar shared by both arms; the design changes group size and pace.
MATCH_BASE = {
    "cohort.faculties": 4,
    "cohort.students_per_faculty": 8,
    "cohort.burn_in_weeks": 4,
    "program.baseline_weeks": 1,
    "program.followup_weeks": 2,
}
WEEKLY_12 = {"group.clients": 12, "program.sessions_per_week": 1}


def _weekly_design():
    return load_scenario(PAIR[1], {**MATCH_BASE, **WEEKLY_12})


def _default_control():
    return load_scenario(PAIR[0], MATCH_BASE)


@pytest.fixture(scope="module")
def matched() -> Comparison:
    return compare(
        [_default_control(), _weekly_design()], REPS, seed=4, workers=1, label=None,
        control="auto",
    )  # fmt: skip


def test_an_unmatched_control_warns_naming_the_differences():
    with pytest.warns(MismatchedControlWarning) as caught:
        result = compare([_default_control(), _weekly_design()], 2, workers=1, label=None)
    text = str(caught[0].message)
    assert "group.clients 12 vs 9" in text
    assert "program.sessions_per_week 1 vs 2" in text
    assert "program weeks 8 vs 4" in text  # 8 sessions at 1 a week, not at 2
    assert "--control auto" in text
    assert result.mismatches == [text]
    # Each arm is scored at its own post-test week, not the reference's.
    post = result.outcomes.set_index(["scenario", "replication"])["post_social_interaction"]
    run = result.rerun("home_room", 0)
    assert (
        post[("home_room", 0)] == run.weekly.set_index("week").loc[9, "clients_social_interaction"]
    )


def test_control_auto_adds_a_matched_twin_and_no_warning(matched, recwarn):
    assert matched.labels == ["no_intervention", "home_room", "home_room_control"]
    assert matched.control_of("home_room") == "home_room_control"
    assert matched.treatments == ["home_room"]
    assert matched.mismatches == []
    twin = matched.scenario("home_room_control")
    assert twin.group.clients == 12
    assert twin.program.sessions_per_week == 1
    assert not twin.holds_group
    # Paired by seed: the twin screened the same 12 clients as the design.
    ids = matched.clients.groupby("scenario")["student_id"].apply(list)
    assert ids["home_room"] == ids["home_room_control"]
    effects = matched.effects.query("scenario == 'home_room'")
    assert set(effects["reference"]) == {"home_room_control"}
    again = compare(
        [_default_control(), _weekly_design()], 2, workers=1, label=None, control="auto"
    )
    assert not [w for w in recwarn if w.category is MismatchedControlWarning]
    assert again.mismatches == []


def test_control_auto_gives_the_effect_against_a_hand_built_matched_control(matched):
    by_hand = load_scenario(PAIR[0], {**MATCH_BASE, **WEEKLY_12})
    manual = compare([by_hand, _weekly_design()], REPS, seed=4, workers=1, label=None)
    assert manual.mismatches == []
    columns = ["outcome", "difference", "difference_low", "difference_high", "hedges_g"]
    auto = matched.effects.query("scenario == 'home_room'")[columns].reset_index(drop=True)
    hand = manual.effects.query("scenario == 'home_room'")[columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(auto, hand)
    # Against the default control the effect on the questionnaire differs: the arms differ
    # in more than the technique.
    unmatched = matched.outcomes.pivot(
        index="replication", columns="scenario", values="questionnaire_post"
    )
    against_default = (unmatched["home_room"] - unmatched["no_intervention"]).mean()
    row = auto.set_index("outcome").loc["questionnaire_post"]
    assert row["difference"] != pytest.approx(against_default)


def test_control_auto_reuses_a_given_matched_control():
    by_hand = load_scenario(PAIR[0], {**MATCH_BASE, **WEEKLY_12})
    result = compare([by_hand, _weekly_design()], 2, workers=1, label=None, control="auto")
    assert result.labels == ["no_intervention", "home_room"]
    assert result.control_of("home_room") == "no_intervention"


def test_control_auto_is_identical_on_one_and_two_workers(matched):
    parallel = compare(
        [_default_control(), _weekly_design()], REPS, seed=4, workers=2, label=None,
        control="auto",
    )  # fmt: skip
    pd.testing.assert_frame_equal(matched.outcomes, parallel.outcomes)
    pd.testing.assert_frame_equal(matched.clients, parallel.clients)
    pd.testing.assert_frame_equal(matched.effects, parallel.effects)
    pd.testing.assert_frame_equal(matched.client_effects, parallel.client_effects)
    pd.testing.assert_frame_equal(matched.arms, parallel.arms)


def test_clients_table_has_each_clients_questionnaire_attendance_and_dropout(matched):
    clients = matched.clients
    for column in (
        "baseline_anxiety", "post_social_interaction", "questionnaire_screening",
        "questionnaire_pre", "questionnaire_post", "questionnaire_followup", "post_missing",
        "followup_missing", "reliable_change", "group", "attended", "dropped_out",
    ):  # fmt: skip
        assert column in clients.columns, column
    run = matched.rerun("home_room", 1)
    mine = clients.query("scenario == 'home_room' and replication == 1").set_index("student_id")
    table = run.questionnaire.set_index("student_id").loc[mine.index]
    np.testing.assert_array_equal(mine["questionnaire_post"], table["post"])
    np.testing.assert_array_equal(mine["attended"], table["attended"])
    np.testing.assert_array_equal(mine["reliable_change"], table["reliable_change"])
    assert (clients.query("scenario == 'home_room_control'")["attended"] == 0).all()


def test_climate_is_drawn_only_in_the_program_weeks(matched):
    from groupsim.study.figures import plotted_series, program_spans

    results = matched.results
    climate = plotted_series(results, "climate")
    assert climate[results["phase"] != "program"].isna().all()
    design = results["scenario"] == "home_room"
    assert climate[design & (results["phase"] == "program")].notna().all()
    spans = program_spans(matched)
    assert spans[(1.5, 9.5)] == ["home_room", "home_room_control"]
    assert spans[(1.5, 5.5)] == ["no_intervention"]


def test_library_rejects_an_unknown_control():
    with pytest.raises(ValueError, match="control: must be one of auto"):
        compare(PAIR, 2, label=None, control="matched")


def test_cli_warns_on_an_unmatched_control_and_control_auto_matches_it(tmp_path):
    design = tmp_path / "weekly_12.toml"
    design.write_text(
        'name = "weekly_12"\n[counselor]\ntechnique = "home_room"\n'
        "[group]\nclients = 12\n[program]\nsessions_per_week = 1\n"
    )
    sets = [item for key, value in MATCH_BASE.items() for item in ("--set", f"{key}={value}")]
    common = ["compare", PAIR[0], design, "--reps", "2", "--workers", "1", *sets]
    plain = groupsim(*common, "--out", tmp_path / "plain")
    assert plain.returncode == 0, plain.stderr
    warning = [line for line in plain.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warning) == 1
    assert "group.clients 12 vs 9" in warning[0]
    assert "program.sessions_per_week 1 vs 2" in warning[0]
    assert "group.clients 12 vs 9" in (tmp_path / "plain" / "report.md").read_text()
    auto = groupsim(*common, "--control", "auto", "--out", tmp_path / "auto")
    assert auto.returncode == 0, auto.stderr
    assert "Warning:" not in auto.stderr
    summary = pd.read_csv(tmp_path / "auto" / "summary.csv")
    rows = summary[summary["scenario"] == "weekly_12"]
    assert set(rows["reference"]) == {"weekly_12_control"}
    report = (tmp_path / "auto" / "report.md").read_text()
    assert "--control auto" in report
    # The outcome tables name a matched control a control, the first file a reference.
    assert "| weekly_12_control (control) |  |" in report
    assert "| no_intervention (reference) |" in (tmp_path / "plain" / "report.md").read_text()
    bad = groupsim(*common, "--control", "hand", "--out", tmp_path / "bad")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "groupsim: error: --control: must be auto (got 'hand')"
    ]
    assert not (tmp_path / "bad").exists()


def test_the_demo_script_prints_effects_and_how_the_clients_changed(tmp_path):
    """`make demo`'s script, at 2 replications: the effects, then each arm's shares."""
    out = tmp_path / "demo"
    options = ["--reps", "2", "--workers", "1", "--out", str(out)]
    done = subprocess.run(
        [PYTHON, "experiments/compare_home_room.py", *options],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("6 runs (2 replications x 3 scenarios) in ")
    assert (out / "report.html").stat().st_size > 0
    arms = pd.read_csv(out / "arms.csv").set_index("scenario")
    at = lines.index(
        "Clients, pooled over replications (reliable change among the answered post-tests):"
    )
    for line, (name, arm) in zip(lines[at + 1 : at + 4], arms.iterrows(), strict=True):
        assert line == (
            f"  {name}: {arm['improved']:.0%} improved, {arm['no_change']:.0%} no reliable "
            f"change, {arm['deteriorated']:.0%} deteriorated"
        )
