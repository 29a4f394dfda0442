"""Scenario sweeps: a sweep file, its design, and the runs it stands for.

A sweep file (TOML) names a base scenario, the parameters to vary by dotted path (lists of
values for a `grid`, bounds for the sampled designs `latin_hypercube`, `sobol` and `morris`,
drawn with SALib), replications per point, the outcomes to keep and a seed. See
docs/sweeps.md.

Every run has a stable id, ``run_id = point * replications + replication``, and its own seed
spawned with `numpy.random.SeedSequence` from the sweep seed and the run id (or the
replication alone, with ``common_random_numbers = true``), so a run's result never depends on
order, chunking or backend.

Example:
    >>> sweep = load_sweep("scenarios/sweeps/quick.toml")
    >>> sweep.points, sweep.runs, sweep.run_id(1, 0)
    (4, 16, 4)
    >>> sweep.run_seed(5) == sweep.run_seed(5)
    True
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from groupsim.runs.outcomes import OUTCOMES
from groupsim.scenario import (
    Scenario,
    ScenarioError,
    apply_overrides,
    parse_toml,
    read_input_file,
    scenario_from_dict,
)
from groupsim.sweep.checks import (
    MAX_POINTS,
    Bounds,
    allowed,
    check_bounds,
    check_grid_values,
    check_path,
    field_type,
)
from groupsim.sweep.outcomes import OutcomePlan, check_custom_outcomes

__all__ = [
    "DESIGNS",
    "LEVER_DESIGNS",
    "Bounds",
    "Sweep",
    "SweepError",
    "SweepSettings",
    "design_points",
    "load_sweep",
    "run_seed",
]

DESIGNS = ("grid", "latin_hypercube", "sobol", "morris", "factorial", "joint")
#: Designs over `[levers]` and `[uncertainties]` (`groupsim.sweep.levers`).
LEVER_DESIGNS = ("factorial", "joint")


class SweepError(ValueError):
    """A sweep cannot start as asked (folder, resume, backend): one line naming the option."""


class SweepSettings(BaseModel):
    """The `[sweep]` table of a sweep file."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)

    scenario: str = Field(description="base scenario file, relative to the sweep file")
    name: str = Field("", description="a label for outputs (default: the file's stem)")
    design: Literal["grid", "latin_hypercube", "sobol", "morris", "factorial", "joint"] = "grid"
    replications: int = Field(1, ge=1, le=1_000_000, description="runs per design point")
    seed: int = Field(0, ge=0, description="the sweep seed: design samples and run seeds")
    samples: int | None = Field(
        None, ge=1, le=1_000_000, description="sampled designs: SALib's N (sobol: a power of 2)"
    )
    levels: int = Field(4, ge=2, le=100, description="morris: grid levels")
    second_order: bool = Field(False, description="sobol: also sample second-order indices")
    outcomes: list[str] | None = Field(None, description="outcomes to keep (default: all)")
    weekly: bool = Field(False, description="also keep every run's weekly rows")
    common_random_numbers: bool = Field(
        False, description="seed by replication only: replication r shares its seed across points"
    )
    chunk_size: int | None = Field(None, ge=1, le=100_000, description="runs per task")
    effects: bool = Field(
        False, description="run each run's no-intervention twin and keep effect_X = X - twin's X"
    )


