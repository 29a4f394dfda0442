"""A design's no-intervention twin: the one rule `compare --control auto` and sweeps share.

A field study compares a treatment with a control of the same cohort, group size and calendar;
only then is the difference the technique's. The twin is the same scenario with
`counselor.technique = "none"` and no `[technique]` overrides. `groupsim.study.matching`
(compare) and `groupsim.sweep` (``effects = true``) both build it here.

Example:
    >>> from groupsim.scenario import load_scenario
    >>> twin = matched_control(load_scenario("scenarios/home_room.toml"))
    >>> twin.counselor.technique, is_control(twin)
    ('none', True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from groupsim.scenario.files import scenario_from_dict

if TYPE_CHECKING:
    from groupsim.scenario.schema import Scenario

__all__ = ["is_control", "matched_control"]


def is_control(scenario: Scenario) -> bool:
    """Whether a scenario is a no-intervention arm (its technique holds no group sessions)."""
    return not scenario.holds_group


def matched_control(scenario: Scenario) -> Scenario:
    """The design's no-intervention twin: same cohort, group size and calendar, no technique.

    Named `NAME_control`. Group and counselor values are kept (they do nothing without a
    group), so the twin differs from its design in the technique alone.
    """
    data = scenario.to_dict()
    data["counselor"]["technique"] = "none"
    data["technique"] = {}
    data["name"] = f"{scenario.name}_control"
    data["description"] = f"Matched no-intervention control of {scenario.name}."
    return scenario_from_dict(data, f"<matched control of {scenario.name}>")
