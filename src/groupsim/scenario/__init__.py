"""Scenarios: the validated parameters of one simulated study (ODD section 6, Input data).

:mod:`~groupsim.scenario.schema` declares every parameter once (default, range, unit, meaning);
:mod:`~groupsim.scenario.files` reads, validates, overrides and writes scenario files;
:mod:`~groupsim.scenario.shipped` finds the built-in scenarios shipped inside the package
(``load_scenario("home_room")``). This is the bottom layer of groupsim: it imports nothing else
of the package.

Example:
    >>> from groupsim import load_scenario
    >>> s = load_scenario("scenarios/home_room.toml", {"counselor.warmth": 0.2})
    >>> s.counselor.warmth, s.group.clients
    (0.2, 9)
"""

from groupsim.scenario.files import (
    BuiltinScenario,
    apply_overrides,
    builtin_scenarios,
    dotted_path,
    flat_parameter_names,
    load_scenario,
    parameter_table,
    parse_assignment,
    parse_toml,
    read_input_file,
    scenario_from_dict,
    scenario_to_toml,
    with_clients,
    with_overrides,
)
from groupsim.scenario.schema import (
    PRACTICES,
    SECTIONS,
    Scenario,
    ScenarioError,
    technique_presets,
)
from groupsim.scenario.shipped import builtin_names, is_scenario_name

__all__ = [
    "PRACTICES",
    "SECTIONS",
    "BuiltinScenario",
    "Scenario",
    "ScenarioError",
    "apply_overrides",
    "builtin_names",
    "builtin_scenarios",
    "dotted_path",
    "flat_parameter_names",
    "is_scenario_name",
    "load_scenario",
    "parameter_table",
    "parse_assignment",
    "parse_toml",
    "read_input_file",
    "scenario_from_dict",
    "scenario_to_toml",
    "technique_presets",
    "with_clients",
    "with_overrides",
]
