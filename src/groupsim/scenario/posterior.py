"""Posterior bundles: calibrated parameter sets for `run`, `compare`, `power` and `sweep`.

`groupsim calibrate` writes a folder with ``posterior.parquet``: one row per weighted particle
of the ABC-SMC posterior, one column per calibrated parameter (its dotted scenario path, such
as ``counselor.warmth``) and a ``weight`` column (non-negative, summing to 1). This module is
the one reader of that format; every command that takes ``--posterior DIR`` goes through
:func:`load_posterior` and applies a draw to a scenario with :meth:`Posterior.apply`.

Example:
    >>> import pandas as pd
    >>> table = pd.DataFrame({"counselor.warmth": [0.6, 0.8], "weight": [0.25, 0.75]})
    >>> post = Posterior.from_frame(table, "example")
    >>> post.parameters
    ('counselor.warmth',)
    >>> post.draw(1)
    {'counselor.warmth': 0.8}
    >>> round(post.median()["counselor.warmth"], 2)
    0.8
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from groupsim.scenario.files import with_overrides
from groupsim.scenario.schema import SECTIONS, Scenario, ScenarioError

__all__ = ["POSTERIOR_FILE", "WEIGHT", "Posterior", "load_posterior"]

#: The posterior sample's file inside a calibration's output folder.
POSTERIOR_FILE = "posterior.parquet"
#: The column of particle weights.
WEIGHT = "weight"


@dataclass(frozen=True)
class Posterior:
    """A weighted sample of parameter sets: `table` (one column per dotted path) and `weights`."""

    table: pd.DataFrame
    weights: np.ndarray
    source: str

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, source: str) -> Posterior:
        """Check and wrap a frame with one column per dotted path and a `weight` column."""
        if WEIGHT not in frame.columns:
            raise ScenarioError(source, WEIGHT, "the posterior needs a weight column")
        parameters = [c for c in frame.columns if c != WEIGHT]
        if not parameters:
            raise ScenarioError(source, "(columns)", "the posterior names no parameter")
        for name in parameters:
            if "." not in name:
                raise ScenarioError(
                    source, name, "a posterior column must be a dotted parameter path"
                )
            if (
                not pd.api.types.is_numeric_dtype(frame[name])
                or not np.isfinite(frame[name].to_numpy(dtype=float)).all()
            ):
                raise ScenarioError(source, name, "values must be finite numbers")
        weights = frame[WEIGHT].to_numpy(dtype=float)
        if len(weights) == 0 or not np.isfinite(weights).all() or (weights < 0).any():
            raise ScenarioError(source, WEIGHT, "weights must be finite, non-negative numbers")
        if weights.sum() <= 0:
            raise ScenarioError(source, WEIGHT, "weights must not all be zero")
        table = frame[parameters].reset_index(drop=True).astype(float)
        return cls(table=table, weights=weights / weights.sum(), source=source)

    @property
    def parameters(self) -> tuple[str, ...]:
        """The dotted paths of the calibrated parameters."""
        return tuple(self.table.columns)

    def __len__(self) -> int:
        return len(self.table)

    def draw(self, k: int) -> dict[str, float]:
        """Particle `k` (0-based) as dotted path -> value."""
        if not 0 <= k < len(self):
            raise ScenarioError(self.source, "draw", f"must be 0..{len(self) - 1}, got {k}")
        return {name: float(v) for name, v in self.table.iloc[k].items()}

    def sample(self, count: int, rng: np.random.Generator) -> list[dict[str, float]]:
        """`count` parameter sets drawn by weight, with replacement (one per replication)."""
        return [self.draw(k) for k in self.sample_particles(count, rng)]

    def sample_particles(self, count: int, rng: np.random.Generator) -> list[int]:
        """The particles (0-based, for `draw`) that `sample` with the same `rng` state picks."""
        rows = rng.choice(len(self), size=count, replace=True, p=self.weights)
        return [int(k) for k in rows]

    def median(self) -> dict[str, float]:
        """The weighted marginal median of every parameter (a central parameter set)."""
        return {name: self.quantile(name, 0.5) for name in self.parameters}

    def quantile(self, name: str, q: float) -> float:
        """The weighted quantile `q` of one parameter's marginal posterior."""
        return float(
            np.quantile(self.table[name].to_numpy(), q, weights=self.weights, method="inverted_cdf")
        )

    def apply(self, scenario: Scenario, draw: dict[str, Any]) -> Scenario:
        """The scenario with one parameter set applied (validated like a scenario file).

        A whole-number parameter (such as ``program.sessions``) takes the nearest whole number:
        the posterior stores every column as a float, and ABC perturbs it continuously.
        """
        draw = {path: _as_field_type(path, value) for path, value in draw.items()}
        return with_overrides(scenario, draw, self.source)


def _as_field_type(path: str, value: Any) -> Any:
    """Round a value for a whole-number scenario field; other values pass unchanged."""
    section, _, key = path.partition(".")
    field = SECTIONS[section].model_fields.get(key) if section in SECTIONS else None
    if field is not None and field.annotation is int and isinstance(value, float):
        return round(value)
    return value


def load_posterior(folder: str | Path) -> Posterior:
    """Read ``posterior.parquet`` from a calibration's output folder.

    Raises:
        ScenarioError: the folder or file is missing or unreadable, or a column is not allowed
            (the message names the file and the column).
    """
    path = Path(folder) / POSTERIOR_FILE
    if not path.is_file():
        raise ScenarioError(
            str(folder), POSTERIOR_FILE, "no posterior here; give a `groupsim calibrate` folder"
        )
    try:
        frame = pd.read_parquet(path)
    except Exception as error:  # pyarrow raises several types for a damaged file
        raise ScenarioError(str(path), "(file)", f"not a readable Parquet file: {error}") from None
    return Posterior.from_frame(frame, str(path))
