"""Matched controls: a design's no-intervention twin, and what an unmatched control differs in.

A field study compares a treatment with a control of the same cohort, group size and calendar;
only then is the difference the technique's. :func:`matched_control` builds that control from
a design (defined in `groupsim.scenario.twin`, shared with sweeps' `effects = true`);
:func:`design_mismatches` names what a given control differs in.

Example:
    >>> from groupsim import load_scenario
    >>> design = load_scenario("scenarios/home_room.toml", {"group.clients": 12})
    >>> control = load_scenario("scenarios/no_intervention.toml")
    >>> design_mismatches(design, control)
    ['group size (group.clients 12 vs 9)']
    >>> design_mismatches(design, matched_control(design))
    []
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from groupsim.scenario.twin import is_control, matched_control

if TYPE_CHECKING:
    from groupsim.scenario import Scenario

__all__ = [
    "CONTROL_CHOICES",
    "control_positions",
    "design_mismatches",
    "is_control",
    "matched_control",
    "mismatch_sentence",
    "missing_controls",
    "parameter_differences",
    "same_design",
]

#: Values of `compare(..., control=...)` and `groupsim compare --control`.
CONTROL_CHOICES = ("auto",)

#: The parameters a matched control shares with its design, by what they describe.
MATCHED_PARAMETERS = {
    "group size": ("group.clients", "program.groups"),
    "calendar": (
        "program.baseline_weeks",
        "program weeks",
        "program.followup_weeks",
        "program.sessions",
        "program.sessions_per_week",
    ),
    "cohort": ("cohort.*", "group.selection", "group.screened_share", "group.screening"),
}


def _values(scenario: Scenario) -> dict[str, Any]:
    flat = {
        f"{section}.{key}": value
        for section, table in scenario.to_dict().items()
        if isinstance(table, dict)
        for key, value in table.items()
    }
    # The derived length, not `program.weeks` (unset: as few weeks as the sessions need).
    flat["program weeks"] = scenario.program_weeks
    return flat


def _paths(pattern: str, values: dict[str, Any]) -> list[str]:
    if pattern.endswith(".*"):
        return [path for path in values if path.startswith(pattern[:-1])]
    return [pattern]


def design_mismatches(design: Scenario, control: Scenario) -> list[str]:
    """What `control` differs from `design` in: group size, calendar or cohort.

    One entry per kind of difference, naming each parameter with the design's value first.
    Empty when the control is matched.
    """
    ours, theirs = _values(design), _values(control)
    found = []
    for kind, patterns in MATCHED_PARAMETERS.items():
        differences = [
            f"{path} {ours.get(path)} vs {theirs.get(path)}"
            for pattern in patterns
            for path in _paths(pattern, ours)
            if ours.get(path) != theirs.get(path)
        ]
        if differences:
            found.append(f"{kind} ({', '.join(differences)})")
    return found


def same_design(first: Scenario, second: Scenario) -> bool:
    """Whether two scenarios set every parameter alike (their names and descriptions aside)."""
    ignore = ("name", "description")
    a = {k: v for k, v in first.to_dict().items() if k not in ignore}
    b = {k: v for k, v in second.to_dict().items() if k not in ignore}
    return a == b


def missing_controls(scenarios: list[Scenario]) -> list[tuple[str, Scenario]]:
    """The matched controls of the designs among `scenarios` that are not among them already.

    As (design's name, its twin), in the designs' order; a twin shared by two designs once.
    """
    out: list[tuple[str, Scenario]] = []
    for scenario in scenarios:
        if is_control(scenario):
            continue
        twin = matched_control(scenario)
        present = [*scenarios, *(other for _, other in out)]
        if not any(same_design(twin, other) for other in present):
            out.append((scenario.name, twin))
    return out


def control_positions(scenarios: list[Scenario]) -> list[int]:
    """For each scenario, the position of its matched control among `scenarios`.

    A control is its own. Every design's twin must be present (`missing_controls` added).
    """
    positions = []
    for index, scenario in enumerate(scenarios):
        if is_control(scenario):
            positions.append(index)
            continue
        twin = matched_control(scenario)
        positions.append(next(i for i, other in enumerate(scenarios) if same_design(twin, other)))
    return positions


def mismatch_sentence(label: str, control: str, found: list[str]) -> str:
    """The warning for a treatment whose control differs in `found` (`design_mismatches`)."""
    return (
        f"{label} is compared with {control}, which differs in {'; '.join(found)}: the "
        "effect mixes the technique with these differences (a matched control: --control auto)."
    )


def _flatten(data: dict[str, Any]) -> dict[str, Any]:
    flat = {}
    for key, value in data.items():
        if isinstance(value, dict):
            for inner, leaf in value.items():
                flat[f"{key}.{inner}"] = leaf
        else:
            flat[key] = value
    return flat


def parameter_differences(scenarios: Sequence[Scenario], labels: Sequence[str]) -> pd.DataFrame:
    """The parameters whose values differ between scenarios: a row per parameter path.

    Example:
        >>> from groupsim import load_scenario
        >>> a = load_scenario("scenarios/home_room.toml")
        >>> b = load_scenario("scenarios/home_room.toml", {"counselor.warmth": 0.3})
        >>> parameter_differences([a, b], ["a", "b"]).to_dict("records")
        [{'parameter': 'counselor.warmth', 'a': 0.85, 'b': 0.3}]
    """
    flats = [_flatten(s.to_dict()) for s in scenarios]
    paths = [p for p in dict.fromkeys(k for f in flats for k in f) if p not in ("description",)]
    rows = []
    for path in paths:
        values = [f.get(path, "(not set)") for f in flats]
        if any(v != values[0] for v in values[1:]):
            rows.append({"parameter": path, **dict(zip(labels, values, strict=True))})
    return pd.DataFrame(rows, columns=["parameter", *labels])
