"""Statistics: published worked examples, scipy's tests, and coverage by simulation."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from groupsim.study.analyses import ancova_treatment_test
from groupsim.study.resampling import bootstrap_means
from groupsim.study.stats import (
    Estimate,
    bootstrap_mean_difference,
    hedges_g,
    mean_ci,
    paired_hedges_g,
    paired_hedges_g_from_summary,
    paired_t_test,
    small_sample_correction,
    wilson_interval,
)

# Simulated datasets for the coverage checks (fewer in CI; the bounds are loose enough).
DATASETS = 200 if os.environ.get("CI") == "true" else 400


def test_hedges_g_independent_groups_matches_borenstein_example():
    # Borenstein, Hedges, Higgins & Rothstein (2009), Introduction to Meta-Analysis, ch. 4
    # (section 4.4, "computing d and g from studies that use independent groups"): means 103 and
    # 100, SDs 5.5 and 4.5, 50 per group give S_within = 5.0249, d = 0.5970, V_d = 0.0418,
    # SE_d = 0.2044, J = 0.9923, g = 0.5924, V_g = 0.0411, SE_g = 0.2028.
    effect = hedges_g(103.0, 100.0, 5.5, 4.5, 50, 50)
    assert effect.d == pytest.approx(0.5970, abs=5e-5)
    assert small_sample_correction(98) == pytest.approx(0.9923, abs=5e-5)
    assert effect.g == pytest.approx(0.5924, abs=5e-5)
    assert effect.variance == pytest.approx(0.0411, abs=5e-5)
    assert math.sqrt(effect.variance) == pytest.approx(0.2028, abs=5e-5)
    variance_d = effect.variance / small_sample_correction(98) ** 2
    assert variance_d == pytest.approx(0.0418, abs=5e-5)
    # The 95% CI is g +- 1.96 SE (normal approximation, Hedges & Olkin 1985).
    assert effect.low == pytest.approx(0.5924 - 1.959964 * 0.2028, abs=5e-4)
    assert effect.high == pytest.approx(0.5924 + 1.959964 * 0.2028, abs=5e-4)


def test_hedges_g_matched_groups_matches_borenstein_example():
    # Borenstein et al. (2009), section 4.5 (matched groups): mean difference 5, S_diff 10,
    # n = 50 pairs, r = 0.5 give S_within = 10, d = 0.5, V_d = 0.0225, SE_d = 0.15.
    effect = paired_hedges_g_from_summary(5.0, 10.0, 50, 0.5)
    j = small_sample_correction(49)
    assert effect.d == pytest.approx(0.5)
    assert effect.variance / j**2 == pytest.approx(0.0225)
    assert effect.g == pytest.approx(0.5 * j)
    assert j == pytest.approx(0.9846, abs=5e-5)


def test_paired_g_from_raw_data_agrees_with_summary_formula():
    rng = np.random.default_rng(1)
    reference = rng.normal(10, 2, 30)
    treatment = 0.5 * reference + rng.normal(0, 2, 30)  # correlated with the reference
    # Rescale so both arms have exactly the same SD: then S_within from the arms' SDs and
    # S_diff / sqrt(2 (1 - r)) coincide.
    treatment = 11 + (treatment - treatment.mean()) * reference.std(ddof=1) / treatment.std(ddof=1)
    differences = treatment - reference
    r = np.corrcoef(treatment, reference)[0, 1]
    raw = paired_hedges_g(treatment, reference)
    summary = paired_hedges_g_from_summary(
        differences.mean(), differences.std(ddof=1), len(differences), r
    )
    assert raw.g == pytest.approx(summary.g)
    assert raw.variance == pytest.approx(summary.variance)
    assert raw.low == pytest.approx(summary.low)


def test_paired_g_edge_cases():
    assert math.isnan(paired_hedges_g([1.0, 1.0, 1.0], [0.0, 0.0, 0.0]).g)  # no spread at all
    assert math.isnan(paired_hedges_g([1.0], [0.0]).g)
    one_constant = paired_hedges_g([1.0, 2.0, 3.0], [0.0, 0.0, 0.0])
    # A constant arm has zero covariance with the other: r is taken as 0.
    s_within = math.sqrt((1.0 + 0.0) / 2)
    assert one_constant.d == pytest.approx(2.0 / s_within)


def test_paired_t_test_agrees_with_scipy():
    rng = np.random.default_rng(2)
    reference = rng.normal(0, 1, 25)
    treatment = reference + rng.normal(0.3, 0.5, 25)
    expected = sps.ttest_rel(treatment, reference).pvalue
    assert paired_t_test(treatment, reference) == pytest.approx(expected, rel=1e-12)
    # And by hand: t = mean(d) / (sd(d) / sqrt(n)) on n - 1 degrees of freedom.
    d = treatment - reference
    t = d.mean() / (d.std(ddof=1) / math.sqrt(d.size))
    assert paired_t_test(treatment, reference) == pytest.approx(2 * sps.t.sf(abs(t), d.size - 1))


def test_paired_t_test_undefined_when_differences_constant():
    assert math.isnan(paired_t_test([1.0, 2.0, 3.0], [0.0, 1.0, 2.0]))
    assert math.isnan(paired_t_test([1.0], [0.0]))


def test_mean_ci_agrees_with_scipy_t_interval():
    values = np.array([3.1, 2.7, 3.8, 4.0, 2.2, 3.3])
    low, high = sps.t.interval(0.95, values.size - 1, loc=values.mean(), scale=sps.sem(values))
    estimate = mean_ci(values)
    assert estimate.value == pytest.approx(values.mean())
    assert (estimate.low, estimate.high) == pytest.approx((low, high))
    assert math.isnan(mean_ci([1.0]).low)
    assert mean_ci([2.0, 2.0]).low == 2.0


def test_bootstrap_is_seeded_and_centred_on_the_mean_difference():
    treatment = np.array([2.0, 3.0, 4.5, 5.0, 3.5])
    reference = np.array([1.0, 2.5, 3.0, 3.0, 3.0])
    first = bootstrap_mean_difference(treatment, reference, np.random.default_rng(5))
    again = bootstrap_mean_difference(treatment, reference, np.random.default_rng(5))
    assert first == again
    assert first.value == pytest.approx((treatment - reference).mean())
    assert first.low < first.value < first.high


@pytest.mark.parametrize("pairs", [2, 7, 60, 700, 1001])
def test_bootstrap_equals_scipy_bootstrap_to_the_last_bit(pairs):
    # The numpy bootstrap draws what scipy.stats.bootstrap(paired=True) draws, in blocks of
    # rows (several blocks from 60 pairs up), and takes scipy's quantile: the same interval.
    rng = np.random.default_rng(pairs)
    reference = rng.normal(0.5, 0.1, pairs)
    treatment = reference + rng.normal(0.05, 0.08, pairs)
    treatment[1] = np.nan  # a missing pair is left out by both
    ours = bootstrap_mean_difference(treatment, reference, np.random.default_rng(9), 10_000)
    keep = ~np.isnan(treatment)
    if keep.sum() < 2:
        assert math.isnan(ours.low)
        return
    theirs = sps.bootstrap(
        (treatment[keep], reference[keep]),
        lambda t, r, axis=-1: np.mean(t - r, axis=axis),
        paired=True,
        vectorized=True,
        n_resamples=10_000,
        method="percentile",
        rng=np.random.default_rng(9),
    ).confidence_interval
    assert (ours.low, ours.high) == (theirs.low, theirs.high)


def test_bootstrap_means_in_blocks_continue_the_stream():
    values = np.random.default_rng(1).normal(size=300)
    blocked = bootstrap_means(values, np.random.default_rng(4), 5_000)
    whole = values[np.random.default_rng(4).integers(0, 300, (5_000, 300))].mean(axis=-1)
    assert (blocked == whole).all()


def test_a_comparison_does_not_import_scipy_stats():
    # scipy.stats costs about a second to import: the demo's statistics use scipy.special.
    code = (
        "import sys, numpy as np\n"
        "from groupsim.study import stats, figures\n"
        "stats.mean_ci([1.0, 2.0]); stats.paired_t_test([1.0, 3.0], [0.0, 1.0])\n"
        "stats.bootstrap_mean_difference([1.0, 3.0], [0.0, 1.0], np.random.default_rng(0))\n"
        "stats.paired_hedges_g([1.0, 3.0, 2.0], [0.0, 1.0, 1.5])\n"
        "assert 'scipy.stats' not in sys.modules, 'scipy.stats imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_bootstrap_ci_covers_the_true_difference_at_about_the_nominal_rate():
    rng = np.random.default_rng(20260101)
    true_difference, pairs = 0.3, 40
    covered = 0
    for _ in range(DATASETS):
        reference = rng.normal(0.5, 0.1, pairs)
        treatment = reference + rng.normal(true_difference, 0.08, pairs)  # paired, correlated
        estimate = bootstrap_mean_difference(treatment, reference, rng, resamples=2000)
        covered += estimate.low <= true_difference <= estimate.high
    assert 0.90 <= covered / DATASETS <= 0.98


def test_paired_g_ci_covers_the_true_effect_at_about_the_nominal_rate():
    rng = np.random.default_rng(7)
    pairs, sd, correlation, delta = 40, 1.0, 0.6, 0.5
    covariance = [[sd**2, correlation * sd**2], [correlation * sd**2, sd**2]]
    covered = 0
    for _ in range(DATASETS):
        draws = rng.multivariate_normal([delta, 0.0], covariance, size=pairs)
        effect = paired_hedges_g(draws[:, 0], draws[:, 1])
        covered += effect.low <= delta <= effect.high
    assert 0.90 <= covered / DATASETS <= 0.98


def _numpy_percentile_bootstrap(treatment, reference, rng, resamples=10_000, level=0.95):
    """The hand-written paired bootstrap groupsim used before scipy's (the reference)."""
    differences = np.asarray(treatment, float) - np.asarray(reference, float)
    differences = differences[~np.isnan(differences)]
    picks = rng.integers(0, differences.size, size=(resamples, differences.size))
    means = differences[picks].mean(axis=1)
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(differences.mean()), float(low), float(high)


