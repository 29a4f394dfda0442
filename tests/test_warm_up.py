"""Tests of `groupsim warm-up` (groupsim.model.warm_up): after it, runs compile nothing more.

The check runs in a process of its own, so what counts is what the warm-up itself loaded or
compiled there: every compiled function of `groupsim.model` that the shipped scenarios' runs
call from Python must already have the signature they call it with (loaded from the cache or
compiled by the warm-up). A run that needed another signature would compile it in every new
process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

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


# ---------------------------------------------------------------------- compiled elsewhere


def test_the_warm_up_leaves_its_marker_in_the_models_cache():
    from groupsim.model.warm_up import cache_marker, warm_up
    from groupsim.model.week_kernel import run_weeks

    marker = cache_marker()
    if marker.exists():  # made old rather than removed: a study running beside would compile
        os.utime(marker, (0, 0))
    warm_up()
    assert marker.exists()
    assert marker.stat().st_mtime > time.time() - 600
    assert marker.parent == Path(run_weeks._cache._cache_path)


@pytest.fixture
def fake_compile(monkeypatch, tmp_path):
    """`groupsim.model.warm_up` with `ensure_cached`'s child replaced, and the child's calls.

    The marker is a file in tmp_path; the child makes it.
    """
    from groupsim.model import warm_up

    marker = tmp_path / "groupsim-compiled-test"
    compiles = []

    def child(command, **kwargs):
        assert command[1:] == ["-c", warm_up._COMPILE]
        compiles.append(command)
        time.sleep(0.2)  # long enough for a second caller to arrive while it compiles
        marker.touch()
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(warm_up, "cache_marker", lambda: marker)
    monkeypatch.setattr(warm_up.subprocess, "run", child)
    monkeypatch.setattr(warm_up, "_UNCACHEABLE", [])
    return warm_up, compiles


def test_ensure_cached_compiles_in_a_child_once_and_says_so(fake_compile):
    warm_up, compiles = fake_compile
    said = []
    assert warm_up.ensure_cached(said.append) is True
    assert len(compiles) == 1
    assert len(said) == 1
    assert said[0].startswith("Compiling the model's code once")
    assert warm_up.ensure_cached(said.append) is False  # the marker is there now
    assert len(compiles) == 1
    assert len(said) == 1


def test_callers_at_once_wait_for_one_compile(fake_compile):
    """Two callers at the same time (a machine's Dask workers): one compiles, one waits."""
    warm_up, compiles = fake_compile
    with ThreadPoolExecutor(2) as pool:
        compiled = sorted(pool.map(lambda _: warm_up.ensure_cached(), range(2)))
    assert compiled == [False, True]
    assert len(compiles) == 1


def test_a_cache_that_keeps_nothing_is_not_tried_again(fake_compile, monkeypatch):
    """No marker after the child (a cache numba cannot write): this process compiles itself."""
    warm_up, compiles = fake_compile

    def failing(command, **kwargs):
        compiles.append(command)
        return subprocess.CompletedProcess(command, 1)

    monkeypatch.setattr(warm_up.subprocess, "run", failing)
    assert warm_up.ensure_cached() is False
    assert warm_up.ensure_cached() is False
    assert len(compiles) == 1


def test_a_child_stopped_by_a_signal_is_asked_again(fake_compile, monkeypatch):
    """A Ctrl-C that reached the compiling child alone says nothing about the cache."""
    warm_up, compiles = fake_compile
    child = warm_up.subprocess.run

    def interrupted(command, **kwargs):
        compiles.append(command)
        return subprocess.CompletedProcess(command, -signal.SIGINT)

    monkeypatch.setattr(warm_up.subprocess, "run", interrupted)
    assert warm_up.ensure_cached() is False
    assert not warm_up._UNCACHEABLE
    monkeypatch.setattr(warm_up.subprocess, "run", child)
    assert warm_up.ensure_cached() is True  # asked again: this time it compiles
    assert len(compiles) == 2


def test_with_the_jit_off_there_is_nothing_to_compile(fake_compile, monkeypatch):
    warm_up, compiles = fake_compile
    monkeypatch.setattr(warm_up.numba.config, "DISABLE_JIT", True)
    assert warm_up.ensure_cached() is False
    assert compiles == []


def test_the_study_backends_have_the_model_compiled_elsewhere_first(monkeypatch):
    from groupsim.model import warm_up
    from groupsim.runs.backends import SerialBackend

    calls = []
    monkeypatch.setattr(warm_up, "ensure_cached", lambda notify=None: calls.append(notify))
    with SerialBackend() as backend:
        assert [r for _, r in backend.map(abs, [-3])] == [3]
    assert len(calls) == 1
    assert callable(calls[0])


def test_a_process_checks_the_cache_before_its_first_model(monkeypatch):
    """`HomeRoomModel` has the model compiled elsewhere first, once a process (a script's)."""
    from groupsim import HomeRoomModel
    from groupsim.model import warm_up

    calls = []

    def ensure(notify=None):
        calls.append(notify)
        return False

    monkeypatch.setattr(warm_up, "_CHECKED", [])
    monkeypatch.setattr(warm_up, "ensure_cached", ensure)
    for seed in (1, 2):
        HomeRoomModel(rng=seed, cohort_students_per_faculty=4)
    assert calls == [None]


def test_the_warm_up_compiles_in_its_own_process_without_waiting_for_a_child(monkeypatch):
    """The child `ensure_cached` starts runs `warm_up`, whose model must not start another."""
    from groupsim.model import warm_up

    def another_child(notify=None):
        raise AssertionError("the warm-up's model asked for a child compile")

    monkeypatch.setattr(warm_up, "_CHECKED", [])
    monkeypatch.setattr(warm_up, "ensure_cached", another_child)
    assert warm_up.warm_up().compiled == 0


def test_a_ctrl_c_during_the_check_stops_the_model_at_once_and_is_checked_again(monkeypatch):
    """The check runs before `__init__` holds Ctrl-C back; an interrupted one is made again."""
    from groupsim import HomeRoomModel
    from groupsim.model import interrupts, warm_up

    calls = []

    def interrupted_once(notify=None):
        calls.append("checking")
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the child compiles
            calls.append("held back")  # only if the model held the Ctrl-C back
        return False

    monkeypatch.setattr(warm_up, "_CHECKED", [])
    monkeypatch.setattr(warm_up, "ensure_cached", interrupted_once)
    monkeypatch.setattr(interrupts._Waiting, "installed", False)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            HomeRoomModel(rng=1, cohort_students_per_faculty=4)
        assert calls == ["checking"]
        HomeRoomModel(rng=1, cohort_students_per_faculty=4)
        assert calls == ["checking", "checking"]
    finally:
        signal.signal(signal.SIGINT, previous)
