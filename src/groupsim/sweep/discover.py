"""Scenario discovery: the boxes of levers and uncertainties where a condition holds (PRIM).

`discover(cases, parameters, condition)` marks the cases where `condition` (an expression
over outcomes and parameters, e.g. ``"effect_questionnaire_post > 10"``) holds and runs the
Patient Rule Induction Method (Friedman & Fisher 1999) as scenario discovery uses it (Bryant
& Lempert 2010; Kwakkel 2017): peel the box of all cases a little at a time, keeping the
cases of interest, and report the peeling trajectory -- coverage (the share of all cases of
interest inside the box) against density (the share of the box's cases that are of
interest). The implementation is the `prim` package (David Hadka's standalone port of the
EMA Workbench's PRIM; categorical, whole-number and real parameters each peeled their way).

We report the trajectory step with the best balance of the two, the largest harmonic mean
of coverage and density (the whole trajectory is in the table and the figure: another step
may suit a question better). Column names with dots (``counselor.warmth``) are written
Mesa-style in the condition (``counselor_warmth``); dotted names work too.

Example:
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> cases = pd.DataFrame({"a.x": rng.uniform(0, 1, 400), "b.y": rng.uniform(0, 1, 400)})
    >>> cases["out"] = (cases["a.x"] > 0.7).astype(float)
    >>> found = discover(cases, ["a.x", "b.y"], "out > 0.5")
    >>> found.restricted, round(float(found.limits.loc["a.x", "low"]), 1)
    (['a.x'], 0.7)
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from groupsim.sweep.spec import SweepError

__all__ = ["Discovery", "discover", "flat_names", "plot_trajectory"]


def flat_names(columns: list[str]) -> dict[str, str]:
    """Mesa-style names: each dotted column name with its dots as underscores.

    Example:
        >>> flat_names(["counselor.warmth", "run_id"])
        {'counselor.warmth': 'counselor_warmth', 'run_id': 'run_id'}
    """
    names = {name: name.replace(".", "_") for name in columns}
    seen: dict[str, str] = {}
    for name, flat in names.items():
        if flat in seen:
            raise SweepError(f"columns {seen[flat]!r} and {name!r} both flatten to {flat!r}")
        seen[flat] = name
    return names


@dataclass(frozen=True)
class Discovery:
    """What PRIM found.

    Attributes:
        condition: the condition as given.
        cases: cases analysed; interesting: those where it holds.
        trajectory: a row per peeling step: coverage, density, mass, restricted dimensions.
        chosen: the reported step (largest harmonic mean of coverage and density).
        limits: per parameter: low and high (numbers) or the kept values (categorical), and
            whether the box restricts it.
        restricted: the parameters the chosen box restricts.
    """

    condition: str
    cases: int
    interesting: int
    trajectory: pd.DataFrame
    chosen: int
    limits: pd.DataFrame
    restricted: list[str]

    @property
    def coverage(self) -> float:
        """Share of all cases of interest inside the chosen box."""
        return float(self.trajectory.loc[self.chosen, "coverage"])

    @property
    def density(self) -> float:
        """Share of the chosen box's cases that are of interest."""
        return float(self.trajectory.loc[self.chosen, "density"])

    def sentence(self) -> str:
        """The chosen box in words."""
        parts = []
        for name in self.restricted:
            row = self.limits.loc[name]
            if row["values"]:
                parts.append(f"{name} in {{{row['values']}}}")
            else:
                parts.append(f"{row['low']:.3g} <= {name} <= {row['high']:.3g}")
        box = " and ".join(parts) or "(no restriction: the condition holds nearly everywhere)"
        return (
            f"`{self.condition}` holds in {self.interesting} of {self.cases} cases; the box "
            f"{box} has coverage {self.coverage:.2f} and density {self.density:.2f} "
            f"(step {self.chosen} of {len(self.trajectory) - 1})"
        )


def condition_mask(cases: pd.DataFrame, condition: str) -> np.ndarray:
    """Where the condition holds (a boolean per case); refuses one that is not a condition."""
    names = flat_names(list(cases.columns))
    text = condition
    for dotted in sorted((n for n in names if "." in n), key=len, reverse=True):
        text = re.sub(rf"(?<![\w.]){re.escape(dotted)}(?![\w.])", names[dotted], text)
    frame = cases.rename(columns=names)
    try:
        result = frame.eval(text, engine="python")
    except Exception as exc:  # pandas raises many kinds for a bad expression
        message = f"{type(exc).__name__}: {exc}".splitlines()[0]
        raise SweepError(
            f"--discover: cannot evaluate {condition!r} over the sweep's outcomes and "
            f'parameters ({message}); e.g. "effect_questionnaire_post > 10"'
        ) from None
    values = np.asarray(result)
    if values.shape != (len(cases),) or values.dtype != bool:
        raise SweepError(f"--discover: {condition!r} is not a condition (true or false per run)")
    return values


