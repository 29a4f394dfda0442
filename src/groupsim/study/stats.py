"""Statistics for comparing designs over replications: CIs, effect sizes and a paired test.

Replications of an experiment with common random numbers are *paired*: replication r of every
scenario starts from the same population and seed. The functions here take that into account:

- :func:`mean_ci`: a mean with its t-based confidence interval (Student's t from
  `scipy.stats.t`);
- :func:`bootstrap_mean_difference`: the mean paired difference with a percentile bootstrap CI
  (resampling replications, Efron & Tibshirani 1993, ch. 13; the interval of
  `scipy.stats.bootstrap` with ``paired=True``, drawn by :mod:`groupsim.study.resampling`:
  the same numbers, faster);
- :func:`wilson_interval`: the Wilson score interval of a proportion, e.g. a power estimate
  (`scipy.stats.binomtest(...).proportion_ci(method="wilson")`);
- :func:`hedges_g` (independent groups) and :func:`paired_hedges_g` (paired replications):
  Hedges' g with its CI, following Hedges & Olkin (1985) as written out in Borenstein, Hedges,
  Higgins & Rothstein (2009), *Introduction to Meta-Analysis*, ch. 4;
- :func:`paired_t_test`: the paired t-test's two-sided p-value (`scipy.stats.ttest_rel`).

Example:
    >>> import numpy as np
    >>> est = mean_ci([1.0, 2.0, 3.0])
    >>> round(est.value, 3), round(est.low, 3), round(est.high, 3)
    (2.0, -0.484, 4.484)
    >>> g = hedges_g(103.0, 100.0, 5.5, 4.5, 50, 50)
    >>> round(g.d, 4), round(g.g, 4)
    (0.597, 0.5924)
    >>> [round(x, 3) for x in wilson_interval(45, 50)]
    [0.786, 0.957]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from groupsim.study.resampling import bootstrap_means, linear_quantiles

__all__ = [
    "CLIENT_LEVEL_D",
    "PAIRED_G",
    "PAIRED_TEST",
    "ClientLevelEffect",
    "EffectSize",
    "Estimate",
    "bootstrap_mean_difference",
    "client_level_effect",
    "hedges_g",
    "intraclass_correlation",
    "mean_ci",
    "paired_hedges_g",
    "paired_hedges_g_from_summary",
    "paired_t_test",
    "small_sample_correction",
    "wilson_interval",
]

#: The paired test used for p-values, by name (the report states it).
PAIRED_TEST = "paired t-test (scipy.stats.ttest_rel), two-sided"

#: Which Hedges' g the paired comparison reports (the report states it).
PAIRED_G = (
    "Hedges' g for matched groups (Borenstein et al. 2009, eqs. 4.25-4.29): the mean paired "
    "difference over the within-scenario SD (the SD a between-groups field study would "
    "standardise by, not the SD of the differences), times Hedges' J; its variance accounts "
    "for the correlation r between paired replications"
)

#: Which client-level effect size the comparison reports (the report states it).
CLIENT_LEVEL_D = (
    "Cohen's d on the clients: the mean over replications of the paired difference in arm "
    "means (available cases) over the pooled client-level SD of the two arms (every "
    "client-run, so between-group spread included: Hedges 2007's d_T, what a field study "
    "pooling its clients reports); Hedges' g = J d with df = client-runs - 2; the 95% CI is "
    "the t-interval over replications of the mean difference, divided by the SD (estimated "
    "from many client-runs, taken as known)"
)


@dataclass(frozen=True)
class Estimate:
    """A point estimate with the bounds of its confidence interval."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class EffectSize:
    """A standardized mean difference.

    Attributes:
        g: Hedges' g (bias-corrected d).
        low: lower bound of g's confidence interval (normal approximation).
        high: upper bound.
        d: Cohen's d before the small-sample correction.
        variance: the variance of g.
    """

    g: float
    low: float
    high: float
    d: float
    variance: float


def _scipy_stats():
    # Imported on first use: scipy.stats takes about a second to import, and `import groupsim`
    # (hence `groupsim --help`) should not pay for it. A comparison never needs it: its
    # quantiles and p-values come from scipy.special, the functions scipy.stats calls.
    from scipy import stats

    return stats


