"""Checks shared by the sweep file's tables: paths, bounds, value lists, pydantic errors.

Used by `groupsim.sweep.spec` (``[parameters]``) and `groupsim.sweep.levers` (``[levers]``,
``[uncertainties]``); each raises `ScenarioError` naming the file and the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from groupsim.scenario import SECTIONS, Scenario, ScenarioError, apply_overrides

__all__ = [
    "MAX_POINTS",
    "Bounds",
    "allowed",
    "check_bounds",
    "check_grid_values",
    "check_path",
    "field_type",
]

#: The most design points a sweep may have (its design is held in memory); runs are limited
#: further by `groupsim.runs.resources.check_workload`.
MAX_POINTS = 1_000_000


class Bounds(BaseModel):
    """The range a sampled design draws a parameter from."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)
    min: float
    max: float


def allowed(error: Mapping[str, Any]) -> str:
    """One pydantic error as 'what is allowed (got ...)'."""
    got = error.get("input")
    if error["type"] == "extra_forbidden":
        return "unknown key; see docs/sweeps.md for the keys of a sweep file"
    if error["type"] == "missing":
        return "required; see docs/sweeps.md"
    message = error["msg"]
    message = message[0].lower() + message[1:]
    return f"{message} (got {got!r})" if not isinstance(got, dict) else message


def field_type(path: str) -> Any:
    """The type of a scenario parameter (`section.key`), as its section declares it."""
    section, key = path.split(".")
    return SECTIONS[section].model_fields[key].annotation


def check_path(source: str, where: str, path: str, base: Scenario) -> None:
    """A varied path must be a scenario's section.parameter."""
    try:
        apply_overrides(base.to_dict(), {path: None}, source)
    except ScenarioError as exc:
        raise ScenarioError(source, where, exc.allowed) from None
    if path.count(".") != 1:
        raise ScenarioError(source, where, "vary a section.parameter, not name/description")


def check_bounds(source: str, where: str, design: str, given: Any, kind: Any) -> Bounds:
    """A sampled parameter's {min, max}: numeric, valid, min below max."""
    if not isinstance(given, dict):
        raise ScenarioError(
            source,
            where,
            f"design '{design}' samples values: give bounds {{min = ..., max = ...}}, not a list",
        )
    if kind not in (int, float):
        raise ScenarioError(source, where, "only numeric parameters can be sampled")
    try:
        bounds = Bounds.model_validate(given)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = ".".join(str(p) for p in error["loc"])
        raise ScenarioError(source, f"{where}.{loc}", allowed(error)) from None
    if not bounds.min < bounds.max:
        raise ScenarioError(source, where, f"min must be below max (got {given})")
    return bounds


def check_grid_values(source: str, where: str, given: Any, kind: Any) -> list[Any]:
    """A grid parameter's values: a non-empty list without repeats (ints of floats as floats)."""
    if not isinstance(given, list):
        raise ScenarioError(
            source, where, "the grid design needs a list of values, e.g. [0.2, 0.5, 0.8]"
        )
    if not given:
        raise ScenarioError(source, where, "empty list; give at least one value")
    if any(isinstance(v, (list, dict)) for v in given):
        raise ScenarioError(
            source, where, f"each value must be a number, text or true/false (got {given})"
        )
    values = [float(v) if kind is float and type(v) is int else v for v in given]
    # 1 and 1.0 are one point; True and 1 are not (a bool parameter takes only bools).
    if len({(type(v) is bool, v) for v in values}) != len(values):
        raise ScenarioError(source, where, f"values repeat (got {given})")
    return values
