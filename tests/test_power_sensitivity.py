"""The design-effect formula at assumed ICCs and effects (`groupsim.study.power_sensitivity`).

On made-up arms; the analysis itself (a simulated power study with its sensitivity tables
and caveat) is checked in tests/test_power.py, on its module fixtures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.power import TTestIndPower

from groupsim.study.power import PowerAnalysis
from groupsim.study.power_sensitivity import (
    LITERATURE_ICCS,
    MAX_GROUPS,
    check_effects,
    check_iccs,
    effect_caveat,
    groups_needed,
    groups_needed_table,
    icc_sensitivity,
)
from groupsim.study.power_studies import formula_power

#: Two arms of 9 clients per group (8 answer the post-test), the treatment's groups
#: clustered (ICC 0.15: design effect 2.05), the control's not.
ARMS = pd.DataFrame(
    {
        "arm": ["treatment", "control"],
        "clients_per_group": [9, 9],
        "answered_per_group": [8.0, 8.0],
        "design_effect": [1 + 7 * 0.15, 1.0],
        "residual_variance": [120.0, 80.0],
    }
)
DESIGNS = pd.DataFrame(
    {
        "groups_per_arm": [2, 3, 4, 6],
        "clients_per_group": [9, 9, 9, 9],
        "clients_total": [36, 54, 72, 108],
        "mean_effect": [9.0, 9.0, 9.0, 9.0],
    }
)


@pytest.mark.parametrize("groups", [2, 4, 8])
@pytest.mark.parametrize("icc", [0.0, 0.06, 0.3])
def test_the_formula_is_statsmodels_t_test_on_group_means(groups, icc):
    # Equal arms: each group's mean has variance sigma^2 (1 + (n - 1) ICC) / n, and the
    # formula is the two-sample t-test on k group means per arm.
    arms = ARMS.assign(residual_variance=100.0)
    d = 9.0 / np.sqrt(100.0 * (1 + 7 * icc) / 8.0)
    expected = TTestIndPower().power(d, nobs1=groups, alpha=0.05)
    got = formula_power(9.0, arms, groups, 9, 0.05, {"treatment": icc, "control": icc})
    assert got == pytest.approx(expected, abs=1e-9)


def test_an_arm_at_its_own_icc_gives_the_models_formula_power():
    for groups in (2, 4, 6):
        base = formula_power(9.0, ARMS, groups, 9, 0.05)
        assert formula_power(9.0, ARMS, groups, 9, 0.05, {"treatment": 0.15}) == pytest.approx(
            base, abs=1e-12
        )
        # The control keeps its own (here 0) when it is not named.
        assert formula_power(9.0, ARMS, groups, 9, 0.05, {"control": 0.0}) == pytest.approx(
            base, abs=1e-12
        )


def test_power_falls_as_the_assumed_icc_rises_and_only_named_arms_change():
    table = icc_sensitivity(DESIGNS, ARMS, (0.0, 0.06, 0.12, 0.3), ["treatment"], 0.05)
    assert len(table) == 4 * len(DESIGNS)
    by_icc = table.pivot(index="groups_per_arm", columns="assumed_icc", values="formula_power")
    assert (by_icc.diff(axis=1).iloc[:, 1:] < 0).all().all(), by_icc
    assert (by_icc.diff(axis=0).iloc[1:] > 0).all().all(), by_icc  # and rises with groups
    both = icc_sensitivity(DESIGNS, ARMS, (0.12,), ["treatment", "control"], 0.05)
    alone = table[table["assumed_icc"] == 0.12]
    # Clustering the control arm too (its ICC 0 -> 0.12) lowers power further.
    assert (both["formula_power"].to_numpy() < alone["formula_power"].to_numpy()).all()


def test_no_meeting_arm_or_no_icc_gives_an_empty_table_with_its_columns():
    for arms, iccs in (([], LITERATURE_ICCS), (["treatment"], ())):
        table = icc_sensitivity(DESIGNS, ARMS, iccs, arms, 0.05)
        assert table.empty
        assert "formula_power" in table.columns


@pytest.mark.parametrize("icc", [None, {"treatment": 0.06}, {"treatment": 0.3}])
@pytest.mark.parametrize("effect", [0.5, 3.0, 9.0, 30.0])
def test_groups_needed_is_the_first_k_that_reaches_the_target(effect, icc):
    # Bisection against a plain walk over k = 2, 3, ...: the same answer.
    walked = next(
        (
            k
            for k in range(2, MAX_GROUPS + 1)
            if formula_power(effect, ARMS, k, 9, 0.05, icc) >= 0.8
        ),
        None,
    )
    assert groups_needed(effect, ARMS, 9, 0.05, 0.8, icc) == walked


def test_groups_needed_table_holds_the_effect_in_points_and_grows_as_effects_shrink():
    arms = ARMS.assign(pre_sd=[10.0, 8.0])  # pooled: sqrt((100 + 64) / 2) = 9.06
    table = groups_needed_table(DESIGNS, arms, (0.06, 0.2), (0.3, 0.8), ["treatment"], 0.05, 0.8)
    assert table["effect"].unique().tolist() == ["model", "d = 0.3", "d = 0.8"]
    assert len(table) == 3 * 3  # one group size, three effects, the model's ICC and two
    sd = np.sqrt((100 + 64) / 2)
    d03 = table[table["effect"] == "d = 0.3"]
    assert np.allclose(d03["effect_points"], 0.3 * sd)
    model = table[table["effect"] == "model"]
    assert np.allclose(model["effect_points"], 9.0)  # the designs' mean effect
    assert np.allclose(model["effect_d"], 9.0 / sd)
    grid = table.pivot_table(
        index="effect", columns="assumed_icc", values="groups_per_arm", dropna=False
    )
    assert (grid.loc["d = 0.3"] >= grid.loc["d = 0.8"]).all()
    assert grid.loc["d = 0.3", 0.2] >= grid.loc["d = 0.3", 0.06]
    # The model's ICC (NaN) is this arm's own, 0.15 for the treatment.
    own = table[(table["effect"] == "d = 0.8") & table["assumed_icc"].isna()]
    assert own["groups_per_arm"].iloc[0] == groups_needed(0.8 * sd, arms, 9, 0.05, 0.8)
    # Without an arm whose groups meet, only the model's ICC.
    alone = groups_needed_table(DESIGNS, arms, (0.06,), (0.3,), [], 0.05, 0.8)
    assert alone["assumed_icc"].isna().all()


def test_an_effect_too_small_for_any_design_is_more_than_the_largest_looked_at():
    arms = ARMS.assign(pre_sd=10.0)
    table = groups_needed_table(DESIGNS, arms, (), (0.01,), ["treatment"], 0.05, 0.8)
    tiny = table[table["effect"] == "d = 0.01"]
    assert np.isnan(tiny["groups_per_arm"]).all()  # NaN: more than MAX_GROUPS
    assert formula_power(0.01 * 10.0, arms, MAX_GROUPS, 9, 0.05) < 0.8


@pytest.mark.parametrize("bad", [(0.0,), (-0.5,), (float("inf"),), (True,), 0])
def test_check_effects_refuses_what_is_not_an_effect_size(bad):
    with pytest.raises(ValueError, match=r"effect_sizes: numbers above 0"):
        check_effects(bad)


@pytest.mark.parametrize("bad", [(1.0,), (-0.1,), (True,), ("0.1",), 1.5, True])
def test_check_iccs_refuses_what_is_not_an_icc(bad):
    with pytest.raises(ValueError, match=r"icc: numbers from 0 up to \(not including\) 1"):
        check_iccs(bad)


def test_check_iccs_sorts_and_keeps_each_once():
    assert check_iccs([0.12, 0.02, 0.12, 0]) == (0.0, 0.02, 0.12)
    assert check_iccs(0.06) == (0.06,)


@pytest.mark.parametrize("icc", [0.02, 0.12, 0.3])
def test_the_formula_predicts_the_cluster_level_tests_power_at_any_icc(icc):
    # Studies drawn with a known ICC (a random intercept per group), analysed as the power
    # analysis analyses a design below 4 groups per arm: the formula's power at that ICC
    # must match the share of rejections (2,000 studies: binomial SE <= 0.011; threshold
    # 4 SE). This checks the formula off the model, where its assumptions hold exactly.
    from groupsim.study.analyses import cluster_residual_test

    groups, clients, variance, alpha = 3, 8, 100.0, 0.05
    arms = ARMS.assign(answered_per_group=float(clients), residual_variance=variance)
    effect = 11.0  # the formula: power 0.76, 0.57 and 0.38 at ICC 0.02, 0.12 and 0.3
    predicted = formula_power(effect, arms, groups, 9, alpha, {"treatment": icc, "control": icc})
    rng = np.random.default_rng(20261201)
    studies, rejected = 2000, 0
    group = np.repeat(np.arange(2 * groups), clients)
    treated = (group < groups).astype(float)
    for _ in range(studies):
        intercept = rng.normal(0, np.sqrt(icc * variance), 2 * groups)[group]
        noise = rng.normal(0, np.sqrt((1 - icc) * variance), group.size)
        pre = rng.normal(95, 10, group.size)
        post = 40 + 0.6 * pre + effect * treated + intercept + noise
        rejected += cluster_residual_test(pre, post, treated, group).p < alpha
    rate = rejected / studies
    assert abs(rate - predicted) < 4 * np.sqrt(predicted * (1 - predicted) / studies), (
        rate,
        predicted,
    )


def test_no_caveat_when_no_assumed_effect_is_smaller_than_the_models():
    from types import SimpleNamespace

    arms = ARMS.assign(pre_sd=10.0)  # the model's effect: 9 points, d = 0.9
    table = DESIGNS.assign(power_primary=0.5)
    for effects, expected in (((1.0, 2.0), None), ((0.3, 0.5, 2.0), "d = 0.5")):
        needed = groups_needed_table(table, arms, (0.06,), effects, ["treatment"], 0.05, 0.8)
        analysis = SimpleNamespace(
            groups_needed=needed, recommended=None, table=table, posterior=None
        )
        analysis.best_design = lambda a=analysis: PowerAnalysis.best_design(a)
        caveat = effect_caveat(analysis)
        if expected is None:
            assert caveat is None
        else:
            # The middle of the smaller effects (0.3, 0.5), for the best design's 9 clients.
            k = groups_needed(0.5 * 10.0, arms, 9, 0.05, 0.8)
            assert f"at d = 0.5 the design-effect formula needs {k} groups of 9" in caveat
            assert "(d = 0.9;" in caveat