def _t_quantile(probability: float, df: float) -> float:
    """Student's t quantile: `scipy.stats.t.ppf(probability, df)` is this `stdtrit`."""
    from scipy.special import stdtrit

    return float(stdtrit(df, probability))


def _as_array(values: Sequence[float] | np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=float)


def _z(level: float) -> float:
    from scipy.special import ndtri  # what scipy.stats.norm.ppf computes

    return float(ndtri(0.5 + level / 2))


def mean_ci(values: Sequence[float] | np.ndarray, level: float = 0.95) -> Estimate:
    """The mean of `values` with its t-based confidence interval.

    NaN values are left out. With fewer than two values the bounds are NaN; with no spread
    they equal the mean.

    The bounds are mean -+ t(level, n - 1) SD / sqrt(n) with the quantile from
    `scipy.stats.t`. `scipy.stats.ttest_1samp(x).confidence_interval(level)` gives the same
    interval (tests check it to 1e-12), but rounds in another order, so the last printed digit
    of a bound would differ from earlier results; the formula is kept for same seeds, same
    numbers.
    """
    x = _as_array(values)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return Estimate(math.nan, math.nan, math.nan)
    mean = float(x.mean())
    if x.size < 2:
        return Estimate(mean, math.nan, math.nan)
    half = _t_quantile(0.5 + level / 2, x.size - 1) * float(x.std(ddof=1)) / math.sqrt(x.size)
    return Estimate(mean, mean - half, mean + half)


def bootstrap_mean_difference(
    treatment: Sequence[float] | np.ndarray,
    reference: Sequence[float] | np.ndarray,
    rng: np.random.Generator,
    resamples: int = 10_000,
    level: float = 0.95,
) -> Estimate:
    """Mean of the paired differences `treatment - reference`, with a percentile bootstrap CI.

    Pairs (replications) are resampled with replacement, so the dependence that common random
    numbers create between the two arms is kept. The interval is `scipy.stats.bootstrap`'s
    with ``paired=True`` and the percentile method, to the last bit for the same `rng`
    (drawn by :mod:`groupsim.study.resampling`). NaN pairs are left out; with fewer than two
    pairs the bounds are NaN.

    Args:
        treatment: one value per replication.
        reference: the same replications under the reference scenario.
        rng: the bootstrap's random generator (seed it for a reproducible interval).
        resamples: bootstrap resamples.
        level: coverage of the interval.

    Example:
        >>> est = bootstrap_mean_difference([2.0, 3.0, 4.0], [1.0, 1.5, 2.0],
        ...                                 np.random.default_rng(0), resamples=2000)
        >>> est.value
        1.5
    """
    t, r = _as_array(treatment), _as_array(reference)
    if t.shape != r.shape or t.ndim != 1:
        raise ValueError("treatment and reference must be one value per replication")
    keep = ~np.isnan(t - r)
    differences = t[keep] - r[keep]
    if differences.size == 0:
        return Estimate(math.nan, math.nan, math.nan)
    value = float(differences.mean())
    if differences.size < 2:
        return Estimate(value, math.nan, math.nan)
    means = bootstrap_means(differences, rng, resamples)
    tail = (1.0 - level) / 2.0
    low, high = linear_quantiles(means, np.array([tail, 1.0 - tail]))
    return Estimate(value, float(low), float(high))


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (Wilson 1927).

    Better than the normal interval near 0 and 1, where power estimates often lie. Computed
    by `scipy.stats.binomtest(successes, trials).proportion_ci(method="wilson")`; NaN bounds
    without trials, and exactly 0 (1) as the bound at 0 (all) successes.

    Example:
        >>> [round(x, 4) for x in wilson_interval(0, 20)]
        [0.0, 0.1611]
    """
    if trials < 1:
        return (math.nan, math.nan)
    interval = (
        _scipy_stats()
        .binomtest(int(successes), int(trials))
        .proportion_ci(confidence_level=confidence, method="wilson")
    )
    low = 0.0 if successes == 0 else float(max(0.0, interval.low))
    high = 1.0 if successes == trials else float(min(1.0, interval.high))
    return (low, high)


def small_sample_correction(df: float) -> float:
    """Hedges' J = 1 - 3 / (4 df - 1) (Borenstein et al. 2009, eq. 4.22)."""
    return 1.0 - 3.0 / (4.0 * df - 1.0)


