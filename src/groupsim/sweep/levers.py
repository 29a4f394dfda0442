"""Levers and uncertainties: the design choices, and what the model is unsure of.

As the EMA Workbench's policies (levers) and scenarios (uncertainties) (Kwakkel 2017).

A sweep file may split what varies into

- ``[levers]``: design choices (technique, sessions, group size, counselor warmth, ...), each
  a list of values (words allowed: ``"counselor.technique" = ["home_room", "standard"]``), or
  bounds ``{min, max}`` in a joint design;
- ``[uncertainties]``: model parameters we are unsure of, each a distribution --
  ``{min, max}`` (uniform), ``{distribution = "triangular", min, mode, max}`` or
  ``{distribution = "normal", mean, sd}`` (optionally cut to ``min``/``max``) -- and/or
  ``posterior = "DIR"``: weighted draws of a `groupsim calibrate` posterior
  (`groupsim.scenario.posterior`).

Designs: ``factorial`` (every combination of the levers, each under the same `samples` draws
of the uncertainties: ``points = combinations x samples``, draw-major, so the points of one
draw are neighbours) or ``joint`` (one Latin hypercube of `samples` points over levers and
uncertainties together; a listed lever's value is drawn uniformly from its list). Ranged
uncertainties are drawn by Latin hypercube (`scipy.stats.qmc`) and mapped through each
distribution's quantile function; posterior parameters are drawn by weight.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from groupsim.scenario import ScenarioError, apply_overrides
from groupsim.sweep.checks import (
    MAX_POINTS,
    allowed,
    check_bounds,
    check_grid_values,
    check_path,
    field_type,
)

if TYPE_CHECKING:
    from groupsim.scenario import Scenario
    from groupsim.scenario.posterior import Posterior
    from groupsim.sweep.spec import SweepSettings

__all__ = ["POSTERIOR_KEY", "Uncertainty", "lever_sweep"]

#: The `[uncertainties]` key that names a posterior folder.
POSTERIOR_KEY = "posterior"


class Uncertainty(BaseModel):
    """One uncertain parameter's distribution."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)
    distribution: Literal["uniform", "triangular", "normal"] = "uniform"
    min: float | None = None
    max: float | None = None
    mode: float | None = None
    mean: float | None = None
    sd: float | None = None

    def check(self) -> str | None:
        """What is wrong with the parameters of this distribution (None: nothing)."""
        lo, hi = self.min, self.max
        if self.distribution == "normal":
            if self.mean is None or self.sd is None or self.sd <= 0:
                return "normal needs mean and sd > 0 (min and max optional, to cut it)"
            if lo is not None and hi is not None and not lo < hi:
                return "min must be below max"
            return None
        if lo is None or hi is None or not lo < hi:
            return f"{self.distribution} needs min below max"
        if self.distribution == "triangular" and (self.mode is None or not lo <= self.mode <= hi):
            return "triangular needs a mode between min and max"
        return None

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """Values at probabilities `u` (the inverse of the distribution function)."""
        from scipy import stats

        if self.distribution == "uniform":
            assert self.min is not None
            assert self.max is not None
            return self.min + u * (self.max - self.min)
        if self.distribution == "triangular":
            assert self.min is not None
            assert self.max is not None
            assert self.mode is not None
            width = self.max - self.min
            return np.asarray(
                stats.triang.ppf(u, (self.mode - self.min) / width, self.min, width), dtype=float
            )
        assert self.mean is not None
        assert self.sd is not None
        lo = -math.inf if self.min is None else (self.min - self.mean) / self.sd
        hi = math.inf if self.max is None else (self.max - self.mean) / self.sd
        return np.asarray(stats.truncnorm.ppf(u, lo, hi, self.mean, self.sd), dtype=float)


