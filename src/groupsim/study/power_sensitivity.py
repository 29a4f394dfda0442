"""What if the groups' ICC or the effect is not the model's? The design-effect formula, assumed.

Two numbers decide how many groups a field study needs, and the model cannot be checked on
either. The ICC of its groups (`clustering_table`; home room's is 0.10-0.16, what the model's
shared climate and counselor give): no field study has measured it for home-room groups, and
group treatments report less on average (0.06; `LITERATURE_ICCS`). And the effect: the
model's rests on one field study whose gain is very large (about 2.7 client SDs), where
school and group counseling usually report about 0.3 (`LITERATURE_EFFECTS`).

The design-effect formula (`power_studies.formula_power`), which the report checks against
the simulated power at the model's own ICC and effect, carries the plan to other values:
:func:`icc_sensitivity` gives the power of every simulated design at assumed ICCs, and
:func:`groups_needed_table` the groups per arm needed at the model's effect and at assumed
standardized effects, each at the model's ICC and the assumed ones (:func:`groups_needed`,
extrapolating beyond the simulated designs). Each arm keeps its residual variance and
answered clients per group. The formula itself holds at any ICC (tests/test_power_sensitivity.py
checks it against the cluster-level test on data drawn with a known ICC); that the model's
variance would stay as it is at another ICC or effect is an assumption, and the results are
point values without a CI; the report says so.

Example:
    >>> table = pd.DataFrame({"groups_per_arm": [2, 4], "clients_per_group": [9, 9],
    ...     "clients_total": [36, 72], "mean_effect": [10.0, 10.0]})
    >>> clustering = pd.DataFrame({"arm": ["treatment", "control"], "clients_per_group": 9,
    ...     "answered_per_group": 8.0, "design_effect": [2.0, 1.0],
    ...     "residual_variance": 100.0})
    >>> sensitivity = icc_sensitivity(table, clustering, (0.02, 0.2), ["treatment"], 0.05)
    >>> sensitivity.round(2).to_dict("list")["formula_power"]
    [0.34, 0.89, 0.24, 0.73]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from groupsim.document.blocks import Block, Heading, Paragraph, Table
from groupsim.study.power_studies import formula_power

if TYPE_CHECKING:
    from groupsim.study.power import PowerAnalysis

__all__ = [
    "LITERATURE_EFFECTS",
    "LITERATURE_ICCS",
    "MAX_GROUPS",
    "check_effects",
    "check_iccs",
    "effect_caveat",
    "groups_needed",
    "groups_needed_table",
    "icc_sensitivity",
    "needed_blocks",
    "needed_grid",
    "sensitivity_blocks",
]

#: ICCs of group treatments in the literature, assumed by `icc_sensitivity` by default: the
#: mean of 169 ICCs from 37 group-treatment studies, 0.06 (Kivlighan et al. 2020, J Consult
#: Clin Psychol 88(4), 322-337), and the 0.02-0.12 of two randomized trials of group
#: interventions (https://pmc.ncbi.nlm.nih.gov/articles/PMC2797475).
LITERATURE_ICCS = (0.02, 0.06, 0.12)

#: Standardized effects (Cohen's d: points over the clients' pre-test SD) assumed by
#: `groups_needed_table` by default: school counselors' social-emotional interventions average
#: g = 0.31 (28 studies, Lemberger-Truelove et al. 2024, J Couns Dev 103(1), 39-48), and
#: Cohen's (1988) medium and large effects. The seed's anchor is about 2.7 (one study, 22
#: clients), far above what group interventions usually report.
LITERATURE_EFFECTS = (0.3, 0.5, 0.8)

#: The most groups per arm `groups_needed` looks at; a design needing more is "more than" this.
MAX_GROUPS = 200


def icc_sensitivity(
    table: pd.DataFrame,
    clustering: pd.DataFrame,
    iccs: Sequence[float],
    clustered_arms: Sequence[str],
    alpha: float,
) -> pd.DataFrame:
    """The formula's power at every design if the groups' ICC were each of `iccs`.

    A row per assumed ICC and design (`assumed_icc`, `groups_per_arm`, `clients_per_group`,
    `clients_total`, `formula_power`). The ICC is assumed for `clustered_arms`, the arms whose
    groups meet (an arm without sessions has no shared climate: it keeps its own, near 0);
    each design keeps its simulated effect (`mean_effect`) and each arm its residual variance
    and answered clients, so only the clustering differs from the model's own formula power
    (`formula_power_mixed`). Empty when no arm's groups meet or no ICC is given.
    """
    columns = ["assumed_icc", "groups_per_arm", "clients_per_group", "clients_total"]
    if not clustered_arms or not iccs:
        return pd.DataFrame(columns=[*columns, "formula_power"])
    rows = []
    for icc in iccs:
        assumed = dict.fromkeys(clustered_arms, icc)
        for r in table.itertuples():
            rows.append(
                {
                    "assumed_icc": icc,
                    "groups_per_arm": int(r.groups_per_arm),
                    "clients_per_group": int(r.clients_per_group),
                    "clients_total": int(r.clients_total),
                    "formula_power": formula_power(
                        r.mean_effect,
                        clustering,
                        int(r.groups_per_arm),
                        int(r.clients_per_group),
                        alpha,
                        assumed,
                    ),
                }
            )
    return pd.DataFrame(rows)


def groups_needed(
    effect: float,
    clustering: pd.DataFrame,
    clients: int,
    alpha: float,
    target: float,
    icc: Mapping[str, float] | None = None,
) -> int | None:
    """The fewest groups per arm (2 to `MAX_GROUPS`) whose formula power reaches `target`.

    By bisection: the formula's power rises with the groups. None if even `MAX_GROUPS` groups
    per arm fall short. `icc` as in `formula_power`.

    Example:
        >>> arms = pd.DataFrame({"arm": ["treatment", "control"], "clients_per_group": 9,
        ...     "answered_per_group": 8.0, "design_effect": [2.0, 1.0],
        ...     "residual_variance": 100.0})
        >>> groups_needed(10.0, arms, 9, 0.05, 0.8), groups_needed(0.01, arms, 9, 0.05, 0.8)
        (5, None)
    """

    def clears(groups: int) -> bool:
        return formula_power(effect, clustering, groups, clients, alpha, icc) >= target

    if not clears(MAX_GROUPS):
        return None
    low, high = 1, MAX_GROUPS  # clears(high); low stands below the first design (2 groups)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if clears(middle) else (middle, high)
    return high


def groups_needed_table(
    table: pd.DataFrame,
    clustering: pd.DataFrame,
    iccs: Sequence[float],
    effects: Sequence[float],
    clustered_arms: Sequence[str],
    alpha: float,
    target: float,
) -> pd.DataFrame:
    """Groups per arm the formula needs to reach `target`, by group size, effect and ICC.

    A row per clients per group, effect and ICC: `clients_per_group`; `effect` ("model": the
    mean simulated effect of that group size's designs, or "d = 0.5"); `effect_d` (the effect
    over the clients' pre-test SD, pooled over the arms' `pre_sd`); `effect_points`;
    `assumed_icc` (NaN: the model's own ICC, else assumed for `clustered_arms`); and
    `groups_per_arm` (NaN: more than `MAX_GROUPS`). Each arm keeps its residual variance and
    answered clients per group, as in `icc_sensitivity`.
    """
    rows = []
    for m, designs in table.groupby("clients_per_group", sort=True):
        arms = clustering[clustering["clients_per_group"] == m]
        sd = float(np.sqrt((arms["pre_sd"] ** 2).mean()))
        model = float(designs["mean_effect"].mean())
        for label, points in [("model", model), *((f"d = {d:g}", d * sd) for d in effects)]:
            for icc in (None, *(iccs if clustered_arms else ())):
                held = None if icc is None else dict.fromkeys(clustered_arms, icc)
                needed = groups_needed(points, clustering, int(m), alpha, target, held)
                rows.append(
                    {
                        "clients_per_group": int(m),
                        "effect": label,
                        "effect_d": points / sd,
                        "effect_points": points,
                        "assumed_icc": np.nan if icc is None else icc,
                        "groups_per_arm": np.nan if needed is None else needed,
                    }
                )
    return pd.DataFrame(rows)


def _checked(
    values: Sequence[float] | float, name: str, allowed: Callable[[float], bool], what: str
) -> tuple[float, ...]:
    """One number or several, each a number `allowed` (else ValueError); sorted, each once."""
    values = (values,) if isinstance(values, int | float) else tuple(values)
    if any(isinstance(v, bool) or not isinstance(v, int | float) or not allowed(v) for v in values):
        raise ValueError(f"{name}: numbers {what} (got {list(values)})")
    return tuple(sorted({float(v) for v in values}))


def check_effects(effects: Sequence[float] | float) -> tuple[float, ...]:
    """Validate assumed standardized effects (each above 0; one or several); sorted, once each."""
    return _checked(effects, "effect_sizes", lambda v: 0 < v < float("inf"), "above 0")


def check_iccs(iccs: Sequence[float] | float) -> tuple[float, ...]:
    """Validate assumed ICCs (each in [0, 1); one number or several); sorted, each once."""
    return _checked(iccs, "icc", lambda v: 0 <= v < 1, "from 0 up to (not including) 1")


def effect_caveat(analysis: PowerAnalysis) -> str | None:
    """What the answer rests on, in a sentence: the model's effect, and a smaller one's need.

    For the recommended design's group size (or the best design's, when none clears the
    target): the groups per arm the formula needs, at the model's ICC, at the middle one of
    the assumed effects below the model's. None when no assumed effect is smaller.
    """
    needed = analysis.groups_needed
    if needed.empty:
        return None
    chosen = analysis.recommended or analysis.best_design()
    m = int(chosen["clients_per_group"])
    rows = needed[(needed["clients_per_group"] == m) & needed["assumed_icc"].isna()]
    model = rows[rows["effect"] == "model"].iloc[0]
    smaller = rows[(rows["effect"] != "model") & (rows["effect_d"] < model["effect_d"])]
    if smaller.empty:
        return None
    middle = smaller.sort_values("effect_d").iloc[len(smaller) // 2]
    k = middle["groups_per_arm"]
    groups = f"more than {MAX_GROUPS} groups" if k != k else f"{int(k)} groups"
    return (
        f"This rests on the model's effect, {model['effect_points']:.1f} points (d = "
        f"{model['effect_d']:.1f}; the model is calibrated to one field study's large gain); "
        f"at {middle['effect']} the "
        f"design-effect formula needs {groups} of {m} clients per arm (see 'If the groups' ICC "
        f"or the effect is not the model's')."
    )


# ---------------------------------------------------------------------------- the report


def _sensitivity_rows(analysis: PowerAnalysis) -> tuple[list[str], list[list[str]]]:
    from groupsim.study.power_report import rate_cell

    by_icc = analysis.icc_sensitivity.pivot(
        index=["groups_per_arm", "clients_per_group"], columns="assumed_icc", values="formula_power"
    )
    header = [
        "groups per arm",
        "clients per group",
        "simulated power, primary test [95% CI]",
        "formula, the model's ICC",
        *(f"formula, ICC {icc:g}" for icc in by_icc.columns),
    ]
    rows = []
    for r in analysis.table.to_dict("records"):
        assumed = by_icc.loc[(r["groups_per_arm"], r["clients_per_group"])]
        rows.append(
            [
                str(r["groups_per_arm"]),
                str(r["clients_per_group"]),
                rate_cell(r, "power_primary"),
                f"{r['formula_power_mixed']:.2f}",
                *(f"{power:.2f}" for power in assumed),
            ]
        )
    return header, rows


def needed_grid(
    needed: pd.DataFrame,
) -> tuple[list[float], Iterator[tuple[int, str, pd.Series, list[int | None]]]]:
    """`groups_needed` as a grid, for the report's table and the console's.

    Returns the assumed ICCs (the columns after the model's own) and, per group size and
    effect, its first row (the effect in points and d) and the groups per arm at the model's
    ICC and each assumed one (None: more than `MAX_GROUPS`).
    """
    iccs = [icc for icc in needed["assumed_icc"].unique() if icc == icc]  # NaN: the model's
    rows = (
        (
            int(m),
            str(effect),
            cells.iloc[0],
            [None if k != k else int(k) for k in cells["groups_per_arm"]],
        )
        for (m, effect), cells in needed.groupby(["clients_per_group", "effect"], sort=False)
    )
    return iccs, rows


def _needed_rows(analysis: PowerAnalysis) -> tuple[list[str], list[list[str]]]:
    iccs, grid = needed_grid(analysis.groups_needed)
    header = [
        "clients per group",
        "effect",
        "the model's ICC",
        *(f"ICC {icc:g}" for icc in iccs),
    ]
    rows = []
    for m, effect, first, counts in grid:
        what = (
            f"the model's: {first['effect_points']:.1f} points (d = {first['effect_d']:.2f})"
            if effect == "model"
            else f"{effect}: {first['effect_points']:.1f} points"
        )
        cells = [f"more than {MAX_GROUPS}" if k is None else str(k) for k in counts]
        rows.append([str(m), what, *cells])
    return header, rows


def needed_blocks(analysis: PowerAnalysis) -> list[Block]:
    """The report's section: groups per arm the formula needs, by effect and ICC."""
    needed = analysis.groups_needed
    if needed.empty:
        return []
    effects = ", ".join(e.removeprefix("d = ") for e in needed["effect"].unique() if e != "model")
    return [
        Heading("How many groups, if the effect is smaller than the model's", 3),
        Paragraph(
            f"The model's effect rests on one field study (22 clients) whose gain is very "
            f"large; published group and school-counseling interventions report far smaller "
            f"effects (school counselors' social-emotional interventions: g = 0.31 over 28 "
            f"studies, Lemberger-Truelove et al. 2024, J Couns Dev 103(1), 39-48). A field "
            f"study planned on the model's effect alone may be far too small. The table gives "
            f"the groups per arm the design-effect formula needs for power "
            f"{analysis.target:g} at the model's effect and at standardized effects d = "
            f"{effects} (points over the clients' pre-test SD, pooled over the arms), each at "
            f"the model's ICC and at the assumed ICCs; each arm keeps its residual variance "
            f"and answered clients per group. Beyond the designs simulated above these are "
            f"the formula's extrapolation: point values, at most {MAX_GROUPS} groups per arm "
            f"looked at. With a calibrated posterior (`--posterior`), assurance says how the "
            f"effect's own uncertainty moves the plan."
        ),
        Table.from_rows(*_needed_rows(analysis)),
    ]


def sensitivity_blocks(analysis: PowerAnalysis) -> list[Block]:
    """The report's section: the formula at each assumed ICC, then the groups each effect needs."""
    sensitivity = analysis.icc_sensitivity
    if sensitivity.empty:
        return needed_blocks(analysis)
    meeting = [
        scenario.name for scenario in (analysis.treatment, analysis.control) if scenario.holds_group
    ]
    assumed = ", ".join(f"{icc:g}" for icc in sensitivity["assumed_icc"].unique())
    return [
        Heading("If the groups' ICC or the effect is not the model's"),
        Paragraph(
            f"The ICCs above are what the model's shared climate and counselor give. No field "
            f"study has measured the ICC of home-room groups, and group treatments report "
            f"less on average: 0.06 over 169 ICCs of 37 studies (Kivlighan et al. 2020, "
            f"J Consult Clin Psychol 88(4), 322-337), 0.02-0.12 in two randomized trials of "
            f"group interventions. The table gives the design-effect formula's power at each "
            f"design if the ICC of the arms whose groups meet ({', '.join(meeting)}) were "
            f"{assumed}; an arm without sessions keeps its own. Each design keeps its "
            f"simulated effect and each arm its residual variance and answered clients per "
            f"group, so only the clustering differs. At the model's own ICC the formula is "
            f"checked against the simulated power (above); at any ICC it matches the "
            f"cluster-level test's power on data drawn with that ICC (a test of groupsim's); "
            f"but whether groups with another ICC would keep the model's effect and variance, "
            f"no run can say. It is a point value: the effect's own uncertainty is not in it."
        ),
        Table.from_rows(*_sensitivity_rows(analysis)),
        *needed_blocks(analysis),
    ]