def _effect(d: float, variance_d: float, df: float, level: float) -> EffectSize:
    j = small_sample_correction(df)
    g = j * d
    variance = j * j * variance_d
    half = _z(level) * math.sqrt(variance)
    return EffectSize(g=g, low=g - half, high=g + half, d=d, variance=variance)


def hedges_g(
    mean_1: float,
    mean_2: float,
    sd_1: float,
    sd_2: float,
    n_1: int,
    n_2: int,
    level: float = 0.95,
) -> EffectSize:
    """Hedges' g of two independent groups, with its CI (Borenstein et al. 2009, 4.18-4.24).

    d = (mean_1 - mean_2) / S_within with the pooled SD; V_d = (n_1 + n_2) / (n_1 n_2) +
    d^2 / (2 (n_1 + n_2)); g = J d and V_g = J^2 V_d with df = n_1 + n_2 - 2.

    Example (Borenstein et al. 2009, section 4.4):
        >>> e = hedges_g(103.0, 100.0, 5.5, 4.5, 50, 50)
        >>> round(e.variance, 4), round(math.sqrt(e.variance), 4)
        (0.0411, 0.2028)
    """
    df = n_1 + n_2 - 2
    s_within = math.sqrt(((n_1 - 1) * sd_1**2 + (n_2 - 1) * sd_2**2) / df)
    if s_within == 0:
        return EffectSize(math.nan, math.nan, math.nan, math.nan, math.nan)
    d = (mean_1 - mean_2) / s_within
    variance_d = (n_1 + n_2) / (n_1 * n_2) + d * d / (2 * (n_1 + n_2))
    return _effect(d, variance_d, df, level)


def paired_hedges_g_from_summary(
    mean_difference: float,
    sd_difference: float,
    n: int,
    correlation: float,
    level: float = 0.95,
) -> EffectSize:
    """Hedges' g for matched groups from summary data (Borenstein et al. 2009, 4.25-4.29).

    S_within = S_diff / sqrt(2 (1 - r)); d = mean difference / S_within;
    V_d = (1/n + d^2 / (2n)) 2 (1 - r); g = J d, V_g = J^2 V_d with df = n - 1.

    Example (Borenstein et al. 2009, section 4.5):
        >>> e = paired_hedges_g_from_summary(5.0, 10.0, 50, 0.5)
        >>> round(e.d, 4), round(e.variance / small_sample_correction(49) ** 2, 4)
        (0.5, 0.0225)
    """
    s_within = sd_difference / math.sqrt(2 * (1 - correlation))
    if s_within == 0:
        return EffectSize(math.nan, math.nan, math.nan, math.nan, math.nan)
    d = mean_difference / s_within
    variance_d = (1 / n + d * d / (2 * n)) * 2 * (1 - correlation)
    return _effect(d, variance_d, n - 1, level)


def paired_hedges_g(
    treatment: Sequence[float] | np.ndarray,
    reference: Sequence[float] | np.ndarray,
    level: float = 0.95,
) -> EffectSize:
    """Hedges' g of paired replications, standardised by the within-scenario SD (see `PAIRED_G`).

    S_within = sqrt((S_t^2 + S_r^2) / 2) from the two arms' SDs (equal n), r their correlation
    (0 when an arm does not vary: their covariance is then exactly 0), and the variance as in
    :func:`paired_hedges_g_from_summary`. NaN when neither arm varies.
    """
    t = _as_array(treatment)
    r = _as_array(reference)
    keep = ~(np.isnan(t) | np.isnan(r))
    t, r = t[keep], r[keep]
    n = t.size
    if n < 2:
        return EffectSize(math.nan, math.nan, math.nan, math.nan, math.nan)
    sd_t, sd_r = float(t.std(ddof=1)), float(r.std(ddof=1))
    s_within = math.sqrt((sd_t**2 + sd_r**2) / 2)
    if s_within == 0:
        return EffectSize(math.nan, math.nan, math.nan, math.nan, math.nan)
    correlation = 0.0 if sd_t == 0 or sd_r == 0 else float(np.corrcoef(t, r)[0, 1])
    d = float((t - r).mean()) / s_within
    variance_d = (1 / n + d * d / (2 * n)) * 2 * (1 - correlation)
    return _effect(d, variance_d, n - 1, level)