class _SweepFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    sweep: SweepSettings
    set: dict[str, Any] = Field(default_factory=dict)
    parameters: dict[str, Any] = Field(default_factory=dict)
    levers: dict[str, Any] = Field(default_factory=dict)
    uncertainties: dict[str, Any] = Field(default_factory=dict)
    custom_outcomes: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: its settings, base scenario and design points.

    Attributes:
        path: the sweep file.
        settings: the `[sweep]` table.
        base: the base scenario with the `[set]` overrides applied (validated).
        parameters: varied dotted paths, in file order.
        values: grid values (grid) or bounds (sampled designs) per parameter.
        design: the applied value of each parameter at each point (a row per point).
        sample: sampled designs: SALib's unrounded sample matrix (points x parameters).
        digest: sha256 of the sweep file, the resolved base scenario (and the posterior).
        outcomes: every outcome column a run's row holds (`plan.columns`).
        plan: what a worker measures (`groupsim.sweep.outcomes.OutcomePlan`).
        roles: levers/uncertainties sweeps: "lever" or "uncertainty" per parameter.
        combinations: factorial designs: lever combinations per uncertainty draw.
    """

    path: Path
    settings: SweepSettings
    base: Scenario
    parameters: tuple[str, ...]
    values: dict[str, Any]
    design: list[tuple[Any, ...]]
    sample: np.ndarray | None
    digest: str
    outcomes: tuple[str, ...] = field(default=())
    plan: OutcomePlan = field(default_factory=lambda: OutcomePlan(raw=()))
    roles: dict[str, str] = field(default_factory=dict)
    combinations: int = 1

    @property
    def name(self) -> str:
        """The sweep's name: the file's `name`, else the file name without `.toml`."""
        return self.settings.name or self.path.stem

    @property
    def points(self) -> int:
        """Design points."""
        return len(self.design)

    @property
    def replications(self) -> int:
        """Replications per design point."""
        return self.settings.replications

    @property
    def runs(self) -> int:
        """Runs in the sweep: points times replications."""
        return self.points * self.replications

    def run_id(self, point: int, replication: int) -> int:
        """The stable id of replication `replication` at design point `point`."""
        return point * self.replications + replication

    def locate(self, run_id: int) -> tuple[int, int]:
        """(point, replication) of a run id."""
        return divmod(run_id, self.replications)

    def run_seed(self, run_id: int) -> int:
        """The run's seed (see `run_seed`), drawn for its `seed_keys`."""
        return run_seed(self.settings.seed, int(self.seed_keys(np.array([run_id]))[0]))

    def seed_keys(self, run_ids: np.ndarray) -> np.ndarray:
        """What each run's seed is drawn for: runs with the same key have the same seed.

        The run id itself; with common random numbers the replication, and in a factorial
        levers design the uncertainty draw and the replication, so every lever combination
        under one draw shares its seeds.
        """
        run_ids = np.asarray(run_ids, dtype=np.int64)
        if not self.settings.common_random_numbers:
            return run_ids
        point, replication = np.divmod(run_ids, self.replications)
        draw = point // self.combinations if self.settings.design == "factorial" else 0
        return draw * self.replications + replication

    def run_order(self, run_ids: np.ndarray) -> np.ndarray:
        """The runs `run_ids` in the order a sweep sends them out: the runs of a seed together.

        By seed (`seed_keys`), then run id. Runs with one seed that agree on the cohort and
        campus life settle it once when a chunk holds them together (`sweep.chunk`); in run
        id order, a design point's replications after one another, a chunk held one seed
        a point and shared nothing unless it spanned several points (2026-12-02: the shipped
        warmth x sessions sweep on 8 workers shared no settled cohort; by seed, 84% of its
        runs start from one). Without common random numbers every run has its own seed:
        run id order.
        """
        run_ids = np.asarray(run_ids, dtype=np.int64)
        return run_ids[np.lexsort((run_ids, self.seed_keys(run_ids)))]

    def overrides(self, point: int) -> dict[str, Any]:
        """Dotted paths and values that turn the base scenario into design point `point`."""
        return dict(zip(self.parameters, self.design[point], strict=True))

    def problem(self) -> dict[str, Any]:
        """SALib's problem dict (sampled designs)."""
        bounds = [[self.values[p].min, self.values[p].max] for p in self.parameters]
        return {"num_vars": len(self.parameters), "names": list(self.parameters), "bounds": bounds}

    def describe(self) -> dict[str, Any]:
        """The design as plain data (for the manifest)."""
        values = {
            p: (v.model_dump(exclude_none=True) if isinstance(v, BaseModel) else v)
            for p, v in self.values.items()
        }
        s = self.settings
        return {
            "design": s.design,
            "parameters": values,
            "replications": s.replications,
            "samples": s.samples,
            "levels": s.levels,
            "second_order": s.second_order,
            "points": self.points,
            "runs": self.runs,
            "levers": [p for p, role in self.roles.items() if role == "lever"],
            "uncertainties": [p for p, role in self.roles.items() if role == "uncertainty"],
            "effects": s.effects,
            "custom_outcomes": dict(self.plan.functions + self.plan.expressions),
        }


def run_seed(sweep_seed: int, key: int) -> int:
    """A 63-bit seed: child `key` of ``SeedSequence(sweep_seed)``.

    The same rule as `groupsim.runs.execute.replication_seeds` (child r there is key r here).

    Example:
        >>> from groupsim.runs.execute import replication_seeds
        >>> run_seed(7, 2) == replication_seeds(7, 3)[2]
        True
    """
    child = np.random.SeedSequence(sweep_seed, spawn_key=(key,))
    return int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


# ---------------------------------------------------------------------------- loading


