"""One backend layer (`groupsim.runs.backends`, `groupsim.runs.execute`): same numbers on any."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from conftest import SCENARIOS, SMALL
from groupsim import compare, load_scenario, power
from groupsim.runs.backends import (
    MAX_ATTEMPTS,
    BackendError,
    DaskBackend,
    LocalPoolBackend,
    SerialBackend,
    make_backend,
)
from groupsim.runs.execute import map_tasks

PAIR = [SCENARIOS / "no_intervention.toml", SCENARIOS / "home_room.toml"]


def _die_once(marker: str) -> int:
    """Kill this worker the first time (no marker yet); return 1 after that."""
    if not os.path.exists(marker):
        with open(marker, "w") as handle:
            handle.write("died")
        os.kill(os.getpid(), signal.SIGKILL)
    return 1


def _die(_: object) -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return 0


def _fail(value: int) -> int:
    if value == 3:
        raise ArithmeticError("three")
    return value


# ---------------------------------------------------------------------------- map_tasks


@pytest.mark.parametrize("backend", ["serial", "pool"])
def test_map_tasks_returns_results_in_task_order(backend):
    tasks = list(range(-40, 0))
    chosen = SerialBackend() if backend == "serial" else LocalPoolBackend(2)
    assert map_tasks(abs, tasks, label=None, chunk_size=3, backend=chosen) == [
        abs(t) for t in tasks
    ]
    assert not chosen.is_open  # entered and left by map_tasks


def test_a_task_that_raises_raises_from_map_tasks():
    for backend in (SerialBackend(), LocalPoolBackend(2)):
        with pytest.raises(ArithmeticError, match="three"):
            map_tasks(_fail, [1, 2, 3, 4], label=None, chunk_size=1, backend=backend)


def test_workers_and_backend_are_exclusive():
    with pytest.raises(ValueError, match="workers and backend"):
        map_tasks(abs, [1], workers=2, backend=SerialBackend(), label=None)
    with pytest.raises(ValueError, match="workers must be at least 1"):
        map_tasks(abs, [1], workers=0, label=None)


def test_the_pool_restarts_after_a_killed_worker_and_resends_its_task(tmp_path):
    marker = str(tmp_path / "died")
    with LocalPoolBackend(2) as pool:
        results = list(pool.map(_die_once, [marker]))
        assert results == [(marker, 1)]
        assert pool.restarts == 1


def _value_or_die_once_later(task: tuple[int, str]) -> int:
    """Return the value; the task with a marker kills its worker first, once, after a while."""
    value, marker = task
    if marker and not os.path.exists(marker):
        with open(marker, "w") as handle:
            handle.write("died")
        time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGKILL)
    return value


def test_a_worker_killed_while_the_caller_handles_a_result_restarts_the_pool(tmp_path):
    """The pool breaks between two waits: the next submit finds it broken (seen once in CI).

    The caller is still busy with the first result when the second task kills the worker;
    when it asks for more, the third task's submit raised BrokenProcessPool out of `map`.
    """
    marker = str(tmp_path / "died")
    tasks = [(1, ""), (2, marker), (3, ""), (4, "")]
    results = {}
    with LocalPoolBackend(1) as pool:
        for task, result in pool.map(_value_or_die_once_later, tasks):
            results[task[0]] = result
            if len(results) == 1:
                time.sleep(1.5)  # the worker dies meanwhile
        assert pool.restarts == 1
    assert results == {1: 1, 2: 2, 3: 3, 4: 4}


def test_a_task_that_kills_every_worker_fails_after_max_attempts():
    with LocalPoolBackend(1) as pool:
        [(task, result)] = list(pool.map(_die, ["x"]))
        assert task == "x"
        assert isinstance(result, RuntimeError)
        assert f"died {MAX_ATTEMPTS} times" in str(result)
        assert pool.restarts == MAX_ATTEMPTS
    with pytest.raises(RuntimeError, match="worker process died"):
        map_tasks(_die, [1, 2], label=None, backend=LocalPoolBackend(1))


# ---------------------------------------------------------------------------- same numbers


# Dask last: its client threads make later local pools start off a (slower) forkserver.
@pytest.fixture(scope="module")
def dask_pair():
    """A Dask LocalCluster of 2 workers, open for the whole module (started once)."""
    pytest.importorskip("distributed")
    with DaskBackend(local_workers=2) as backend:
        yield backend


def test_progress_counts_what_a_task_is(capsys):
    """A run by default; a compare task is a replication of every arm, a power task a cohort."""
    map_tasks(abs, [-2, 1, -3], workers=1, label="sums")
    assert "sums: 3/3 runs, " in capsys.readouterr().err
    compare(PAIR, 2, seed=11, overrides=SMALL, workers=1)
    lines = capsys.readouterr().err.splitlines()
    assert lines[-1].startswith("compare: 2/2 replications, "), lines
    assert "replications/s, ETA" in lines[-1], lines
    # A power task is a seed's cohort, which runs every arm and group size of that seed.
    small = {"cohort.students_per_faculty": 5, "cohort.burn_in_weeks": 4}
    arms = [load_scenario(name, small) for name in ("home_room", "no_intervention")]
    power(*arms, groups=(2,), clients=(3, 4), reps=2, workers=1, label="power")
    last = capsys.readouterr().err.splitlines()[-1]
    # 2 groups x 2 studies x 2 arms: 8 seeds, each its arm's 2 group sizes (16 runs); the
    # seed design (its own 9 clients) runs both arms under both screenings on the first 2
    # treatment seeds (8 runs).
    assert last.startswith("power, 24 runs: 8/8 cohorts, "), last


FORKED_WORKERS_KERNELS = """
from groupsim.model import week_kernel, weekly
from groupsim.runs.backends import LocalPoolBackend

