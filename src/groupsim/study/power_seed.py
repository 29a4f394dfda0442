"""The seed's own design in a power analysis: one group, pre/post, no control, paired t-test.

Its power, and how far its gain overstates the true effect, split into campus life and
regression to the mean (:func:`seed_design_bias`); `groupsim.study.power.power` runs it beside
the field studies and re-exports it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from groupsim.study.analyses import paired_gain_test
from groupsim.study.stats import wilson_interval

__all__ = ["SCREENING_OPTIONS", "seed_design_bias"]

#: The screening options the seed design is run under (`group.screening`).
SCREENING_OPTIONS = ("separate", "pretest")


def _answered(run: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """A run's pre- and post-test totals of the clients who answered the post-test."""
    kept = ~np.isnan(run["post"])
    return run["pre"][kept], run["post"][kept]


def _mean_gain(pre: np.ndarray, post: np.ndarray) -> float:
    """Mean post - pre (NaN when no client answered)."""
    return float((post - pre).mean()) if len(pre) else float("nan")


def seed_design_bias(
    treatment_runs: Mapping[str, Sequence[dict]],
    control_runs: Mapping[str, Sequence[dict]],
    alpha: float,
) -> pd.DataFrame:
    """The one-group pre/post design's power and bias, a row per screening option.

    `treatment_runs[s][j]` and `control_runs[s][j]` are runs with the same seed (the same
    cohort and clients, common random numbers) under `group.screening = s`. Gains are mean
    post - pre totals (questionnaire points), averaged over runs:

    - one-group gain = the treatment group's gain, what the seed's design reports;
    - true effect = treatment gain - control gain (the program's own contribution);
    - campus life = the control gain under separate screening;
    - regression to the mean = control gain under pretest screening - under separate; of it,
      `rtm_selection_on_noise` (expected minus observed screening totals of the chosen
      clients) and `rtm_baseline_change` (real change of their expected totals over the
      baseline weeks, which the pre-test then no longer waits for); the rest is item noise.

    Runs need `expected_screening` and `expected_pre` (see `group_totals`) for the split.

    So one-group gain = true effect + campus life (+ regression to the mean under `pretest`).
    """

    def gains(runs: Sequence[dict]) -> np.ndarray:
        # Paired over the clients who answered the post-test (available cases).
        return np.array([_mean_gain(*_answered(r)) for r in runs])

    def rejections(runs: Sequence[dict]) -> int:
        return sum(paired_gain_test(*_answered(r)) < alpha for r in runs)

    campus_life = float(gains(control_runs["separate"]).mean())
    # Screening on the pre-test moves the pre-test from the end of the baseline weeks to
    # screening: its extra gain is selection on item noise (the screened clients' observed
    # totals lie below their expected totals) plus the real change over the baseline weeks.
    pretest_controls = control_runs["pretest"]
    selection_on_noise = float(
        np.mean([np.mean(r["expected_screening"] - r["screening"]) for r in pretest_controls])
    )
    baseline_change = float(
        np.mean([np.mean(r["expected_pre"] - r["expected_screening"]) for r in pretest_controls])
    )
    rows = []
    for screening in SCREENING_OPTIONS:
        treated = gains(treatment_runs[screening])
        control = gains(control_runs[screening])
        n = len(treated)
        hits = rejections(treatment_runs[screening])
        false_hits = rejections(control_runs[screening])
        low, high = wilson_interval(hits, n)
        false_low, false_high = wilson_interval(false_hits, n)
        true_effect = float((treated - control).mean())
        one_group = float(treated.mean())
        rows.append(
            {
                "screening": screening,
                "runs": n,
                "one_group_gain": one_group,
                "true_effect": true_effect,
                "true_effect_se": float((treated - control).std(ddof=1) / np.sqrt(n))
                if n > 1
                else float("nan"),
                "campus_life": campus_life,
                "regression_to_mean": float(control.mean()) - campus_life,
                "rtm_selection_on_noise": selection_on_noise if screening == "pretest" else 0.0,
                "rtm_baseline_change": baseline_change if screening == "pretest" else 0.0,
                "overstatement": one_group - true_effect,
                "overstatement_share": (one_group - true_effect) / true_effect
                if true_effect
                else float("nan"),
                "power_paired": hits / n,
                "power_ci_low": low,
                "power_ci_high": high,
                "no_program_rejection": false_hits / n,
                "no_program_ci_low": false_low,
                "no_program_ci_high": false_high,
            }
        )
    return pd.DataFrame(rows)