def load_sweep(path: str | Path) -> Sweep:
    """Read and validate a sweep file, its base scenario and every design point.

    Raises:
        ScenarioError: "FILE: FIELD: what is allowed" for any bad input.
    """
    path = Path(path)
    source = str(path)
    raw_bytes = read_input_file(path, "sweep")
    data = parse_toml(raw_bytes, source)
    for table in ("parameters", "levers", "uncertainties"):
        if isinstance(data.get(table), dict):
            data[table] = _flatten_parameters(data[table], source, table)
    try:
        parsed = _SweepFile.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = ".".join(str(p) for p in error["loc"]) or "(top level)"
        raise ScenarioError(source, loc, allowed(error)) from None
    settings = parsed.sweep
    base = _base_scenario(path, settings, parsed.set)
    plan = _check_outcomes(source, settings, parsed.custom_outcomes)
    extra = b""
    roles: dict[str, str] = {}
    combinations = 1
    if parsed.levers or parsed.uncertainties:
        from groupsim.sweep.levers import lever_sweep

        settings = _lever_settings(source, settings, parsed.parameters)
        parameters, values, design, roles, combinations, extra = lever_sweep(
            source, settings, parsed.levers, parsed.uncertainties, base
        )
        sample = None
    else:
        parameters, values = _check_parameters(source, settings, parsed.parameters, base)
        design, sample = _make_design(source, settings, parameters, values, base)
    _check_points(source, base, parameters, design)
    digest = hashlib.sha256(
        raw_bytes + json.dumps(base.to_dict(), sort_keys=True).encode() + extra
    ).hexdigest()
    return Sweep(
        path,
        settings,
        base,
        parameters,
        values,
        design,
        sample,
        digest,
        plan.columns,
        plan,
        roles,
        combinations,
    )


def _lever_settings(
    source: str, settings: SweepSettings, parameters: dict[str, Any]
) -> SweepSettings:
    """A levers sweep's settings: no `[parameters]`; design factorial (default) or joint."""
    if parameters:
        raise ScenarioError(
            source, "parameters", "give either [parameters] or [levers]/[uncertainties], not both"
        )
    if "design" not in settings.model_fields_set:
        return settings.model_copy(update={"design": "factorial"})
    if settings.design not in LEVER_DESIGNS:
        raise ScenarioError(
            source,
            "sweep.design",
            f"with [levers]/[uncertainties] use {' or '.join(LEVER_DESIGNS)} "
            f"(got {settings.design!r})",
        )
    return settings


#: Keys that make a table a leaf (bounds or a distribution), not a section of dotted keys.
_LEAF_KEYS = {"min", "max", "mean", "sd", "mode", "distribution"}


