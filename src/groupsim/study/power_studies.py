"""The simulated field studies of a power analysis, their tests, and the table per design.

A study of the design (k groups per arm, m clients per group) takes k runs of each arm's pool
(runs of the arm's scenario with `group.clients = m`). Its clients are analysed by:

- the linear mixed model with a random intercept per group
  (:func:`groupsim.study.analyses.mixed_model_treatment_test`), on the available cases;
- the covariate-adjusted cluster-level analysis
  (:func:`groupsim.study.analyses.cluster_residual_test`), groups as the unit;
- the primary test, one of these two by the design's groups per arm (`primary_test`): the
  mixed model from `MIXED_MIN_GROUPS` groups per arm, the cluster-level analysis below, where
  the mixed model's small-sample t-test rejects a true null too often (measured, see
  docs/power.md);
- the fast check, the ANCOVA on group means (groups as the unit);
- for comparison only, the client-level ANCOVA and Welch's test on gains, which treat the
  clients of one group as independent and so reject a true null too often (liberal).

The ICC and design effect are estimated from the pools (:func:`clustering_table`), and the
design-effect formula's power (:func:`formula_power`) is set beside the simulated power, and
at other ICCs (:mod:`groupsim.study.power_sensitivity`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from groupsim.runs.execute import map_tasks
from groupsim.study.analyses import (
    ancova_treatment_test,
    cluster_residual_test,
    mixed_model_treatment_test,
    welch_gain_test,
)
from groupsim.study.stats import intraclass_correlation_ci, wilson_interval

if TYPE_CHECKING:
    from groupsim.runs.backends import Backend

__all__ = [
    "MIXED_MIN_GROUPS",
    "TESTS",
    "analyse_pools",
    "analyse_study",
    "analysed",
    "clustering_table",
    "field_studies",
    "formula_power",
    "null_blocks",
    "null_studies",
    "pool_frame",
    "power_table",
    "primary_test",
    "recommend",
    "rejection_rate",
    "study_blocks",
    "with_formula_power",
]

#: Short names of the field-study tests (columns `p_<name>`, `power_<name>`, `null_<name>`);
#: `primary` is the mixed model or the cluster-level analysis, by design (`primary_test`).
TESTS = ("primary", "mixed", "cluster", "ancova_group_means", "ancova", "welch_gain")

#: Groups per arm from which the mixed model is the primary test. With fewer, its
#: Satterthwaite t-test rejects a true null too often (home room vs itself, 2 groups per arm:
#: 0.08-0.09 of 400-1600 studies), while the cluster-level analysis keeps alpha; see
#: docs/power.md, "The primary test's level", and experiments/power_null_calibration.py.
MIXED_MIN_GROUPS = 4


def primary_test(groups_per_arm: int) -> str:
    """The primary test of a design with `groups_per_arm` groups: `mixed` or `cluster`.

    The mixed model from `MIXED_MIN_GROUPS` groups per arm, else the covariate-adjusted
    cluster-level analysis.
    """
    return "mixed" if groups_per_arm >= MIXED_MIN_GROUPS else "cluster"


def _stack(runs: Sequence[dict], arm: int) -> pd.DataFrame:
    """The runs' clients in one frame: pre, post, treated, group (a run is a group)."""
    return pd.DataFrame(
        {
            "pre": np.concatenate([r["pre"] for r in runs]),
            "post": np.concatenate([r["post"] for r in runs]),
            "treated": arm,
            "group": np.concatenate([np.full(len(r["pre"]), i) for i, r in enumerate(runs)]),
        }
    )