def lever_sweep(
    source: str,
    settings: SweepSettings,
    lever_table: dict[str, Any],
    uncertainty_table: dict[str, Any],
    base: Scenario,
) -> tuple[tuple[str, ...], dict[str, Any], list[tuple[Any, ...]], dict[str, str], int, bytes]:
    """Check `[levers]` and `[uncertainties]` and make the design.

    Returns:
        parameters (levers, ranged uncertainties, posterior parameters), each one's values
        (list, bounds, distribution, or {"posterior": folder}), the design points, each
        parameter's role, the lever combinations per draw (factorial; else 1), and bytes that
        identify the posterior (for the sweep's digest).
    """
    import hashlib

    levers = check_levers(source, settings, lever_table, base)
    ranged, posterior, folder = check_uncertainties(source, uncertainty_table, base, levers)
    uncertain = bool(ranged) or posterior is not None
    if uncertain and settings.samples is None:
        raise ScenarioError(source, "sweep.samples", "draws of the uncertainties: give samples")
    if settings.design == "joint" and settings.samples is None:
        raise ScenarioError(source, "sweep.samples", "the joint design needs samples")
    post = posterior.parameters if posterior is not None else ()
    parameters = (*levers, *ranged, *post)
    values: dict[str, Any] = {**levers, **ranged, **{p: {"posterior": folder} for p in post}}
    roles = {p: ("lever" if p in levers else "uncertainty") for p in parameters}
    _check_size(source, settings, levers, uncertain)
    kinds = [field_type(p) for p in parameters]
    design, combinations = make_design(settings, levers, ranged, posterior, kinds)
    extra = b""
    if posterior is not None:
        content = posterior.table.to_csv().encode() + posterior.weights.tobytes()
        extra = hashlib.sha256(content).hexdigest().encode()
    return parameters, values, design, roles, combinations, extra


def _check_size(
    source: str, settings: SweepSettings, levers: dict[str, Any], uncertain: bool
) -> None:
    draws = (settings.samples or 1) if uncertain else 1
    if settings.design == "factorial":
        points = math.prod(len(v) for v in levers.values()) * draws
    else:
        points = settings.samples or 1
    if points > MAX_POINTS:
        raise ScenarioError(
            source, "sweep.samples", f"the design has {points:,} points; at most {MAX_POINTS:,}"
        )


def check_levers(
    source: str, settings: SweepSettings, table: dict[str, Any], base: Scenario
) -> dict[str, Any]:
    """Each lever's list of values (or bounds, in a joint design)."""
    values: dict[str, Any] = {}
    for path, given in table.items():
        where = f"levers.{path}"
        check_path(source, where, path, base)
        if isinstance(given, dict) and settings.design == "joint":
            values[path] = check_bounds(source, where, "joint", given, field_type(path))
        elif isinstance(given, dict):
            raise ScenarioError(
                source, where, "a factorial design takes a list of values, e.g. [4, 8, 12]"
            )
        else:
            values[path] = check_grid_values(source, where, given, field_type(path))
    return values


def check_uncertainties(
    source: str, table: dict[str, Any], base: Scenario, levers: dict[str, Any]
) -> tuple[dict[str, Uncertainty], Posterior | None, str | None]:
    """Each ranged uncertainty's distribution, and the posterior (with its folder) if named."""
    ranged: dict[str, Uncertainty] = {}
    posterior, folder = None, None
    for path, given in table.items():
        where = f"uncertainties.{path}"
        if path == POSTERIOR_KEY:
            posterior, folder = _posterior(source, given, base)
            continue
        check_path(source, where, path, base)
        if field_type(path) not in (int, float):
            raise ScenarioError(source, where, "only numeric parameters can be uncertain")
        if not isinstance(given, dict):
            raise ScenarioError(
                source,
                where,
                "give a distribution: {min = ..., max = ...} (uniform), "
                '{distribution = "triangular", min, mode, max} or '
                '{distribution = "normal", mean, sd}',
            )
        try:
            uncertainty = Uncertainty.model_validate(given)
        except ValidationError as exc:
            error = exc.errors()[0]
            loc = ".".join(str(p) for p in error["loc"])
            raise ScenarioError(source, f"{where}.{loc}", allowed(error)) from None
        problem = uncertainty.check()
        if problem:
            raise ScenarioError(source, where, f"{problem} (got {given})")
        ranged[path] = uncertainty
    named = [*levers, *ranged, *(posterior.parameters if posterior else ())]
    for path in named:
        if named.count(path) > 1:
            raise ScenarioError(
                source, path, "varied twice (lever, uncertainty or posterior): vary it once"
            )
    return ranged, posterior, folder


