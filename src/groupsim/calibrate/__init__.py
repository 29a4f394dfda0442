"""Calibration to field data: ABC-SMC posteriors of uncertain parameters (issue 15).

`groupsim calibrate CALIBRATION.toml --out DIR` reads a calibration file
(:mod:`~groupsim.calibrate.spec`) and its data (:mod:`~groupsim.calibrate.data`: published
summaries or individual pilot data), simulates each study arm on the study's own instrument
(:mod:`~groupsim.calibrate.simulate`), runs pyABC's ABC-SMC reproducibly
(:mod:`~groupsim.calibrate.smc`) and writes the posterior, diagnostics, predictive check,
figures, report and scenario bundle (:mod:`~groupsim.calibrate.outputs`). See
docs/calibration.md.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

# Names are imported on first use (PEP 562), as in `groupsim`: checking a calibration file
# (`simulate.check_inputs`) does not wait seconds for pyABC to load.
_WHERE = {"calibrate": "groupsim.calibrate.run", "check_inputs": "groupsim.calibrate.simulate"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'groupsim.calibrate' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})


if TYPE_CHECKING:  # for type checkers and IDEs
    from groupsim.calibrate.run import calibrate
    from groupsim.calibrate.simulate import check_inputs

__all__ = ["calibrate", "check_inputs"]
