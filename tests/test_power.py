"""Tests of groupsim.study.power: the tests against hand-computed values, the study layout, the
seed design's decomposition, power growing with groups, the null rate, and the CLI."""

from __future__ import annotations

import math
import os
import subprocess
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import PYTHON, SCENARIOS
from groupsim import load_scenario, run
from groupsim.runs.execute import replication_seeds
from groupsim.scenario import scenario_to_toml
from groupsim.study.analyses import ancova_treatment_test, paired_gain_test
from groupsim.study.power import (
    field_studies,
    group_totals,
    null_studies,
    power,
    power_table,
    seed_design_bias,
    simulate_pool,
)
from groupsim.study.power_report import REPORT_FILES
from groupsim.study.stats import wilson_interval

#: A small cohort and a short calendar (a run takes a few hundredths of a second), with the
#: seed's group of 9 (one per faculty).
TINY = {"cohort.students_per_faculty": 5, "cohort.burn_in_weeks": 8, "program.followup_weeks": 0}


def tiny(name: str, **extra) -> object:
    return load_scenario(SCENARIOS / f"{name}.toml", {**TINY, **extra})


# ---------------------------------------------------------------------------- the tests' maths


def test_ancova_matches_a_hand_computation():
    # Arms of 3 with pre 1, 2, 3: pooled within-arm slope 6/4 = 1.5, equal pre means, so the
    # adjusted effect is 11/3 - 7/3 = 4/3; RSS = 1/3 on 3 df, Var = (1/9)(1/3 + 1/3) = 2/27.
    result = ancova_treatment_test([1, 2, 3, 1, 2, 3], [2, 4, 5, 1, 2, 4], [1, 1, 1, 0, 0, 0])
    assert result.effect == pytest.approx(4 / 3)
    assert result.standard_error == pytest.approx(math.sqrt(2 / 27))
    assert result.t == pytest.approx(math.sqrt(24))
    assert result.df == 3
    assert result.p == pytest.approx(2 * stats.t.sf(math.sqrt(24), 3))
    assert result.p == pytest.approx(0.016277, abs=1e-6)