@pytest.mark.parametrize("seed", range(20))
def test_scipy_bootstrap_gives_the_hand_written_interval(seed):
    # scipy.stats.bootstrap(paired=True) draws the same replications from the same generator,
    # so the bounds agree to rounding, far inside the bootstrap's Monte Carlo error.
    data = np.random.default_rng(100 + seed)
    n = int(data.integers(5, 60))
    reference = data.normal(0.35, 0.03, n)
    treatment = reference * 0.8 + data.normal(0.15, 0.03, n)
    treatment[data.random(n) < 0.05] = np.nan  # NaN pairs are left out by both
    ours = bootstrap_mean_difference(treatment, reference, np.random.default_rng(seed))
    value, low, high = _numpy_percentile_bootstrap(
        treatment, reference, np.random.default_rng(seed)
    )
    assert ours.value == value
    assert ours.low == pytest.approx(low, abs=1e-12)
    assert ours.high == pytest.approx(high, abs=1e-12)


def test_bootstrap_edge_cases():
    rng = np.random.default_rng(0)
    assert bootstrap_mean_difference([2.0, 3.0], [1.0, 2.0], rng) == Estimate(1.0, 1.0, 1.0)
    single = bootstrap_mean_difference([2.0, np.nan], [1.0, 1.0], rng)
    assert single.value == 1.0
    assert math.isnan(single.low)
    assert math.isnan(single.high)
    assert math.isnan(bootstrap_mean_difference([np.nan], [1.0], rng).value)
    with pytest.raises(ValueError, match="one value per replication"):
        bootstrap_mean_difference([[1.0, 2.0]], [[1.0, 2.0]], rng)