def analyse_study(arms: tuple[Sequence[dict], Sequence[dict]]) -> dict[str, Any]:
    """Every test of one study (treatment runs, control runs); module-level for process pools.

    Available cases: a client without a post-test (not answered, often after dropping out)
    is left out of every test, as a field study's available-case analysis would; the mixed
    model so uses every answered post-test of every group.
    """
    treatment_runs, control_runs = arms
    treated = _stack(treatment_runs, 1)
    control = _stack(control_runs, 0)
    control["group"] += len(treatment_runs)
    enrolled = pd.concat([treated, control], ignore_index=True)
    data = enrolled.dropna(subset=["post"])
    pre, post = data["pre"].to_numpy(), data["post"].to_numpy()
    is_treated = data["treated"].to_numpy(dtype=bool)
    group = data["group"].to_numpy()
    mixed = mixed_model_treatment_test(pre, post, is_treated, group)
    try:
        cluster = cluster_residual_test(pre, post, is_treated, group).p
    except ValueError:  # fewer than 2 groups per arm answered
        cluster = float("nan")
    primary = primary_test(len(treatment_runs))
    ancova = ancova_treatment_test(pre, post, is_treated)
    means = data.groupby("group")[["pre", "post", "treated"]].mean()
    # Groups as the unit: valid from 2 groups per arm (2k - 3 degrees of freedom).
    by_group = (
        ancova_treatment_test(means["pre"], means["post"], means["treated"]).p
        if len(means) >= 4
        else float("nan")
    )
    return {
        "clients_per_arm": len(treated),
        "missing_post": float(enrolled["post"].isna().mean()),
        "effect": mixed.effect,
        "effect_ancova": ancova.effect,
        "mixed_status": mixed.status,
        "mixed_icc": mixed.icc,
        "primary_test": primary,
        "p_primary": mixed.p if primary == "mixed" else cluster,
        "p_mixed": mixed.p,
        "p_cluster": cluster,
        "p_ancova_group_means": by_group,
        "p_ancova": ancova.p,
        "p_welch_gain": welch_gain_test(pre, post, is_treated),
    }


Block = tuple[int, int, tuple[Sequence[dict], Sequence[dict]]]


def study_blocks(
    treatment_pool: Sequence[dict], control_pool: Sequence[dict], groups: Sequence[int], reps: int
) -> list[Block]:
    """(groups, study, arms) of every study: study i of design k uses runs [i*k, (i+1)*k)."""
    studies = []
    for k in groups:
        if k * reps > min(len(treatment_pool), len(control_pool)):
            raise ValueError(f"pools too small for {reps} studies of {k} groups per arm")
        for i in range(reps):
            block = slice(i * k, (i + 1) * k)
            studies.append((k, i, (treatment_pool[block], control_pool[block])))
    return studies


