"""Tests of `groupsim warm-up` (groupsim.model.warm_up): after it, runs compile nothing more.

The check runs in a process of its own, so what counts is what the warm-up itself loaded or
compiled there: every compiled function of `groupsim.model` that the shipped scenarios' runs
call from Python must already have the signature they call it with (loaded from the cache or
compiled by the warm-up). A run that needed another signature would compile it in every new
process.
"""

from __future__ import annotations

import json
import subprocess

from conftest import PYTHON, ROOT, SHIPPED

CHECK = """
import json, sys
from numba.core.registry import CPUDispatcher
from groupsim import load_scenario, run
from groupsim.model.warm_up import warm_up
from groupsim.runs.outcomes import outcome_weeks

def signatures():
    found = {}
    for name, module in list(sys.modules.items()):
        if name.startswith("groupsim.model"):
            for attribute, value in vars(module).items():
                if isinstance(value, CPUDispatcher):
                    found[f"{name}.{attribute}"] = set(map(str, value.signatures))
    return found

warm_up()
before = signatures()
for name in NAMES:
    scenario = load_scenario(f"scenarios/{name}.toml")
    weeks = sorted(outcome_weeks(scenario).values())
    run(scenario, 1)  # every table
    run(scenario, 2, record_ties=False, record_faculties=False, student_weeks=weeks)  # compare's
    run(scenario, 3, record_students=False, record_ties=False, record_weeks=weeks)  # power's
after = signatures()
new = {name: sorted(after[name] - before.get(name, set())) for name in after}
print(json.dumps({name: calls for name, calls in new.items() if calls}))
"""


def test_after_the_warm_up_the_shipped_scenarios_runs_compile_nothing():
    done = subprocess.run(
        [PYTHON, "-c", CHECK.replace("NAMES", repr(SHIPPED))],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        check=True,
    )
    assert json.loads(done.stdout.splitlines()[-1]) == {}


def test_the_command_says_the_kernels_are_compiled():
    command = [PYTHON, "-m", "groupsim", "warm-up"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(("The model's kernels were compiled already", "Compiled "))
    assert done.stdout.count("\n") == 1
    assert done.stderr == ""
