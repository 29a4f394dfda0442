"""groupsim: agent-based simulation of group counseling with the home room technique.

The public API:

- :func:`load_scenario` reads and validates a scenario file;
- :func:`run` runs one scenario with a seed and returns a :class:`RunResult`;
- :func:`compare` runs replications of several scenarios and compares them (a :class:`Comparison`);
- :func:`power` simulates field studies for a power analysis (a :class:`PowerAnalysis`);
- ``sweep(spec, out=...)`` runs a sweep file and returns its store (``.runs()``: a DataFrame);
  `groupsim.sweep` is the sweep package, itself callable (see :mod:`groupsim.sweep`);
- :class:`HomeRoomModel` is the Mesa model (for `mesa.batch_run` and step-by-step use).
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from groupsim._version import __version__

# Names are imported on first use (PEP 562), so `groupsim --help` and a scenario error do not
# wait for Mesa, SciPy and matplotlib to load.
_WHERE = {
    "Comparison": "groupsim.study.compare",
    "compare": "groupsim.study.compare",
    "Counselor": "groupsim.model.agents",
    "Student": "groupsim.model.agents",
    "HomeRoomModel": "groupsim.model.model",
    "PowerAnalysis": "groupsim.study.power",
    "power": "groupsim.study.power",
    "RunResult": "groupsim.runs.runner",
    "run": "groupsim.runs.runner",
    "Scenario": "groupsim.scenario",
    "ScenarioError": "groupsim.scenario",
    "flat_parameter_names": "groupsim.scenario",
    "load_scenario": "groupsim.scenario",
}


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use (PEP 562)."""
    if name == "sweep":  # the callable sweep package (groupsim.sweep)
        return import_module("groupsim.sweep")
    if name in _WHERE:
        value = getattr(import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'groupsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names, the lazily imported public API included."""
    return sorted({*globals(), *_WHERE, "sweep"})


if TYPE_CHECKING:  # for type checkers and IDEs
    from groupsim.model.agents import Counselor, Student
    from groupsim.model.model import HomeRoomModel
    from groupsim.runs.runner import RunResult, run
    from groupsim.scenario import Scenario, ScenarioError, flat_parameter_names, load_scenario
    from groupsim.study.compare import Comparison, compare
    from groupsim.study.power import PowerAnalysis, power

__all__ = [
    "Comparison",
    "Counselor",
    "HomeRoomModel",
    "PowerAnalysis",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "Student",
    "__version__",
    "compare",
    "flat_parameter_names",
    "load_scenario",
    "power",
    "run",
    "sweep",
]
