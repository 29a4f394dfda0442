"""The analyses of one simulated field study, as a field researcher would run them.

- :func:`ancova_treatment_test`: ANCOVA of post-test on pre-test with treatment as factor
  (ordinary least squares in numpy: it runs once per simulated study, thousands of times per
  power analysis; tests check it against statsmodels);
- :func:`welch_gain_test`: Welch's t-test on gain scores;
- :func:`paired_gain_test`: the paired t-test of the seed's one-group pre/post design.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

__all__ = ["AncovaResult", "ancova_treatment_test", "paired_gain_test", "welch_gain_test"]


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