def null_blocks(pool: Sequence[dict], groups: Sequence[int], reps: int) -> list[Block]:
    """Studies of one arm against itself: study i of design k, runs [2ik, 2ik+k) vs the next k.

    No difference to find, so every rejection is a false positive; as many studies as the
    pool holds, at most `reps`.
    """
    studies = []
    for k in groups:
        for i in range(min(reps, len(pool) // (2 * k))):
            first = pool[2 * i * k : 2 * i * k + k]
            second = pool[2 * i * k + k : 2 * (i + 1) * k]
            studies.append((k, i, (first, second)))
    return studies


def analysed(blocks: Sequence[Block], results: Sequence[dict]) -> pd.DataFrame:
    """A row per study: its design, its number and its tests' results."""
    rows = [
        {"groups": k, "study": i, **result}
        for (k, i, _), result in zip(blocks, results, strict=True)
    ]
    return pd.DataFrame(rows)


def field_studies(
    treatment_pool: Sequence[dict], control_pool: Sequence[dict], groups: Sequence[int], reps: int
) -> pd.DataFrame:
    """A row per simulated study (analysed in this process); see `study_blocks`."""
    blocks = study_blocks(treatment_pool, control_pool, groups, reps)
    return analysed(blocks, [analyse_study(arms) for _, _, arms in blocks])


def null_studies(pool: Sequence[dict], groups: Sequence[int], reps: int) -> pd.DataFrame:
    """A row per study of one arm against itself (analysed here); see `null_blocks`."""
    blocks = null_blocks(pool, groups, reps)
    return analysed(blocks, [analyse_study(arms) for _, _, arms in blocks])


def rejection_rate(p_values: pd.Series, alpha: float, name: str) -> dict[str, float]:
    """Share of p < alpha with its Wilson CI; NaN where the test does not apply (NaN p)."""
    valid = p_values.dropna()
    if valid.empty:
        return {name: float("nan"), f"{name}_low": float("nan"), f"{name}_high": float("nan")}
    hits = int((valid < alpha).sum())
    low, high = wilson_interval(hits, len(valid))
    return {name: hits / len(valid), f"{name}_low": low, f"{name}_high": high}


def _design_row(design: pd.DataFrame, alpha: float) -> dict[str, Any]:
    row: dict[str, Any] = {
        "studies": len(design),
        "mean_effect": float(design["effect"].mean()),
        "mean_effect_ancova": float(design["effect_ancova"].mean()),
        "missing_post": float(design["missing_post"].mean()),
        "mixed_not_fitted": int(design["p_mixed"].isna().sum()),
        "mixed_boundary": int((design["mixed_status"] == "boundary").sum()),
        "primary_test": str(design["primary_test"].iloc[0]),
    }
    for test in TESTS:
        row.update(rejection_rate(design[f"p_{test}"], alpha, f"power_{test}"))
    return row


def power_table(
    studies: pd.DataFrame, alpha: float, nulls: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Power (share of studies with p < alpha) with Wilson 95% CIs, a row per design.

    Columns: `groups_per_arm`, `clients_per_group`, `clients_per_arm`, `clients_total`,
    `studies`, `mean_effect` (the mixed model's adjusted difference, points),
    `missing_post` (share of enrolled clients without a post-test), `mixed_not_fitted`
    (studies whose mixed model could not be fitted: their power is over the rest) and
    `mixed_boundary`; for each test in `TESTS` `power_<test>` with `_low`/`_high`; with
    `nulls`, `null_studies` and `null_<test>` (control vs control) and
    `null_treatment_<test>` (treatment vs treatment, rows with `arm` == "treatment").
    """
    if "clients_per_group" not in studies:
        studies = studies.assign(clients_per_group=0)
    rows = []
    for (m, k), design in studies.groupby(["clients_per_group", "groups"], sort=True):
        clients_per_arm = int(design["clients_per_arm"].iloc[0])
        row: dict[str, Any] = {
            "groups_per_arm": int(k),
            "clients_per_group": int(m) or clients_per_arm // int(k),
            "clients_per_arm": clients_per_arm,
            "clients_total": 2 * clients_per_arm,
            **_design_row(design, alpha),
        }
        if nulls is not None:
            same = nulls["groups"] == k
            if "clients_per_group" in nulls:
                same &= nulls["clients_per_group"] == m
            arms = nulls["arm"] if "arm" in nulls else pd.Series("control", index=nulls.index)
            for arm, prefix in (("control", "null"), ("treatment", "null_treatment")):
                null = nulls[same & (arms == arm)]
                if null.empty:
                    continue
                row[f"{prefix}_studies"] = len(null)
                for test in TESTS:
                    row.update(rejection_rate(null[f"p_{test}"], alpha, f"{prefix}_{test}"))
        rows.append(row)
    return pd.DataFrame(rows)


def recommend(
    table: pd.DataFrame, target: float, measure: str = "power_primary"
) -> dict[str, Any] | None:
    """The smallest design whose `measure`'s lower 95% Wilson bound clears `target`.

    `measure`: a column with `_low` beside it, the primary test's power or (with a posterior)
    its assurance. Smallest: fewest clients in total, then fewest groups. None if no design
    clears it.
    """
    clear = table[table[f"{measure}_low"] >= target]
    if clear.empty:
        return None
    return clear.sort_values(["clients_total", "groups_per_arm"]).iloc[0].to_dict()


def pool_frame(pool: Sequence[dict]) -> pd.DataFrame:
    """One arm's pool of runs as clients (pre, post, group), a run being a group."""
    return _stack(pool, 0)


def clustering_table(
    pools: Mapping[tuple[str, int], Sequence[dict]], resamples: int = 400, seed: int = 0
) -> pd.DataFrame:
    """ICC of the post-test given the pre-test and the design effect, per arm and group size.

    `pools[(arm, m)]` holds the arm's runs with m clients per group. The ICC is the one-way
    ANOVA estimator on the residuals of post-test on pre-test
    (`groupsim.study.stats.intraclass_correlation`) with a percentile bootstrap CI over
    groups; the design effect is 1 + (n - 1) ICC with n the mean answered clients per group.
    `pre_sd` is the SD of the clients' pre-test totals, the scale of a standardized effect.
    """
    rows = []
    for (arm, m), pool in sorted(pools.items()):
        frame = pool_frame(pool)
        icc = intraclass_correlation_ci(frame, "post", "group", "pre", resamples, seed)
        answered = float(frame["post"].notna().sum() / len(pool))
        rows.append(
            {
                "arm": arm,
                "clients_per_group": m,
                "groups": len(pool),
                "answered_per_group": answered,
                "icc": icc.value,
                "icc_low": icc.low,
                "icc_high": icc.high,
                "design_effect": 1 + (answered - 1) * icc.value,
                "design_effect_low": 1 + (answered - 1) * icc.low,
                "design_effect_high": 1 + (answered - 1) * icc.high,
                "residual_variance": _residual_variance(frame),
                "pre_sd": float(frame["pre"].std(ddof=1)),
            }
        )
    return pd.DataFrame(rows)


def _residual_variance(frame: pd.DataFrame) -> float:
    """Variance of the residuals of post-test on pre-test (answered clients)."""
    data = frame.dropna(subset=["post"])
    design = np.column_stack([np.ones(len(data)), data["pre"].to_numpy()])
    coef, *_ = np.linalg.lstsq(design, data["post"].to_numpy(), rcond=None)
    residuals = data["post"].to_numpy() - design @ coef
    return float(residuals.var(ddof=2))


def formula_power(
    effect: float,
    clustering: pd.DataFrame,
    groups: int,
    clients: int,
    alpha: float,
    icc: Mapping[str, float] | None = None,
) -> float:
    """Power the design-effect formula predicts for k groups of m clients per arm.

    Each arm's adjusted mean has variance sigma^2 (1 + (n - 1) ICC) / (k n), n the answered
    clients per group (Donner & Klar 2000, ch. 5); the test is a t-test on 2k - 2 degrees of
    freedom with noncentrality effect / SE. Each arm's sigma^2, n and ICC are its row of
    `clustering` for m clients per group; `icc` replaces the ICC of the arms it names
    (`{"treatment": 0.06}`), their residual variance held as it is.

    Example: with the same ICC, variance and n in both arms the formula is the t-test on
    group means, statsmodels' power of a two-sample t-test with k per arm:

        >>> from statsmodels.stats.power import TTestIndPower
        >>> arms = pd.DataFrame({"arm": ["treatment", "control"], "clients_per_group": 9,
        ...     "answered_per_group": 8.0, "design_effect": 1.0, "residual_variance": 100.0})
        >>> d = 6.0 / np.sqrt(100.0 * (1 + 7 * 0.06) / 8.0)
        >>> at_006 = {"treatment": 0.06, "control": 0.06}
        >>> bool(np.isclose(formula_power(6.0, arms, 4, 9, 0.05, at_006),
        ...     TTestIndPower().power(d, nobs1=4, alpha=0.05)))
        True
    """
    variance = 0.0
    for _, arm in clustering[clustering["clients_per_group"] == clients].iterrows():
        design_effect = arm["design_effect"]
        if icc is not None and arm["arm"] in icc:
            design_effect = 1 + (arm["answered_per_group"] - 1) * icc[arm["arm"]]
        variance += arm["residual_variance"] * design_effect / (groups * arm["answered_per_group"])
    df = 2 * groups - 2
    noncentrality = effect / np.sqrt(variance)
    critical = stats.t.ppf(1 - alpha / 2, df)
    power = stats.nct.sf(critical, df, noncentrality) + stats.nct.cdf(-critical, df, noncentrality)
    if not np.isfinite(power):
        # scipy's noncentral t gives NaN far in the tail (noncentrality in the tens), where
        # the power is 1 to many digits: the normal approximation says so.
        shift = abs(noncentrality)
        power = stats.norm.sf(critical - shift) + stats.norm.cdf(-critical - shift)
    return float(power)


# ---------------------------------------------------------------------------- all studies


def analyse_pools(
    pools: dict[tuple[str, int], list[dict]],
    design: tuple[int, ...],
    reps: int,
    sizes: tuple[int, ...],
    workers: int | None,
    backend: Backend | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every study's tests, on the backend (a mixed-model fit each): studies and nulls.

    `pools[(arm, m)]` holds the runs of `arm` ("treatment" or "control") with m clients per
    group.

    Nulls: control-vs-control and treatment-vs-treatment studies (column `arm`), each arm
    alone, so every rejection is a false positive.
    """
    parts: list[tuple[str | None, int, list]] = []
    for m in sizes:
        parts.append(
            (None, m, study_blocks(pools[("treatment", m)], pools[("control", m)], design, reps))
        )
        parts += [(arm, m, null_blocks(pools[(arm, m)], design, reps)) for arm in ARMS]
    tasks = [arms for _, _, blocks in parts for _, _, arms in blocks]
    results = iter(map_tasks(analyse_study, tasks, workers, None, backend=backend))
    studies, nulls = [], []
    for arm, m, blocks in parts:
        frame = analysed(blocks, [next(results) for _ in blocks])
        frame.insert(1, "clients_per_group", m)
        if arm is None:
            studies.append(frame)
        else:
            nulls.append(frame.assign(arm=arm))
    return pd.concat(studies, ignore_index=True), pd.concat(nulls, ignore_index=True)


ARMS = ("control", "treatment")


def with_formula_power(table: pd.DataFrame, clustering: pd.DataFrame, alpha: float):
    """Add `formula_power_mixed`: the design-effect formula's power at each design's effect."""
    predicted = [
        formula_power(r.mean_effect, clustering, int(r.groups_per_arm), r.clients_per_group, alpha)
        for r in table.itertuples()
    ]
    return table.assign(formula_power_mixed=predicted)
