"""Tests of groupsim.study.power: the tests against hand-computed values and known variance
components, the study layout, the seed design's decomposition, power growing with groups and
clients as the design effect predicts, the mixed model's level under the null, and the CLI.

That a power analysis gives the same tables with 1 or 2 workers and on Dask is tested once, with
the other studies, in `test_execute.py`; here `--dask-local` is only checked to reach the backend
(`BAD_INPUT`'s `dask_zero`): a second Dask cluster from the command line cost the suite ~50 s."""

from __future__ import annotations

import math
import os
import re
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
from groupsim.study.analyses import (
    ancova_treatment_test,
    cluster_residual_test,
    mixed_model_treatment_test,
    paired_gain_test,
)
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
from groupsim.study.power_studies import analyse_study, analysed, formula_power, null_blocks
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
            "missing_post": [0.1] * 8,
            "effect": [1.0] * 8,
            "effect_ancova": [1.0] * 8,
            "mixed_status": ["singular"] * 4 + ["fitted", "fitted", "boundary", "not converged"],
            "p_mixed": [np.nan] * 4 + [0.01, 0.2, 0.01, np.nan],
            "p_cluster": [np.nan] * 4 + [0.01, 0.3, 0.3, 0.3],
            "primary_test": ["cluster"] * 4 + ["mixed"] * 4,
            "p_primary": [np.nan] * 4 + [0.01, 0.2, 0.01, np.nan],
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
    # Studies whose mixed model was not fitted are counted, not dropped silently.
    assert list(table["mixed_not_fitted"]) == [4, 1]
    assert list(table["mixed_boundary"]) == [0, 1]
    assert table.loc[1, "power_mixed"] == pytest.approx(2 / 3)
    assert table.loc[1, "power_primary"] == pytest.approx(2 / 3)
    assert table.loc[1, "power_cluster"] == pytest.approx(1 / 4)
    assert list(table["primary_test"]) == ["cluster", "mixed"]
    assert list(table["clients_total"]) == [18, 36]


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
        groups=(2, 8),
        reps=30,
        seed=11,
    )


def test_power_grows_with_the_number_of_groups(weak_analysis):
    table = weak_analysis.table.set_index("groups_per_arm")
    two, eight = table.loc[2], table.loc[8]
    assert eight["power_primary"] > two["power_primary"] + 0.1
    assert two["primary_test"] == "cluster"
    assert eight["primary_test"] == "mixed"
    assert eight["power_ancova"] > two["power_ancova"]
    assert list(table["clients_per_arm"]) == [18, 72]
    assert weak_analysis.runs == 2 * 8 * 30 + 3 * 30
    # Type I error from both arms' pools: 30 studies of 2 groups, 15 of 8 (pool of 240 runs).
    assert list(table["null_studies"]) == [30, 15]
    assert list(table["null_treatment_studies"]) == [30, 15]
    assert table["null_primary"].between(0, 0.3).all()
    assert (table["mixed_not_fitted"] == 0).all()
    assert table["missing_post"].between(0.0, 0.3).all()


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
    power_at_8 = weak_analysis.table.set_index("groups_per_arm").loc[8, "power_primary"]
    assert f"{power_at_8:.2f}" in markdown
    assert markdown.splitlines()[0].startswith(("# Recommended design: ", "# No design clears"))
    assert weak_analysis.answer() in markdown.splitlines()[0]
    assert "mixed model" in markdown
    assert "available-case" in markdown
    assert "ICC" in markdown
    assert "ANCOVA on clients (liberal)" in markdown
    assert "paired t-test" in markdown
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2
    assert pd.read_csv(out / "power.csv")["power_ancova"].tolist() == pytest.approx(
        weak_analysis.table["power_ancova"].tolist()
    )