def _hand_written_wilson(successes, trials, confidence=0.95):
    """The Wilson interval groupsim.study.power computed by hand (the reference)."""
    if trials < 1:
        return (float("nan"), float("nan"))
    z = float(sps.norm.ppf(0.5 + confidence / 2.0))
    share = successes / trials
    denominator = 1.0 + z * z / trials
    centre = (share + z * z / (2 * trials)) / denominator
    half = z * np.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials)) / denominator
    low = 0.0 if successes == 0 else float(max(0.0, centre - half))
    high = 1.0 if successes == trials else float(min(1.0, centre + half))
    return (low, high)


@pytest.mark.parametrize("confidence", [0.8, 0.95, 0.99])
def test_wilson_interval_equals_the_hand_written_one(confidence):
    # power.csv prints the bounds with 3 decimals (report) and as floats (CSV): equal to 1e-12.
    for trials in [1, 2, 3, 5, 10, 20, 50, 100, 400, 1000]:
        for successes in range(trials + 1):
            ours = wilson_interval(successes, trials, confidence)
            theirs = _hand_written_wilson(successes, trials, confidence)
            assert ours == pytest.approx(theirs, abs=1e-12), (successes, trials)
            assert [f"{x:.3f}" for x in ours] == [f"{x:.3f}" for x in theirs]


