"""What if the groups' ICC is not the model's? The design-effect formula at assumed ICCs.

The power analysis estimates the ICC of its arms' groups from the runs (`clustering_table`):
home room's is 0.10-0.16, what the model's shared climate and counselor give. No field study
has measured the ICC of home-room groups, and group treatments report less on average (0.06;
`LITERATURE_ICCS`). A planner should see how the answer moves with it. The design-effect
formula (`power_studies.formula_power`), which the report checks against the simulated power
at the model's own ICC, gives the power of every design at other ICCs when only the
clustering changes: each design keeps its simulated effect, each arm its residual variance
and answered clients per group (:func:`icc_sensitivity`); :func:`smallest_by_formula` names
the design each ICC calls for. The formula itself holds at any ICC (tests/test_power_icc.py
checks it against the cluster-level test on data drawn with a known ICC); that the model's
effect and variance would stay as they are at another ICC is an assumption, and the powers
are point values without a CI; the report says so.

Example:
    >>> table = pd.DataFrame({"groups_per_arm": [2, 4], "clients_per_group": [9, 9],
    ...     "clients_total": [36, 72], "mean_effect": [10.0, 10.0]})
    >>> clustering = pd.DataFrame({"arm": ["treatment", "control"], "clients_per_group": 9,
    ...     "answered_per_group": 8.0, "design_effect": [2.0, 1.0],
    ...     "residual_variance": 100.0})
    >>> sensitivity = icc_sensitivity(table, clustering, (0.02, 0.2), ["treatment"], 0.05)
    >>> sensitivity.round(2).to_dict("list")["formula_power"]
    [0.34, 0.89, 0.24, 0.73]
    >>> for icc, designs in sensitivity.groupby("assumed_icc"):
    ...     chosen = smallest_by_formula(designs, 0.8)
    ...     print(icc, chosen and (chosen["groups_per_arm"], chosen["clients_per_group"]))
    0.02 (4, 9)
    0.2 None
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from groupsim.document.blocks import Block, Heading, Paragraph, Table
from groupsim.study.power_studies import formula_power

if TYPE_CHECKING:
    from groupsim.study.power import PowerAnalysis

__all__ = [
    "LITERATURE_ICCS",
    "check_iccs",
    "icc_blocks",
    "icc_sensitivity",
    "smallest_by_formula",
    "smallest_designs",
]

#: ICCs of group treatments in the literature, assumed by `icc_sensitivity` by default: the
#: mean of 169 ICCs from 37 group-treatment studies, 0.06 (Kivlighan et al. 2020, J Consult
#: Clin Psychol 88(4), 322-337), and the 0.02-0.12 of two randomized trials of group
#: interventions (https://pmc.ncbi.nlm.nih.gov/articles/PMC2797475).
LITERATURE_ICCS = (0.02, 0.06, 0.12)


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


def smallest_by_formula(
    designs: pd.DataFrame, target: float, column: str = "formula_power"
) -> dict | None:
    """The smallest design whose formula power (`column`) reaches `target`, None if none does.

    Smallest as `recommend` orders designs: fewest clients in all, then fewest groups. The
    formula's power is a point prediction (no CI), so it is held to the target itself, not to
    a lower bound as the simulated power is.
    """
    clear = designs[designs[column] >= target]
    if clear.empty:
        return None
    return clear.sort_values(["clients_total", "groups_per_arm"]).head(1).to_dict("records")[0]


def check_iccs(iccs: Sequence[float] | float) -> tuple[float, ...]:
    """Validate assumed ICCs (each in [0, 1); one number or several); sorted, each once."""
    values = (iccs,) if isinstance(iccs, int | float) else tuple(iccs)
    if any(isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v < 1 for v in values):
        raise ValueError(f"icc: numbers from 0 up to (not including) 1 (got {list(values)})")
    return tuple(sorted({float(v) for v in values}))


# ---------------------------------------------------------------------------- the report


def _design_text(design: dict | None) -> str:
    if design is None:
        return "no design in the table"
    return (
        f"{design['groups_per_arm']} groups of {design['clients_per_group']} per arm "
        f"({design['clients_total']} clients in all)"
    )


def smallest_designs(analysis: PowerAnalysis) -> str:
    """Per ICC, the model's own first, the smallest design whose formula power reaches target.

    As a list in words: "at the model's own ICC, 2 groups of 9 per arm (36 clients in all);
    at ICC 0.02, ...".
    """
    target = analysis.target
    own = smallest_by_formula(analysis.table, target, "formula_power_mixed")
    parts = [f"at the model's own ICC, {_design_text(own)}"]
    parts += [
        f"at ICC {icc:g}, {_design_text(smallest_by_formula(designs, target))}"
        for icc, designs in analysis.icc_sensitivity.groupby("assumed_icc")
    ]
    return "; ".join(parts)


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


def icc_blocks(analysis: PowerAnalysis) -> list[Block]:
    """The report's section: the formula's power and design at each assumed ICC."""
    sensitivity = analysis.icc_sensitivity
    if sensitivity.empty:
        return []
    meeting = [
        scenario.name for scenario in (analysis.treatment, analysis.control) if scenario.holds_group
    ]
    assumed = ", ".join(f"{icc:g}" for icc in sensitivity["assumed_icc"].unique())
    return [
        Heading("If the groups' ICC is not the model's"),
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
            f"no run can say. It is a point value: the effect's own uncertainty is not in it, "
            f"and the smallest design is held to the target by it, not by a lower bound as "
            f"the recommendation is."
        ),
        Table.from_rows(*_sensitivity_rows(analysis)),
        Paragraph(
            f"The smallest design whose formula power reaches {analysis.target:g}: "
            f"{smallest_designs(analysis)}."
        ),
    ]