def test_ancova_recovers_known_coefficients_and_equals_the_nested_f_test():
    rng = np.random.default_rng(3)
    n = 40
    pre = rng.normal(100, 10, n)
    treated = np.repeat([1.0, 0.0], n // 2)
    design = np.column_stack([np.ones(n), pre, treated])
    # Residuals orthogonal to the design: OLS returns the true coefficients exactly.
    noise = rng.normal(0, 5, n)
    noise -= design @ np.linalg.lstsq(design, noise, rcond=None)[0]
    post = design @ np.array([10.0, 0.8, 3.0]) + noise
    result = ancova_treatment_test(pre, post, treated)
    assert result.effect == pytest.approx(3.0)
    sigma2 = noise @ noise / (n - 3)
    assert result.standard_error == pytest.approx(
        math.sqrt(sigma2 * np.linalg.inv(design.T @ design)[2, 2])
    )
    # t^2 is the F of dropping the treatment term (nested models).
    reduced = design[:, :2]
    rss_reduced = np.sum((post - reduced @ np.linalg.lstsq(reduced, post, rcond=None)[0]) ** 2)
    f = (rss_reduced - noise @ noise) / sigma2
    assert result.t**2 == pytest.approx(f)
    assert result.p == pytest.approx(stats.f.sf(f, 1, n - 3))


def test_ancova_refuses_too_few_clients():
    with pytest.raises(ValueError, match="at least 4"):
        ancova_treatment_test([1, 2, 3], [1, 2, 3], [1, 0, 0])


def test_paired_gain_test_matches_scipy_and_handles_equal_gains():
    pre = np.array([90.0, 95.0, 100.0, 88.0, 97.0])
    post = np.array([99.0, 101.0, 104.0, 97.0, 99.0])
    assert paired_gain_test(pre, post) == pytest.approx(stats.ttest_rel(post, pre).pvalue)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no precision warning on equal gains
        assert paired_gain_test(pre, pre + 3.0) == 0.0
        assert paired_gain_test(pre, pre) == 1.0


def test_wilson_interval_published_values():
    # Newcombe (1998), Stat Med 17:857, example 81/263: Wilson 0.2553 to 0.3662.
    low, high = wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    assert wilson_interval(0, 10) == (0.0, pytest.approx(0.2775, abs=1e-4))
    assert wilson_interval(10, 10)[1] == 1.0


# ---------------------------------------------------------------------------- study layout


def _fake_pool(count: int, shift: float, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    pool = []
    for _ in range(count):
        pre = rng.normal(100, 10, 9)
        pool.append({"pre": pre, "post": pre + shift + rng.normal(0, 5, 9)})
    return pool


def test_studies_use_disjoint_blocks_of_the_pools():
    treatment, control = _fake_pool(8, 5.0, 1), _fake_pool(8, 0.0, 2)
    studies = field_studies(treatment, control, groups=(1, 2, 4), reps=2)
    assert list(studies.groupby("groups").size()) == [2, 2, 2]
    assert list(studies["clients_per_arm"]) == [9, 9, 18, 18, 36, 36]
    # Study 1 of the 2-group design is runs 2 and 3 of each pool.
    expected = ancova_treatment_test(
        np.concatenate([r["pre"] for r in treatment[2:4] + control[2:4]]),
        np.concatenate([r["post"] for r in treatment[2:4] + control[2:4]]),
        np.repeat([1, 0], 18),
    )
    row = studies[(studies["groups"] == 2) & (studies["study"] == 1)].iloc[0]
    assert row["p_ancova"] == pytest.approx(expected.p)
    assert studies.loc[studies["groups"] == 1, "p_ancova_group_means"].isna().all()
    with pytest.raises(ValueError, match="pools too small"):
        field_studies(treatment, control, groups=(8,), reps=2)
    nulls = null_studies(control, groups=(1, 4), reps=10)
    assert list(nulls.groupby("groups").size()) == [4, 1]  # 8 runs: 4 pairs of 1, 1 pair of 4


def test_power_table_counts_rejections_with_wilson_cis():
    studies = pd.DataFrame(
        {
            "groups": [1] * 4 + [2] * 4,
            "study": list(range(4)) * 2,
            "clients_per_arm": [9] * 4 + [18] * 4,
            "effect": [1.0] * 8,
            "p_ancova": [0.01, 0.2, 0.3, 0.4, 0.01, 0.02, 0.03, 0.5],
            "p_welch_gain": [0.5] * 8,
            "p_ancova_group_means": [np.nan] * 4 + [0.01] * 4,
        }
    )
    table = power_table(studies, alpha=0.05)
    assert list(table["power_ancova"]) == [0.25, 0.75]
    assert table.loc[1, "power_ancova_low"] == pytest.approx(wilson_interval(3, 4)[0])
    assert math.isnan(table.loc[0, "power_ancova_group_means"])
    assert table.loc[1, "power_ancova_group_means"] == 1.0


def test_seed_design_decomposition_adds_up():
    def runs(gain: float, pre: float = 100.0, expected: float = 100.0, expected_pre: float = 100.0):
        one = {
            "screening": np.full(9, pre),
            "pre": np.full(9, pre),
            "post": np.full(9, pre + gain),
            "expected_screening": np.full(9, expected),
            "expected_pre": np.full(9, expected_pre),
        }
        return [one] * 5

    treatment = {"separate": runs(10.0), "pretest": runs(13.0, 97.0)}
    control = {"separate": runs(2.0), "pretest": runs(5.0, 97.0, 99.0, 100.0)}
    table = seed_design_bias(treatment, control, alpha=0.05).set_index("screening")
    assert table.loc["separate", "true_effect"] == pytest.approx(8.0)
    assert table.loc["pretest", "true_effect"] == pytest.approx(8.0)
    assert table.loc["separate", "campus_life"] == pytest.approx(2.0)
    assert table.loc["pretest", "regression_to_mean"] == pytest.approx(3.0)
    assert table.loc["pretest", "rtm_selection_on_noise"] == pytest.approx(2.0)
    assert table.loc["pretest", "rtm_baseline_change"] == pytest.approx(1.0)
    for row in table.to_dict("records"):
        parts = row["true_effect"] + row["campus_life"] + row["regression_to_mean"]
        assert row["one_group_gain"] == pytest.approx(parts)
    assert table.loc["pretest", "overstatement"] == pytest.approx(5.0)


def test_group_totals_match_a_plain_run():
    scenario = tiny("home_room")
    totals = group_totals((scenario, 4))
    questionnaire = run(scenario, seed=4).questionnaire
    for column in ("screening", "pre", "post"):
        np.testing.assert_array_equal(totals[column], questionnaire[column].to_numpy())
    # Clients were chosen as the lowest screening scorers: on average below expectation.
    assert totals["expected_screening"].shape == (9,)
    assert np.all((totals["expected_pre"] >= 35) & (totals["expected_pre"] <= 140))


@pytest.fixture(scope="module")
def weak_analysis():
    """A weak treatment (a home-room group meeting once) vs no intervention, tiny cohorts."""
    return power(
        tiny("home_room", **{"program.sessions": 1}),
        tiny("no_intervention"),
        groups=(1, 8),
        reps=30,
        seed=11,
    )


def test_power_grows_with_the_number_of_groups(weak_analysis):
    table = weak_analysis.table.set_index("groups_per_arm")
    one, eight = table.loc[1], table.loc[8]
    assert eight["power_ancova"] > one["power_ancova"] + 0.25
    assert eight["power_ancova_low"] > one["power_ancova_high"] - 0.05
    assert list(table["clients_per_arm"]) == [9, 72]
    assert weak_analysis.runs == 2 * 8 * 30 + 3 * 30
    # Type I error from both arms' pools: 30 studies of 1 group, 15 of 8 (pool of 240 runs).
    assert list(table["null_studies"]) == [30, 15]
    assert list(table["null_treatment_studies"]) == [30, 15]
    assert table["null_ancova"].between(0, 0.3).all()


def test_seed_design_shows_regression_to_the_mean(weak_analysis):
    seed = weak_analysis.seed_design.set_index("screening")
    assert seed.loc["pretest", "regression_to_mean"] > 0
    assert seed.loc["pretest", "overstatement"] > seed.loc["separate", "overstatement"]
    assert (
        seed.loc["pretest", "no_program_rejection"] >= seed.loc["separate", "no_program_rejection"]
    )


def test_report_writes_every_file_with_the_runs_numbers(weak_analysis, tmp_path):
    out = weak_analysis.report(tmp_path / "power")
    assert sorted(p.name for p in out.iterdir()) == sorted(REPORT_FILES)
    markdown = (out / "report.md").read_text()
    power_at_8 = weak_analysis.table.set_index("groups_per_arm").loc[8, "power_ancova"]
    assert f"{power_at_8:.2f}" in markdown
    assert "ANCOVA" in markdown
    assert "paired t-test" in markdown
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2
    assert pd.read_csv(out / "power.csv")["power_ancova"].tolist() == pytest.approx(
        weak_analysis.table["power_ancova"].tolist()
    )


def test_results_do_not_depend_on_workers():
    arms = tiny("home_room"), tiny("no_intervention")
    one = power(*arms, groups=(1, 2), reps=2, seed=5, workers=1)
    two = power(*arms, groups=(1, 2), reps=2, seed=5, workers=2)
    pd.testing.assert_frame_equal(one.studies, two.studies)
    pd.testing.assert_frame_equal(one.seed_design, two.seed_design)


def test_power_rejects_bad_designs():
    arms = tiny("home_room"), tiny("no_intervention")
    for kwargs, match in (
        ({"groups": (0, 2)}, "groups"),
        ({"reps": 0}, "reps"),
        ({"alpha": 1.0}, "alpha"),
    ):
        with pytest.raises(ValueError, match=match):
            power(*arms, **kwargs)


NULL_STUDIES = 400


@pytest.mark.patterns  # 800 small runs, about 5 s on two free cores; always 400 studies
def test_rejection_rate_stays_near_alpha_when_treatment_equals_control():
    """400 one-group-per-arm studies, no intervention in both arms, from separate pools.

    Without a group the clients of a run are (nearly) independent, so the ANCOVA must hold
    its level. (With a group program as both arms the clients of one group share its
    climate, and the client-level ANCOVA rejects more often: the report's
    treatment-vs-treatment column shows by how much.)
    """
    scenario = tiny("no_intervention")
    seeds = replication_seeds(2024, 2 * NULL_STUDIES)
    first = simulate_pool(scenario, seeds[0::2])
    second = simulate_pool(scenario, seeds[1::2])
    studies = field_studies(first, second, groups=(1,), reps=NULL_STUDIES)
    assert len(studies) == NULL_STUDIES
    for test in ("p_ancova", "p_welch_gain"):
        rate = float((studies[test] < 0.05).mean())
        assert 0.02 <= rate <= 0.09, (test, rate)


@pytest.fixture(scope="module")
def tiny_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("power_files")
    paths = {}
    for name in ("home_room", "no_intervention"):
        paths[name] = folder / f"{name}.toml"
        paths[name].write_text(scenario_to_toml(tiny(name)))
    paths["unknown"] = folder / "unknown.toml"
    text = paths["home_room"].read_text().replace("warmth = 0.85", "warmth = 0.85\nheat = 1")
    assert "heat = 1" in text
    paths["unknown"].write_text(text)
    return folder, {name: str(path) for name, path in paths.items()}


#: case: (treatment, options, what the one stderr line must contain).
BAD_INPUT = {
    "missing": ("{folder}/missing.toml", [], "missing.toml: (file): no such file"),
    "unknown": ("{unknown}", [], "counselor.heat: unknown key"),
    "reps": ("{home_room}", ["--reps", "0"], "--reps: must be a whole number >= 1"),
    "zero_groups": ("{home_room}", ["--groups", "1,0"], "--groups: comma-separated whole"),
    "fraction_groups": ("{home_room}", ["--groups", "1.5"], "--groups: comma-separated whole"),
    "text_groups": ("{home_room}", ["--groups", "two"], "--groups: comma-separated whole"),
    "alpha": ("{home_room}", ["--alpha", "1"], "--alpha: must lie strictly between 0 and 1"),
    "alpha_zero": ("{home_room}", ["--alpha", "0"], "--alpha: must lie strictly between 0 and 1"),
    "set_unknown": ("{home_room}", ["--set", "counselor.heat=1"], "counselor.heat: unknown"),
    "workers_and_dask": (
        "{home_room}",
        ["--workers", "2", "--dask-local", "2"],
        "--workers and --dask-local: choose one of these options",
    ),
    "dask_zero": ("{home_room}", ["--dask-local", "0"], "--dask-local: must be at least 1"),
    "scheduler_unreachable": (
        "{home_room}",
        ["--scheduler", "tcp://127.0.0.1:9", "--connect-timeout", "1"],
        "--scheduler: tcp://127.0.0.1:9: cannot reach the Dask scheduler",
    ),
}


def _command(treatment: str, control: str, out, *options: str) -> list[str]:
    return [PYTHON, "-m", "groupsim", "power", treatment, control, "--out", str(out), *options]


@pytest.fixture(scope="module")
def bad_runs(tiny_files):
    folder, paths = tiny_files

    def start(case):
        treatment, options, _ = BAD_INPUT[case]
        out = folder / f"out_{case}"
        command = _command(
            treatment.format(folder=folder, **paths), paths["no_intervention"], out, *options
        )
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=180, env={**os.environ}
        )
        return case, (done.returncode, done.stderr, out)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(start, BAD_INPUT))


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_one_line_exit_2_nothing_written(bad_runs, case):
    status, stderr, out = bad_runs[case]
    assert status == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("groupsim: error: ")
    assert BAD_INPUT[case][2] in lines[0], lines[0]
    assert not out.exists()
    assert not any(p.name.startswith(f".{out.name}") for p in out.parent.iterdir())


def test_command_writes_the_report(tiny_files):
    folder, paths = tiny_files
    out = folder / "report"
    options = ("--groups", "2,1", "--reps", "2", "--workers", "1", "--seed", "3")
    done = subprocess.run(
        _command(paths["home_room"], paths["no_intervention"], out, *options),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(REPORT_FILES)
    assert pd.read_csv(out / "power.csv")["groups_per_arm"].tolist() == [1, 2]
    assert "regression to the mean" in done.stdout


def test_command_on_a_dask_local_cluster_writes_the_same_power_table(tiny_files):
    folder, paths = tiny_files
    options = ("--groups", "1,2", "--reps", "2", "--seed", "3")
    tables = []
    for name, where in (("w1", ("--workers", "1")), ("dask", ("--dask-local", "2"))):
        out = folder / f"backend_{name}"
        done = subprocess.run(
            _command(paths["home_room"], paths["no_intervention"], out, *options, *where),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        tables.append((out / "power.csv").read_bytes())
    assert tables[0] == tables[1]