def _posterior(source: str, given: Any, base: Scenario) -> tuple[Posterior, str]:
    from groupsim.scenario.posterior import load_posterior

    where = f"uncertainties.{POSTERIOR_KEY}"
    if not isinstance(given, str):
        raise ScenarioError(source, where, 'a folder written by groupsim calibrate, e.g. "out/cal"')
    folder = (Path(source).parent / given).resolve()
    try:
        posterior = load_posterior(folder)
        for path in posterior.parameters:
            apply_overrides(base.to_dict(), {path: None}, posterior.source)
    except ScenarioError as exc:
        raise ScenarioError(source, where, f"{exc.source}: {exc.field}: {exc.allowed}") from None
    return posterior, str(folder)


def make_design(
    settings: SweepSettings,
    levers: dict[str, Any],
    ranged: dict[str, Uncertainty],
    posterior: Posterior | None,
    kinds: list[Any],
) -> tuple[list[tuple[Any, ...]], int]:
    """The design points and the lever combinations per draw.

    Points hold levers, ranged uncertainties, posterior parameters, in that order; the
    combinations per draw are 1 in a joint design.
    """
    from scipy.stats import qmc

    n = settings.samples or 1
    uncertain = bool(ranged) or posterior is not None
    rng = np.random.default_rng([settings.seed, 0x5EE9])
    if settings.design == "factorial":
        combos = list(itertools.product(*levers.values()))
        draws: list[tuple[Any, ...]] = [()]
        if uncertain:
            unit = qmc.LatinHypercube(d=max(len(ranged), 1), seed=rng).random(n)
            draws = [
                tuple(_ranged_row(ranged, unit[i])) + _posterior_row(posterior, row)
                for i, row in enumerate(_posterior_rows(posterior, n, rng))
            ]
        rows = [combo + draw for draw in draws for combo in combos]
        return _typed(rows, kinds), len(combos)
    unit = qmc.LatinHypercube(d=len(levers) + max(len(ranged), 1), seed=rng).random(n)
    rows = []
    for i, post_row in enumerate(_posterior_rows(posterior, n, rng)):
        lever_values = [_lever_value(given, unit[i, j]) for j, given in enumerate(levers.values())]
        ranged_values = _ranged_row(ranged, unit[i, len(levers) :])
        rows.append((*lever_values, *ranged_values, *_posterior_row(posterior, post_row)))
    return _typed(rows, kinds), 1


def _posterior_rows(
    posterior: Posterior | None, n: int, rng: np.random.Generator
) -> list[dict[str, float]]:
    return posterior.sample(n, rng) if posterior is not None else [{}] * n


def _posterior_row(posterior: Posterior | None, row: dict[str, float]) -> tuple[Any, ...]:
    return tuple(row[p] for p in posterior.parameters) if posterior is not None else ()


def _ranged_row(ranged: dict[str, Uncertainty], unit: np.ndarray) -> list[float]:
    return [float(u.quantile(np.asarray(unit[j]))) for j, u in enumerate(ranged.values())]


def _lever_value(given: Any, u: float) -> Any:
    if isinstance(given, list):
        return given[min(int(u * len(given)), len(given) - 1)]
    return given.min + u * (given.max - given.min)


def _typed(rows: list[tuple[Any, ...]], kinds: list[Any]) -> list[tuple[Any, ...]]:
    """Whole-number parameters take the nearest whole number; the others stay as drawn."""
    return [
        tuple(
            round(float(x)) if kind is int and not isinstance(x, bool) else x
            for x, kind in zip(row, kinds, strict=True)
        )
        for row in rows
    ]