def loaded(_):
    return [len(week_kernel.run_weeks.signatures), len(weekly.burn_in_weeks.signatures)]

if __name__ == "__main__":
    print("parent", loaded(None))
    with LocalPoolBackend(2, start_method="fork") as pool:
        for _, result in pool.map(loaded, [0, 1]):
            print("worker", result)
"""


def test_forked_workers_share_the_kernels_their_parent_loaded_before_the_fork():
    # A fresh process: nothing loaded until the pool starts; then each worker, before any run
    # of its own, has the kernels (loaded once by its parent, not by each worker).
    done = subprocess.run(
        [sys.executable, "-c", FORKED_WORKERS_KERNELS],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert lines[0] == "parent [0, 0]"
    assert len(lines) == 3
    for line in lines[1:]:
        assert re.fullmatch(r"worker \[[1-9]\d*, [1-9]\d*\]", line), line


def test_map_tasks_on_dask_in_task_order_and_an_open_backend_stays_open(dask_pair):
    tasks = list(range(-30, 0))
    assert map_tasks(abs, tasks, label=None, chunk_size=4, backend=dask_pair) == [
        abs(t) for t in tasks
    ]
    assert dask_pair.is_open
    assert dask_pair.workers == 2


def test_compare_gives_identical_numbers_on_every_backend(dask_pair):
    def run(**where):
        return compare(PAIR, 3, seed=11, overrides=SMALL, label=None, **where)

    reference = run(workers=1)
    for other in (run(workers=2), run(backend=dask_pair)):
        pd.testing.assert_frame_equal(reference.outcomes, other.outcomes)
        pd.testing.assert_frame_equal(reference.results, other.results)
        pd.testing.assert_frame_equal(reference.clients, other.clients)
        pd.testing.assert_frame_equal(reference.effects, other.effects)


def test_power_gives_identical_numbers_on_every_backend(dask_pair):
    arms = [load_scenario(path, SMALL) for path in (PAIR[1], PAIR[0])]

    def run(**where):
        return power(*arms, groups=(2, 3), reps=2, seed=4, **where)

    reference = run(workers=1)
    assert reference.runs > 0
    for other in (run(workers=2), run(backend=dask_pair)):
        pd.testing.assert_frame_equal(reference.table, other.table)
        pd.testing.assert_frame_equal(reference.studies, other.studies)
        pd.testing.assert_frame_equal(reference.nulls, other.nulls)
        pd.testing.assert_frame_equal(reference.seed_design, other.seed_design)


# ---------------------------------------------------------------------------- the options


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"workers": 2, "dask_local": 2}, "--workers and --dask-local: choose one"),
        ({"workers": 2, "scheduler": "tcp://h:1"}, "--workers and --scheduler: choose one"),
        ({"scheduler": "tcp://h:1", "dask_local": 2}, "--scheduler and --dask-local: choose"),
        ({"dask_local": 0}, "--dask-local: must be at least 1 (got 0)"),
        ({"workers": 0}, "--workers: must be at least 1 (got 0)"),
    ],
)
def test_make_backend_refuses_bad_combinations(options, message):
    with pytest.raises(BackendError, match=re.escape(message)):
        make_backend(**options)


def test_make_backend_chooses_the_backend():
    assert isinstance(make_backend(workers=1), SerialBackend)
    assert isinstance(make_backend(workers=2), LocalPoolBackend)
    assert make_backend(dask_local=2).local_workers == 2
    assert make_backend(scheduler="tcp://127.0.0.1:9", connect_timeout=1).address


def test_a_scheduler_address_without_a_scheme_or_unreachable_is_one_message():
    pytest.importorskip("distributed")
    with pytest.raises(BackendError, match="give the scheduler's address as tcp://HOST:PORT"):
        DaskBackend(address="127.0.0.1:9").__enter__()
    with pytest.raises(BackendError, match=r"tcp://127\.0\.0\.1:9: cannot reach"):
        DaskBackend(address="tcp://127.0.0.1:9", connect_timeout=1).__enter__()


# ---------------------------------------------------------------------------- light imports

HEAVY = ("mesa", "scipy")


def _imported_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return {name.split(".")[0] for name in done.stdout.split()}


def test_the_backend_layer_imports_nothing_heavy():
    loaded = _imported_after("import groupsim.runs.execute, groupsim.runs.backends")
    assert not loaded & {*HEAVY, "dask", "distributed", "pandas"}


def test_importing_the_sweep_package_loads_neither_mesa_nor_scipy():
    loaded = _imported_after(
        "import groupsim.sweep; import groupsim.sweep.spec; import groupsim.sweep.store"
    )
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_the_command_line_starts_without_pandas_or_networkx():
    """`groupsim --help` took 1.1 s, a third of it importing pandas for a cohort file's reader."""
    loaded = _imported_after("import groupsim.cli")
    assert not loaded & {"pandas", "networkx"}, sorted(loaded & {"pandas", "networkx"})


def test_a_task_runs_with_the_cyclic_collector_paused_and_restored() -> None:
    import gc

    from groupsim.runs.execute import run_task

    assert gc.isenabled()
    assert run_task(lambda task: (task, gc.isenabled()), 3) == (3, False)
    assert gc.isenabled()

    def fails(task: int) -> None:
        raise KeyError(task)

    with pytest.raises(KeyError):
        run_task(fails, 4)
    assert gc.isenabled()
    gc.disable()
    try:  # a caller that paused the collector itself keeps it paused
        assert run_task(lambda task: task, 5) == 5
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_two_local_dask_clusters_at_once_print_no_port_warning(dask_pair, recwarn):
    """Each local cluster's HTTP server takes a free port: two studies can run side by side."""
    with DaskBackend(local_workers=1) as second:
        assert map_tasks(abs, [-1, -2], label=None, backend=second) == [1, 2]
    taken = [w for w in recwarn if "already in use" in str(w.message)]
    assert taken == []