def paired_t_test(
    treatment: Sequence[float] | np.ndarray, reference: Sequence[float] | np.ndarray
) -> float:
    """Two-sided p-value of the paired t-test (`scipy.stats.ttest_rel`); NaN if undefined.

    Undefined when there are fewer than two pairs or every difference is the same. Computed as
    `ttest_rel` computes it (its steps, in its order; tests check it to 1e-12) with
    `scipy.special.stdtr`, so a comparison does not import scipy.stats (about a second).

    Example:
        >>> round(paired_t_test([2.0, 3.5, 4.0, 5.5], [1.0, 1.5, 3.0, 2.0]), 4)
        0.0503
    """
    t = _as_array(treatment)
    r = _as_array(reference)
    keep = ~(np.isnan(t) | np.isnan(r))
    t, r = t[keep], r[keep]
    differences = t - r
    if t.size < 2 or np.all(differences == differences[0]):
        return math.nan
    from scipy.special import stdtr

    n = differences.size
    mean = differences.mean()
    variance = ((differences - mean) ** 2).mean() * (n / (n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):  # near-constant differences
        statistic = mean / np.sqrt(variance / n)
    return float(2 * stdtr(n - 1, -np.abs(statistic)))


def intraclass_correlation(
    frame: pd.DataFrame, outcome: str, group: str, covariate: str | None = None
) -> float:
    """ICC(1) of `outcome` between groups, optionally adjusted for a covariate (e.g. pre-test).

    The one-way ANOVA estimator for unequal group sizes, `(MSB - MSW) / (MSB + (k0 - 1) MSW)`
    with `k0 = (N - sum(n_i^2) / N) / (g - 1)`, on the residuals of an OLS fit of `outcome` on
    `covariate` when given. Rows with a missing outcome or covariate are left out (available
    cases). Can be slightly negative by sampling error when the true ICC is near 0.

    Example:
        >>> data = pd.DataFrame({"g": [0, 0, 1, 1, 2, 2], "y": [1.0, 1.2, 2.0, 2.2, 3.0, 3.1]})
        >>> round(float(intraclass_correlation(data, "y", "g")), 3)
        0.984
    """
    columns = [outcome, group] + ([covariate] if covariate else [])
    data = frame[columns].dropna()
    y = data[outcome].to_numpy(dtype=float)
    if covariate:
        design = np.column_stack([np.ones(len(data)), data[covariate].to_numpy(dtype=float)])
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        y = y - design @ coef
    labels = data[group].to_numpy()
    _, index, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    groups, total = len(sizes), len(y)
    means = np.bincount(index, y) / sizes
    between = float((sizes * (means - y.mean()) ** 2).sum() / (groups - 1))
    within = float(((y - means[index]) ** 2).sum() / (total - groups))
    k0 = (total - (sizes**2).sum() / total) / (groups - 1)
    return float((between - within) / (between + (k0 - 1.0) * within))


@dataclass(frozen=True)
class ClientLevelEffect:
    """A treatment's effect on clients, standardised by the client-level SD (`CLIENT_LEVEL_D`).

    Attributes:
        difference: mean over replications of the paired difference in arm means.
        sd: pooled client-level SD of the two arms.
        d: Cohen's d; `d_low`, `d_high` its 95% CI over replications.
        g: Hedges' g (J d); `g_low`, `g_high` its 95% CI.
        n_treatment: client-runs of the treatment with a value.
        n_control: client-runs of the control with a value.
        replications: replications in which both arms have a value.
    """

    difference: float
    sd: float
    d: float
    d_low: float
    d_high: float
    g: float
    g_low: float
    g_high: float
    n_treatment: int
    n_control: int
    replications: int


def client_level_effect(
    treatment: pd.DataFrame,
    control: pd.DataFrame,
    outcome: str,
    by: str = "replication",
    level: float = 0.95,
) -> ClientLevelEffect:
    """Cohen's d and Hedges' g of client-level `outcome`, paired by `by` (see `CLIENT_LEVEL_D`).

    Rows with a missing `outcome` are left out (available cases). NaN where it is undefined
    (fewer than two client-runs in an arm, or no spread).

    Example:
        >>> t = pd.DataFrame({"replication": [0, 0, 1, 1], "y": [3.0, 5.0, 4.0, 6.0]})
        >>> c = pd.DataFrame({"replication": [0, 0, 1, 1], "y": [1.0, 3.0, 3.0, 5.0]})
        >>> e = client_level_effect(t, c, "y")
        >>> e.difference, round(e.sd, 4), round(e.d, 4), round(e.g, 4)
        (1.5, 1.472, 1.019, 0.8861)
    """
    t = treatment[[by, outcome]].dropna()
    c = control[[by, outcome]].dropna()
    differences = (t.groupby(by)[outcome].mean() - c.groupby(by)[outcome].mean()).dropna()
    n_t, n_c = len(t), len(c)
    nan = math.nan
    if n_t < 2 or n_c < 2 or differences.empty:
        return ClientLevelEffect(nan, nan, nan, nan, nan, nan, nan, nan, n_t, n_c, 0)
    df = n_t + n_c - 2
    variance_t, variance_c = float(t[outcome].var(ddof=1)), float(c[outcome].var(ddof=1))
    sd = math.sqrt(((n_t - 1) * variance_t + (n_c - 1) * variance_c) / df)
    difference = mean_ci(differences.to_numpy(), level)
    if sd == 0:
        return ClientLevelEffect(
            difference.value, sd, nan, nan, nan, nan, nan, nan, n_t, n_c, len(differences)
        )
    j = small_sample_correction(df)
    d, d_low, d_high = (difference.value / sd, difference.low / sd, difference.high / sd)
    return ClientLevelEffect(
        difference=difference.value,
        sd=sd,
        d=d,
        d_low=d_low,
        d_high=d_high,
        g=j * d,
        g_low=j * d_low,
        g_high=j * d_high,
        n_treatment=n_t,
        n_control=n_c,
        replications=len(differences),
    )


# Added for the power analysis' clustering table (kept at the end of the module).
__all__ += ["intraclass_correlation_ci"]


def intraclass_correlation_ci(
    frame: pd.DataFrame,
    outcome: str,
    group: str,
    covariate: str | None = None,
    resamples: int = 400,
    seed: int = 0,
    level: float = 0.95,
) -> Estimate:
    """ICC(1) (see `intraclass_correlation`) with a percentile bootstrap CI over groups.

    Whole groups are resampled with replacement (a group drawn twice counts as two groups),
    as clients of one group are not independent (Field & Welsh 2007, the cluster bootstrap).

    Example:
        >>> rng = np.random.default_rng(1)  # true ICC 0.5
        >>> g = np.repeat(np.arange(40), 6)
        >>> y = rng.normal(0, 1, 40)[g] + rng.normal(0, 1, 240)
        >>> est = intraclass_correlation_ci(pd.DataFrame({"g": g, "y": y}), "y", "g", seed=1)
        >>> round(est.value, 2), round(est.low, 2), round(est.high, 2)
        (0.52, 0.34, 0.66)
    """
    labels = frame[group].to_numpy()
    names, index = np.unique(labels, return_inverse=True)
    rows_of = [np.flatnonzero(index == i) for i in range(len(names))]
    rng = np.random.default_rng(seed)
    estimates = []
    for _ in range(resamples):
        drawn = rng.integers(0, len(names), len(names))
        rows = np.concatenate([rows_of[i] for i in drawn])
        relabel = np.concatenate([np.full(len(rows_of[i]), j) for j, i in enumerate(drawn)])
        sample = frame.iloc[rows].assign(**{group: relabel})
        estimates.append(intraclass_correlation(sample, outcome, group, covariate))
    tail = (1.0 - level) / 2.0
    low, high = np.nanquantile(estimates, [tail, 1.0 - tail])
    value = intraclass_correlation(frame, outcome, group, covariate)
    return Estimate(value=float(value), low=float(low), high=float(high))
