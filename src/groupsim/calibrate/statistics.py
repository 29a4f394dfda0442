"""Summary statistics of a study arm: the same definitions for field data and simulations.

A calibration matches these numbers: the arm's mean and SD of the scale totals at each
occasion, its mean gain (post minus pre, follow-up minus pre), the client-level effect size
d_z (mean change over the SD of change, among clients measured twice) and the share who
improved reliably (Jacobson & Truax 1991: a change beyond ``1.96 * sqrt(2) * SEM``).
Published summaries give the first few; individual pilot data gives all of them.

Example:
    >>> from groupsim.scenario.instrument import default_instrument
    >>> stats = arm_statistics([90, 100, 110], [100, 115, 118], None, default_instrument())
    >>> stats["pre_mean"], stats["gain"]
    (100.0, 11.0)
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from groupsim.model.measures import QuestionnaireModel
from groupsim.scenario.instrument import Instrument

__all__ = ["STATISTICS", "arm_statistics", "reliable_change_threshold", "summary_statistics"]

#: Every statistic a target may name, with what it means.
STATISTICS = {
    "pre_mean": "mean total at the pre-test",
    "post_mean": "mean total at the post-test",
    "followup_mean": "mean total at the follow-up",
    "pre_sd": "SD of the totals at the pre-test",
    "post_sd": "SD of the totals at the post-test",
    "followup_sd": "SD of the totals at the follow-up",
    "gain": "mean post-test minus mean pre-test",
    "followup_gain": "mean follow-up minus mean pre-test",
    "effect_size": "client-level d_z: mean change / SD of change (pre to post)",
    "improved_share": "share of clients who improved reliably (pre to post)",
}


def reliable_change_threshold(instrument: Instrument, pre_mean: float) -> float:
    """The smallest reliable change of a total on `instrument` (Jacobson & Truax 1991).

    ``1.96 * sqrt(2) * SEM`` with the graded response model's standard error of measurement
    at the arm's pre-test mean (the same measurement model the simulation uses).
    """
    return _threshold(instrument.items, instrument.lowest, instrument.highest, round(pre_mean, 1))


@cache
def _threshold(items: int, lowest: int, highest: int, pre_mean: float) -> float:
    model = QuestionnaireModel.from_instrument(
        Instrument(items=items, lowest=lowest, highest=highest)
    )
    latent = model.latent_for_total(pre_mean)
    return float(1.96 * np.sqrt(2.0) * model.standard_error([latent])[0])


def _mean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if len(finite) else float("nan")


def _sd(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.std(ddof=1)) if len(finite) > 1 else float("nan")


def arm_statistics(
    pre: ArrayLike, post: ArrayLike, followup: ArrayLike | None, instrument: Instrument
) -> dict[str, float]:
    """Every statistic of `STATISTICS` from one arm's client totals (NaN: missing)."""
    occasions = {
        "pre": np.asarray(pre, dtype=float),
        "post": np.asarray(post, dtype=float),
        "followup": np.full(len(np.asarray(pre)), np.nan)
        if followup is None
        else np.asarray(followup, dtype=float),
    }
    stats: dict[str, float] = {}
    for occasion, values in occasions.items():
        stats[f"{occasion}_mean"] = _mean(values)
        stats[f"{occasion}_sd"] = _sd(values)
    stats["gain"] = stats["post_mean"] - stats["pre_mean"]
    stats["followup_gain"] = stats["followup_mean"] - stats["pre_mean"]
    change = occasions["post"] - occasions["pre"]
    change = change[np.isfinite(change)]
    spread = float(change.std(ddof=1)) if len(change) > 1 else float("nan")
    stats["effect_size"] = float(change.mean()) / spread if spread > 0 else float("nan")
    if len(change) and np.isfinite(stats["pre_mean"]):
        threshold = reliable_change_threshold(instrument, stats["pre_mean"])
        stats["improved_share"] = float((change > threshold).mean())
    else:
        stats["improved_share"] = float("nan")
    return stats


def summary_statistics(row: pd.Series) -> dict[str, float]:
    """The statistics a published summary row reports (NaN where it does not)."""
    stats = {f"{o}_{s}": float(row[f"{o}_{s}"]) for o in ("pre", "post", "followup")
             for s in ("mean", "sd")}  # fmt: skip
    stats["gain"] = stats["post_mean"] - stats["pre_mean"]
    stats["followup_gain"] = stats["followup_mean"] - stats["pre_mean"]
    stats["effect_size"] = float(row["effect_size"]) if row["effect_kind"] == "d_z" else np.nan
    stats["improved_share"] = float("nan")
    return stats