def test_wilson_interval_edges_and_published_value():
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(10, 10)[1] == 1.0
    assert all(math.isnan(x) for x in wilson_interval(0, 0))
    # Newcombe (1998), Statistics in Medicine 17, table I, example 1: 81/263 -> 0.2553 to 0.3662.
    low, high = wilson_interval(81, 263)
    assert low == pytest.approx(0.2553, abs=5e-5)
    assert high == pytest.approx(0.3662, abs=5e-5)


def test_mean_ci_agrees_with_scipy_ttest_1samp_interval():
    data = np.random.default_rng(7)
    for n in [2, 3, 10, 50]:
        values = data.normal(0.4, 0.05, n)
        ours = mean_ci(values, level=0.9)
        scipy_ci = sps.ttest_1samp(values, 0.0).confidence_interval(confidence_level=0.9)
        assert ours.low == pytest.approx(float(scipy_ci.low), abs=1e-12)
        assert ours.high == pytest.approx(float(scipy_ci.high), abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_numpy_ancova_matches_statsmodels_ols(seed):
    # The hot loop keeps the numpy ANCOVA; statsmodels' OLS is the cross-check (tests only).
    sm = pytest.importorskip("statsmodels.api")
    data = np.random.default_rng(seed)
    n = int(data.integers(6, 80))
    treated = np.repeat([1, 0], [n // 2, n - n // 2])
    pre = data.normal(90, 10, n).round()
    post = (pre * 0.6 + 40 + 5 * treated + data.normal(0, 6, n)).round()
    ours = ancova_treatment_test(pre, post, treated)
    fit = sm.OLS(post, sm.add_constant(np.column_stack([pre, treated]))).fit()
    assert ours.effect == pytest.approx(fit.params[2], rel=1e-9)
    assert ours.standard_error == pytest.approx(fit.bse[2], rel=1e-9)
    assert ours.t == pytest.approx(fit.tvalues[2], rel=1e-9)
    assert ours.p == pytest.approx(fit.pvalues[2], rel=1e-7, abs=1e-300)
    assert ours.df == int(fit.df_resid)


def test_intraclass_correlation_recovers_known_variance_components():
    """Groups with between-group variance 0.1 and within 0.9: ICC 0.1, also as MixedLM says."""
    import statsmodels.formula.api as smf

    from groupsim.study.stats import intraclass_correlation

    rng = np.random.default_rng(4)
    groups, size = 400, 9
    group = np.repeat(np.arange(groups), size)
    pre = rng.normal(0.0, 1.0, groups * size)
    effect = rng.normal(0.0, np.sqrt(0.1), groups)[group]
    post = 0.5 * pre + effect + rng.normal(0.0, np.sqrt(0.9), groups * size)
    data = pd.DataFrame({"group": group, "pre": pre, "post": post})
    icc = intraclass_correlation(data, "post", "group", covariate="pre")
    assert icc == pytest.approx(0.1, abs=0.03)
    fit = smf.mixedlm("post ~ pre", data, groups=data["group"]).fit(reml=True)
    mixed = float(fit.cov_re.iloc[0, 0]) / (float(fit.cov_re.iloc[0, 0]) + fit.scale)
    assert icc == pytest.approx(mixed, abs=0.01)
    # Missing outcomes are left out, not counted as zeros.
    holes = data.assign(post=data["post"].where(np.arange(len(data)) % 7 != 0))
    assert intraclass_correlation(holes, "post", "group", "pre") == pytest.approx(icc, abs=0.02)