def _flatten_parameters(
    table: dict[str, Any], source: str, section: str, prefix: str = ""
) -> dict[str, Any]:
    """`counselor.warmth = [...]` parses as nested tables; bounds tables are leaves."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not (_LEAF_KEYS & set(value)):
            inner = _flatten_parameters(value, source, section, name + ".")
        else:
            inner = {name: value}
        for path, item in inner.items():
            if path in flat:  # "a.b" = [...] and a.b = [...] (or [parameters.a] b = ...)
                raise ScenarioError(
                    source, f"{section}.{path}", "given twice (written two ways); give it once"
                )
            flat[path] = item
    return flat


def _base_scenario(path: Path, settings: SweepSettings, fixed: dict[str, Any]) -> Scenario:
    source = str(path)
    scenario_path = (path.parent / settings.scenario).resolve()
    if not scenario_path.is_file():
        raise ScenarioError(
            source, "sweep.scenario", f"no scenario file at {scenario_path} (relative to the sweep)"
        )
    from groupsim.scenario import load_scenario

    base = load_scenario(scenario_path)
    try:
        data = apply_overrides(base.to_dict(), fixed, source)
    except ScenarioError as exc:
        raise ScenarioError(source, f"set.{exc.field}", exc.allowed) from None
    try:
        return scenario_from_dict(data, source)
    except ScenarioError as exc:
        raise ScenarioError(source, f"set.{exc.field}", exc.allowed) from None


def _check_parameters(
    source: str, settings: SweepSettings, table: dict[str, Any], base: Scenario
) -> tuple[tuple[str, ...], dict[str, Any]]:
    if not table:
        raise ScenarioError(source, "parameters", "empty; name at least one parameter to vary")
    sampled = settings.design != "grid"
    values: dict[str, Any] = {}
    if settings.design in LEVER_DESIGNS:
        raise ScenarioError(
            source, "sweep.design", f"design {settings.design!r} varies [levers]/[uncertainties]"
        )
    for path, given in table.items():
        where = f"parameters.{path}"
        check_path(source, where, path, base)
        kind = field_type(path)
        if sampled:
            values[path] = check_bounds(source, where, settings.design, given, kind)
        else:
            values[path] = check_grid_values(source, where, given, kind)
    return tuple(table), values


def _check_outcomes(source: str, settings: SweepSettings, custom: dict[str, Any]) -> OutcomePlan:
    """The kept built-in outcomes, effects and the `[custom_outcomes]`, all checked."""
    if settings.outcomes is not None and not settings.outcomes:
        raise ScenarioError(source, "sweep.outcomes", "empty list; omit it to keep all outcomes")
    for name in settings.outcomes or ():
        if name not in OUTCOMES:
            raise ScenarioError(
                source,
                "sweep.outcomes",
                f"unknown outcome {name!r}; allowed: {', '.join(OUTCOMES)}",
            )
    raw = tuple(OUTCOMES) if settings.outcomes is None else tuple(settings.outcomes)
    functions, expressions = check_custom_outcomes(source, custom, raw, settings.effects)
    return OutcomePlan(
        raw, settings.effects, functions, expressions, str(Path(source).resolve().parent)
    )


def design_points(settings: SweepSettings, parameters: tuple[str, ...], values: dict) -> int:
    """How many points a design will have, counted before any is made.

    Example:
        >>> settings = SweepSettings(scenario="x.toml", design="sobol", samples=8)
        >>> design_points(settings, ("a.b", "c.d"), {})
        32
    """
    n, d = settings.samples or 0, len(parameters)
    if settings.design == "grid":
        return math.prod(len(values[p]) for p in parameters)
    if settings.design == "sobol":
        return n * (2 * d + 2 if settings.second_order else d + 2)
    if settings.design == "morris":
        return n * (d + 1)
    return n


def _check_design_size(
    source: str, settings: SweepSettings, parameters: tuple[str, ...], values: dict
) -> None:
    points = design_points(settings, parameters, values)
    if points > MAX_POINTS:
        field = "parameters" if settings.design == "grid" else "sweep.samples"
        raise ScenarioError(
            source,
            field,
            f"the design has {points:,} points; at most {MAX_POINTS:,}: vary fewer "
            "parameters or values, or split the sweep",
        )


def _make_design(
    source: str,
    settings: SweepSettings,
    parameters: tuple[str, ...],
    values: dict[str, Any],
    base: Scenario,
) -> tuple[list[tuple[Any, ...]], np.ndarray | None]:
    if settings.design != "grid" and settings.samples is None:
        raise ScenarioError(source, "sweep.samples", f"design '{settings.design}' needs samples")
    _check_design_size(source, settings, parameters, values)
    if settings.design == "grid":
        return list(itertools.product(*(values[p] for p in parameters))), None
    import warnings

    from SALib.sample import latin, morris, sobol

    problem = {
        "num_vars": len(parameters),
        "names": list(parameters),
        "bounds": [[values[p].min, values[p].max] for p in parameters],
    }
    n = settings.samples or 0  # checked above: a sampled design has samples
    if settings.design == "sobol":
        if n & (n - 1):
            raise ScenarioError(source, "sweep.samples", f"sobol needs a power of 2 (got {n})")
        sample = sobol.sample(
            problem, n, calc_second_order=settings.second_order, seed=settings.seed
        )
    elif settings.design == "latin_hypercube":
        sample = latin.sample(problem, n, seed=settings.seed)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sample = morris.sample(problem, n, num_levels=settings.levels, seed=settings.seed)
    kinds = [field_type(p) for p in parameters]
    design = [
        tuple(
            round(float(x)) if kind is int else float(x) for x, kind in zip(row, kinds, strict=True)
        )
        for row in sample
    ]
    return design, np.asarray(sample, dtype=float)


def _check_points(
    source: str, base: Scenario, parameters: tuple[str, ...], design: list[tuple[Any, ...]]
) -> None:
    """Every design point must be a valid scenario; nothing runs otherwise."""
    data = base.to_dict()
    seen: set[tuple[Any, ...]] = set()
    for index, point in enumerate(design):
        if point in seen:  # sampled designs repeat points; validating once is enough
            continue
        seen.add(point)
        try:
            scenario_from_dict(
                apply_overrides(data, dict(zip(parameters, point, strict=True)), source), source
            )
        except ScenarioError as exc:
            where = f"parameters.{exc.field}" if exc.field in parameters else exc.field
            raise ScenarioError(source, where, f"{exc.allowed} (at design point {index})") from None
