"""Calibration to field data: ABC-SMC posteriors of uncertain parameters (issue 15).

`groupsim calibrate CALIBRATION.toml --out DIR` reads a calibration file
(:mod:`~groupsim.calibrate.spec`) and its data (:mod:`~groupsim.calibrate.data`: published
summaries or individual pilot data), simulates each study arm on the study's own instrument
(:mod:`~groupsim.calibrate.simulate`), runs pyABC's ABC-SMC reproducibly
(:mod:`~groupsim.calibrate.smc`) and writes the posterior, diagnostics, predictive check,
figures, report and scenario bundle (:mod:`~groupsim.calibrate.outputs`). See
docs/calibration.md.
"""

from groupsim.calibrate.run import calibrate, check_inputs

__all__ = ["calibrate", "check_inputs"]
