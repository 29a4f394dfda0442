"""The analyses of one simulated field study, as a field researcher would run them.

- :func:`ancova_treatment_test`: ANCOVA of post-test on pre-test with treatment as factor
  (ordinary least squares in numpy: it runs once per simulated study, thousands of times per
  power analysis; tests check it against statsmodels);
- :func:`welch_gain_test`: Welch's t-test on gain scores;
- :func:`paired_gain_test`: the paired t-test of the seed's one-group pre/post design;
- :func:`mixed_model_treatment_test`: the linear mixed model of post-test on pre-test and
  treatment with a random intercept per group (statsmodels MixedLM, REML), the primary test of
  a study whose clients are nested in groups once it has enough groups;
- :func:`cluster_residual_test`: the covariate-adjusted cluster-level analysis (two stages:
  clients' residuals from post-test on pre-test, then a t-test on the groups' mean residuals),
  the primary test of a study with few groups, where the mixed model's small-sample t-test
  does not keep its level.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

__all__ = [
    "MIXED_STATUSES",
    "AncovaResult",
    "MixedModelResult",
    "ancova_treatment_test",
    "cluster_residual_test",
    "mixed_model_treatment_test",
    "paired_gain_test",
    "satterthwaite_df",
    "welch_gain_test",
]

#: What became of a mixed-model fit: `fitted`, `boundary` (fitted, the group variance
#: estimated at 0: the model is then the client-level ANCOVA, tested on the groups' degrees of
#: freedom), `not converged` and `singular` (no p-value; the study says so).
MIXED_STATUSES = ("fitted", "boundary", "not converged", "singular")


@dataclass(frozen=True)
class AncovaResult:
    """The treatment coefficient of `post ~ 1 + pre + treatment` and its t-test.

    Attributes:
        effect: adjusted mean difference treatment - control (questionnaire points).
        standard_error: its OLS standard error.
        t: effect / standard_error.
        df: residual degrees of freedom (n - 3).
        p: two-sided p-value from Student's t with `df` degrees of freedom.
    """

    effect: float
    standard_error: float
    t: float
    df: int
    p: float


def ancova_treatment_test(pre: Any, post: Any, treated: Any) -> AncovaResult:
    """ANCOVA by ordinary least squares: post on pre with a treatment indicator.

    Args:
        pre: pre-test totals, one per client (both arms).
        post: post-test totals, same order.
        treated: True (or 1) for clients of the treatment arm.

    Example:
        >>> r = ancova_treatment_test([1, 2, 3, 1, 2, 3], [2, 4, 5, 1, 2, 4], [1, 1, 1, 0, 0, 0])
        >>> round(r.effect, 4), r.df
        (1.3333, 3)
    """
    pre = np.asarray(pre, dtype=float)
    post = np.asarray(post, dtype=float)
    treated = np.asarray(treated, dtype=float)
    design = np.column_stack([np.ones_like(pre), pre, treated])
    df = len(post) - design.shape[1]
    if df < 1:
        raise ValueError(f"ANCOVA needs at least 4 clients (got {len(post)})")
    coef, *_ = np.linalg.lstsq(design, post, rcond=None)
    residuals = post - design @ coef
    sigma2 = residuals @ residuals / df
    covariance = sigma2 * np.linalg.pinv(design.T @ design)
    se = float(np.sqrt(covariance[2, 2]))
    effect = float(coef[2])
    t = effect / se if se > 0 else (0.0 if effect == 0 else np.copysign(np.inf, effect))
    p = float(2.0 * stats.t.sf(abs(t), df))
    return AncovaResult(effect=effect, standard_error=se, t=float(t), df=int(df), p=p)


def cluster_residual_test(pre: Any, post: Any, treated: Any, group: Any) -> AncovaResult:
    """Covariate-adjusted cluster-level analysis: a t-test on the groups' mean residuals.

    Stage 1 regresses post-test on pre-test over all clients, ignoring treatment (so the
    adjustment cannot borrow from the effect under test); stage 2 compares the groups' mean
    residuals between the arms by Student's t-test on groups - 2 degrees of freedom, every
    group weighing the same: the covariate-adjusted cluster-level analysis of Hayes & Moulton
    (*Cluster Randomised Trials*, 2nd ed. 2017) and Gail et al. (1996, Stat Med 15:1069). The
    group is the unit, so the test
    keeps its level with as few as 2 groups per arm, where the mixed model's does not
    (docs/power.md, "The primary test's level").

    Args:
        pre: pre-test totals, one per client (both arms; clients with a post-test only).
        post: post-test totals, same order.
        treated: True (or 1) for clients of the treatment arm (constant within a group).
        group: each client's group label.

    Returns:
        effect: difference of the arms' mean group residuals (points); df: groups - 2.

    Example:
        >>> r = cluster_residual_test([1, 2, 1, 2, 1, 2, 1, 2], [2, 3, 3, 4, 1, 2, 1, 3],
        ...                           [1, 1, 1, 1, 0, 0, 0, 0], [0, 0, 1, 1, 2, 2, 3, 3])
        >>> round(r.effect, 2), r.df
        (1.25, 2)
    """
    pre, post = np.asarray(pre, dtype=float), np.asarray(post, dtype=float)
    treated = np.asarray(treated, dtype=float)
    labels = np.unique(np.asarray(group), return_inverse=True)[1]
    design = np.column_stack([np.ones_like(pre), pre])
    coef, *_ = np.linalg.lstsq(design, post, rcond=None)
    sizes = np.bincount(labels)
    residual = np.bincount(labels, post - design @ coef) / sizes
    arm = np.bincount(labels, treated) / sizes > 0.5
    df = len(sizes) - 2
    if df < 1 or arm.all() or not arm.any():
        raise ValueError(f"the cluster-level test needs 2 groups per arm (got {len(sizes)})")
    first, second = residual[arm], residual[~arm]
    effect = float(first.mean() - second.mean())
    pooled = (((first - first.mean()) ** 2).sum() + ((second - second.mean()) ** 2).sum()) / df
    se = float(np.sqrt(pooled * (1 / len(first) + 1 / len(second))))
    t = effect / se if se > 0 else (0.0 if effect == 0 else float(np.copysign(np.inf, effect)))
    p = float(2.0 * stats.t.sf(abs(t), df))
    return AncovaResult(effect=effect, standard_error=se, t=float(t), df=int(df), p=p)


def welch_gain_test(pre: Any, post: Any, treated: Any) -> float:
    """Two-sided p of Welch's t-test comparing the arms' gains (post - pre)."""
    gain = np.asarray(post, dtype=float) - np.asarray(pre, dtype=float)
    treated = np.asarray(treated, dtype=bool)
    result = stats.ttest_ind(gain[treated], gain[~treated], equal_var=False)
    return float(result.pvalue) if np.isfinite(result.pvalue) else 1.0


def paired_gain_test(pre: Any, post: Any) -> float:
    """Two-sided p of the paired t-test post vs pre (the seed's one-group design).

    Every client gaining the same (possible in a small group with integer totals): t is
    infinite, p 0 (1 when that gain is zero); said here rather than left to scipy, which
    warns of precision loss on such data.
    """
    post, pre = np.asarray(post, dtype=float), np.asarray(pre, dtype=float)
    gain = post - pre
    if len(gain) > 1 and np.all(gain == gain[0]):
        return 0.0 if gain[0] != 0 else 1.0
    result = stats.ttest_rel(post, pre)
    return float(result.pvalue) if np.isfinite(result.pvalue) else 1.0


@dataclass(frozen=True)
class MixedModelResult:
    """The treatment coefficient of the random-intercept model and its t-test.

    Attributes:
        effect: adjusted mean difference treatment - control (questionnaire points).
        standard_error: its REML standard error.
        df: Satterthwaite's degrees of freedom of the treatment coefficient.
        p: two-sided p-value from Student's t with `df` degrees of freedom (NaN if not fitted).
        group_variance: the random intercepts' variance (points squared).
        residual_variance: the clients' residual variance (points squared).
        icc: group_variance / (group_variance + residual_variance), given the pre-test.
        status: one of `MIXED_STATUSES`.
    """

    effect: float
    standard_error: float
    df: float
    p: float
    group_variance: float
    residual_variance: float
    icc: float
    status: str


def _gls_pieces(design: np.ndarray, y: np.ndarray, labels: np.ndarray, tau2: float, sigma2: float):
    """X'V^-1 X, X'V^-1 y, y'V^-1 y and log|V| of the random-intercept model, group-wise.

    V is block-diagonal, V_g = sigma2 I + tau2 11', so V_g^-1 = (I - w_g 11') / sigma2 with
    w_g = tau2 / (sigma2 + n_g tau2) and log|V_g| = n_g log sigma2 + log(1 + n_g tau2 / sigma2).
    """
    sizes = np.bincount(labels)
    weights = tau2 / (sigma2 + sizes * tau2)
    sum_x = np.zeros((len(sizes), design.shape[1]))
    np.add.at(sum_x, labels, design)
    sum_y = np.bincount(labels, y)
    xvx = (design.T @ design - (sum_x.T * weights) @ sum_x) / sigma2
    xvy = (design.T @ y - (sum_x.T * weights) @ sum_y) / sigma2
    yvy = (y @ y - (weights * sum_y**2).sum()) / sigma2
    log_det = len(y) * np.log(sigma2) + np.log1p(sizes * tau2 / sigma2).sum()
    return xvx, xvy, yvy, log_det


def _reml_loglike(design, y, labels, theta: np.ndarray) -> float:
    """The REML log-likelihood (up to a constant) at theta = (tau2, sigma2)."""
    xvx, xvy, yvy, log_det = _gls_pieces(design, y, labels, *theta)
    beta = np.linalg.solve(xvx, xvy)
    return float(-0.5 * (log_det + np.linalg.slogdet(xvx)[1] + yvy - xvy @ beta))


def _effect_variance(design, y, labels, theta: np.ndarray) -> float:
    return float(np.linalg.inv(_gls_pieces(design, y, labels, *theta)[0])[2, 2])


def satterthwaite_df(design, y, labels, tau2: float, sigma2: float) -> float:
    """Satterthwaite's degrees of freedom for the treatment coefficient (as lmerTest's).

    df = 2 Var(b)^2 / (g' C g), g the gradient of Var(b) in (tau2, sigma2) and C the inverse
    of the REML information, both by central differences. With the group variance on the
    boundary (tau2 = 0) only sigma2 is free. Clipped to [1, n - 3].
    """
    labels = np.asarray(labels)
    theta = np.array([tau2, sigma2])
    free = [1] if tau2 <= 1e-8 * sigma2 else [0, 1]
    steps = 1e-4 * np.maximum(theta, 1e-3 * sigma2)

    def shifted(i: int, h: float) -> np.ndarray:
        moved = theta.copy()
        moved[i] += h
        return moved

    variance = _effect_variance(design, y, labels, theta)
    gradient = np.array(
        [
            (
                _effect_variance(design, y, labels, shifted(i, steps[i]))
                - _effect_variance(design, y, labels, shifted(i, -steps[i]))
            )
            / (2 * steps[i])
            for i in free
        ]
    )
    hessian = np.empty((len(free), len(free)))
    for a, i in enumerate(free):
        for b, j in enumerate(free):
            corners = [
                _reml_loglike(
                    design, y, labels, shifted_both(theta, i, si * steps[i], j, sj * steps[j])
                )
                for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1))
            ]
            hessian[a, b] = (corners[0] - corners[1] - corners[2] + corners[3]) / (
                4 * steps[i] * steps[j]
            )
    spread = float(gradient @ np.linalg.solve(-hessian, gradient))
    df = 2 * variance**2 / spread if spread > 0 else np.inf
    return float(np.clip(df, 1.0, len(y) - 3))


def shifted_both(theta: np.ndarray, i: int, hi: float, j: int, hj: float) -> np.ndarray:
    """Theta with hi added to component i and hj to component j (i == j: both to it)."""
    moved = theta.copy()
    moved[i] += hi
    moved[j] += hj
    return moved


def _not_fitted(status: str, df: float) -> MixedModelResult:
    nan = float("nan")
    return MixedModelResult(nan, nan, df, nan, nan, nan, nan, status)


def mixed_model_treatment_test(pre: Any, post: Any, treated: Any, group: Any) -> MixedModelResult:
    """Linear mixed model `post ~ 1 + pre + treatment + (1 | group)`, REML, t-test of treatment.

    Fitted by `statsmodels.regression.mixed_linear_model.MixedLM` on standardised totals
    (the effect is scaled back to points; standardising changes no test), with Powell's
    derivative-free optimiser started at the OLS coefficients: statsmodels' gradient
    optimisers (its default and `lbfgs`) fail or stop at a singular point on these data.
    Treatment is constant within a group, so with few groups the Wald z statsmodels prints
    is liberal and the between-within degrees of freedom (groups - 2) far too conservative
    (no rejection in 300 null datasets of 2 groups per arm); the t-test uses Satterthwaite's
    degrees of freedom (`satterthwaite_df`, as R's lmerTest does), which keeps the level
    (tests/test_power.py).

    Args:
        pre: pre-test totals, one per client (both arms; clients with a post-test only).
        post: post-test totals, same order.
        treated: True (or 1) for clients of the treatment arm.
        group: each client's group label.

    Example:
        >>> rng = np.random.default_rng(1)
        >>> group = np.repeat(np.arange(8), 9)
        >>> pre = rng.normal(80, 10, 72)
        >>> post = 10 + 0.8 * pre + 5 * (group < 4) + rng.normal(0, 3, 8)[group]
        >>> post = post + rng.normal(0, 6, 72)
        >>> r = mixed_model_treatment_test(pre, post, group < 4, group)
        >>> r.status, round(r.df), bool(r.p < 0.05)
        ('fitted', 6, True)
    """
    from statsmodels.regression.mixed_linear_model import MixedLM, MixedLMParams
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    pre, post = np.asarray(pre, dtype=float), np.asarray(post, dtype=float)
    treated = np.asarray(treated, dtype=float)
    labels = np.unique(np.asarray(group), return_inverse=True)[1]
    df = float(labels.max() + 1 - 2) if len(labels) else 0.0
    if df < 1 or len(post) < 5:
        return _not_fitted("singular", df)
    scale = post.std() or 1.0
    spread = pre.std() or 1.0
    y = (post - post.mean()) / scale
    design = np.column_stack([np.ones_like(pre), (pre - pre.mean()) / spread, treated])
    start, *_ = np.linalg.lstsq(design, y, rcond=None)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            fit = MixedLM(y, design, groups=labels).fit(
                reml=True,
                method="powell",
                start_params=MixedLMParams.from_components(start, cov_re=np.array([[0.1]])),
            )
    except (np.linalg.LinAlgError, ValueError):
        return _not_fitted("singular", df)
    if not fit.converged:
        return _not_fitted("not converged", df)
    # The variance parameters' SEs (unused) can be NaN on the boundary: no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        se = float(fit.bse_fe[2]) * scale
    tau2 = float(np.asarray(fit.cov_re)[0, 0]) * scale**2
    sigma2 = float(fit.scale) * scale**2
    effect = float(fit.fe_params[2]) * scale
    if not (np.isfinite(se) and se > 0):
        return _not_fitted("singular", df)
    df = satterthwaite_df(design, y, labels, tau2 / scale**2, sigma2 / scale**2)
    p = float(2.0 * stats.t.sf(abs(effect / se), df))
    status = "boundary" if tau2 <= 1e-6 * sigma2 else "fitted"
    icc = tau2 / (tau2 + sigma2)
    return MixedModelResult(effect, se, df, p, tau2, sigma2, icc, status)