def test_power_rejects_bad_designs():
    arms = tiny("home_room"), tiny("no_intervention")
    for kwargs, match in (
        ({"groups": (0, 2)}, "groups"),
        ({"groups": (1, 2)}, "treatment and group are confounded"),
        ({"clients": (1,)}, "clients"),
        ({"target": 1.0}, "target"),
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
    paths["bad_posterior"] = _write_posterior(
        folder / "bad_posterior", pd.DataFrame({"warmth": [0.5], "weight": [1.0]})
    )
    return folder, {name: str(path) for name, path in paths.items()}


#: case: (treatment, options, what the one stderr line must contain).
BAD_INPUT = {
    "missing": ("{folder}/missing.toml", [], "missing.toml: (file): no such file"),
    "unknown": ("{unknown}", [], "counselor.heat: unknown key"),
    "reps": ("{home_room}", ["--reps", "0"], "--reps: must be a whole number >= 1"),
    "zero_groups": ("{home_room}", ["--groups", "1,0"], "--groups: comma-separated whole"),
    "one_group": (
        "{home_room}",
        ["--groups", "1"],
        "--groups: at least 2 groups per arm (got '1'); with 1 group per arm treatment and "
        "group are confounded",
    ),
    "one_group_among_others": ("{home_room}", ["--groups", "1,2,4"], "are confounded"),
    "clients": ("{home_room}", ["--clients", "6,x"], "--clients: comma-separated whole"),
    "clients_too_many": ("{home_room}", ["--clients", "60"], "--clients 60"),
    "target": ("{home_room}", ["--target", "1.2"], "--target: a power strictly between"),
    "icc": ("{home_room}", ["--icc", "0.06,1"], "--icc: comma-separated numbers from 0 up to"),
    "icc_text": ("{home_room}", ["--icc", "0.06,x"], "(got '0.06,x')"),
    "effect_sizes": (
        "{home_room}",
        ["--effect-sizes", "0.5,0"],
        "--effect-sizes: comma-separated numbers above 0",
    ),
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
    "posterior_missing": (
        "{home_room}",
        ["--posterior", "{folder}/nowhere"],
        "nowhere: posterior.parquet: no posterior here",
    ),
    "posterior_column": (
        "{home_room}",
        ["--posterior", "{bad_posterior}"],
        "posterior.parquet: warmth: a posterior column must be a dotted parameter path",
    ),
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
        options = [option.format(folder=folder, **paths) for option in options]
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
    options = ("--groups", "3,2", "--clients", "9,6", "--reps", "2", "--workers", "1")
    done = subprocess.run(
        _command(paths["home_room"], paths["no_intervention"], out, *options),
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "80"},
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(REPORT_FILES)
    # The table whole in an 80-column console, its power cells on one line each: none cut
    # to "…" (`console_table`); the T vs T rates in a sentence below it.
    assert "…" not in done.stdout
    assert max(map(len, done.stdout.splitlines())) <= 80
    assert len(re.findall(r"│ \d\.\d\d \[\d\.\d\d, \d\.\d\d\] │", done.stdout)) == 4
    assert "The treatment in both arms (T vs T" in done.stdout
    assert "If the ICC or the effect is not the model's: groups per arm" in done.stdout
    assert "This rests on the model's effect" in done.stdout
    assert "│ d = 0.5 " in done.stdout
    assert sorted(pd.read_csv(out / "icc_sensitivity.csv")["assumed_icc"].unique()) == [
        0.02,
        0.06,
        0.12,
    ]
    table = pd.read_csv(out / "power.csv")
    assert table["groups_per_arm"].tolist() == [2, 3, 2, 3]
    assert table["clients_per_group"].tolist() == [6, 6, 9, 9]
    assert "regression to the mean" in done.stdout
    first = (out / "report.md").read_text().splitlines()[0]
    assert first.startswith(("# Recommended design: ", "# No design clears"))
    assert done.stdout.startswith(first[2:20])


# ---------------------------------------------------------------------------- the mixed model


def _clustered(rng, groups_per_arm: int, clients: int, effect: float, tau2: float, sigma2: float):
    """A two-arm dataset with known variance components: random intercepts per group."""
    groups = 2 * groups_per_arm
    group = np.repeat(np.arange(groups), clients)
    treated = group < groups_per_arm
    pre = rng.normal(80.0, 12.0, len(group))
    intercepts = rng.normal(0.0, math.sqrt(tau2), groups)
    post = 20.0 + 0.6 * pre + effect * treated + intercepts[group]
    return pre, post + rng.normal(0.0, math.sqrt(sigma2), len(group)), treated, group


def test_mixed_model_recovers_the_effect_and_icc_of_known_variance_components():
    # 2 x 100 groups of 10, group variance 9, residual variance 81: ICC 0.1, effect 4 points.
    rng = np.random.default_rng(12)
    result = mixed_model_treatment_test(*_clustered(rng, 100, 10, 4.0, 9.0, 81.0))
    assert result.status == "fitted"
    # Satterthwaite's df for the treatment effect: near groups - 2 = 198 for a balanced design.
    assert result.df == pytest.approx(198, rel=0.05)
    # The effect's SE for this design: sqrt(2 (tau2 + sigma2 / m) / k) = sqrt(2 * 17.1 / 100).
    assert result.standard_error == pytest.approx(math.sqrt(2 * 17.1 / 100), rel=0.15)
    assert abs(result.effect - 4.0) < 3 * result.standard_error
    assert result.icc == pytest.approx(0.1, abs=0.04)
    assert result.residual_variance == pytest.approx(81.0, rel=0.08)
    # The same data by statsmodels' formula interface (its default optimiser): same estimate.
    import statsmodels.formula.api as smf

    pre, post, treated, group = _clustered(np.random.default_rng(12), 100, 10, 4.0, 9.0, 81.0)
    frame = pd.DataFrame({"pre": pre, "post": post, "treated": treated * 1.0, "group": group})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = smf.mixedlm("post ~ pre + treated", frame, groups="group").fit(reml=True)
    assert result.effect == pytest.approx(reference.params["treated"], abs=0.02)


def test_mixed_model_keeps_its_level_with_two_groups_per_arm():
    """300 synthetic null datasets of 2 groups of 9 per arm, ICC 0.15: the between-within
    t-test keeps alpha (a Wald z would reject far too often with 4 groups)."""
    rng = np.random.default_rng(5)
    p = [mixed_model_treatment_test(*_clustered(rng, 2, 9, 0.0, 15.0, 85.0)).p for _ in range(300)]
    rate = float(np.mean(np.asarray(p) < 0.05))
    assert 0.02 <= rate <= 0.08, rate


def test_mixed_model_says_when_it_cannot_be_fitted():
    result = mixed_model_treatment_test(
        [1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0], [1, 1, 0, 0], [0, 0, 1, 1]
    )
    assert result.status == "singular"
    assert math.isnan(result.p)


#: GROUPSIM_FULL_POWER=1: the issue's full size, 400 null studies at each of 2, 4 and 8 groups
#: per arm (6,400 small runs); by default a pool of 800 runs, cut into as many studies as it
#: holds (200, 100 and 50), each rate within 3 binomial SEs of alpha.
FULL_POWER = os.environ.get("GROUPSIM_FULL_POWER") == "1"


@pytest.mark.patterns
def test_primary_test_keeps_its_level_when_home_room_meets_home_room():
    """Home room vs itself (counselors and clients differ): the primary test's rejection rate.

    One pool of small-cohort runs cut into null studies of 2, 4 and 8 groups per arm; the
    primary test is the cluster-level analysis at 2 groups per arm and the mixed model from 4.
    Full size: in [0.03, 0.07] at every design (the issue's band);
    `experiments/power_null_calibration.py` runs the same on the default cohort.
    """
    runs = 16 * 400 if FULL_POWER else 800
    pool = simulate_pool(tiny("home_room"), replication_seeds(77, runs))
    blocks = null_blocks(pool, (2, 4, 8), runs)
    studies = analysed(blocks, [analyse_study(arms) for *_, arms in blocks])
    assert set(studies.loc[studies["groups"] == 2, "primary_test"]) == {"cluster"}
    assert set(studies.loc[studies["groups"] >= 4, "primary_test"]) == {"mixed"}
    for k, design in studies.groupby("groups"):
        n = len(design)
        assert n == runs // (2 * k)
        assert design["p_primary"].notna().all(), design["mixed_status"].value_counts()
        rate = float((design["p_primary"] < 0.05).mean())
        spread = 3 * math.sqrt(0.05 * 0.95 / n)
        low, high = (0.03, 0.07) if FULL_POWER else (0.05 - spread, 0.05 + spread)
        assert low <= rate <= high, (k, n, rate)


def test_cluster_level_analysis_matches_a_two_stage_computation_by_hand():
    # Stage 1 by statsmodels' OLS, stage 2 by scipy's t-test: the same p-value.
    import statsmodels.api as sm

    rng = np.random.default_rng(8)
    pre, post, treated, group = _clustered(rng, 3, 7, 2.0, 9.0, 64.0)
    post = post.copy()
    residuals = sm.OLS(post, sm.add_constant(pre)).fit().resid
    means = pd.Series(residuals).groupby(group).mean().to_numpy()
    arm = pd.Series(treated).groupby(group).first().to_numpy()
    reference = stats.ttest_ind(means[arm], means[~arm])
    result = cluster_residual_test(pre, post, treated, group)
    assert result.p == pytest.approx(reference.pvalue)
    assert result.t == pytest.approx(reference.statistic)
    assert result.df == 4
    with pytest.raises(ValueError, match="2 groups per arm"):
        cluster_residual_test(pre[:14], post[:14], treated[:14], group[:14])


#: Cohorts of 10 students per faculty, each group's clients drawn at random among the
#: screened (the lowest 20%): groups of 3 and of 9 then have equally distressed clients. With
#: the default selection (the least active first) a larger group reaches less distressed
#: students and the effect shrinks with the group size, which hides the design effect (in
#: the 5-per-faculty cohort power fell from groups of 4 to groups of 9; docs/power.md).
SIZED = {"cohort.students_per_faculty": 10, "group.selection": "random_screened"}


@pytest.fixture(scope="module")
def sized_analysis():
    """Home room at a quarter dose vs no intervention, 2 and 4 groups of 3 and 9 clients."""
    return power(
        tiny("home_room", **SIZED, **{"program.sessions": 2}),
        tiny("no_intervention", **SIZED),
        groups=(2, 4),
        clients=(3, 9),
        reps=40,
        seed=3,
    )


def test_power_rises_with_groups_and_clients_and_flattens_as_the_design_effect_predicts(
    sized_analysis,
):
    table = sized_analysis.table.set_index(["clients_per_group", "groups_per_arm"])
    power_of = table["power_primary"]
    # 40 studies per design (measured: 0.125, 0.35 with 3 clients; 0.20, 0.50 with 9): a
    # rise must exceed the noise of a difference (about 0.1).
    for m in (3, 9):
        assert power_of[(m, 4)] > power_of[(m, 2)] + 0.1, power_of
    assert power_of[(9, 2)] + power_of[(9, 4)] > power_of[(3, 2)] + power_of[(3, 4)] + 0.1
    # Clustering: the treatment arm's ICC has a bootstrap CI above 0, so a group of n clients
    # is worth n / DE < n independent clients; the ICC itself differs with the group size
    # (measured: DE 1.60 with 3 answered clients, 1.44 with 8.5), so the flattening is
    # checked through the design-effect formula with each size's own ICC: its power lies
    # within the simulated power's CI (widened by 0.1 for the formula's own estimation error)
    # at every design.
    clustering = sized_analysis.clustering.set_index(["arm", "clients_per_group"])
    assert clustering.loc[("treatment", 3), "icc_low"] > 0, clustering
    assert (clustering.loc["treatment", "design_effect"] > 1).all(), clustering
    for row in sized_analysis.table.itertuples():
        assert (
            row.power_primary_low - 0.1 <= row.formula_power_mixed <= row.power_primary_high + 0.1
        )
    assert (clustering["icc_low"] <= clustering["icc"]).all()
    assert (clustering["icc"] <= clustering["icc_high"]).all()
    assert sized_analysis.runs == 2 * 2 * 4 * 40 + 3 * 40


def test_the_icc_sensitivity_holds_the_effect_and_varies_only_the_clustering(sized_analysis):
    sensitivity = sized_analysis.icc_sensitivity
    table = sized_analysis.table
    assert sorted(sensitivity["assumed_icc"].unique()) == [0.02, 0.06, 0.12]
    assert len(sensitivity) == 3 * len(table)
    by_icc = sensitivity.pivot(
        index=["groups_per_arm", "clients_per_group"], columns="assumed_icc", values="formula_power"
    )
    # More clustering, less power, at every design (strictly while below 1).
    assert (by_icc.diff(axis=1).iloc[:, 1:] <= 0).all().all(), by_icc
    # Only the home room's groups meet: the control keeps its own ICC. Assuming the home
    # room's own ICC gives back the model's formula power, design by design.
    clustering = sized_analysis.clustering.set_index(["arm", "clients_per_group"])
    for row in table.itertuples():
        own = {"treatment": clustering.loc[("treatment", row.clients_per_group), "icc"]}
        again = formula_power(
            row.mean_effect,
            sized_analysis.clustering,
            row.groups_per_arm,
            row.clients_per_group,
            sized_analysis.alpha,
            own,
        )
        assert again == pytest.approx(row.formula_power_mixed, abs=1e-9)
    # The model's treatment ICC here is above 0.12 at 3 clients (CI above 0): the
    # literature's ICCs predict more power there than the model's own.
    assert clustering.loc[("treatment", 3), "icc"] > 0.12
    low = table.set_index(["groups_per_arm", "clients_per_group"])["formula_power_mixed"]
    assert (by_icc[0.02].xs(3, level="clients_per_group") >= low.xs(3, level=1)).all()


def test_report_gives_the_groups_each_effect_and_icc_needs(sized_analysis, tmp_path):
    sized_analysis.report(tmp_path)
    text = (tmp_path / "report.md").read_text()
    heading = "## If the groups' ICC or the effect is not the model's"
    section = text.split(heading)[1].split("\n## ")[0]
    assert "Kivlighan et al. 2020" in section
    assert "formula, ICC 0.06" in section
    assert "Lemberger-Truelove et al. 2024" in section
    needed = sized_analysis.groups_needed
    written = pd.read_csv(tmp_path / "groups_needed.csv")
    assert written["groups_per_arm"].equals(needed["groups_per_arm"])
    assert written["effect"].tolist() == needed["effect"].tolist()
    # Per group size: the model's effect and d = 0.3, 0.5, 0.8, each at the model's ICC
    # (NaN) and the three assumed ones.
    assert len(needed) == 2 * 4 * 4
    clustering = sized_analysis.clustering
    for m in (3, 9):
        rows = needed[needed["clients_per_group"] == m]
        sd = np.sqrt((clustering.loc[clustering["clients_per_group"] == m, "pre_sd"] ** 2).mean())
        small = rows[rows["effect"] == "d = 0.5"]
        assert np.allclose(small["effect_points"], 0.5 * sd)
        model = rows[(rows["effect"] == "model") & rows["assumed_icc"].isna()].iloc[0]
        effect = sized_analysis.table.query("clients_per_group == @m")["mean_effect"].mean()
        assert model["effect_points"] == pytest.approx(effect)
        # The fewest groups whose formula power reaches the target, checked one k at a time.
        k = int(model["groups_per_arm"])
        alpha, target = sized_analysis.alpha, sized_analysis.target
        assert formula_power(effect, clustering, k, m, alpha) >= target
        assert k == 2 or formula_power(effect, clustering, k - 1, m, alpha) < target
        # Smaller effects need more groups, at every ICC.
        by_effect = rows.pivot_table(
            index="effect", columns="assumed_icc", values="groups_per_arm", dropna=False
        )
        assert (by_effect.loc["d = 0.3"] >= by_effect.loc["d = 0.5"]).all()
        assert (by_effect.loc["d = 0.5"] >= by_effect.loc["d = 0.8"]).all()
        assert f"| {m} | d = 0.5: {0.5 * sd:.1f} points |" in section
    # The report opens, below its answer, with what the answer rests on.
    from groupsim.study.power_sensitivity import effect_caveat

    caveat = effect_caveat(sized_analysis)
    assert text.split("\n\n")[1] == f"> **Note:** {caveat}"
    chosen = (
        sized_analysis.recommended
        or sized_analysis.table.sort_values(["power_primary", "clients_total"]).iloc[-1].to_dict()
    )
    m = int(chosen["clients_per_group"])
    rows = needed[(needed["clients_per_group"] == m) & needed["assumed_icc"].isna()]
    model_d = rows.loc[rows["effect"] == "model", "effect_d"].iloc[0]
    smaller = rows[(rows["effect"] != "model") & (rows["effect_d"] < model_d)]
    middle = smaller.sort_values("effect_d").iloc[len(smaller) // 2]
    assert f"at {middle['effect']} the design-effect formula needs " in caveat
    assert f"{int(middle['groups_per_arm'])} groups of {m} clients per arm" in caveat


def test_the_power_curve_shades_the_formula_over_the_assumed_iccs(sized_analysis):
    from groupsim.study.power_figures import power_curve_figure

    power_ax = power_curve_figure(sized_analysis).axes[0]
    bands = {c.get_label(): c for c in power_ax.collections if "formula at ICC" in c.get_label()}
    assert sorted(bands) == [f"{m} per group, formula at ICC 0.02-0.12" for m in (3, 9)]
    # Each band spans the formula's power from ICC 0.12 (below) to 0.02 (above).
    sensitivity = sized_analysis.icc_sensitivity
    for m in (3, 9):
        top = bands[f"{m} per group, formula at ICC 0.02-0.12"].get_paths()[0].vertices[:, 1]
        rows = sensitivity[sensitivity["clients_per_group"] == m]
        assert np.isclose(top.max(), rows["formula_power"].max())
        assert np.isclose(top.min(), rows["formula_power"].min())


def test_the_answer_is_the_smallest_design_that_clears_the_target(sized_analysis):
    table = sized_analysis.table
    clear = table[table["power_primary_low"] >= sized_analysis.target]
    if clear.empty:
        assert sized_analysis.recommended is None
        assert sized_analysis.answer().startswith("No design clears")
    else:
        chosen = sized_analysis.recommended
        assert chosen["clients_total"] == clear["clients_total"].min()
        assert sized_analysis.answer().startswith(
            f"Recommended design: {chosen['groups_per_arm']} groups of "
            f"{chosen['clients_per_group']} clients per arm"
        )


# ---------------------------------------------------------------------------- assurance


def _write_posterior(folder, frame: pd.DataFrame):
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(folder / "posterior.parquet")
    return folder


#: A synthetic posterior over the counselor's warmth: 55% of the weight near the default
#: 0.85 (the median), 45% near 0.4, where home room's effect is about zero (measured: -4
#: points at 0.3, +4 at 0.5, +19 at 0.85 on these cohorts).
WARMTH_POSTERIOR = pd.DataFrame(
    {"counselor.warmth": [0.38, 0.42, 0.85, 0.9], "weight": [0.225, 0.225, 0.3, 0.25]}
)


@pytest.fixture(scope="module")
def assured(tmp_path_factory):
    folder = _write_posterior(tmp_path_factory.mktemp("calibration"), WARMTH_POSTERIOR)
    analysis = power(
        tiny("home_room"), tiny("no_intervention"), groups=(3,), reps=24, seed=6, posterior=folder
    )
    return folder, analysis


def test_assurance_is_below_power_at_the_posterior_median(assured):
    folder, analysis = assured
    row = analysis.table.iloc[0]
    assert analysis.treatment.counselor.warmth == 0.85  # the posterior's median
    # 24 studies each (measured: 1.00 [0.86, 1.00] against 0.67 [0.47, 0.82]): Fisher's
    # exact test, one-sided, of fewer successes under the posterior, at the 0.05 level.
    n, m = int(row["studies"]), int(row["assurance_studies"])
    hits, assured_hits = round(row["power_primary"] * n), round(row["assurance"] * m)
    table = [[hits, n - hits], [assured_hits, m - assured_hits]]
    assert stats.fisher_exact(table, alternative="greater").pvalue < 0.05, row
    assert row["assurance"] < row["power_primary"]
    studies = analysis.assurance_studies
    assert len(studies) == 24
    warm = studies["draw:counselor.warmth"] > 0.6
    assert 0 < warm.sum() < 24
    assert studies.loc[warm, "effect"].mean() > studies.loc[~warm, "effect"].mean() + 5
    assert analysis.answer().startswith(("Recommended design: ", "No design clears"))
    assert "assurance over the posterior" in analysis.answer()
    assert str(folder / "posterior.parquet") in analysis.answer()


def test_each_study_draws_its_own_parameter_set_reproducibly(assured):
    from groupsim.scenario.posterior import load_posterior
    from groupsim.study.power_assurance import study_draws

    folder, analysis = assured
    posterior = load_posterior(folder)
    draws = study_draws(posterior, 24, seed=6)
    assert study_draws(posterior, 5, seed=6) == draws[:5]  # study i's draw: its own stream
    assert analysis.assurance_studies["draw:counselor.warmth"].tolist() == [
        d["counselor.warmth"] for d in draws
    ]


def test_report_with_a_posterior_has_assurance(assured, tmp_path):
    from groupsim.study.power_report import ASSURANCE_FILES

    _, analysis = assured
    out = analysis.report(tmp_path / "assured")
    assert sorted(p.name for p in out.iterdir()) == sorted(REPORT_FILES + ASSURANCE_FILES)
    markdown = (out / "report.md").read_text()
    assert markdown.splitlines()[0] == f"# {analysis.answer()} " + (
        f"(Power analysis: {analysis.treatment.name} vs {analysis.control.name})"
    )
    assert "Assurance: power over what the calibration could not pin down" in markdown
    assert f"{analysis.table.iloc[0]['assurance']:.2f}" in markdown