def discover(
    cases: pd.DataFrame,
    parameters: list[str],
    condition: str,
    peel_alpha: float = 0.05,
    mass_min: float = 0.05,
) -> Discovery:
    """Run PRIM over `parameters` for the cases where `condition` holds.

    Args:
        cases: a row per case: the parameters and the outcomes the condition reads.
        parameters: the columns PRIM may restrict (levers and uncertainties).
        condition: an expression true or false per case.
        peel_alpha: the share of cases each peeling step removes.
        mass_min: the smallest box, as a share of the cases.

    Raises:
        SweepError: the condition does not evaluate, or holds in no case or every case.
    """
    import prim
    from prim.scenario_discovery_util import determine_restricted_dims

    mask = condition_mask(cases, condition)
    interesting = int(mask.sum())
    if interesting == 0 or interesting == len(mask):
        where = "no" if interesting == 0 else "every"
        raise SweepError(f"--discover: {condition!r} holds in {where} case: nothing to discover")
    x = _prim_frame(cases, parameters)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the package's pandas FutureWarnings
        finder = prim.Prim(
            x, mask, threshold=0.5, threshold_type=">", peel_alpha=peel_alpha, mass_min=mass_min
        )
        box = finder.find_box()
    trajectory = box.peeling_trajectory.rename(columns={"res dim": "restricted_dimensions"})
    trajectory = trajectory.astype(float).reset_index(drop=True)
    balance = _harmonic(trajectory["coverage"], trajectory["density"])
    chosen = int(np.argmax(balance))
    lims = box._box_lims[chosen]  # the package's `limits` property fails on pandas 2
    restricted = [str(n) for n in determine_restricted_dims(lims, finder._box_init)]
    rows = []
    for name in parameters:
        low, high = lims[name][0], lims[name][1]
        if isinstance(low, set):
            rows.append(
                (name, np.nan, np.nan, ", ".join(sorted(map(str, low))), name in restricted)
            )
        else:
            rows.append((name, float(low), float(high), "", name in restricted))
    limits = pd.DataFrame(rows, columns=["parameter", "low", "high", "values", "restricted"])
    return Discovery(
        condition,
        len(mask),
        interesting,
        trajectory,
        chosen,
        limits.set_index("parameter"),
        [n for n in parameters if n in restricted],
    )


def _harmonic(coverage: pd.Series, density: pd.Series) -> np.ndarray:
    c, d = coverage.to_numpy(), density.to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num(2 * c * d / (c + d))


def _prim_frame(cases: pd.DataFrame, parameters: list[str]) -> pd.DataFrame:
    """The parameters as PRIM peels them: words as categories, whole numbers discretely."""
    columns: dict[str, Any] = {}
    for name in parameters:
        values = cases[name]
        if (
            values.dtype == object
            or values.dtype == bool
            or isinstance(values.dtype, pd.StringDtype)
        ):
            columns[name] = values.astype(str).astype(object).to_numpy()
        elif pd.api.types.is_integer_dtype(values):
            columns[name] = values.to_numpy(dtype=np.int64)
        else:
            columns[name] = values.to_numpy(dtype=np.float64)
    return pd.DataFrame(columns)


def plot_trajectory(found: Discovery) -> Any:
    """The peeling trajectory: density against coverage, coloured by restricted dimensions."""
    from groupsim.document.figures import Figure, styled

    table = found.trajectory
    with styled():
        fig = Figure(figsize=(5.6, 4.0), layout="constrained")
        ax = fig.subplots()
        points = ax.scatter(
            table["coverage"],
            table["density"],
            c=table["restricted_dimensions"],
            cmap="viridis",
            s=18,
        )
        ax.plot(table["coverage"], table["density"], color="0.7", lw=0.8, zorder=0)
        chosen = table.loc[found.chosen]
        ax.scatter(
            [chosen["coverage"]],
            [chosen["density"]],
            s=120,
            facecolors="none",
            edgecolors="C3",
            lw=1.6,
            label=f"reported box (step {found.chosen})",
        )
        ax.set_xlabel("coverage (share of cases of interest inside the box)")
        ax.set_ylabel("density (share of the box's cases of interest)")
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.legend(loc="lower left")
        fig.colorbar(points, ax=ax, label="restricted dimensions")
        ax.set_title(f"PRIM peeling trajectory: {found.condition}")
    return fig
