"""groupsim: agent-based simulation of group counseling with the home room technique.

The public API:

- :func:`load_scenario` reads and validates a scenario file;
- :func:`run` runs one scenario with a seed and returns a :class:`RunResult`;
- :func:`compare` runs replications of several scenarios and compares them (a :class:`Comparison`);
- :func:`power` simulates field studies for a power analysis (a :class:`PowerAnalysis`);
- :class:`HomeRoomModel` is the Mesa model (for `mesa.batch_run` and step-by-step use).
"""

from groupsim.agents import Counselor, Student
from groupsim.experiment import Comparison, compare
from groupsim.model import HomeRoomModel
from groupsim.power import PowerAnalysis, power
from groupsim.runner import RunResult, run
from groupsim.scenario import (
    Scenario,
    ScenarioError,
    flat_parameter_names,
    load_scenario,
)

__version__ = "0.1.0"

__all__ = [
    "Comparison",
    "Counselor",
    "HomeRoomModel",
    "PowerAnalysis",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "Student",
    "compare",
    "flat_parameter_names",
    "load_scenario",
    "power",
    "run",
    "__version__",
]
